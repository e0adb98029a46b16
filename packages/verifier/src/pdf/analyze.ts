/** analyzePdf: everything the validation core needs from one PDF, never throwing on hostile input. */
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Finding, PdfAnalysis, PdfSignatureInfo, ModificationLevel, DigestAlgorithm, Modification } from './types.js';
import { type ByteSource, BufferSource, FileSource, type HistoryBudgets, PdfHistory } from '@kyso/pdf';
import { findSignatures, nameOf, readTransforms, textOf, SigRecord } from './signatures.js';
import { checkCoverage } from './coverage.js';
import { parsePdfDate, trimContents } from './contents.js';
import { readDss } from './dss.js';
import { digestRanges } from './digest.js';
import { analyzeRevisions, levelMax } from './modifications.js';
import type { Rule } from './rules/index.js';
import { annotationDrawn } from './rules/context.js';

export { annotationDrawn };
import { PdfRef, PdfString } from '@kyso/pdf';

export interface AnalyzeOptions {
  signal?: AbortSignal;
  /** Time budget (wall clock) for the modification analysis in ms (default 10 000, a backstop: hostile files are cut short much earlier by the work budgets). */
  timeBudgetMs?: number;
  /** Reader budgets (string, stream, object counts), checked before allocation; defaults: @kyso/pdf DEFAULT_BUDGETS. */
  budgets?: Partial<HistoryBudgets>;
  /** The modification rules (default: RULES from ./rules, in that order); injected through the policy. */
  rules?: readonly Rule[];
}

/**
 * Analyses a PDF given as bytes or as a file path: revisions, signatures (ByteRange coverage, /Contents,
 * DocMDP/FieldMDP), the DSS, and the modifications made after each signature judged by explicit rules.
 * Never throws on hostile input: parse failures become findings with severity 'error'.
 */
export async function analyzePdf(input: Uint8Array | string, opts: AnalyzeOptions = {}): Promise<PdfAnalysis> {
  let src: ByteSource;
  try {
    if (typeof input === 'string' && !statSync(input).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    src = typeof input === 'string' ? new FileSource(input) : new BufferSource(input);
  } catch (e) {
    return { fileSize: 0, revisions: [], signatures: [], findings: [{ code: 'FILE_UNREADABLE', severity: 'error', message: `cannot open ${String(input)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }] };
  }
  try {
    return analyzeSource(src, input, opts);
  } catch (e) {
    // Last line of defence: a bug must not turn hostile input into an exception.
    return { fileSize: src.size, revisions: [], signatures: [], findings: [{ code: 'PDF_ANALYSIS_FAILED', severity: 'error', message: `PDF analysis failed: ${(e as Error).message}` }] };
  } finally {
    src.close();
  }
}

function analyzeSource(src: ByteSource, input: Uint8Array | string, opts: AnalyzeOptions): PdfAnalysis {
  const deadline = Date.now() + (opts.timeBudgetMs ?? 10_000);
  const doc = new PdfHistory(src, opts.budgets);
  const findings: Finding[] = doc.findings;
  const fileSize = src.size;
  const analysis: PdfAnalysis = { fileSize, revisions: doc.revisions.map((r) => ({ startxref: r.startxref, end: r.end })), signatures: [], findings };
  if (doc.revisions.length === 0) return analysis;
  if (doc.trailer().get('Encrypt') !== undefined) findings.push({ code: 'PDF_ENCRYPTED', severity: 'warning', message: 'the document is encrypted: text strings (reason, location, field names) are shown undecrypted' });
  if (opts.signal?.aborted) {
    findings.push({ code: 'ANALYSIS_ABORTED', severity: 'error', message: 'analysis aborted' });
    return analysis;
  }
  let records: SigRecord[] = [];
  try {
    records = findSignatures(doc, findings);
  } catch (e) {
    findings.push({ code: 'SIGNATURE_SEARCH_FAILED', severity: 'error', message: `signature fields unreadable: ${(e as Error).message}` });
  }
  const revisionEnds = revisionEndsOf(doc);
  const sigs: PdfSignatureInfo[] = [];
  const rawById = new Map<PdfSignatureInfo, Uint8Array | undefined>();
  const recById = new Map<PdfSignatureInfo, SigRecord>();
  for (const rec of records) {
    const info = buildInfo(doc, rec, revisionEnds, input, fileSize);
    const c = rec.sig.get('Contents');
    rawById.set(info, c instanceof PdfString ? c.bytes : undefined);
    recById.set(info, rec);
    sigs.push(info);
  }
  // oldest first
  sigs.sort((a, b) => (a.coverage?.byteRange[3] ?? 0) + (a.coverage?.byteRange[2] ?? 0) - ((b.coverage?.byteRange[3] ?? 0) + (b.coverage?.byteRange[2] ?? 0)) || a.revision - b.revision);
  sigs.forEach((s, i) => (s.index = i));
  const rawContents = sigs.map((s) => rawById.get(s));
  crossChecks(doc, sigs, recById);
  if (opts.signal?.aborted) {
    findings.push({ code: 'ANALYSIS_ABORTED', severity: 'error', message: 'analysis aborted' });
    return { ...analysis, signatures: sigs };
  }
  const lastEnd = doc.revisions[doc.revisions.length - 1]!.end;
  if (!doc.repaired && lastEnd < fileSize) {
    // Bytes after the last %%EOF belong to no revision; structure keywords there could be picked up by
    // lenient (repairing) readers, so they are not allowed after a signature.
    const tail = Buffer.from(src.read(lastEnd, Math.min(fileSize - lastEnd, 1 << 20))).toString('latin1');
    if (/\bobj\b|\bxref\b|\btrailer\b|startxref|\/Type/.test(tail)) {
      for (const s of sigs) s.modifications.push({ revision: doc.revisions.length, kind: 'data-after-last-revision', object: `offset ${lastEnd}`, allowed: false, rule: 'file-structure-rule', level: 'OTHER', description: `${fileSize - lastEnd} byte(s) with PDF structure keywords after the last %%EOF (not part of any revision)` });
    }
  }
  if (doc.repaired) {
    for (const s of sigs) s.modifications.push({ revision: s.revision, kind: 'structure-repaired', allowed: false, rule: 'file-structure-rule', level: 'OTHER', description: 'the cross-reference structure is broken: changes after signing cannot be established' });
  } else if (sigs.length) {
    const byRev = analyzeRevisions(doc, sigs, findings, deadline, opts.signal, opts.rules);
    for (const s of sigs) {
      if (s.revision < 0) continue;
      for (let k = s.revision + 1; k < byRev.length; k++) for (const m of byRev[k]!) s.modifications.push(judgeForSignature(doc, s, m));
    }
  }
  for (const s of sigs) {
    let lvl: ModificationLevel = 'NONE';
    for (const m of s.modifications) lvl = levelMax(lvl, m.allowed ? (m.level ?? 'OTHER') : 'OTHER');
    s.modificationLevel = lvl;
  }
  analysis.signatures = sigs;
  try {
    const dss = readDss(doc);
    if (dss) {
      analysis.dss = dss;
      // Match VRI entries to signatures under both keying conventions (padded / trimmed /Contents).
      sigs.forEach((s, i) => {
        const raw = rawContents[i];
        const keys = [raw, s.contents].filter((b): b is Uint8Array => !!b && b.length > 0).map((b) => createHash('sha1').update(b).digest('hex').toUpperCase());
        const k = keys.find((x) => dss.vri[x]);
        if (k) s.vriKey = k;
      });
    }
  } catch (e) {
    findings.push({ code: 'DSS_UNREADABLE', severity: 'warning', message: `DSS unreadable: ${(e as Error).message}` });
  }
  return analysis;
}

function revisionEndsOf(doc: PdfHistory): number[] {
  if (!doc.repaired) return doc.revisions.map((r) => r.end);
  // Repaired: every %%EOF (+EOL) is a candidate revision end.
  const ends: number[] = [];
  let i = 0;
  for (;;) {
    const p = doc.find('%%EOF', i);
    if (p < 0 || ends.length > 10000) break;
    let e = p + 5;
    if (doc.byteAt(e) === 0x0d) e++;
    if (doc.byteAt(e) === 0x0a) e++;
    ends.push(e);
    i = p + 5;
  }
  return ends;
}

function buildInfo(doc: PdfHistory, rec: SigRecord, revisionEnds: number[], input: Uint8Array | string, fileSize: number): PdfSignatureInfo {
  const last = doc.revisions.length - 1;
  const where = rec.sigRef?.toString() ?? rec.fieldName;
  const ff: Finding[] = [];
  const sig = rec.sig;
  const type = nameOf(doc.resolve(sig.get('Type'), last));
  const subFilter = nameOf(doc.resolve(sig.get('SubFilter'), last));
  const filter = nameOf(doc.resolve(sig.get('Filter'), last));
  const kind = type === 'DocTimeStamp' || subFilter === 'ETSI.RFC3161' ? 'document-timestamp' : 'signature';
  // /Contents: must be a direct hex string located in the file bytes.
  if (sig.duplicates?.length) {
    ff.push({ code: 'SIGNATURE_DICTIONARY_AMBIGUOUS', severity: 'error', message: `signature dictionary repeats ${[...new Set(sig.duplicates)].map((k) => '/' + k).join(', ')}: readers may disagree on which value counts`, where });
  }
  const cRaw = sig.get('Contents');
  let contents = new Uint8Array(0);
  let contentsPos: { start: number; end: number } | undefined;
  const container = rec.containerNum !== undefined ? doc.entry(rec.containerNum, last) : undefined;
  if (container && container.entry.type === 'c') ff.push({ code: 'SIGNATURE_IN_OBJECT_STREAM', severity: 'error', message: 'signature dictionary is stored in a compressed object stream: its /Contents cannot be excluded by a ByteRange', where });
  if (cRaw === undefined || cRaw === null) ff.push({ code: 'CONTENTS_MISSING', severity: 'error', message: 'signature dictionary has no /Contents', where });
  else if (!(cRaw instanceof PdfString)) ff.push({ code: 'CONTENTS_MALFORMED', severity: 'error', message: `/Contents is not a direct string${cRaw instanceof PdfRef ? ` (indirect ${cRaw})` : ''}`, where });
  else {
    if (!cRaw.hex) ff.push({ code: 'CONTENTS_NOT_HEX', severity: 'error', message: '/Contents is a literal string, not a hex string', where });
    if (!container || container.entry.type === 'n') contentsPos = { start: cRaw.start, end: cRaw.end };
    contents = trimContents(cRaw.bytes, where, ff) as Uint8Array<ArrayBuffer>;
  }
  const coverage = checkCoverage({ byteRange: doc.resolve(sig.get('ByteRange'), last), contents: contentsPos, revisionEnds, fileSize, where, bytesAt: (a, b) => doc.bytes(a, b) }, ff);
  let revision = -1;
  if (coverage) {
    const end = coverage.byteRange[2]! + coverage.byteRange[3]!;
    const idx = doc.revisions.findIndex((r) => r.end >= end);
    revision = idx >= 0 ? idx : doc.revisions.length - 1;
    if (doc.repaired) revision = 0;
    // The signature dictionary itself must lie inside the signed revision, and its /Contents must be new in it.
    if (contentsPos && coverage.coversWholeRevision && revision > 0 && !doc.repaired) {
      const prevEnd = doc.revisions[revision - 1]!.end;
      if (contentsPos.start < prevEnd) ff.push({ code: 'SIGNATURE_NOT_IN_OWN_REVISION', severity: 'error', message: `/Contents at ${contentsPos.start} lies in revision ${doc.revisionOf(contentsPos.start)}, before the revision ${revision} it claims to sign`, where });
    }
  }
  if (!coverage) {
    // No usable ByteRange: attribute the signature to the revision that first defined its dictionary.
    const num = rec.sigRef?.num ?? rec.containerNum;
    const first = num === undefined ? -1 : doc.revisions.findIndex((r) => r.entries.has(num) && r.entries.get(num)!.type !== 'f');
    revision = first >= 0 ? first : contentsPos ? doc.revisionOf(contentsPos.start) : doc.revisions.length - 1;
  }
  const info: PdfSignatureInfo = {
    index: 0,
    fieldName: rec.fieldName,
    kind,
    contents,
    coverage,
    revision,
    isCertification: false,
    formatFindings: ff,
    modifications: [],
    modificationLevel: 'NONE',
    digest: (alg: DigestAlgorithm) => (coverage ? digestRanges(input, fileSize, coverage.byteRange, alg) : Promise.resolve(new Uint8Array(0))),
  };
  if (filter) info.filter = filter;
  if (subFilter) info.subFilter = subFilter;
  else ff.push({ code: 'SUBFILTER_MISSING', severity: 'error', message: 'signature dictionary has no /SubFilter', where });
  if (subFilter && !['adbe.pkcs7.detached', 'adbe.pkcs7.sha1', 'ETSI.CAdES.detached', 'ETSI.RFC3161'].includes(subFilter)) {
    ff.push({ code: 'SUBFILTER_UNSUPPORTED', severity: 'error', message: `unsupported /SubFilter /${subFilter}`, where });
  }
  const m = textOf(doc.resolve(sig.get('M'), last));
  if (m) {
    const d = parsePdfDate(m);
    if (d) info.claimedTime = d;
  }
  const reason = textOf(doc.resolve(sig.get('Reason'), last));
  if (reason !== undefined) info.reason = reason;
  const location = textOf(doc.resolve(sig.get('Location'), last));
  if (location !== undefined) info.location = location;
  const contact = textOf(doc.resolve(sig.get('ContactInfo'), last));
  if (contact !== undefined) info.contactInfo = contact;
  const name = textOf(doc.resolve(sig.get('Name'), last));
  if (name !== undefined) info.name = name;
  readTransforms(doc, rec, info);
  return info;
}

function crossChecks(doc: PdfHistory, sigs: PdfSignatureInfo[], recs: Map<PdfSignatureInfo, SigRecord>): void {
  // Only the first signature of a document may certify; /Perms /DocMDP must name it.
  const perms = doc.dict(doc.catalog()?.get('Perms'));
  const permsRef = perms?.get('DocMDP');
  if (permsRef instanceof PdfRef) {
    // Readers take the catalog's /Perms /DocMDP as authoritative: apply its restrictions even when the
    // signature lacks the /Reference transform (P defaults to 2).
    const s = sigs.find((x) => recs.get(x)?.sigRef?.num === permsRef.num);
    if (s && !s.isCertification) {
      s.isCertification = true;
      s.docMdpPermissions = 2;
      s.formatFindings.push({ code: 'DOCMDP_REFERENCE_MISSING', severity: 'warning', message: 'catalog /Perms /DocMDP names this signature but it has no DocMDP /Reference: permissions P=2 assumed', where: s.fieldName });
    }
  }
  sigs.forEach((s, i) => {
    if (!s.isCertification) return;
    if (i > 0) s.formatFindings.push({ code: 'CERTIFICATION_NOT_FIRST', severity: 'error', message: `certification signature '${s.fieldName}' is not the first signature of the document`, where: s.fieldName });
    if (!(permsRef instanceof PdfRef)) s.formatFindings.push({ code: 'DOCMDP_PERMS_MISSING', severity: 'warning', message: 'certification signature is not referenced from the catalog /Perms /DocMDP', where: s.fieldName });
  });
  // Overlapping signatures: two signatures claiming the same revision, or ranges ending beyond a later gap.
  for (let i = 0; i < sigs.length; i++) {
    for (let j = i + 1; j < sigs.length; j++) {
      const a = sigs[i]!.coverage;
      const b = sigs[j]!.coverage;
      if (!a || !b || !a.coversWholeRevision) continue;
      const aEnd = a.byteRange[2]! + a.byteRange[3]!;
      // a later signature's /Contents inside an earlier signature's signed bytes
      if (b.contentsStart < aEnd && b.contentsStart >= 0) {
        sigs[j]!.formatFindings.push({ code: 'BYTERANGE_OVERLAP', severity: 'error', message: `/Contents of signature '${sigs[j]!.fieldName}' lies inside the bytes signed by '${sigs[i]!.fieldName}'`, where: sigs[j]!.fieldName });
      }
    }
  }
}

/**
 * Per-signature refinement of a revision's judgement: removing an annotation that was visible when this
 * signature was made, or rewriting one (or its appearance) that existed then, changes what the signer saw
 * (shadow hide/replace by annotation), so it is not allowed for that signature. Annotations added after
 * the signature may still be changed or removed (ANNOTATIONS level).
 */
function judgeForSignature(doc: PdfHistory, s: PdfSignatureInfo, m: Modification): Modification {
  if ((m.kind !== 'annotation-removed' && m.kind !== 'annotation-modified') || !m.allowed || !m.object) return m;
  const num = Number.parseInt(m.object, 10);
  if (!Number.isInteger(num)) return m;
  if (m.kind === 'annotation-modified') {
    // an annotation (or its appearance) that was part of the signed revision was rewritten
    if (doc.get(num, s.revision) === undefined) return m;
    return { ...m, allowed: false, level: 'OTHER', description: `${m.description} — it was part of the document when '${s.fieldName}' was signed` };
  }
  const d = doc.dict(new PdfRef(num, 0), s.revision);
  if (!d || !annotationDrawn(doc, d, s.revision)) return m;
  return { ...m, allowed: false, level: 'OTHER', description: `${m.description} — it was visible when '${s.fieldName}' was signed` };
}

