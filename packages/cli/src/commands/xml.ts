import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { keySourceFrom } from '../key-source.js';
import { EXIT_CODES_HELP, envName, nonEmpty, oneOf, parseCommand, url, wantsHelp, type OptionSpecs } from '../args.js';
import type { HashName, KeySource, XadesLevel, XmlSignatureMode } from '@kyso/signer/xml';

/** The signer, loaded when a subcommand runs (help and usage errors stay instant). */
const signer = () => import('@kyso/signer/xml');
import type { Policy, ValidationReport } from '@kyso/verifier/xml';

const HELP = `Usage:
  kyso xml edxml --from ORG --to ORG [--to ORG...] --subject TEXT --attach FILE... -o MSG.xml [message options]
  kyso xml edxml-status --from ORG --for-org ORG --document-id ID --status-code CODE -o STATUS.xml [--description TEXT]
  kyso xml sign IN.xml -o OUT.xml KEY [--level B-B|B-T|B-LT|B-LTA|XMLDSIG] [--tsa URL] [--enveloping | --detached FILE]
  (verify with: kyso verify FILE.xml [--trust ROOT.pem] [--json] ...)

Message options (edxml): --from-name NAME --to-name NAME --code-number N --code-notation X --place P
  --type-name NAME --signer NAME --position TEXT --document-id ID --content TEXT
Key (as kyso sign):
  --p12 FILE | --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-key LABEL
  --password-env VAR     password of the PKCS#12 / PEM key from environment variable VAR
  --pin-env VAR          PKCS#11 user PIN from environment variable VAR
Signing options:
  --level L              XAdES baseline level (default B-B); XMLDSIG = plain XML signature without XAdES
  --tsa URL              RFC 3161 time-stamping authority (needed from B-T)
  --enveloping           put IN.xml inside the signature (ds:Object)
  --detached FILE        sign FILE; IN.xml is ignored (give '-'); the reference URI is the file's base name
  --c14n NAME            c14n | c14n11 | exc-c14n (default) [-with-comments]
  --hash SHA-256|SHA-384|SHA-512
  --allow-further-signatures   co-signing: leave every ds:Signature out of the document reference (XPath Filter 2),
                         so later enveloped signatures by other signers keep this one valid
An edXML message (QCVN 102:2016) is signed after kyso's edXML profile: XAdES in edXML:edXMLHeader over the
envelope and each attachment. Every option takes --opt VALUE or --opt=VALUE; passwords and PINs are refused on the
command line (use --password-env / --pin-env VAR or the prompt).
${EXIT_CODES_HELP}`;

type Args = { flags: Map<string, string[]>; positional: string[] };

// The options of each subcommand, read by the shared parser (same --opt=value, messages, -h/--help, refusal of
// secrets and exit codes as every kyso command); the values then sit in `flags` under their --names.
const KEY_OPTIONS = {
  p12: { type: 'string', parse: nonEmpty }, key: { type: 'string', parse: nonEmpty }, cert: { type: 'string', parse: nonEmpty },
  chain: { type: 'string', parse: nonEmpty }, 'pkcs11-module': { type: 'string', parse: nonEmpty }, 'pkcs11-token': { type: 'string', parse: nonEmpty },
  'pkcs11-key': { type: 'string', parse: nonEmpty }, 'password-env': { type: 'string', parse: envName }, 'pin-env': { type: 'string', parse: envName },
} as const satisfies OptionSpecs;
const SUBCOMMANDS = {
  sign: {
    positionals: { min: 1, max: 1, name: 'IN.xml' },
    options: {
      ...KEY_OPTIONS, output: { type: 'string', short: 'o', parse: nonEmpty },
      level: { type: 'string', parse: oneOf(['XMLDSIG', 'B-B', 'B-T', 'B-LT', 'B-LTA'] as const) }, tsa: { type: 'string', parse: url() },
      enveloping: { type: 'boolean' }, detached: { type: 'string', parse: nonEmpty },
      c14n: { type: 'string', parse: oneOf(['c14n', 'c14n-with-comments', 'c14n11', 'c14n11-with-comments', 'exc-c14n', 'exc-c14n-with-comments'] as const) },
      hash: { type: 'string', parse: oneOf(['SHA-256', 'SHA-384', 'SHA-512'] as const) }, 'allow-further-signatures': { type: 'boolean' },
    },
  },
  edxml: {
    positionals: { min: 0, max: 0 },
    options: {
      from: { type: 'string', parse: nonEmpty }, to: { type: 'string', multiple: true, parse: nonEmpty }, subject: { type: 'string', parse: nonEmpty },
      attach: { type: 'string', multiple: true, parse: nonEmpty }, output: { type: 'string', short: 'o', parse: nonEmpty },
      'from-name': { type: 'string' }, 'to-name': { type: 'string', multiple: true }, 'code-number': { type: 'string' }, 'code-notation': { type: 'string' },
      place: { type: 'string' }, 'type-name': { type: 'string' }, signer: { type: 'string' }, position: { type: 'string' },
      'document-id': { type: 'string', parse: nonEmpty }, content: { type: 'string' },
    },
  },
  'edxml-status': {
    positionals: { min: 0, max: 0 },
    options: {
      from: { type: 'string', parse: nonEmpty }, 'for-org': { type: 'string', parse: nonEmpty }, 'document-id': { type: 'string', parse: nonEmpty },
      'status-code': { type: 'string', parse: nonEmpty }, description: { type: 'string' }, output: { type: 'string', short: 'o', parse: nonEmpty },
    },
  },
} as const satisfies Record<string, { positionals: { min: number; max: number; name?: string }; options: OptionSpecs }>;

/** The arguments of one subcommand through the shared parser; undefined for -h/--help. */
function parse(sub: keyof typeof SUBCOMMANDS, args: string[]): Args | undefined {
  const spec = SUBCOMMANDS[sub];
  const p = parseCommand(args, spec.options as OptionSpecs, { positionals: spec.positionals, see: 'kyso xml' });
  if (p.help) return undefined;
  const flags = new Map<string, string[]>();
  for (const [k, v] of Object.entries(p.values as Record<string, unknown>)) {
    if (v === undefined || v === false) continue;
    flags.set(`--${k}`, v === true ? [''] : Array.isArray(v) ? v.map(String) : [String(v)]);
  }
  return { flags, positional: p.positionals };
}

function one(a: Args, k: string): string | undefined {
  const v = a.flags.get(k);
  if (v && v.length > 1) throw new UsageError(`${k} given more than once`);
  return v?.[0];
}
function need(a: Args, k: string): string { const v = one(a, k); if (v === undefined) throw new UsageError(`missing ${k}`); return v; }
function keySource(a: Args): Promise<KeySource> {
  const p12 = one(a, '--p12'), key = one(a, '--key'), cert = one(a, '--cert'), mod = one(a, '--pkcs11-module');
  const kinds = [p12 ? 1 : 0, key || cert ? 1 : 0, mod || one(a, '--pkcs11-token') || one(a, '--pkcs11-key') ? 1 : 0].reduce((x, y) => x + y, 0);
  if (kinds !== 1) throw new UsageError('give exactly one key: --p12 FILE | --key KEY.pem --cert CERT.pem | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-key LABEL');
  if (mod) { need(a, '--pkcs11-token'); need(a, '--pkcs11-key'); }
  if (!mod && !p12 && (!key || !cert)) throw new UsageError('--key and --cert go together');
  // the same secrets rules and prompt as kyso sign
  return keySourceFrom({
    p12, key, cert, chain: one(a, '--chain'), pkcs11Module: mod, pkcs11Token: one(a, '--pkcs11-token'), pkcs11Key: one(a, '--pkcs11-key'),
    passwordEnv: one(a, '--password-env'), pinEnv: one(a, '--pin-env'),
  });
}

const MIME: Record<string, string> = { pdf: 'application/pdf', xml: 'text/xml', txt: 'text/plain', doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', zip: 'application/zip', png: 'image/png', jpg: 'image/jpeg' };

async function edxml(a: Args): Promise<number> {
  const out = need(a, '--output');
  const to = a.flags.get('--to') ?? [];
  if (!to.length) throw new UsageError('missing --to ORG');
  const toNames = a.flags.get('--to-name') ?? [];
  const files = a.flags.get('--attach') ?? [];
  const attachments = files.map((f) => {
    let data: Buffer;
    try { data = readFileSync(f); } catch { throw new UsageError(`cannot read attachment ${f}`); }
    return { name: basename(f), data, contentType: MIME[f.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream' };
  });
  const { buildEdxml } = await signer();
  const msg = buildEdxml({
    from: { organId: need(a, '--from'), ...(one(a, '--from-name') ? { organName: one(a, '--from-name')! } : {}) },
    to: to.map((t, i) => ({ organId: t, ...(toNames[i] ? { organName: toNames[i] } : {}) })),
    subject: need(a, '--subject'),
    code: { number: one(a, '--code-number') ?? '', notation: one(a, '--code-notation') ?? '' },
    promulgation: { place: one(a, '--place') ?? '', date: new Date() },
    documentType: { type: '1', typeName: one(a, '--type-name') ?? '' },
    signerInfo: { fullName: one(a, '--signer') ?? '', position: one(a, '--position') ?? '' },
    ...(one(a, '--document-id') ? { documentId: one(a, '--document-id')! } : {}),
    ...(one(a, '--content') ? { content: one(a, '--content')! } : {}),
    attachments,
  });
  writeFileSync(out, msg);
  process.stderr.write(`kyso xml edxml: wrote ${out} (${attachments.length} attachment(s)); sign it with kyso xml sign\n`);
  return 0;
}

async function edxmlStatus(a: Args): Promise<number> {
  const out = need(a, '--output');
  const { buildEdxmlStatus } = await signer();
  writeFileSync(out, buildEdxmlStatus({
    from: { organId: need(a, '--from') }, responseFor: { organId: need(a, '--for-org'), documentId: need(a, '--document-id') },
    statusCode: need(a, '--status-code'), ...(one(a, '--description') ? { description: one(a, '--description')! } : {}),
  }));
  return 0;
}

type XmlSigner = typeof import('@kyso/signer/xml');

/** The document element as the fast scanner sees it in `text` (a BOM skipped), or undefined when it declines. */
function documentElement(text: string, S: XmlSigner): { localName: string; namespaceURI: string | null } | undefined {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const stop = Symbol('root found');
  let root: { localName: string; namespaceURI: string | null } | undefined;
  try {
    S.scanXml(text, { open(el) { root = el; throw stop; }, close() {}, text() {}, comment() {} });
  } catch (e) {
    if (e !== stop) throw e;
  }
  return root;
}

/**
 * Whether the document element is edXML's, without parsing the whole document: an edXML root's name is literally
 * "edXML" (names cannot be escaped), and the fast scanner stops at the document element (first in the head, the
 * start tag being near the start; then in the whole text); the full parse runs only when the scanner declines.
 */
function looksLikeEdxml(bytes: Uint8Array, S: XmlSigner): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.includes('edXML')) return false;
  const root = documentElement(buf.toString('utf8', 0, Math.min(buf.length, 1 << 16)), S) ?? documentElement(S.decodeXml(bytes), S);
  if (root) return root.localName === 'edXML' && root.namespaceURI === S.EDXML_NS;
  return S.isEdxml(S.parseXml(bytes));
}

/**
 * True when the file's head shows a document element that is not edXML's (so the edXML profile does not apply):
 * read from the first 64 KiB only. False when it cannot tell (the caller reads the whole file and decides).
 */
function headSaysPlainXml(head: Buffer, S: XmlSigner): boolean {
  const root = documentElement(head.toString('utf8'), S);
  return !!root && root.localName !== 'edXML';
}

/** True when the file's head shows an edXML document element (QCVN 102 namespace). */
function headSaysEdxml(head: Buffer, S: XmlSigner): boolean {
  const root = documentElement(head.toString('utf8'), S);
  return !!root && root.localName === 'edXML' && root.namespaceURI === S.EDXML_NS;
}

/** The first 64 KiB of a file. */
function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.allocUnsafe(1 << 16);
    return b.subarray(0, readSync(fd, b, 0, b.length, 0));
  } finally { closeSync(fd); }
}

async function sign(a: Args): Promise<number> {
  const out = need(a, '--output');
  if (a.positional.length !== 1) throw new UsageError('one input file expected: kyso xml sign IN.xml -o OUT.xml KEY');
  const level = (one(a, '--level') ?? 'B-B') as XadesLevel;
  const tsa = one(a, '--tsa');
  if (level !== 'B-B' && level !== 'XMLDSIG' && !tsa) throw new UsageError(`--level ${level} needs --tsa URL`);
  const hash = one(a, '--hash') as HashName | undefined;
  const detachedPath = one(a, '--detached');
  const enveloping = a.flags.has('--enveloping');
  if (detachedPath && enveloping) throw new UsageError('--enveloping and --detached exclude each other');
  const mode: XmlSignatureMode = detachedPath ? 'detached' : enveloping ? 'enveloping' : 'enveloped';
  const input = a.positional[0]!;
  let bytes: Uint8Array = new Uint8Array(0);
  // enveloped, not an edXML message (told from the head of the file): signed as the file streams by (signXmlFile)
  let head: Buffer | undefined;
  if (mode !== 'detached' || input !== '-') {
    try {
      if (mode === 'enveloped') head = readHead(input);
      else bytes = readFileSync(input);
    } catch { throw new UsageError(`cannot read ${input}`); }
  }
  const source = await keySource(a);
  const S = await signer();
  const { openKeyBackend, signEdxml, signXml } = S;
  const stream = !!head && headSaysPlainXml(head, S);
  // an edXML message (told from the head): signed as the file streams by too (signEdxmlFile)
  const edxmlHead = !!head && !stream && headSaysEdxml(head, S);
  if (head && !stream && !edxmlHead) {
    try { bytes = readFileSync(input); } catch { throw new UsageError(`cannot read ${input}`); }
  }
  const backend = await openKeyBackend(source);
  try {
    const common = { backend, level, ...(a.flags.has('--allow-further-signatures') ? { allowFurtherSignatures: true } : {}), ...(hash ? { hash } : {}), ...(one(a, '--c14n') ? { c14n: one(a, '--c14n')! } : {}), ...(tsa ? { tsa: { url: tsa } } : {}) };
    if (stream) { await S.signXmlFile(input, out, common); return 0; }
    if (edxmlHead) { await S.signEdxmlFile(input, out, common); return 0; }
    let signed: Uint8Array;
    if (mode === 'enveloped' && looksLikeEdxml(bytes, S)) signed = await signEdxml(bytes, common);
    else if (mode === 'detached') {
      let data: Uint8Array;
      try { data = new Uint8Array(readFileSync(detachedPath!)); } catch { throw new UsageError(`cannot read ${detachedPath}`); }
      signed = await signXml(bytes, { ...common, mode, detached: { data, uri: basename(detachedPath!) } });
    } else signed = await signXml(bytes, { ...common, mode });
    writeFileSync(out, signed);
  } finally { await backend.close(); }
  return 0;
}

/**
 * Validate an XML file for `kyso verify` (the hook in verify.ts): detached content is the --data file, matched to a
 * reference URI by base name.
 */
export async function verifyXmlFile(path: string, policy: Policy, dataPath?: string): Promise<ValidationReport> {
  const detached = dataPath ? (uri: string) => (basename(uri) === basename(dataPath) ? new Uint8Array(readFileSync(dataPath)) : undefined) : undefined;
  const { verifyXml } = await import('@kyso/verifier/xml');
  return verifyXml(path, policy, { name: basename(path), ...(detached ? { detached } : {}) });
}

/** `kyso xml edxml|edxml-status|sign ...`. */
export const command: Command = {
  summary: 'XML signatures: build edXML messages, sign XML (XMLDSig / XAdES B-B..B-LTA)',
  async run(args) {
    const [sub, ...rest] = args;
    if (!sub || wantsHelp([sub])) { process.stdout.write(HELP + '\n'); return sub ? 0 : 2; }
    if (!(sub in SUBCOMMANDS)) {
      if (wantsHelp(rest)) { process.stdout.write(HELP + '\n'); return 0; }
      throw new UsageError(`unknown sub-command '${sub}' (edxml, edxml-status, sign; see kyso xml --help)`);
    }
    const a = parse(sub as keyof typeof SUBCOMMANDS, rest);
    if (!a) { process.stdout.write(HELP + '\n'); return 0; }
    switch (sub) {
      case 'edxml': return edxml(a);
      case 'edxml-status': return edxmlStatus(a);
      case 'sign': return sign(a);
      default: throw new UsageError(`unknown subcommand ${sub} (edxml, edxml-status, sign)`);
    }
  },
};
