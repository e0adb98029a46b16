/**
 * Extension of existing PDF signatures to PAdES B-LT / B-LTA (ETSI EN 319 142-1 §5.4 / §5.5), for
 * kyso's own signatures and those of other tools, by incremental updates only (every earlier
 * signature keeps its bytes and stays valid):
 *
 * - B-LT: every signature and document timestamp that has no validation data yet gets a DSS entry
 *   (its certificates, OCSP responses / CRLs, a VRI entry). A signature without any trusted time
 *   (no signature timestamp, no later document timestamp) first gets a document timestamp, which
 *   is its "T" (EN 319 142-1 allows a document time-stamp for B-T); its TSA then gets DSS data too.
 * - B-LTA: B-LT, then a document timestamp over everything. On a document that is already B-LTA
 *   this renews the archive timestamp: the newest document timestamp gets its validation data in
 *   the DSS and a new document timestamp covers it (what EU DSS and pyHanko do before the TSA
 *   certificate expires or its algorithm weakens).
 *
 * The output is written to a temp file in the output's folder and renamed on success only, so an
 * extension in place (`output === input`) never leaves a partial file.
 */
import { copyFileSync, existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import * as asn1js from 'asn1js';
import { PdfReader, digestByteRange } from '@kyso/pdf';
import {
  certInfoOf, checkMessageDigestSync, identifySigner, parseSignedData as parseCms, signerDigestAlg, verifySignedAttributes,
  type TimestampRequestOptions,
} from '@kyso/pki';
import { parseSignedData } from '../crypto/cms/signed-data.js';
import { OID } from '../crypto/cms/oids.js';
import { addDocumentTimestampInPlace } from './doc-timestamp.js';
import { addDssInPlace, listSignatureValues, vriKey, type LtvProvider } from './dss.js';
import { classifyServiceError, PadesError } from './errors.js';
import { damagedError, preflightPdf } from './preflight.js';
import { tempPathFor } from './sign.js';

/** Options of {@link extendPdf}. */
export interface ExtendPdfOptions {
  /** Target level. */
  level: 'B-LT' | 'B-LTA';
  /** Time-stamping authority for document timestamps (required for B-LTA, and for B-LT when a signature has no time yet). */
  tsa?: TimestampRequestOptions & { url: string };
  /** Revocation-data source (default: OCSP, CRL fallback, AIA for missing issuers; strict). */
  ltv?: LtvProvider;
  /** Password of an encrypted PDF. */
  pdfPassword?: string;
  /** Bytes reserved for each document timestamp token (default 16384). */
  timestampSize?: number;
}

/** Result of {@link extendPdf}. */
export interface ExtendPdfResult {
  output: string;
  level: 'B-LT' | 'B-LTA';
  /** Signatures found (document timestamps not counted). */
  signatures: number;
  /** Signatures and document timestamps that received validation data in this run. */
  validationDataAdded: number;
  /** Document timestamps added in this run (0, 1 or 2). */
  documentTimestampsAdded: number;
  /** True when an existing B-LTA archive timestamp was renewed. */
  renewed: boolean;
  /** Revisions appended. */
  revisionsAdded: number;
  fileSize: number;
}

/** True when the CMS has a signature-time-stamp unsigned attribute. */
function hasSignatureTimestamp(cms: Uint8Array): boolean {
  try {
    for (const a of parseSignedData(cms).unsignedAttrs) {
      const seq = asn1js.fromBER(a).result as asn1js.Sequence;
      const type = seq.valueBlock.value[0] as asn1js.ObjectIdentifier;
      if (type.valueBlock.toString() === OID.signatureTimeStampToken) return true;
    }
  } catch {
    /* unreadable: treated as without a timestamp */
  }
  return false;
}

interface Survey {
  signatures: number;
  /** Signatures with neither a signature timestamp nor a later document timestamp. */
  untimed: string[];
  docTimestamps: number;
  /** Signatures / document timestamps whose /Contents has no VRI entry. */
  withoutVri: number;
}

function survey(path: string, password: string | undefined): Survey {
  const r = PdfReader.open(path, password !== undefined ? { password } : {});
  try {
    const values = listSignatureValues(r);
    // revision end of each signature: the end of its ByteRange
    const ends = new Map<string, number>();
    for (const f of r.fields()) {
      if (f.fieldType !== 'Sig') continue;
      const br = r.array(r.dict(f.dict.get('V'))?.get('ByteRange'))?.items.map((x) => r.resolve(x));
      if (br && br.length === 4 && br.every((x) => typeof x === 'number')) ends.set(f.fullName, (br[2] as number) + (br[3] as number));
    }
    const docTsEnds = values.filter((v) => v.kind === 'document-timestamp').map((v) => ends.get(v.fieldName) ?? -1);
    const vri = r.dict(r.dict(r.catalog.get('DSS'))?.get('VRI'));
    const sigs = values.filter((v) => v.kind === 'signature');
    return {
      signatures: sigs.length,
      untimed: sigs.filter((s) => !hasSignatureTimestamp(s.cms) && !docTsEnds.some((e) => e > (ends.get(s.fieldName) ?? Infinity))).map((s) => s.fieldName),
      docTimestamps: docTsEnds.length,
      withoutVri: values.filter((v) => !vri?.has(vriKey(v.contents))).length,
    };
  } finally {
    r.close();
  }
}

/**
 * Refuses to extend a document whose signatures are already broken: a signature (PAdES or adbe.pkcs7.detached) whose
 * message-digest does not match its ByteRange, whose signed attributes do not verify with its signer's key, or whose
 * CMS cannot be read. Validation data and archive timestamps would otherwise give a forged or damaged signature
 * long-term evidence. (Whether it is trusted is the verifier's business; this is only its integrity.)
 */
async function assertSignaturesIntact(path: string, password: string | undefined): Promise<void> {
  const r = PdfReader.open(path, password !== undefined ? { password } : {});
  const broken: string[] = [];
  try {
    for (const f of r.fields()) {
      if (f.fieldType !== 'Sig') continue;
      const v = r.dict(f.dict.get('V'));
      if (!v || v.getName('Type') === 'DocTimeStamp') continue;
      const sub = v.getName('SubFilter');
      if (sub !== 'ETSI.CAdES.detached' && sub !== 'adbe.pkcs7.detached') continue; // other forms: not judged here
      const br = r.array(v.get('ByteRange'))?.items.map((x) => r.resolve(x));
      const value = listSignatureValues(r).find((s) => s.fieldName === f.fullName);
      if (!value || !br || br.length !== 4 || !br.every((x) => typeof x === 'number')) { broken.push(`${f.fullName} (no readable ByteRange or /Contents)`); continue; }
      try {
        const cms = parseCms(value.cms);
        const si = cms.signedData.signerInfos[0];
        if (!si || cms.signedData.signerInfos.length !== 1) { broken.push(`${f.fullName} (not one SignerInfo)`); continue; }
        if (!si.signedAttrs) continue; // a bare signature over the content digest: not judged here
        const digest = await digestByteRange(path, br as number[], signerDigestAlg(si));
        const md = checkMessageDigestSync(si, () => digest);
        if (md.status !== 'match') { broken.push(`${f.fullName} (${md.message ?? md.status})`); continue; }
        const signer = identifySigner(si, cms.certificates.map((c) => certInfoOf(c)));
        if (!signer) { broken.push(`${f.fullName} (its signer's certificate is not in the signature)`); continue; }
        if (!verifySignedAttributes(si, signer)) broken.push(`${f.fullName} (the signature value does not verify with ${signer.subject}'s key)`);
      } catch (err) {
        broken.push(`${f.fullName} (its CMS cannot be read: ${(err as Error).message})`);
      }
    }
  } finally {
    r.close();
  }
  if (broken.length) {
    throw new PadesError('EXTEND_FAILED', `refusing to extend: signature ${broken.join('; ')} is not intact, and validation data or an archive timestamp would give it long-term evidence`);
  }
}

/**
 * Extends every signature of `input` to `level` and writes `output` (may equal `input`: the file
 * is replaced atomically). Errors: PDF_DAMAGED (refused input), EXTEND_FAILED (no signature, no
 * TSA where one is needed), LTV_FAILED / REVOCATION_UNREACHABLE, TSA_FAILED / TSA_UNREACHABLE.
 */
export async function extendPdf(input: string, output: string, opts: ExtendPdfOptions): Promise<ExtendPdfResult> {
  if (opts.level !== 'B-LT' && opts.level !== 'B-LTA') throw new PadesError('EXTEND_FAILED', `extension goes to B-LT or B-LTA, not ${String(opts.level)}`);
  if (!existsSync(input)) throw new PadesError('EXTEND_FAILED', `${input} not found`);
  const pre = preflightPdf(input, opts.pdfPassword !== undefined ? { password: opts.pdfPassword } : {});
  if (!pre.ok) throw damagedError(pre.findings, input, 'extend');
  await assertSignaturesIntact(input, opts.pdfPassword);
  const before = survey(input, opts.pdfPassword);
  if (before.signatures === 0 && before.docTimestamps === 0) throw new PadesError('EXTEND_FAILED', `${input} has no signature to extend`);
  const needTsa = opts.level === 'B-LTA' || before.untimed.length > 0;
  if (needTsa && !opts.tsa?.url) {
    throw new PadesError('EXTEND_FAILED', opts.level === 'B-LTA'
      ? 'B-LTA needs a time-stamping authority for the document timestamp (tsa / --tsa URL)'
      : `signature(s) ${before.untimed.join(', ')} have no trusted time yet: B-LT needs a document timestamp first (tsa / --tsa URL)`);
  }
  const tmp = tempPathFor(output);
  const pw = opts.pdfPassword !== undefined ? { pdfPassword: opts.pdfPassword } : {};
  const docTs = (): Promise<void> => addDocumentTimestampInPlace(tmp, { ...opts.tsa!, ...pw, ...(opts.timestampSize ? { contentsSize: opts.timestampSize } : {}) });
  let docTimestamps = 0;
  let revisions = 0;
  try {
    copyFileSync(input, tmp);
    // 1. trusted time for signatures that have none (their "T")
    if (before.untimed.length) {
      await docTs();
      docTimestamps++;
      revisions++;
    }
    // 2. validation data for every signature and document timestamp without it (B-LT; for an
    //    existing B-LTA document this covers its newest document timestamp: the renewal's first half)
    const mid = survey(tmp, opts.pdfPassword);
    if (mid.withoutVri > 0) {
      await addDssInPlace(tmp, { ...(opts.ltv ? { ltv: opts.ltv } : {}), ...pw });
      revisions++;
    }
    // 3. archive timestamp over everything (B-LTA)
    if (opts.level === 'B-LTA') {
      await docTs();
      docTimestamps++;
      revisions++;
    }
    const fileSize = statSync(tmp).size;
    renameSync(tmp, output);
    return {
      output, level: opts.level, signatures: before.signatures, validationDataAdded: mid.withoutVri, documentTimestampsAdded: docTimestamps,
      renewed: opts.level === 'B-LTA' && before.docTimestamps > 0 && before.untimed.length === 0, revisionsAdded: revisions, fileSize,
    };
  } catch (err) {
    try {
      if (existsSync(tmp)) unlinkSync(tmp);
    } catch {
      /* best effort */
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string') {
      throw new PadesError('OUTPUT_FAILED', `cannot write ${output}: ${e.code} (${e.syscall})`, { cause: err });
    }
    throw classifyServiceError(err);
  }
}
