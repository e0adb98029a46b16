import { readByteRange } from '@kyso/pdf';
import { basename } from 'node:path';
import { resolvePolicy, type Policy, type ResolvedPolicy } from './policy.js';
import { buildCertContext } from './context.js';
import { validateSignature } from './validate-signature.js';
import { adobeRevocationInfo, parseSignedData } from '@kyso/pki';
import { documentVerdict, type SignatureReport, type ValidationReport } from './report/model.js';
import type { PdfAnalysis, PdfSignatureInfo, DigestAlgorithm } from './pdf/types.js';
import type { SignatureJob } from './checks/state.js';
import type { VerifyOptions } from './verify-cms.js';
import { VALIDATOR } from './version.js';

/** The PDF layer's entry point (src/pdf): `analyzePdf(input, opts?)`. */
export type PdfAnalyzer = (input: Uint8Array | string, opts?: { signal?: AbortSignal; rules?: ResolvedPolicy['modificationRules'] }) => Promise<PdfAnalysis>;

/** Options of verifyPdf. */
export interface VerifyPdfOptions extends VerifyOptions {
  /** Replace the PDF layer (tests); default: `analyzePdf` from ./pdf/index.js. */
  analyze?: PdfAnalyzer;
}

let analyzer: Promise<PdfAnalyzer> | undefined;
function defaultAnalyzer(): Promise<PdfAnalyzer> {
  analyzer ??= import('./pdf/index.js').then((m) => m.analyzePdf as PdfAnalyzer);
  return analyzer;
}

/** Reads the bytes a ByteRange designates (only needed for SignerInfos without signed attributes); a hostile
 *  ByteRange must not make the verifier hold a large file in memory: refused beyond 64 MiB. */
function readRanges(input: Uint8Array | string, br: number[]): Promise<Uint8Array> {
  return readByteRange(input, br, 64 * 1024 * 1024);
}

function jobFor(sig: PdfSignatureInfo, input: Uint8Array | string): SignatureJob {
  const cov = sig.coverage;
  const job: SignatureJob = {
    field: sig.fieldName,
    kind: sig.kind,
    format: 'PDF',
    cmsDer: sig.contents,
    content: {
      digest: (alg) => sig.digest(alg as DigestAlgorithm),
      bytes: () => (cov ? readRanges(input, cov.byteRange) : Promise.reject(new Error('no ByteRange'))),
    },
    pdf: sig,
  };
  if (sig.subFilter) job.subFilter = sig.subFilter;
  if (sig.claimedTime) job.claimedTime = sig.claimedTime;
  return job;
}

/** Validation material embedded anywhere in the file: DSS (+VRI) and every signature's CMS. */
function embeddedMaterial(a: PdfAnalysis): { certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[] } {
  const m = { certs: [] as Uint8Array[], ocsps: [] as Uint8Array[], crls: [] as Uint8Array[] };
  if (a.dss) {
    m.certs.push(...a.dss.certs);
    m.ocsps.push(...a.dss.ocsps);
    m.crls.push(...a.dss.crls);
    for (const v of Object.values(a.dss.vri)) {
      m.certs.push(...v.certs);
      m.ocsps.push(...v.ocsps);
      m.crls.push(...v.crls);
    }
  }
  for (const s of a.signatures) {
    try {
      const cms = parseSignedData(s.contents);
      m.certs.push(...cms.certificates);
      m.ocsps.push(...cms.ocsps);
      m.crls.push(...cms.crls);
      for (const si of cms.signedData.signerInfos) {
        const r = adobeRevocationInfo(si.signedAttrs);
        m.ocsps.push(...r.ocsps);
        m.crls.push(...r.crls);
      }
    } catch {
      // Reported by the signature's own pipeline.
    }
  }
  return m;
}

function revisionEnd(s: PdfSignatureInfo): number {
  return s.coverage?.revisionEnd ?? -1;
}

/**
 * Validates every signature and document timestamp of a PDF (bytes or file path) and returns the report.
 * Never throws on hostile input: parse failures become FORMAT_FAILURE findings / verdicts.
 */
export async function verifyPdf(input: Uint8Array | string, policy: Policy = {}, opts: VerifyPdfOptions = {}): Promise<ValidationReport> {
  const resolved = resolvePolicy(policy);
  const report: ValidationReport = {
    file: opts.name ?? (typeof input === 'string' ? basename(input) : 'input.pdf'),
    documentIndication: 'INDETERMINATE', documentSubIndication: null, format: 'PDF',
    validationTime: resolved.validationTime.toISOString(), signatures: [], findings: [], validator: VALIDATOR,
  };
  let analysis: PdfAnalysis;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), Math.max(resolved.signatureTimeoutMs, 10_000));
  timer.unref?.();
  try {
    const analyze = opts.analyze ?? (await defaultAnalyzer());
    analysis = await analyze(input, { signal: ac.signal, ...(resolved.modificationRules ? { rules: resolved.modificationRules } : {}) });
  } catch (e) {
    report.findings.push({ code: 'PDF_UNREADABLE', severity: 'error', message: `the PDF could not be analysed: ${(e as Error)?.message ?? String(e)}` });
    const d = documentVerdict([], report.findings);
    report.documentIndication = d.indication;
    report.documentSubIndication = d.subIndication;
    return report;
  } finally {
    clearTimeout(timer);
  }
  try {
    report.findings.push(...analysis.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message, ...(f.where ? { where: f.where } : {}) })));
    const material = embeddedMaterial(analysis);
    material.certs.push(...(opts.validationData?.certs ?? []));
    material.crls.push(...(opts.validationData?.crls ?? []));
    material.ocsps.push(...(opts.validationData?.ocsps ?? []));
    const certCtx = buildCertContext(resolved, material, opts.fetcher);
    const hasDssData = !!analysis.dss && analysis.dss.certs.length + analysis.dss.ocsps.length + analysis.dss.crls.length + Object.keys(analysis.dss.vri).length > 0;
    const results = new Map<PdfSignatureInfo, SignatureReport>();
    // Document timestamps first, newest first: each one gives proof of existence to everything it covers.
    const docTs = analysis.signatures.filter((s) => s.kind === 'document-timestamp').sort((a, b) => revisionEnd(b) - revisionEnd(a));
    const validDocTs: { end: number; time: Date }[] = [];
    const poeFor = (s: PdfSignatureInfo): Date | undefined => {
      const times = validDocTs.filter((t) => t.end > revisionEnd(s) && revisionEnd(s) >= 0).map((t) => t.time.getTime());
      return times.length ? new Date(Math.min(...times)) : undefined;
    };
    for (const ts of docTs) {
      const job = jobFor(ts, input);
      const poe = poeFor(ts);
      if (poe) job.externalPoe = poe;
      const r = await validateSignature(job, resolved, certCtx);
      results.set(ts, r);
      if (r.indication === 'TOTAL_PASSED' && r.timestamp) validDocTs.push({ end: revisionEnd(ts), time: new Date(r.timestamp) });
    }
    for (const sig of analysis.signatures) {
      if (sig.kind !== 'signature') continue;
      const job = jobFor(sig, input);
      const poe = poeFor(sig);
      if (poe) job.externalPoe = poe;
      // Only a document timestamp that validated earns the signature B-T / B-LTA.
      job.coveredByDocTimestamp = validDocTs.some((t) => t.end > revisionEnd(sig) && revisionEnd(sig) >= 0);
      job.hasDssData = hasDssData;
      results.set(sig, await validateSignature(job, resolved, certCtx));
    }
    report.signatures = analysis.signatures.map((s) => results.get(s)!);
    const structural = analysis.findings.filter((f) => f.severity === 'error');
    if (structural.length > 0) {
      for (const s of report.signatures) {
        if (s.indication !== 'TOTAL_PASSED') continue;
        s.indication = 'INDETERMINATE';
        s.subIndication = 'GENERIC';
        s.block = 'FC';
        s.message = `the document structure is damaged, so later changes cannot be judged: ${structural.map((f) => f.code).join(', ')}`;
      }
    }
  } catch (e) {
    report.findings.push({ code: 'VALIDATION_ERROR', severity: 'error', message: `validation stopped: ${(e as Error)?.message ?? String(e)}` });
    for (const s of report.signatures) if (s.indication === 'TOTAL_PASSED') { s.indication = 'INDETERMINATE'; s.subIndication = 'GENERIC'; }
  }
  const d = documentVerdict(report.signatures, report.findings);
  report.documentIndication = d.indication;
  report.documentSubIndication = d.subIndication;
  return report;
}
