import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { XmlDocument as Document, XmlElement as Element } from '@kyso/signer/xml';
import { NS, XmlError, indexIds, isEdxml, onlyChild, parseXml, type XmlLimits } from '@kyso/signer/xml';
import { checkEdxmlSignature, type EdxmlSignedInfo } from './edxml.js';
import { resolvePolicy, type Policy } from '../../policy.js';
import { documentVerdict, type SignatureReport, type ValidationReport } from '../../report/model.js';
import type { Fetcher } from '../../util/fetch.js';
import { VALIDATOR } from '../../version.js';
import { buildCertContext } from './pki-bridge.js';
import { materialOf } from './extract.js';
import { validateXmlSignature, type SignedReference } from './validate.js';
import { bytesSource, fastEdxml, fastWholeDocument, fileSource, type FastEdxml, type FastWholeDocument } from './fast-path.js';

/** Options of {@link verifyXml}. */
export interface VerifyXmlOptions {
  /** Name shown in the report's `file`. */
  name?: string;
  fetcher?: Fetcher;
  /** Extra validation data (DER). */
  validationData?: { certs?: Uint8Array[]; crls?: Uint8Array[]; ocsps?: Uint8Array[] };
  /** Detached content by reference URI (e.g. the file name in a detached signature). Nothing is ever fetched. */
  detached?: Record<string, Uint8Array> | ((uri: string) => Uint8Array | undefined);
  /** Parser limits (size, depth, elements). */
  limits?: XmlLimits;
}

/** What one XML signature signed: the octets behind each reference (read these, never the document). */
export interface XmlSignedContent { field: string; references: SignedReference[] }

/** {@link verifyXmlSigned}'s result: the report and the signed content of each signature. */
export interface XmlVerification { report: ValidationReport; signed: XmlSignedContent[]; /** For edXML messages: what each signature's signed envelope says. */ edxml?: (EdxmlSignedInfo | undefined)[] }

/**
 * Validate every XML signature (XMLDSig, XAdES B-B..B-LTA, counter-signatures) of a document and return the
 * report together with the exact signed octets of each reference. Never throws on hostile input: a document that
 * is not acceptable XML (DTD, entities, too large or deep, malformed) gives TOTAL_FAILED / FORMAT_FAILURE.
 */
export async function verifyXmlSigned(input: Uint8Array | string, policy: Policy = {}, opts: VerifyXmlOptions = {}): Promise<XmlVerification> {
  return verifyXmlImpl(input, policy, opts, false);
}

/** {@link verifyXmlSigned}; `reportOnly`: large signed data is digested as it is produced, not kept (see XmlSignatureJob.digestOnly). */
async function verifyXmlImpl(input: Uint8Array | string, policy: Policy, opts: VerifyXmlOptions, reportOnly: boolean): Promise<XmlVerification> {
  const resolved = resolvePolicy(policy);
  const file = opts.name ?? (typeof input === 'string' ? basename(input) : 'input.xml');
  const report: ValidationReport = {
    file, documentIndication: 'INDETERMINATE', documentSubIndication: null, format: 'XML',
    validationTime: resolved.validationTime.toISOString(), signatures: [], findings: [], validator: VALIDATOR,
  };
  const done = (signed: XmlSignedContent[]): XmlVerification => {
    const d = documentVerdict(report.signatures, report.findings);
    report.documentIndication = d.indication;
    report.documentSubIndication = d.subIndication;
    return { report, signed };
  };
  let doc: Document;
  let size = 0;
  let fast: FastWholeDocument | undefined;
  let edx: FastEdxml | undefined;
  try {
    // report only: one enveloped whole-document signature is checked piece by piece, without reading the whole
    // file into memory or building its tree (fast-path.ts); anything else, or if it declines, the full path
    if (reportOnly && typeof input === 'string') {
      const r = fastFromFile(input, opts.limits);
      if (r) { fast = r.fast; edx = r.edx; size = r.size; }
    }
    if (fast || edx) doc = fast ? fast.doc : edx!.doc;
    else {
      const bytes = typeof input === 'string' ? new Uint8Array(await readFile(input)) : input;
      size = bytes.length;
      if (reportOnly && typeof input !== 'string') {
        fast = fastWholeDocument(bytesSource(bytes), opts.limits);
        if (!fast) edx = fastEdxml(bytesSource(bytes), opts.limits);
      }
      doc = fast ? fast.doc : edx ? edx.doc : parseXml(bytes, opts.limits);
    }
  } catch (e) {
    const code = e instanceof XmlError ? e.code : 'INPUT_UNREADABLE';
    report.findings.push({ code, severity: 'error', message: (e as Error).message });
    return done([]);
  }
  const sigs: Element[] = [];
  const ids = fast ? fast.ids : indexIds(doc, (e) => { if (e.namespaceURI === NS.ds && e.localName === 'Signature') sigs.push(e); });
  if (fast) sigs.push(fast.sig);
  if (ids.duplicates.size) {
    report.findings.push({ code: 'XML_DUPLICATE_ID', severity: 'warning', message: `IDs used more than once: ${[...ids.duplicates].slice(0, 5).join(', ')} (references to them are refused)` });
  }
  const extra = { certs: [...(opts.validationData?.certs ?? [])], crls: [...(opts.validationData?.crls ?? [])], ocsps: [...(opts.validationData?.ocsps ?? [])] };
  for (const s of sigs) { const m = materialOf(s); extra.certs.push(...m.certs); extra.crls.push(...m.crls); extra.ocsps.push(...m.ocsps); }
  const certCtx = buildCertContext(resolved, extra, opts.fetcher);
  const det = opts.detached;
  const detached = typeof det === 'function' ? det : det ? (uri: string) => (Object.prototype.hasOwnProperty.call(det, uri) ? det[uri] : undefined) : undefined;
  const signed: XmlSignedContent[] = [];
  const edxml = isEdxml(doc);
  const edxmlInfo: (EdxmlSignedInfo | undefined)[] = [];
  const reports: SignatureReport[] = [];
  const detachedSize = det && typeof det !== 'function' ? Object.values(det).reduce((n, b) => n + b.length, 0) : 0;
  // report only: attachment digests computed by the references are reused by the edXML manifest check
  const base64Digests = reportOnly && edxml ? new Map<Element, { alg: string; digest: Uint8Array; size: number }[]>() : undefined;
  const budget = { left: 4 * (size + detachedSize) + 1024 * 1024 };
  // the same signature value twice is a replayed copy (one signer counted as two, the copy free to carry unsigned
  // content wherever it was put): every signature sharing its value fails
  const valueOf = (s: Element) => (onlyChild(s, NS.ds, 'SignatureValue')?.textContent ?? '').replace(/[ \t\r\n]+/g, '');
  const valueCount = new Map<string, number>();
  for (const s of sigs) { const v = valueOf(s); if (v) valueCount.set(v, (valueCount.get(v) ?? 0) + 1); }
  for (let i = 0; i < sigs.length; i++) {
    const s = sigs[i]!;
    const field = s.getAttribute('Id') || `signature[${i}]`;
    const r = await withTimeout(validateXmlSignature({ doc, sig: s, ids, field, budget, ...(detached ? { detached } : {}), ...(reportOnly ? { digestOnly: true } : {}), ...(fast ? { precomputed: fast.whole } : {}), ...(base64Digests ? { base64Digests } : {}), ...(edx ? { streamedBase64: edx.streamed } : {}) }, resolved, certCtx), resolved.signatureTimeoutMs, field, resolved.validationTime);
    if (edxml) edxmlInfo.push(checkEdxmlSignature(doc, s, r.report, r.signed, base64Digests, edx?.streamed));
    const copies = valueCount.get(valueOf(s)) ?? 0;
    if (copies > 1) {
      const message = `the same signature value appears in ${copies} signatures: a replayed copy, not another signer`;
      Object.assign(r.report, { indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', block: 'FC', message });
      r.report.checks.push({ check: 'format', block: 'FC', status: 'failed', message });
      r.signed = [];
    }
    reports.push(r.report);
    signed.push({ field, references: r.signed });
  }
  report.signatures = reports;
  const out = done(signed);
  if (edxml) out.edxml = edxmlInfo;
  return out;
}

/** Validate the XML signatures of a document (bytes or a path) and return the report, as verifyPdf does for PDFs. */
export async function verifyXml(input: Uint8Array | string, policy: Policy = {}, opts: VerifyXmlOptions = {}): Promise<ValidationReport> {
  return (await verifyXmlImpl(input, policy, opts, true)).report;
}

/** The fast path on a file, read piece by piece; undefined if it declines or the file cannot be read (the full path then reports). */
function fastFromFile(path: string, limits?: XmlLimits): { fast?: FastWholeDocument; edx?: FastEdxml; size: number } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const fast = fastWholeDocument(fileSource(fd, size), limits);
    if (fast) return { fast, size };
    const edx = fastEdxml(fileSource(fd, size), limits);
    return edx ? { edx, size } : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The policy's time bound per signature: beyond it the signature is INDETERMINATE / TRY_LATER (network waits). */
async function withTimeout<T extends { report: SignatureReport; signed: SignedReference[] }>(p: Promise<T>, ms: number, field: string, at: Date): Promise<T | { report: SignatureReport; signed: SignedReference[] }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ report: SignatureReport; signed: SignedReference[] }>((res) => {
    timer = setTimeout(() => res({
      signed: [],
      report: {
        field, kind: 'signature', indication: 'INDETERMINATE', subIndication: 'TRY_LATER', block: 'VCI', message: `validation did not finish within ${ms} ms`,
        level: 'UNKNOWN', intact: false, signer: null, signingTime: null, timestamp: null, bestSignatureTime: at.toISOString(), coverage: {}, modifications: [],
        timestamps: [], digestAlgorithm: null, signatureAlgorithm: null, revocation: [], checks: [{ check: 'time-bound', block: 'VCI', status: 'failed', message: `validation did not finish within ${ms} ms` }],
      },
    }), ms);
    timer.unref?.();
  });
  try { return await Promise.race([p, timeout]); } finally { if (timer) clearTimeout(timer); }
}
