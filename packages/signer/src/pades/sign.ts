import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IncrementalWriter, PdfArray, PdfDict, PdfError, PdfName, type PdfObject, PdfReader, PdfRef, PdfString } from '@kyso/pdf';
import { CertInfo, type HashName, type SignatureAlgorithm } from '@kyso/pki';
import { SignerError } from '../crypto/errors.js';
import type { KeyBackend } from '../crypto/keys/types.js';
import { estimateCmsSize } from '../crypto/cms/estimate.js';
import { finalizeCms, prepareCms, type CmsState } from '../crypto/cms/two-step.js';
import { addSignatureTimestamp, type SignatureTimestampOptions } from '../crypto/cms/timestamp.js';
import { checkSignerCertificate } from '../crypto/ltv/signer-status.js';
import { buildAppearance, type VisibleSignatureOptions } from './appearance.js';
import { editDict } from './edit.js';
import { PadesError } from './errors.js';
import { existingSignatures, prepareField } from './fields.js';
import { byteRangePlaceholder, contentsPlaceholder, embedContents, writeSignedUpdate } from './placeholder.js';
import { addDssInPlace, type LtvProvider } from './dss.js';
import { addDocumentTimestampInPlace, type DocumentTimestampOptions } from './doc-timestamp.js';
import { displayDate, pdfDate } from './util.js';

/** PAdES baseline levels (ETSI EN 319 142-1). */
export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

/** What to sign and how (everything except the key). */
export interface PdfSignatureOptions {
  /** Level (default B-B). B-T and above need `tsa`; B-LT and above need `ltv` (or the default collector). */
  level?: PadesLevel;
  /** Digest algorithm (default SHA-256, or the signature algorithm's hash). */
  hash?: HashName;
  signatureAlgorithm?: SignatureAlgorithm;
  /** Sign this field (existing empty signature field) or create a field with this name. */
  fieldName?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** /Name of the signer (default: the certificate's CN). */
  signerName?: string;
  /** Claimed signing time for /M and the appearance (default now). */
  signingTime?: Date;
  /** UTC offset (minutes) used for /M and the appearance text (default +420, Vietnam). */
  utcOffsetMinutes?: number;
  /** Certification signature with DocMDP permissions 1, 2 or 3 (only as the first signature). */
  certify?: 1 | 2 | 3;
  /** FieldMDP lock of a new field (and /Reference FieldMDP of this signature). */
  lock?: { action: 'All' | 'Include' | 'Exclude'; fields?: string[] };
  /** Visible appearance; invisible by default (a pre-created field with a non-empty /Rect gets the default text appearance). */
  visible?: VisibleSignatureOptions;
  /** Never draw an appearance, even in a pre-created visible field. */
  invisible?: boolean;
  /** Password of an encrypted input PDF (user or owner); never stored in the two-step state. */
  pdfPassword?: string;
  /** TSA for B-T and above. */
  tsa?: SignatureTimestampOptions;
  /** Bytes reserved for the CMS in /Contents (default: estimated from certificates + timestamp). */
  contentsSize?: number;
  /** Revocation-data source for B-LT/B-LTA. */
  ltv?: LtvProvider;
  /** Document timestamp options for B-LTA (default: same TSA as `tsa`). */
  documentTimestamp?: Partial<DocumentTimestampOptions>;
  /** Sign even though the signer certificate is expired, not yet valid or revoked (default false). */
  allowInvalidCert?: boolean;
  /** Check the signer's revocation status online (OCSP, CRL fallback) and refuse a revoked one (default false; validity dates are always checked). */
  checkRevocation?: boolean;
}

/** JSON-serialisable state between `preparePdfSignature` and `finalizePdfSignature` (same machine: it names a prepared file). */
export interface PdfSignatureState {
  v: 1;
  kind: 'kyso-pades-state';
  /** Prepared file (input + update with an empty /Contents), in the output's directory. */
  preparedPath: string;
  output: string;
  contentsOffset: number;
  contentsHexLength: number;
  byteRange: number[];
  fileSize: number;
  level: PadesLevel;
  /** Full name of the signature field. */
  fieldName: string;
  cms: CmsState;
  tsa?: Omit<SignatureTimestampOptions, 'nonce'>;
  documentTimestamp?: Partial<DocumentTimestampOptions>;
}

/** Result of `preparePdfSignature`. */
export interface PreparedPdfSignature {
  /** Digest of the CAdES signed attributes under the signature hash: what a digest-signing device/remote service signs. */
  digest: Uint8Array;
  /** The DER signed attributes (what software keys sign). */
  toBeSigned: Uint8Array;
  /** Digest of the ByteRange bytes (the CMS messageDigest). */
  contentDigest: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  state: PdfSignatureState;
}

/** Signer identity needed to prepare: certificate and chain (DER). */
export interface SignerCertificates {
  certificate: Uint8Array;
  chain?: Uint8Array[];
}

/** Result of a completed signature. */
export interface PdfSignatureResult {
  output: string;
  byteRange: number[];
  /** Size of the CMS written into /Contents. */
  cmsSize: number;
  /** Bytes reserved. */
  contentsSize: number;
  level: PadesLevel;
  fieldName: string;
  /** Size of the output file. */
  fileSize: number;
}

const LEVELS: PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];
const atLeast = (l: PadesLevel, m: PadesLevel): boolean => LEVELS.indexOf(l) >= LEVELS.indexOf(m);

/** A temp path in the directory of `output` (same file system, so rename is atomic). */
export function tempPathFor(output: string): string {
  return join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.kyso-tmp`);
}

function safeUnlink(p: string): void {
  try {
    if (existsSync(p)) unlinkSync(p);
  } catch {
    /* best effort */
  }
}

function cnOf(cert: CertInfo): string | undefined {
  const m = /(?:^|,\s*)CN=((?:\\,|[^,])+)/.exec(cert.subject);
  return m?.[1]?.replace(/\\,/g, ',');
}

const certCache = new WeakMap<Uint8Array, CertInfo>();
/** Parsed certificate, cached per byte array (a backend's certificate is the same object on every call). */
function certInfo(der: Uint8Array): CertInfo {
  let c = certCache.get(der);
  if (!c) {
    c = new CertInfo(der);
    certCache.set(der, c);
  }
  return c;
}

const estimateCache = new WeakMap<Uint8Array, Map<string, number>>();
/** Placeholder size for the CMS, cached per certificate object and parameters. */
function estimateContentsSize(signer: SignerCertificates, hash: HashName, alg: SignatureAlgorithm | undefined, timestamp: boolean): number {
  const key = JSON.stringify([hash, alg ?? null, timestamp, (signer.chain ?? []).map((c) => c.length)]);
  let m = estimateCache.get(signer.certificate);
  const hit = m?.get(key);
  if (hit !== undefined) return hit;
  const size = estimateCmsSize({ certificate: signer.certificate, chain: signer.chain ?? [], hash, ...(alg ? { signatureAlgorithm: alg } : {}), timestamp });
  if (!m) estimateCache.set(signer.certificate, (m = new Map()));
  m.set(key, size);
  return size;
}

/** Refuses certificates outside their validity period unless allowed (CERT_EXPIRED / CERT_NOT_YET_VALID). */
export function checkCertificateTime(cert: Uint8Array, at: Date, allow = false): void {
  if (allow) return;
  const c = certInfo(cert);
  if (at < c.notBefore) throw new SignerError('CERT_NOT_YET_VALID', `signer certificate ${c.subject} is not valid before ${c.notBefore.toISOString()} (use allowInvalidCert to override)`);
  if (at > c.notAfter) throw new SignerError('CERT_EXPIRED', `signer certificate ${c.subject} expired on ${c.notAfter.toISOString()} (use allowInvalidCert to override)`);
}

/**
 * Opens the input for signing. Encrypted files need their password (or open with the empty user
 * password) and must permit signing; files whose xref had to be rebuilt are refused later by the writer.
 */
export function openForUpdate(input: string | Uint8Array, password?: string): PdfReader {
  let r: PdfReader;
  try {
    r = PdfReader.open(input, password !== undefined ? { password } : {});
  } catch (err) {
    if (err instanceof PdfError) throw err;
    throw new PdfError('PDF_BAD_STRUCTURE', `cannot read the PDF: ${(err as Error).message}`);
  }
  if (r.isEncrypted && !r.crypt) {
    r.close();
    const why = r.encryptionError?.message ?? 'it cannot be decrypted';
    throw new PadesError('PDF_ENCRYPTED', `the PDF is encrypted: ${why}${password === undefined ? ' (give its password: pdfPassword / --pdf-password-env)' : ''}`);
  }
  if (r.crypt && !r.crypt.owner && !r.crypt.allowsSigning) {
    r.close();
    throw new PadesError('PDF_ENCRYPTED', 'the PDF is encrypted and its permissions do not allow signing with the user password (give the owner password)');
  }
  try {
    void r.catalog;
  } catch (err) {
    r.close();
    throw err;
  }
  return r;
}

/**
 * Step 1 of two-step signing: writes the prepared file (input + incremental update with the
 * signature dictionary, field, appearance, and an empty /Contents), digests the ByteRange and builds
 * the CAdES signed attributes. Returns the digest to sign and a JSON-serialisable state for
 * `finalizePdfSignature` (in this process or another on the same machine).
 */
export async function preparePdfSignature(input: string | Uint8Array, output: string, signer: SignerCertificates, options: PdfSignatureOptions = {}): Promise<PreparedPdfSignature> {
  const level = options.level ?? 'B-B';
  if (!LEVELS.includes(level)) throw new PadesError('PDF_UNSUPPORTED', `unknown level ${level}`);
  if (atLeast(level, 'B-T') && !options.tsa?.url) throw new PadesError('TSA_FAILED', `level ${level} needs a TSA URL`);
  const signingTime = options.signingTime ?? new Date();
  if (options.checkRevocation) {
    await checkSignerCertificate(signer.certificate, signer.chain ?? [], {
      allowExpired: options.allowInvalidCert ?? false,
      allowRevoked: options.allowInvalidCert ?? false,
    });
  } else {
    checkCertificateTime(signer.certificate, new Date(), options.allowInvalidCert);
  }
  const hash = options.hash ?? options.signatureAlgorithm?.hash ?? 'SHA-256';
  const cert = certInfo(signer.certificate);
  const reader = openForUpdate(input, options.pdfPassword);
  const tmp = tempPathFor(output);
  try {
    const fields = reader.fields();
    const signed = existingSignatures(fields);
    const catalog = reader.catalog;
    const perms = reader.dict(catalog.get('Perms'));
    if (options.certify !== undefined) {
      if (![1, 2, 3].includes(options.certify)) throw new PadesError('PDF_UNSUPPORTED', `certify must be 1, 2 or 3`);
      if (signed.length > 0 || perms?.has('DocMDP')) throw new PadesError('CERTIFY_NOT_FIRST', 'only the first signature of a document can certify it; this PDF is already signed');
    }
    const docMdp = perms ? reader.dict(perms.get('DocMDP')) : undefined;
    if (docMdp) {
      const p = docMdpPermission(reader, docMdp);
      if (p === 1) throw new PadesError('DOCMDP_FORBIDS', 'the document is certified with DocMDP P=1: no change, not even a signature, is permitted');
    }
    const certified = !!docMdp || signed.some((f) => isCertification(reader, f.dict.get('V')));
    if (certified && options.visible && !fields.some((f) => f.fullName === options.fieldName && f.fieldType === 'Sig')) {
      throw new PadesError('DOCMDP_FORBIDS', 'the document is certified: a new visible signature field could overlay its content (shadow/sneaky-signature attacks) and strict validators reject it; sign an existing empty field (--field NAME) or sign invisibly');
    }
    const w = new IncrementalWriter(reader);
    const target = prepareField(w, fields, {
      ...(options.fieldName !== undefined ? { fieldName: options.fieldName } : {}),
      ...(options.visible ? { page: options.visible.page, rect: [options.visible.rect[0], options.visible.rect[1], options.visible.rect[0] + options.visible.rect[2], options.visible.rect[1] + options.visible.rect[3]] } : {}),
      ...(options.lock ? { lock: options.lock } : {}),
    });
    const signerName = options.signerName ?? cnOf(cert) ?? cert.subject;
    const offset = options.utcOffsetMinutes ?? 420;
    const contentsSize = options.contentsSize ?? estimateContentsSize(signer, hash, options.signatureAlgorithm, atLeast(level, 'B-T'));
    if (!Number.isInteger(contentsSize) || contentsSize < 64 || contentsSize > 16 * 1024 * 1024) throw new PadesError('CONTENTS_TOO_SMALL', `contentsSize ${contentsSize} is out of range`);
    const sig = new PdfDict({
      Type: PdfName.of('Sig'),
      Filter: PdfName.of('Adobe.PPKLite'),
      SubFilter: PdfName.of('ETSI.CAdES.detached'),
      ByteRange: byteRangePlaceholder(),
      Contents: contentsPlaceholder(contentsSize),
      M: PdfString.fromText(pdfDate(signingTime, offset)),
      Name: PdfString.fromText(signerName),
    });
    if (options.reason) sig.set('Reason', PdfString.fromText(options.reason));
    if (options.location) sig.set('Location', PdfString.fromText(options.location));
    if (options.contactInfo) sig.set('ContactInfo', PdfString.fromText(options.contactInfo));
    sig.set('Prop_Build', new PdfDict({ App: new PdfDict({ Name: PdfName.of('kyso') }) }));
    const refs: PdfDict[] = [];
    if (options.certify) {
      refs.push(new PdfDict({
        Type: PdfName.of('SigRef'),
        TransformMethod: PdfName.of('DocMDP'),
        TransformParams: new PdfDict({ Type: PdfName.of('TransformParams'), P: options.certify, V: PdfName.of('1.2') }),
      }));
    }
    const lock = options.lock ?? lockOfField(reader, target.fieldRef);
    if (lock) {
      const tp = new PdfDict({ Type: PdfName.of('TransformParams'), Action: PdfName.of(lock.action), V: PdfName.of('1.2') });
      if (lock.action !== 'All') tp.set('Fields', new PdfArray((lock.fields ?? []).map((f) => PdfString.fromText(f))));
      refs.push(new PdfDict({ Type: PdfName.of('SigRef'), TransformMethod: PdfName.of('FieldMDP'), TransformParams: tp }));
    }
    if (refs.length) sig.set('Reference', new PdfArray(refs));
    const sigRef = w.add(sig);
    const field = editDict(w, target.fieldRef);
    field.set('V', sigRef);
    if (options.certify) {
      const cat = editDict(w, reader.catalogRef);
      const p = reader.dict(cat.get('Perms'))?.clone() ?? new PdfDict();
      p.set('DocMDP', sigRef);
      cat.set('Perms', p);
    }
    // A pre-created field with a real rectangle shows the signature there (unless told to stay invisible).
    let vis = options.visible;
    if (!vis && target.existing && !options.invisible) {
      const rect = reader.array(reader.dict(target.widgetRef)?.get('Rect'))?.items;
      if (rect && rect.length === 4 && rect.every((x) => typeof x === 'number')) {
        const [x1, y1, x2, y2] = rect as number[];
        const wdt = Math.abs(x2! - x1!);
        const hgt = Math.abs(y2! - y1!);
        if (wdt >= 1 && hgt >= 1) vis = { page: target.pageIndex + 1, rect: [Math.min(x1!, x2!), Math.min(y1!, y2!), wdt, hgt] };
      }
    }
    if (vis) {
      const lines = vis.lines ?? [
        `Ký bởi: ${signerName}`,
        `Thời gian ký: ${displayDate(signingTime, offset)}`,
        ...(options.reason ? [`Lý do: ${options.reason}`] : []),
        ...(options.location ? [`Nơi ký: ${options.location}`] : []),
      ];
      const rotate = target.pageIndex >= 0 ? reader.getPage(target.pageIndex).rotate : 0;
      const ap = await buildAppearance(w, { width: vis.rect[2], height: vis.rect[3], lines, pageRotate: rotate, ...(vis.image ? { image: vis.image } : {}), ...(vis.fontPath ? { fontPath: vis.fontPath } : {}) });
      const widget = editDict(w, target.widgetRef);
      widget.set('AP', new PdfDict({ N: ap }));
      if (target.existing && options.visible) widget.set('Rect', new PdfArray([vis.rect[0], vis.rect[1], vis.rect[0] + vis.rect[2], vis.rect[1] + vis.rect[3]]));
    }
    const layout = await writeSignedUpdate({ writer: w, sigRef, source: input, target: tmp, hash });
    reader.close();
    const prepared = prepareCms({
      contentDigest: layout.contentDigest,
      hash,
      certificate: signer.certificate,
      chain: signer.chain ?? [],
      ...(options.signatureAlgorithm ? { signatureAlgorithm: options.signatureAlgorithm } : {}),
    });
    const state: PdfSignatureState = {
      v: 1,
      kind: 'kyso-pades-state',
      preparedPath: tmp,
      output,
      contentsOffset: layout.contentsOffset,
      contentsHexLength: layout.contentsHexLength,
      byteRange: layout.byteRange,
      fileSize: layout.fileSize,
      level,
      fieldName: target.fullName,
      cms: prepared.state,
      ...(options.tsa ? { tsa: stripTsa(options.tsa) } : {}),
      ...(options.documentTimestamp ? { documentTimestamp: (({ headers: _h, nonce: _n, ...rest }) => rest)(options.documentTimestamp) } : {}),
    };
    return { digest: prepared.digestToSign, toBeSigned: prepared.toBeSigned, contentDigest: layout.contentDigest, signatureAlgorithm: prepared.signatureAlgorithm, state };
  } catch (err) {
    reader.close();
    safeUnlink(tmp);
    throw asOutputError(err, output);
  }
}

/** File-system failures (ENOENT, EACCES, ENOSPC...) while writing become OUTPUT_FAILED with the path and the system code. */
function asOutputError(err: unknown, output: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string') {
    return new PadesError('OUTPUT_FAILED', `cannot write ${output}: ${e.code} (${e.syscall})`, { cause: err });
  }
  return err;
}

/** TSA options as stored in the state: no nonce, and no HTTP headers (they may carry credentials; pass them again to finalize). */
function stripTsa(t: SignatureTimestampOptions): Omit<SignatureTimestampOptions, 'nonce'> {
  const { nonce: _n, headers: _h, ...rest } = t;
  return rest;
}

function docMdpPermission(reader: PdfReader, sig: PdfDict): number | undefined {
  for (const ref of reader.array(sig.get('Reference'))?.items ?? []) {
    const d = reader.dict(ref);
    if (d?.getName('TransformMethod') === 'DocMDP') {
      const p = reader.resolve(reader.dict(d.get('TransformParams'))?.get('P'));
      return typeof p === 'number' ? p : 2;
    }
  }
  return undefined;
}

function isCertification(reader: PdfReader, v: PdfObject | undefined): boolean {
  const d = reader.dict(v);
  return !!d && docMdpPermission(reader, d) !== undefined;
}

function lockOfField(reader: PdfReader, fieldRef: PdfRef): { action: 'All' | 'Include' | 'Exclude'; fields?: string[] } | undefined {
  const f = reader.dict(fieldRef);
  const lock = f ? reader.dict(f.get('Lock')) : undefined;
  if (!lock) return undefined;
  const action = lock.getName('Action');
  if (action !== 'All' && action !== 'Include' && action !== 'Exclude') return undefined;
  const fields = (reader.array(lock.get('Fields'))?.items ?? []).map((x) => reader.resolve(x)).filter((x): x is PdfString => x instanceof PdfString).map((s) => s.text());
  return { action, fields };
}

function parseState(s: PdfSignatureState | string): PdfSignatureState {
  let st: PdfSignatureState;
  try {
    st = typeof s === 'string' ? (JSON.parse(s) as PdfSignatureState) : s;
  } catch {
    throw new PadesError('STATE_INVALID', 'PDF signature state is not JSON');
  }
  if (!st || st.v !== 1 || st.kind !== 'kyso-pades-state') throw new PadesError('STATE_INVALID', 'not a kyso PDF signature state');
  if (typeof st.preparedPath !== 'string' || typeof st.output !== 'string' || !Number.isInteger(st.contentsOffset) || !Number.isInteger(st.contentsHexLength)) {
    throw new PadesError('STATE_INVALID', 'PDF signature state is incomplete');
  }
  // The state names files: only accept kyso's own temp file next to the output.
  const base = basename(st.preparedPath);
  if (dirname(st.preparedPath) !== dirname(st.output) || !base.startsWith(`.${basename(st.output)}.`) || !base.endsWith('.kyso-tmp')) {
    throw new PadesError('STATE_INVALID', 'PDF signature state: the prepared file is not the temp file kyso made for this output');
  }
  if (!Number.isInteger(st.fileSize) || st.contentsOffset < 0 || st.contentsHexLength <= 0 || st.contentsOffset + st.contentsHexLength + 2 > st.fileSize) {
    throw new PadesError('STATE_INVALID', 'PDF signature state: /Contents position outside the prepared file');
  }
  if (!existsSync(st.preparedPath)) throw new PadesError('STATE_INVALID', `prepared file ${st.preparedPath} is gone (already finalized or cleaned up)`);
  if (statSync(st.preparedPath).size !== st.fileSize) throw new PadesError('STATE_INVALID', `prepared file ${st.preparedPath} changed since prepare`);
  return st;
}

/** Options of `finalizePdfSignature`. */
export interface FinalizePdfOptions {
  /** Extra certificates to embed (e.g. the chain a remote signer returned). */
  certificates?: Uint8Array[];
  /** Revocation-data source for B-LT/B-LTA. */
  ltv?: LtvProvider;
  /** TSA options that are not kept in the state (e.g. `headers` with credentials), merged over the state's. */
  tsa?: Partial<SignatureTimestampOptions>;
  /** Password of an encrypted PDF, needed again for B-LT/B-LTA (unless the empty user password opens it). */
  pdfPassword?: string;
}

/**
 * Step 2: wraps the signature value into the CMS (verifying it against the certificate), adds the
 * signature timestamp (B-T), embeds it into /Contents, adds DSS (B-LT) and the document timestamp
 * (B-LTA), then renames the prepared file to the output. On any failure the prepared file is
 * removed and no output is written.
 */
export async function finalizePdfSignature(state: PdfSignatureState | string, signatureValue: Uint8Array, chainOrOptions: Uint8Array[] | FinalizePdfOptions = {}): Promise<PdfSignatureResult> {
  const st = parseState(state);
  const opts: FinalizePdfOptions = Array.isArray(chainOrOptions) ? { certificates: chainOrOptions } : chainOrOptions;
  try {
    const known = new Set([st.cms.certificate, ...st.cms.chain]);
    const extra = (opts.certificates ?? []).filter((c) => !known.has(Buffer.from(c).toString('base64')));
    let cms: Uint8Array;
    try {
      cms = finalizeCms(st.cms, signatureValue, extra.length ? { certificates: extra } : {});
    } catch (err) {
      throw err instanceof SignerError ? err : new PadesError('STATE_INVALID', `CMS assembly failed: ${(err as Error).message}`);
    }
    if (atLeast(st.level, 'B-T')) {
      const tsa = { ...st.tsa, ...opts.tsa };
      if (!tsa.url) throw new PadesError('TSA_FAILED', `level ${st.level} needs a TSA URL`);
      cms = await addSignatureTimestamp(cms, tsa as SignatureTimestampOptions);
    }
    embedContents(st.preparedPath, st.contentsOffset, st.contentsHexLength, cms);
    if (atLeast(st.level, 'B-LT')) {
      await addDssInPlace(st.preparedPath, { ...(opts.ltv ? { ltv: opts.ltv } : {}), ...(opts.pdfPassword !== undefined ? { pdfPassword: opts.pdfPassword } : {}) });
    }
    if (st.level === 'B-LTA') {
      const url = st.documentTimestamp?.url ?? st.tsa?.url;
      if (!url) throw new PadesError('TSA_FAILED', 'B-LTA needs a TSA URL for the document timestamp');
      await addDocumentTimestampInPlace(st.preparedPath, { ...(opts.tsa?.headers ? { headers: opts.tsa.headers } : {}), ...st.documentTimestamp, url, ...(opts.pdfPassword !== undefined ? { pdfPassword: opts.pdfPassword } : {}) });
    }
    const fileSize = statSync(st.preparedPath).size;
    renameSync(st.preparedPath, st.output);
    return { output: st.output, byteRange: st.byteRange, cmsSize: cms.length, contentsSize: st.contentsHexLength / 2, level: st.level, fieldName: st.fieldName, fileSize };
  } catch (err) {
    safeUnlink(st.preparedPath);
    throw asOutputError(err, st.output);
  }
}

/** Discards a prepared signature (removes the prepared file). */
export function abortPdfSignature(state: PdfSignatureState | string): void {
  try {
    const st = typeof state === 'string' ? (JSON.parse(state) as PdfSignatureState) : state;
    if (st?.kind === 'kyso-pades-state' && typeof st.preparedPath === 'string') safeUnlink(st.preparedPath);
  } catch {
    /* nothing to clean */
  }
}

/** Options of `signPdf`: the signature options plus the key. */
export interface SignPdfOptions extends PdfSignatureOptions {
  backend: KeyBackend;
  /** Chain to embed (default: the backend's chain). */
  chain?: Uint8Array[];
}

/**
 * One-shot PAdES signature: prepare → backend.sign → finalize. `input` is a path (read on demand,
 * streamed) or bytes; `output` is written through a temp file renamed on success only.
 */
export async function signPdf(input: string | Uint8Array, output: string, options: SignPdfOptions): Promise<PdfSignatureResult> {
  const { backend, chain, ...rest } = options;
  const prepared = await preparePdfSignature(input, output, { certificate: backend.certificate, chain: chain ?? backend.chain }, rest);
  let sig: Uint8Array;
  try {
    sig = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digest }, prepared.signatureAlgorithm);
  } catch (err) {
    abortPdfSignature(prepared.state);
    throw err;
  }
  return finalizePdfSignature(prepared.state, sig, { ...(options.ltv ? { ltv: options.ltv } : {}), ...(options.tsa ? { tsa: options.tsa } : {}), ...(options.pdfPassword !== undefined ? { pdfPassword: options.pdfPassword } : {}) });
}

/** Convenience: signs bytes and returns the signed bytes (through a temp file). */
export async function signPdfBytes(input: Uint8Array, options: SignPdfOptions & { tmpDir?: string }): Promise<Uint8Array> {
  const out = join(options.tmpDir ?? (await import('node:os')).tmpdir(), `kyso-${randomBytes(8).toString('hex')}.pdf`);
  try {
    await signPdf(input, out, options);
    return new Uint8Array(readFileSync(out));
  } finally {
    safeUnlink(out);
  }
}

export { PdfRef };
