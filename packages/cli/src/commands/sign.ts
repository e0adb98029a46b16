import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import {
  openKeyBackend, signDetached, signPdf,
  type HashName, type KeyBackend, type KeySource, type PadesLevel, type PdfSignatureOptions,
} from '@kyso/signer';

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
  -h, --help             this help

Exit codes: 0 signed, 1 failure (one-line reason on stderr), 2 usage error.`;

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
}

const LEVELS = ['B-B', 'B-T', 'B-LT', 'B-LTA'];
const HASHES = ['SHA-256', 'SHA-384', 'SHA-512'];

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

function parseArgs(args: string[]): Options | 'help' {
  const o: Options = { level: 'B-B', allowInvalidCert: false, offline: false, invisible: false };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h': case '--help': return 'help';
      case '-o': case '--output': o.output = value(); break;
      case '--in-dir': o.inDir = value(); break;
      case '--out-dir': o.outDir = value(); break;
      case '--p12': o.p12 = value(); break;
      case '--key': o.key = value(); break;
      case '--cert': o.cert = value(); break;
      case '--chain': o.chain = value(); break;
      case '--pkcs11-module': o.pkcs11Module = value(); break;
      case '--pkcs11-token': o.pkcs11Token = value(); break;
      case '--pkcs11-key': o.pkcs11Key = value(); break;
      case '--password-env': o.passwordEnv = value(); break;
      case '--pin-env': o.pinEnv = value(); break;
      case '--pdf-password-env': o.pdfPasswordEnv = value(); break;
      case '--password': case '--pin': case '--pass':
        throw new UsageError(`${a} is not accepted: secrets never go on the command line; use ${a === '--pin' ? '--pin-env VAR' : '--password-env VAR'} or the prompt`);
      case '--level': {
        const v = value().toUpperCase();
        if (!LEVELS.includes(v)) throw new UsageError(`--level must be one of ${LEVELS.join(', ')}`);
        o.level = v as PadesLevel;
        break;
      }
      case '--tsa': o.tsa = value(); break;
      case '--field': o.field = value(); break;
      case '--visible': o.visible = parseVisible(value()); break;
      case '--image': o.image = value(); break;
      case '--reason': o.reason = value(); break;
      case '--location': o.location = value(); break;
      case '--contact': o.contact = value(); break;
      case '--name': o.name = value(); break;
      case '--certify': {
        const v = value();
        if (!['1', '2', '3'].includes(v)) throw new UsageError('--certify must be 1, 2 or 3');
        o.certify = Number(v) as 1 | 2 | 3;
        break;
      }
      case '--hash': {
        const v = value().toUpperCase();
        if (!HASHES.includes(v)) throw new UsageError(`--hash must be one of ${HASHES.join(', ')}`);
        o.hash = v as HashName;
        break;
      }
      case '--allow-invalid-cert': o.allowInvalidCert = true; break;
      case '--offline': o.offline = true; break;
      case '--invisible': o.invisible = true; break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        positional.push(a);
    }
  }
  if (o.inDir || o.outDir) {
    if (!o.inDir || !o.outDir) throw new UsageError('--in-dir and --out-dir go together');
    if (positional.length || o.output) throw new UsageError('give either IN -o OUT or --in-dir/--out-dir, not both');
  } else {
    if (positional.length !== 1) throw new UsageError(positional.length ? `one input file expected, got ${positional.length}` : 'missing input file (see kyso sign --help)');
    o.input = positional[0]!;
    if (!o.output) throw new UsageError('missing -o OUT');
  }
  const keyKinds = [o.p12 ? 1 : 0, o.key || o.cert ? 1 : 0, o.pkcs11Module || o.pkcs11Token || o.pkcs11Key ? 1 : 0].reduce((a, b) => a + b, 0);
  if (keyKinds !== 1) throw new UsageError('give exactly one key: --p12 FILE | --key KEY.pem --cert CERT.pem | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-key LABEL');
  if ((o.key && !o.cert) || (o.cert && !o.key)) throw new UsageError('--key and --cert go together');
  if ((o.pkcs11Module || o.pkcs11Token || o.pkcs11Key) && !(o.pkcs11Module && o.pkcs11Token && o.pkcs11Key)) {
    throw new UsageError('--pkcs11-module, --pkcs11-token and --pkcs11-key go together');
  }
  if (o.pinEnv && !o.pkcs11Module) throw new UsageError('--pin-env is for PKCS#11 keys; use --password-env for files');
  if (o.passwordEnv && o.pkcs11Module) throw new UsageError('--password-env is for key files; use --pin-env for PKCS#11');
  if (o.image && !o.visible) throw new UsageError('--image needs --visible');
  if (o.invisible && o.visible) throw new UsageError('--invisible and --visible exclude each other');
  if (o.level !== 'B-B' && !o.tsa) throw new UsageError(`--level ${o.level} needs --tsa URL`);
  if (o.tsa && !/^https?:\/\//i.test(o.tsa)) throw new UsageError('--tsa must be an http(s) URL');
  return o;
}

/** Reads a secret from the terminal without echo. */
async function prompt(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError(`${question.replace(/: $/, '')} needed: set it in an environment variable (--password-env / --pin-env)`);
  // echo off before the prompt is shown, so that nothing typed after it can be echoed
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let s = '';
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          process.stderr.write('\n');
          resolve(s);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') s = s.slice(0, -1);
        else s += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

function fromEnv(name: string, what: string): string {
  const v = process.env[name];
  if (v === undefined) throw new UsageError(`environment variable ${name} (${what}) is not set`);
  return v;
}

async function keySource(o: Options): Promise<KeySource> {
  if (o.pkcs11Module) {
    const pin = o.pinEnv ? fromEnv(o.pinEnv, 'PIN') : await prompt('PIN: ');
    return { type: 'pkcs11', module: o.pkcs11Module, token: o.pkcs11Token!, keyLabel: o.pkcs11Key!, pin };
  }
  let password: string | undefined;
  if (o.passwordEnv) password = fromEnv(o.passwordEnv, 'password');
  else if (o.p12 && process.stdin.isTTY) password = await prompt('Password: ');
  else if (o.key && process.stdin.isTTY && isEncryptedPem(o.key)) password = await prompt('Password: ');
  if (o.p12) return { type: 'pkcs12', path: o.p12, ...(password !== undefined ? { password } : {}) };
  return { type: 'pem', keyPath: o.key!, certPath: o.cert!, ...(o.chain ? { chainPath: o.chain } : {}), ...(password !== undefined ? { password } : {}) };
}

function isEncryptedPem(path: string): boolean {
  try {
    return /ENCRYPTED/.test(readFileSync(path, 'latin1').slice(0, 4096));
  } catch {
    return false;
  }
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
    ...(o.visible ? { visible: { ...o.visible, ...(o.image ? { image: new Uint8Array(readFileSync(o.image)) } : {}) } } : {}),
    allowInvalidCert: o.allowInvalidCert,
    checkRevocation: !o.offline,
    ...(o.invisible ? { invisible: true } : {}),
    ...(o.pdfPasswordEnv ? { pdfPassword: fromEnv(o.pdfPasswordEnv, 'PDF password') } : {}),
  };
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code ? e.code + ': ' : ''}${(e.message ?? String(err)).split('\n')[0]}`;
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
    return `signed ${output} (${r.level}, field ${r.fieldName}, ${r.fileSize} bytes)`;
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

function progress(done: number, total: number, label: string): void {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const line = `[${bar}] ${done}/${total} ${label}`.slice(0, 100);
  if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(100)}`);
  else process.stderr.write(line + '\n');
}

/** `kyso sign`: PAdES / CAdES signing from the command line. */
export const command: Command = {
  summary: 'sign a PDF (PAdES B-B..B-LTA) or any file (CAdES .p7s)',
  async run(args) {
    const o = parseArgs(args);
    if (o === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (o.input && o.output && resolve(o.input) === resolve(o.output)) throw new UsageError('output must differ from the input (the input stays untouched)');
    if (o.inDir && o.outDir && resolve(o.inDir) === resolve(o.outDir)) throw new UsageError('--out-dir must differ from --in-dir (the inputs stay untouched)');
    const backend = await openKeyBackend(await keySource(o));
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
      for (let i = 0; i < files.length; i++) {
        const f = files[i]!;
        progress(i, files.length, f);
        try {
          await signOne(backend, o, join(inDir, f), join(outDir, basename(f)), checked);
          ok++;
        } catch (err) {
          failures.push([f, reason(err)]);
          // a key/certificate problem fails every file the same way: stop early
          const code = (err as { code?: string }).code ?? '';
          if (['CERT_EXPIRED', 'CERT_REVOKED', 'CERT_NOT_YET_VALID', 'KEY_LOCKED', 'PIN_LOCKED'].includes(code)) break;
        }
      }
      progress(ok + failures.length, files.length, 'done');
      if (process.stderr.isTTY) process.stderr.write('\n');
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`Summary: ${ok} signed, ${failures.length} failed, ${files.length - ok - failures.length} skipped of ${files.length} files in ${secs} s → ${outDir}\n`);
      for (const [f, why] of failures) process.stdout.write(`  FAILED ${f}: ${why}\n`);
      return failures.length || ok !== files.length ? 1 : 0;
    } finally {
      await backend.close();
    }
  },
};
