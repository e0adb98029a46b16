import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { EXIT_CODES_HELP, envName, fromEnv, guard, nonEmpty, oneOf, parseCommand, reasonOf, url, type OptionSpecs } from '../args.js';
import { promptSecret } from '../prompt.js';
import { keySourceFrom } from '../key-source.js';
import { progressBar } from '../progress.js';
import {
  checkImage, openCscBackend, openKeyBackend, signDetached, signPdf,
  type HashName, type KeyBackend, type KeySource, type PadesLevel, type PdfSignatureOptions,
} from '@kyso/signer/pdf';

/** A temp path beside `output` (same file system, so the rename is atomic). */
const tempPathFor = (output: string): string => join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.kyso-tmp`);

const HELP = `Usage:
  kyso sign IN.pdf -o OUT.pdf KEY [options]        PAdES signature (incremental update)
  kyso sign IN.any -o OUT.p7s KEY [options]        CAdES detached signature of any file (output name ends in .p7s)
  kyso sign --in-dir A --out-dir B KEY [options]   sign every *.pdf of folder A into folder B

KEY (one of):
  --p12 FILE                                  PKCS#12 (key + certificate + chain)
  --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]   PEM / encrypted PKCS#8 key
  --pkcs11-module SO --pkcs11-token LABEL --pkcs11-key LABEL   key in an HSM / token
  --csc URL --credential ID                   remote key of a CSC API v2 signing service (bearer token from
                                              --token-env VAR, default KYSO_CSC_TOKEN; PIN from --pin-env);
                                              waits for the approval on the phone, status on stderr

Secrets (never on the command line):
  --password-env VAR     password of the PKCS#12 / PEM key from environment variable VAR
  --pin-env VAR          PKCS#11 user PIN from environment variable VAR
                         (without them, kyso prompts when run in a terminal)
  --pdf-password-env VAR password of an encrypted input PDF (user or owner) from environment variable VAR

Options:
  --level B-B|B-T|B-LT|B-LTA   PAdES / CAdES baseline level (default B-B)
  --tsa URL              RFC 3161 time-stamping authority (needed from B-T)
  --field NAME           sign this empty signature field, or create a field with this name
  --visible "page=1;rect=x,y,w,h"   visible signature on that page (PDF points, origin bottom-left)
  --image PNG            image (seal, handwritten signature) in the visible signature
  --invisible            no appearance even in a pre-created visible field (new fields are invisible by default)
  --reason TEXT --location TEXT --contact TEXT   signature dictionary entries (and appearance text)
  --name TEXT            signer name shown (default: certificate CN)
  --certify 1|2|3        certification signature (DocMDP): 1 no changes, 2 form filling + signing, 3 + annotations
  --hash SHA-256|SHA-384|SHA-512   digest algorithm (default SHA-256)
  --allow-invalid-cert   sign even with an expired, not yet valid or revoked signer certificate
  --offline              skip the online revocation check of the signer certificate
  --repair               sign a damaged PDF (truncated, broken cross-reference data, unfinished revision after
                         the last %%EOF) after rewriting it into a sound file; without it such a file is refused
  -h, --help             this help

Every option takes its value as --opt VALUE or --opt=VALUE.
The visible rectangle must lie on the page (RECT_OUTSIDE_PAGE otherwise); --image must be PNG or JPEG.
${EXIT_CODES_HELP}`;

interface Options {
  input?: string;
  output?: string;
  inDir?: string;
  outDir?: string;
  p12?: string;
  key?: string;
  cert?: string;
  chain?: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11Key?: string;
  csc?: string;
  credential?: string;
  tokenEnv?: string;
  passwordEnv?: string;
  pinEnv?: string;
  pdfPasswordEnv?: string;
  level: PadesLevel;
  tsa?: string;
  field?: string;
  visible?: { page: number; rect: [number, number, number, number] };
  image?: string;
  reason?: string;
  location?: string;
  contact?: string;
  name?: string;
  certify?: 1 | 2 | 3;
  hash?: HashName;
  allowInvalidCert: boolean;
  offline: boolean;
  invisible: boolean;
  repair: boolean;
}

const LEVELS = ['B-B', 'B-T', 'B-LT', 'B-LTA'] as const;
const HASHES = ['SHA-256', 'SHA-384', 'SHA-512'] as const;

/** The options of `kyso sign` (one declaration: parsing, validation and messages come from args.ts). */
export const SIGN_OPTIONS = {
  output: { type: 'string', short: 'o' },
  'in-dir': { type: 'string' },
  'out-dir': { type: 'string' },
  p12: { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  chain: { type: 'string' },
  'pkcs11-module': { type: 'string' },
  'pkcs11-token': { type: 'string' },
  'pkcs11-key': { type: 'string' },
  csc: { type: 'string', parse: url() },
  credential: { type: 'string', parse: nonEmpty },
  'token-env': { type: 'string', parse: envName },
  'password-env': { type: 'string', parse: envName },
  'pin-env': { type: 'string', parse: envName },
  'pdf-password-env': { type: 'string', parse: envName },
  level: { type: 'string', parse: oneOf(LEVELS), default: 'B-B' },
  tsa: { type: 'string', parse: url() },
  field: { type: 'string', parse: nonEmpty },
  visible: { type: 'string', parse: (v: string) => parseVisible(v) },
  image: { type: 'string' },
  reason: { type: 'string' },
  location: { type: 'string' },
  contact: { type: 'string' },
  name: { type: 'string' },
  certify: { type: 'string', parse: oneOf(['1', '2', '3'] as const) },
  hash: { type: 'string', parse: oneOf(HASHES) },
  'allow-invalid-cert': { type: 'boolean' },
  offline: { type: 'boolean' },
  invisible: { type: 'boolean' },
  repair: { type: 'boolean' },
} satisfies OptionSpecs;

/** Parses `page=1;rect=x,y,w,h`. */
export function parseVisible(s: string): { page: number; rect: [number, number, number, number] } {
  const parts = Object.fromEntries(s.split(';').map((p) => p.trim()).filter(Boolean).map((p) => {
    const i = p.indexOf('=');
    if (i < 0) throw new UsageError(`--visible: '${p}' is not key=value`);
    return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
  }));
  const page = Number(parts.page ?? '1');
  if (!Number.isInteger(page) || page < 1) throw new UsageError(`--visible: page must be a positive integer`);
  const nums = String(parts.rect ?? '').split(',').map((x) => Number(x.trim()));
  if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n)) || nums[2]! <= 0 || nums[3]! <= 0) {
    throw new UsageError(`--visible: rect must be x,y,w,h with positive width and height`);
  }
  for (const k of Object.keys(parts)) if (k !== 'page' && k !== 'rect') throw new UsageError(`--visible: unknown key '${k}'`);
  return { page, rect: nums as [number, number, number, number] };
}

function parseSignArgs(args: string[]): Options | 'help' {
  const p = parseCommand(args, SIGN_OPTIONS, { positionals: { min: 0, max: 1, name: 'input file' }, see: 'kyso sign' });
  if (p.help) return 'help';
  const v = p.values;
  const o: Options = {
    level: v.level, allowInvalidCert: v['allow-invalid-cert'], offline: v.offline, invisible: v.invisible, repair: v.repair,
    ...(v.output !== undefined ? { output: v.output } : {}),
    ...(v['in-dir'] !== undefined ? { inDir: v['in-dir'] } : {}),
    ...(v['out-dir'] !== undefined ? { outDir: v['out-dir'] } : {}),
    ...(v.p12 !== undefined ? { p12: v.p12 } : {}),
    ...(v.key !== undefined ? { key: v.key } : {}),
    ...(v.cert !== undefined ? { cert: v.cert } : {}),
    ...(v.chain !== undefined ? { chain: v.chain } : {}),
    ...(v['pkcs11-module'] !== undefined ? { pkcs11Module: v['pkcs11-module'] } : {}),
    ...(v['pkcs11-token'] !== undefined ? { pkcs11Token: v['pkcs11-token'] } : {}),
    ...(v['pkcs11-key'] !== undefined ? { pkcs11Key: v['pkcs11-key'] } : {}),
    ...(v['password-env'] !== undefined ? { passwordEnv: v['password-env'] } : {}),
    ...(v['pin-env'] !== undefined ? { pinEnv: v['pin-env'] } : {}),
    ...(v['pdf-password-env'] !== undefined ? { pdfPasswordEnv: v['pdf-password-env'] } : {}),
    ...(v.tsa !== undefined ? { tsa: v.tsa } : {}),
    ...(v.field !== undefined ? { field: v.field } : {}),
    ...(v.visible !== undefined ? { visible: v.visible } : {}),
    ...(v.image !== undefined ? { image: v.image } : {}),
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
    ...(v.location !== undefined ? { location: v.location } : {}),
    ...(v.contact !== undefined ? { contact: v.contact } : {}),
    ...(v.name !== undefined ? { name: v.name } : {}),
    ...(v.certify !== undefined ? { certify: Number(v.certify) as 1 | 2 | 3 } : {}),
    ...(v.hash !== undefined ? { hash: v.hash } : {}),
    ...(v.csc !== undefined ? { csc: v.csc } : {}),
    ...(v.credential !== undefined ? { credential: v.credential } : {}),
    ...(v['token-env'] !== undefined ? { tokenEnv: v['token-env'] } : {}),
  };
  const positional = p.positionals;
  if (o.inDir || o.outDir) {
    if (!o.inDir || !o.outDir) throw new UsageError('--in-dir and --out-dir go together');
    if (positional.length || o.output) throw new UsageError('give either IN -o OUT or --in-dir/--out-dir, not both');
  } else {
    if (positional.length !== 1) throw new UsageError('missing input file (see kyso sign --help)');
    o.input = positional[0]!;
    if (!o.output) throw new UsageError('missing -o OUT');
  }
  const keyKinds = [o.p12 ? 1 : 0, o.key || o.cert ? 1 : 0, o.pkcs11Module || o.pkcs11Token || o.pkcs11Key ? 1 : 0, o.csc || o.credential ? 1 : 0].reduce((a, b) => a + b, 0);
  if (keyKinds !== 1) throw new UsageError('give exactly one key: --p12 FILE | --key KEY.pem --cert CERT.pem | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-key LABEL | --csc URL --credential ID');
  if ((o.csc || o.credential) && !(o.csc && o.credential)) throw new UsageError('--csc and --credential go together');
  if (o.tokenEnv && !o.csc) throw new UsageError('--token-env is for --csc');
  if ((o.key && !o.cert) || (o.cert && !o.key)) throw new UsageError('--key and --cert go together');
  if ((o.pkcs11Module || o.pkcs11Token || o.pkcs11Key) && !(o.pkcs11Module && o.pkcs11Token && o.pkcs11Key)) {
    throw new UsageError('--pkcs11-module, --pkcs11-token and --pkcs11-key go together');
  }
  if (o.pinEnv && !o.pkcs11Module && !o.csc) throw new UsageError('--pin-env is for PKCS#11 keys; use --password-env for files');
  if (o.passwordEnv && o.pkcs11Module) throw new UsageError('--password-env is for key files; use --pin-env for PKCS#11');
  if (o.image && !o.visible) throw new UsageError('--image needs --visible');
  if (o.invisible && o.visible) throw new UsageError('--invisible and --visible exclude each other');
  if (o.level !== 'B-B' && !o.tsa) throw new UsageError(`--level ${o.level} needs --tsa URL`);
  return o;
}

function keySource(o: Options): Promise<KeySource> {
  return keySourceFrom(o);
}

/** The remote key of a CSC service; approval status lines go to stderr. */
async function openCsc(o: Options): Promise<KeyBackend> {
  const token = fromEnv(o.tokenEnv ?? 'KYSO_CSC_TOKEN', 'bearer token of the signing service');
  const pin = o.pinEnv ? fromEnv(o.pinEnv, 'PIN') : await promptSecret('PIN', { hint: 'set it with --pin-env VAR' });
  return openCscBackend({ url: o.csc!, credentialId: o.credential!, token, pin, ...(o.input ? { documentName: basename(o.input) } : {}), onStatus: (m) => process.stderr.write(`kyso sign: ${m}\n`) });
}

const images = new Map<string, Uint8Array>();
/** Reads the --image file once and checks it is PNG or JPEG (IMAGE_UNSUPPORTED, exit 3). */
function readImage(path: string): Uint8Array {
  let img = images.get(path);
  if (!img) {
    try {
      img = new Uint8Array(readFileSync(path));
    } catch (err) {
      throw new UsageError(`--image ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    checkImage(img);
    images.set(path, img);
  }
  return img;
}

function pdfOptions(o: Options): PdfSignatureOptions {
  return {
    level: o.level,
    ...(o.hash ? { hash: o.hash } : {}),
    ...(o.field ? { fieldName: o.field } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.location ? { location: o.location } : {}),
    ...(o.contact ? { contactInfo: o.contact } : {}),
    ...(o.name ? { signerName: o.name } : {}),
    ...(o.certify ? { certify: o.certify } : {}),
    ...(o.tsa ? { tsa: { url: o.tsa } } : {}),
    ...(o.visible ? { visible: { ...o.visible, ...(o.image ? { image: readImage(o.image) } : {}) } } : {}),
    allowInvalidCert: o.allowInvalidCert,
    checkRevocation: !o.offline,
    ...(o.invisible ? { invisible: true } : {}),
    ...(o.repair ? { repair: true } : {}),
    ...(o.pdfPasswordEnv ? { pdfPassword: fromEnv(o.pdfPasswordEnv, 'PDF password') } : {}),
  };
}

const CERT_CODES = ['CERT_EXPIRED', 'CERT_REVOKED', 'CERT_NOT_YET_VALID'];

async function signOne(backend: KeyBackend, o: Options, input: string, output: string, checkedSigner: { done: boolean }): Promise<string> {
  try {
    return await signOneUnchecked(backend, o, input, output, checkedSigner);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code && CERT_CODES.includes(e.code) && !o.allowInvalidCert) {
      throw Object.assign(new Error(`${(e.message ?? '').replace(/[;,]?\s*\(?(override|use allowInvalidCert)[^)]*\)?\.?$/i, '')} (--allow-invalid-cert to sign anyway)`), { code: e.code });
    }
    throw err;
  }
}

async function signOneUnchecked(backend: KeyBackend, o: Options, input: string, output: string, checkedSigner: { done: boolean }): Promise<string> {
  if (!existsSync(input)) throw Object.assign(new Error(`input ${input} not found`), { code: 'INPUT_READ' });
  if (!statSync(input).isFile()) throw Object.assign(new Error(`input ${input} is not a file`), { code: 'INPUT_READ' });
  const opts = pdfOptions(o);
  // the revocation check of the signer runs once per run, not per file
  if (checkedSigner.done) opts.checkRevocation = false;
  // OUT.p7s → detached CAdES of any file; anything else → PAdES (a non-PDF input is an error).
  if (extname(output).toLowerCase() !== '.p7s') {
    const r = await signPdf(input, output, { ...opts, backend });
    checkedSigner.done = true;
    if (r.repaired) process.stderr.write(`kyso sign: ${input} was damaged (${r.repaired.map((f) => f.message).join('; ')}); it was repaired (rewritten) before signing, as --repair asked\n`);
    return `signed ${output} (${r.level}, field ${r.fieldName}, ${r.fileSize} bytes)${r.repaired ? ' after repair' : ''}`;
  }
  const sig = await signDetached(input, {
    backend, level: o.level, ...(o.hash ? { hash: o.hash } : {}), ...(o.tsa ? { tsaUrl: o.tsa } : {}),
    allowExpired: o.allowInvalidCert, allowRevoked: o.allowInvalidCert, skipRevocationCheck: !opts.checkRevocation,
  });
  checkedSigner.done = true;
  const tmp = tempPathFor(output);
  try {
    writeFileSync(tmp, sig.cms);
    renameSync(tmp, output);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  return `signed ${output} (CAdES ${sig.level}, detached, ${sig.cms.length} bytes)`;
}

/** `kyso sign`: PAdES / CAdES signing from the command line. */
export const command: Command = {
  summary: 'sign a PDF (PAdES B-B..B-LTA) or any file (CAdES .p7s)',
  run(args) {
    const o = parseSignArgs(args);
    if (o === 'help') {
      process.stdout.write(HELP + '\n');
      return Promise.resolve(0);
    }
    return guard('sign', () => run(o));
  },
};

async function run(o: Options): Promise<number> {
  {
    if (o.input && o.output && resolve(o.input) === resolve(o.output)) throw new UsageError('output must differ from the input (the input stays untouched)');
    if (o.inDir && o.outDir && resolve(o.inDir) === resolve(o.outDir)) throw new UsageError('--out-dir must differ from --in-dir (the inputs stay untouched)');
    const backend = o.csc ? await openCsc(o) : await openKeyBackend(await keySource(o));
    const checked = { done: false };
    try {
      if (o.input) {
        if (!existsSync(dirname(o.output!) || '.')) throw Object.assign(new Error(`output folder ${dirname(o.output!)} does not exist`), { code: 'OUTPUT_FAILED' });
        process.stdout.write(await signOne(backend, o, o.input, o.output!, checked) + '\n');
        return 0;
      }
      const inDir = o.inDir!;
      const outDir = o.outDir!;
      if (!existsSync(inDir) || !statSync(inDir).isDirectory()) throw Object.assign(new Error(`--in-dir ${inDir} is not a folder`), { code: 'INPUT_READ' });
      mkdirSync(outDir, { recursive: true });
      const files = readdirSync(inDir).filter((f) => f.toLowerCase().endsWith('.pdf')).sort();
      if (files.length === 0) {
        process.stderr.write(`kyso sign: no *.pdf in ${inDir}\n`);
        return 1;
      }
      const failures: [string, string][] = [];
      let ok = 0;
      const t0 = Date.now();
      const bar = progressBar(files.length);
      for (let i = 0; i < files.length; i++) {
        const f = files[i]!;
        bar.update(i, f);
        try {
          await signOne(backend, o, join(inDir, f), join(outDir, basename(f)), checked);
          ok++;
        } catch (err) {
          failures.push([f, reasonOf(err)]);
          // a key/certificate problem fails every file the same way: stop early
          const code = (err as { code?: string }).code ?? '';
          if (['CERT_EXPIRED', 'CERT_REVOKED', 'CERT_NOT_YET_VALID', 'KEY_LOCKED', 'PIN_LOCKED'].includes(code)) break;
        }
      }
      bar.update(ok + failures.length, 'done');
      bar.finish();
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`Summary: ${ok} signed, ${failures.length} failed, ${files.length - ok - failures.length} skipped of ${files.length} files in ${secs} s → ${outDir}\n`);
      for (const [f, why] of failures) process.stdout.write(`  FAILED ${f}: ${why}\n`);
      return failures.length || ok !== files.length ? 1 : 0;
    } finally {
      await backend.close();
    }
  }
}
