import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IncrementalWriter, PdfArray, PdfDict, PdfError, PdfName, type PdfObject, PdfReader, PdfRef, PdfString } from '@kyso/pdf';
import { certInfoOf, type CertInfo, type HashName, type SignatureAlgorithm } from '@kyso/pki';
import { SignerError } from '../crypto/errors.js';
import type { KeyBackend } from '../crypto/keys/types.js';
import { estimateCmsSize } from '../crypto/cms/estimate.js';
import { finalizeCms, prepareCms, type CmsState } from '../crypto/cms/two-step.js';
import { addSignatureTimestamp, type SignatureTimestampOptions } from '../crypto/cms/timestamp.js';
import { checkSignerCertificate } from '../crypto/ltv/signer-status.js';
import { buildAppearance, type VisibleSignatureOptions } from './appearance.js';
import { editDict } from './edit.js';
import { classifyServiceError, PadesError } from './errors.js';
import { existingSignatures, prepareField } from './fields.js';
import { byteRangePlaceholder, contentsPlaceholder, detachSignedUpdate, writeAll } from './placeholder.js';
import { checkState, isSealedState, openPdfSignatureState, sealPdfSignatureState, type PdfSignatureState } from './state.js';
import { damagedError, preflightPdf, repairPdf, type PreflightFinding } from './preflight.js';
import { addDssInPlace, type LtvProvider } from './dss.js';
import { addDocumentTimestampInPlace, type DocumentTimestampOptions } from './doc-timestamp.js';
import { displayDate, pdfDate } from './util.js';
import { nodeHashName } from '@kyso/pki';

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
  /**
   * A damaged input (truncated, broken cross-reference data, unfinished revision after the last
   * %%EOF) is refused with PDF_DAMAGED unless this is true: then it is rewritten into a sound file
   * first (`repairPdf`) and the result says so (`repaired`). Default false.
   */
  repair?: boolean;
  /** Seal the returned state with HMAC-SHA-256 under this key (≥ 16 bytes) for transport: `PreparedPdfSignature.sealedState`. */
  stateKey?: Uint8Array;
}

export type { PdfSignatureState };

/** Result of `preparePdfSignature`. */
export interface PreparedPdfSignature {
  /** Digest of the CAdES signed attributes under the signature hash: what a digest-signing device/remote service signs. */
  digest: Uint8Array;
  /** The DER signed attributes (what software keys sign). */
  toBeSigned: Uint8Array;
  /** Digest of the ByteRange bytes (the CMS messageDigest). */
  contentDigest: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  /** Self-contained state for `finalizePdfSignature` (JSON-serialisable; holds no temp-file path). */
  state: PdfSignatureState;
  /** The state sealed with `options.stateKey` (HMAC-SHA-256), for transport to another process or host. */
  sealedState?: string;
  /** Set when the input was damaged and `repair` rewrote it: the bytes that were signed (give them to finalize) and what was wrong. */
  repaired?: { bytes: Uint8Array; findings: PreflightFinding[] };
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
  /** What a repair fixed (only when `repair` was asked for and the input was damaged). */
  repaired?: PreflightFinding[];
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

/** Parsed certificate (the one model of @kyso/pki, cached by content: parsed once per process). */
function certInfo(der: Uint8Array): CertInfo {
  return certInfoOf(der);
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
 * Step 1 of two-step signing: checks the input (damaged files are refused with PDF_DAMAGED unless
 * `repair`), builds the incremental update (signature dictionary, field, appearance, an empty
 * /Contents) in memory, digests the ByteRange (original + update) and builds the CAdES signed
 * attributes. Writes nothing. Returns the digest to sign and a self-contained, JSON-serialisable
 * state (the update and the original's SHA-256, never the original's bytes or a temp path; see
 * state.ts), sealed with HMAC-SHA-256 when `stateKey` is given, for `finalizePdfSignature` in this
 * process or another process on another host. `output` is only remembered as finalize's default.
 */
export async function preparePdfSignature(input: string | Uint8Array, output: string, signer: SignerCertificates, options: PdfSignatureOptions = {}): Promise<PreparedPdfSignature> {
  const level = options.level ?? 'B-B';
  if (!LEVELS.includes(level)) throw new PadesError('PDF_UNSUPPORTED', `unknown level ${level}`);
  if (atLeast(level, 'B-T') && !options.tsa?.url) throw new PadesError('TSA_FAILED', `level ${level} needs a TSA URL`);
  const signingTime = options.signingTime ?? new Date();
  if (options.checkRevocation) {
    let checked;
    try {
      checked = await checkSignerCertificate(signer.certificate, signer.chain ?? [], {
        allowExpired: options.allowInvalidCert ?? false,
        allowRevoked: options.allowInvalidCert ?? false,
      });
    } catch (err) {
      throw classifyServiceError(err);
    }
    // An online check was asked for: a responder that cannot be reached is reported, not skipped silently.
    const down = checked.validationData?.details.filter((d) => d.status === 'unavailable' && (d.errors ?? []).some((e) => /^(OCSP|CRL|AIA|HTTP)_(UNREACHABLE|TIMEOUT): /.test(e) && !/names no /.test(e))) ?? [];
    if (down.length && !options.allowInvalidCert) {
      throw new PadesError('REVOCATION_UNREACHABLE', `the revocation status of ${down.map((d) => d.subject).join(', ')} could not be checked: ${down.flatMap((d) => d.errors ?? []).join('; ')}. Retry later, or sign without the online check (checkRevocation: false / kyso sign --offline)`);
    }
  } else {
    checkCertificateTime(signer.certificate, new Date(), options.allowInvalidCert);
  }
  const hash = options.hash ?? options.signatureAlgorithm?.hash ?? 'SHA-256';
  const cert = certInfo(signer.certificate);
  if (options.visible?.image) checkImage(options.visible.image);
  const opened = await openChecked(input, options.pdfPassword, options.repair === true);
  const reader = opened.reader;
  const source = opened.source;
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
    if (options.visible) checkRectOnPage(reader, options.visible.page, options.visible.rect);
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
    const detached = detachSignedUpdate({ writer: w, sigRef, source, hash });
    reader.close();
    const layout = detached.layout;
    const prepared = prepareCms({
      contentDigest: layout.contentDigest,
      hash,
      certificate: signer.certificate,
      chain: signer.chain ?? [],
      ...(options.signatureAlgorithm ? { signatureAlgorithm: options.signatureAlgorithm } : {}),
    });
    const rel = detached.contentsRel;
    const state: PdfSignatureState = {
      v: 2,
      kind: 'kyso-pades-state',
      ...(typeof source === 'string' ? { input: source } : {}),
      ...(output ? { output } : {}),
      base: { size: detached.base.size, sha256: Buffer.from(detached.base.sha256).toString('hex') },
      updateHead: detached.update.subarray(0, rel + 1).toString('base64'),
      updateTail: detached.update.subarray(rel + 1 + layout.contentsHexLength).toString('base64'),
      contentsOffset: layout.contentsOffset,
      contentsHexLength: layout.contentsHexLength,
      byteRange: layout.byteRange,
      fileSize: layout.fileSize,
      contentDigest: Buffer.from(layout.contentDigest).toString('base64'),
      level,
      fieldName: target.fullName,
      cms: prepared.state,
      ...(options.tsa ? { tsa: stripTsa(options.tsa) } : {}),
      ...(options.documentTimestamp ? { documentTimestamp: (({ headers: _h, nonce: _n, pdfPassword: _p, ...rest }) => rest)(options.documentTimestamp) } : {}),
    };
    return {
      digest: prepared.digestToSign, toBeSigned: prepared.toBeSigned, contentDigest: layout.contentDigest, signatureAlgorithm: prepared.signatureAlgorithm, state,
      ...(options.stateKey ? { sealedState: sealPdfSignatureState(state, options.stateKey) } : {}),
      ...(opened.repaired ? { repaired: { bytes: source as Uint8Array, findings: opened.repaired } } : {}),
    };
  } catch (err) {
    reader.close();
    throw asOutputError(err, output);
  }
}

const DAMAGE_CODES = new Set(['PDF_TRUNCATED', 'PDF_XREF_BROKEN', 'PDF_BAD_STRUCTURE']);

/**
 * Opens the input and runs the preflight (`preflightPdf`): a damaged file is refused with
 * PDF_DAMAGED, or, with `repair`, rewritten by `repairPdf` first (then `repaired` lists what was wrong).
 */
async function openChecked(input: string | Uint8Array, password: string | undefined, repair: boolean): Promise<{ reader: PdfReader; source: string | Uint8Array; repaired?: PreflightFinding[] }> {
  let findings: PreflightFinding[];
  try {
    const reader = openForUpdate(input, password);
    const report = preflightPdf(reader);
    if (report.ok) return { reader, source: input };
    reader.close();
    findings = report.findings;
  } catch (err) {
    if (!(err instanceof PdfError) || !DAMAGE_CODES.has(err.code)) throw err;
    findings = [{ kind: err.code === 'PDF_TRUNCATED' ? 'truncated' : 'xref', message: err.message }];
  }
  const name = typeof input === 'string' ? input : 'the input';
  if (!repair) throw damagedError(findings, name);
  const fixed = await repairPdf(input);
  const reader = openForUpdate(fixed.bytes, password);
  const again = preflightPdf(reader);
  if (!again.ok) {
    reader.close();
    throw new PadesError('PDF_DAMAGED', `${name} could not be repaired: ${again.findings.map((f) => f.message).join('; ')}`);
  }
  return { reader, source: fixed.bytes, repaired: fixed.findings.length ? fixed.findings : findings };
}

/** A visible-signature image must be PNG or JPEG (IMAGE_UNSUPPORTED otherwise). */
export function checkImage(image: Uint8Array): 'png' | 'jpeg' {
  const png = image.length > 8 && image[0] === 0x89 && image[1] === 0x50 && image[2] === 0x4e && image[3] === 0x47 && image[4] === 0x0d && image[5] === 0x0a && image[6] === 0x1a && image[7] === 0x0a;
  if (png) return 'png';
  if (image.length > 3 && image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff) return 'jpeg';
  const head = Buffer.from(image.subarray(0, 8));
  const guess = head.subarray(0, 4).toString('latin1') === 'GIF8' ? 'GIF' : head.subarray(0, 2).toString('latin1') === 'BM' ? 'BMP'
    : head.subarray(0, 4).toString('latin1') === 'RIFF' ? 'RIFF/WebP' : head.subarray(0, 4).toString('latin1') === '%PDF' ? 'PDF'
    : /^<(\?xml|svg)/i.test(head.toString('latin1')) ? 'SVG/XML' : (head[0] === 0x49 && head[1] === 0x49) || (head[0] === 0x4d && head[1] === 0x4d) ? 'TIFF' : undefined;
  throw new PadesError('IMAGE_UNSUPPORTED', `the signature image is not PNG or JPEG${guess ? ` (it looks like ${guess})` : image.length === 0 ? ' (it is empty)' : ''}: convert it to PNG or JPEG`);
}

/** The visible rectangle [x, y, w, h] must lie on the page (its CropBox, else MediaBox): RECT_OUTSIDE_PAGE otherwise. */
export function checkRectOnPage(reader: PdfReader, page: number, rect: [number, number, number, number]): void {
  if (!Number.isInteger(page) || page < 1 || page > reader.pageCount) throw new PadesError('PAGE_NOT_FOUND', `page ${page} does not exist (document has ${reader.pageCount} pages)`);
  const [x, y, w, h] = rect;
  if (![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0) throw new PadesError('RECT_OUTSIDE_PAGE', `the visible rectangle ${rect.join(',')} needs a positive width and height`);
  const p = reader.getPage(page - 1);
  const crop = reader.array(p.dict.get('CropBox'))?.items.map((v) => reader.resolve(v));
  const box = crop && crop.length === 4 && crop.every((v) => typeof v === 'number') ? (crop as number[]) : p.mediaBox;
  const [x1, y1, x2, y2] = [Math.min(box[0]!, box[2]!), Math.min(box[1]!, box[3]!), Math.max(box[0]!, box[2]!), Math.max(box[1]!, box[3]!)];
  const eps = 0.01;
  if (x < x1 - eps || y < y1 - eps || x + w > x2 + eps || y + h > y2 + eps) {
    throw new PadesError('RECT_OUTSIDE_PAGE', `the visible rectangle x=${x} y=${y} w=${w} h=${h} does not fit on page ${page} (${x1} ${y1} ${x2} ${y2}, PDF points from the bottom-left corner): it would be cut off or invisible`);
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

function parseState(s: PdfSignatureState | string, key: Uint8Array | undefined): PdfSignatureState {
  if (isSealedState(s)) {
    if (!key) throw new PadesError('STATE_INVALID', 'the signature state is sealed: give the key it was sealed with (stateKey)');
    return openPdfSignatureState(s, key);
  }
  // A caller that holds a key expects a sealed state: an unsealed one may have been altered in transit.
  if (key) throw new PadesError('STATE_TAMPERED', 'a stateKey was given but the signature state is not sealed: refusing an unauthenticated state');
  let st: unknown;
  try {
    st = typeof s === 'string' ? JSON.parse(s) : s;
  } catch {
    throw new PadesError('STATE_INVALID', 'PDF signature state is not JSON');
  }
  return checkState(st);
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
  /**
   * The original document given to prepare (path or bytes), supplied again: its size and SHA-256
   * must match the state. Default: the path prepare read, when it was given a path.
   */
  input?: string | Uint8Array;
  /** Where to write the signed PDF (default: the output given to prepare). */
  output?: string;
  /** Key the state was sealed with (`stateKey` of prepare); required for a sealed state, and then only sealed states are accepted. */
  stateKey?: Uint8Array;
  /** @internal one-shot signPdf: the input is copied by the kernel instead of read through this process; the copy's
   *  SHA-256 is still checked against the state (so it cannot be used to finalize another document). */
  trustedInput?: boolean;
}

/**
 * Step 2: wraps the signature value into the CMS (verifying it against the certificate), adds the
 * signature timestamp (B-T), writes original + update (with the CMS in /Contents) to a temp file
 * next to the output while checking that the original is the one prepared (SHA-256) and that the
 * ByteRange digest is the signed messageDigest, adds DSS (B-LT) and the document timestamp
 * (B-LTA), then renames the temp file to the output. On any failure no output is written.
 * Works in another process or on another host than prepare: only the state, the original document
 * and (for a sealed state) the key are needed.
 */
export async function finalizePdfSignature(state: PdfSignatureState | string, signatureValue: Uint8Array, chainOrOptions: Uint8Array[] | FinalizePdfOptions = {}): Promise<PdfSignatureResult> {
  const opts: FinalizePdfOptions = Array.isArray(chainOrOptions) ? { certificates: chainOrOptions } : chainOrOptions;
  const st = parseState(state, opts.stateKey);
  const input = opts.input ?? st.input;
  const output = opts.output ?? st.output;
  if (input === undefined) throw new PadesError('STATE_INVALID', 'finalize needs the original document (options.input): the state carries only the incremental update');
  if (!output) throw new PadesError('STATE_INVALID', 'finalize needs an output path (options.output)');
  const head = Buffer.from(st.updateHead, 'base64');
  const tail = Buffer.from(st.updateTail, 'base64');
  if (head[head.length - 1] !== 0x3c || tail[0] !== 0x3e) throw new PadesError('STATE_INVALID', 'PDF signature state: the update has no /Contents placeholder where the state says');
  const contentDigest = Buffer.from(st.contentDigest, 'base64');
  // the signed attributes must commit to the ByteRange digest the state carries
  if (Buffer.from(st.cms.signedAttrs ?? '', 'base64').indexOf(contentDigest) < 0) throw new PadesError('STATE_TAMPERED', 'the state\'s ByteRange digest is not the messageDigest of its signed attributes');
  const tmp = tempPathFor(output);
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
      try {
        cms = await addSignatureTimestamp(cms, tsa as SignatureTimestampOptions);
      } catch (err) {
        throw classifyServiceError(err);
      }
    }
    const hex = Buffer.from(Buffer.from(cms).toString('hex'), 'latin1');
    if (hex.length > st.contentsHexLength) {
      throw new PadesError('CONTENTS_TOO_SMALL', `signature needs ${cms.length} bytes but the /Contents placeholder holds ${st.contentsHexLength / 2}; sign again with a larger placeholder (contentsSize)`);
    }
    writeSigned(tmp, input, st, head, tail, hex, contentDigest, opts.trustedInput === true);
    if (atLeast(st.level, 'B-LT')) {
      try {
        await addDssInPlace(tmp, { ...(opts.ltv ? { ltv: opts.ltv } : {}), ...(opts.pdfPassword !== undefined ? { pdfPassword: opts.pdfPassword } : {}) });
      } catch (err) {
        throw classifyServiceError(err);
      }
    }
    if (st.level === 'B-LTA') {
      const url = st.documentTimestamp?.url ?? st.tsa?.url;
      if (!url) throw new PadesError('TSA_FAILED', 'B-LTA needs a TSA URL for the document timestamp');
      try {
        await addDocumentTimestampInPlace(tmp, { ...(opts.tsa?.headers ? { headers: opts.tsa.headers } : {}), ...st.documentTimestamp, url, ...(opts.pdfPassword !== undefined ? { pdfPassword: opts.pdfPassword } : {}) });
      } catch (err) {
        throw classifyServiceError(err);
      }
    }
    const fileSize = statSync(tmp).size;
    renameSync(tmp, output);
    return { output, byteRange: st.byteRange, cmsSize: cms.length, contentsSize: st.contentsHexLength / 2, level: st.level, fieldName: st.fieldName, fileSize };
  } catch (err) {
    safeUnlink(tmp);
    throw asOutputError(err, output);
  }
}

const CHUNK = 1 << 20;

/**
 * Writes original + update (CMS embedded) to `target`, checking on the way that the original has
 * the prepared size and SHA-256 and that the ByteRange digest equals the signed one.
 */
function writeSigned(target: string, input: string | Uint8Array, st: PdfSignatureState, head: Buffer, tail: Buffer, hex: Buffer, contentDigest: Buffer, trusted: boolean): void {
  let size: number;
  if (typeof input === 'string') {
    let st;
    try {
      st = statSync(input);
    } catch (err) {
      throw new PadesError('STATE_INVALID', `the original document ${input} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): finalize needs the file given to prepare`);
    }
    if (!st.isFile()) throw new PadesError('STATE_INVALID', `the original document ${input} is not a file`);
    size = st.size;
  } else size = input.length;
  if (size !== st.base.size) throw new PadesError('STATE_TAMPERED', `the document given to finalize is not the one prepared (${size} bytes, prepared ${st.base.size})`);
  const h = trusted ? undefined : createHash(nodeHashName(st.cms.hash));
  const s256 = trusted || st.cms.hash === 'SHA-256' ? undefined : createHash('sha256');
  if (trusted && typeof input === 'string') {
    // one-shot signPdf: the kernel copies (reflink where possible); the size was checked above
    copyFileSync(input, target, constants.COPYFILE_FICLONE);
  }
  const out = openSync(target, trusted && typeof input === 'string' ? 'r+' : 'wx', 0o644);
  try {
    if (trusted && typeof input === 'string') {
      if (fstatSync(out).size !== size) throw new PadesError('OUTPUT_FAILED', `${input} changed while signing`);
    } else if (typeof input === 'string') {
      const fd = openSync(input, 'r');
      try {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size)));
        for (let p = 0; p < size; ) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, size - p), p);
          if (n <= 0) throw new PadesError('OUTPUT_FAILED', `short read of ${input}`);
          const chunk = buf.subarray(0, n);
          h?.update(chunk);
          s256?.update(chunk);
          writeAll(out, chunk, p);
          p += n;
        }
      } finally {
        closeSync(fd);
      }
    } else {
      h?.update(input);
      s256?.update(input);
      writeAll(out, input, 0);
    }
    if (trusted) {
      // one-shot: what goes out must be the document that was prepared and signed, even if the input changed
      // while the key was signing (a remote approval can take minutes): its SHA-256 is checked on the bytes written
      const sha = createHash('sha256');
      if (typeof input === 'string') {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size)));
        for (let p = 0; p < size; ) {
          const n = readSync(out, buf, 0, Math.min(buf.length, size - p), p);
          if (n <= 0) throw new PadesError('OUTPUT_FAILED', `short read of the copy of ${input}`);
          sha.update(buf.subarray(0, n));
          p += n;
        }
      } else sha.update(input);
      if (sha.digest('hex') !== st.base.sha256) throw new PadesError('STATE_TAMPERED', 'the document changed while it was being signed (its SHA-256 is not the one prepared); nothing was written');
    }
    if (h) {
      if ((s256 ?? h.copy()).digest('hex') !== st.base.sha256) throw new PadesError('STATE_TAMPERED', 'the document given to finalize is not the one prepared (SHA-256 differs)');
      h.update(head.subarray(0, head.length - 1));
      h.update(tail.subarray(1));
      if (!h.digest().equals(contentDigest)) throw new PadesError('STATE_TAMPERED', 'the update in the state does not hash to the signed ByteRange digest: the state was altered');
    }
    let pos = size;
    writeAll(out, head, pos);
    pos += head.length;
    writeAll(out, hex, pos);
    const pad = Buffer.alloc(st.contentsHexLength - hex.length, 0x30);
    writeAll(out, pad, pos + hex.length);
    pos += st.contentsHexLength;
    writeAll(out, tail, pos);
  } finally {
    closeSync(out);
  }
}

/** Discards a prepared signature. Nothing is kept on disk between prepare and finalize, so this only exists for symmetry. */
export function abortPdfSignature(_state: PdfSignatureState | string): void {
  /* the state holds everything; nothing to clean up */
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
  const sig = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digest }, prepared.signatureAlgorithm);
  const r = await finalizePdfSignature(prepared.state, sig, {
    input: prepared.repaired?.bytes ?? input, output, trustedInput: true,
    ...(options.ltv ? { ltv: options.ltv } : {}), ...(options.tsa ? { tsa: options.tsa } : {}), ...(options.pdfPassword !== undefined ? { pdfPassword: options.pdfPassword } : {}),
  });
  return prepared.repaired ? { ...r, repaired: prepared.repaired.findings } : r;
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
