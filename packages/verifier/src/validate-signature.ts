import { claimedSigningTime } from '@kyso/pki';
import { DOCUMENT_TIMESTAMP_CHECKS, SIGNATURE_CHECKS } from './checks/index.js';
import type { SigState, SignatureJob, Verdict } from './checks/state.js';
import type { ResolvedPolicy } from './policy.js';
import type { SignatureLevel, SignatureReport } from './report/model.js';
import { signerInfoOf } from './report/signer-info.js';
import type { CertContext } from './checks/certificate-validation.js';

const SEVERITY = { TOTAL_FAILED: 2, INDETERMINATE: 1 } as const;

/** The decisive verdict: the first TOTAL_FAILED, else the first INDETERMINATE. */
function decide(verdicts: Verdict[]): Verdict | undefined {
  let best: Verdict | undefined;
  for (const v of verdicts) if (!best || SEVERITY[v.indication] > SEVERITY[best.indication]) best = v;
  return best;
}

/**
 * The level a signature has EARNED: B-T only from a signature timestamp (or a covering document timestamp) that
 * validated; LT only when the certificate chain validated with revocation data embedded in the document;
 * LTA only with a validated document timestamp over it (PAdES). A present but invalid element earns nothing.
 * CAdES archive-time-stamp-v3 imprints are not verified by this validator, so CAdES-BASELINE-LTA is never claimed.
 */
function detectLevel(s: SigState): SignatureLevel {
  const j = s.job;
  if (j.kind === 'document-timestamp') return 'PDF-DOC-TIMESTAMP';
  const hasTs = s.timestamps.some((t) => t.valid && t.kind === 'signature-timestamp') || !!j.coveredByDocTimestamp;
  const cv = s.certValidation;
  const embeddedGood = (c: typeof cv): boolean => !!c && c.indication === 'TOTAL_PASSED' && c.revocation.length > 0 && c.revocation.every((r) => r.status === 'good' && r.source.startsWith('embedded'));
  // LT: the signer's chain AND the signature timestamps' TSA chains validated from embedded data.
  const ltData = embeddedGood(cv) && s.timestamps.filter((t) => t.valid && t.kind === 'signature-timestamp').every((t) => embeddedGood(t.certValidation));
  if (j.format === 'PDF') {
    if (j.subFilter === 'adbe.pkcs7.detached' || j.subFilter === 'adbe.pkcs7.sha1') return j.subFilter;
    if (j.subFilter !== 'ETSI.CAdES.detached') return 'UNKNOWN';
    if (s.signingCertAttr !== 'match') return 'PAdES-NOT-BASELINE';
    if (!hasTs) return 'PAdES-BASELINE-B';
    if (!j.hasDssData || !ltData) return 'PAdES-BASELINE-T';
    return j.coveredByDocTimestamp ? 'PAdES-BASELINE-LTA' : 'PAdES-BASELINE-LT';
  }
  if (!s.signerInfo) return 'UNKNOWN';
  if (s.signingCertAttr !== 'match') return 'CMS';
  if (!hasTs) return 'CAdES-BASELINE-B';
  // Validation data may sit in SignedData.certificates / crls (EN 319 122-1 B-LT) or in the certificate-values /
  // revocation-values attributes: what counts is that the chains validated from it.
  return ltData ? 'CAdES-BASELINE-LT' : 'CAdES-BASELINE-T';
}

/**
 * Runs the check pipeline for one signature job and builds its report. Never throws: an exception in a check
 * becomes FORMAT_FAILURE naming the check; exceeding the policy's time bound becomes INDETERMINATE.
 */
export async function validateSignature(job: SignatureJob, policy: ResolvedPolicy, certCtx: CertContext): Promise<SignatureReport> {
  const s: SigState = { job, policy, certCtx, timestamps: [], results: [], verdicts: [], stopped: false };
  const checks = job.kind === 'document-timestamp' ? DOCUMENT_TIMESTAMP_CHECKS : SIGNATURE_CHECKS;
  let timer: NodeJS.Timeout | undefined;
  const run = (async () => {
    for (const c of checks) {
      if (s.stopped) break;
      if (c.applies && !c.applies(s)) continue;
      try {
        await c.run(s);
      } catch (e) {
        s.results.push({ check: c.name, block: c.block, status: 'failed', message: `internal error: ${(e as Error)?.message ?? String(e)}` });
        s.verdicts.push({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', block: c.block, check: c.name,
          message: `check ${c.name} could not process the signature: ${(e as Error)?.message ?? String(e)}` });
        s.stopped = true;
      }
    }
  })();
  const timeout = new Promise<'timeout'>((res) => { timer = setTimeout(() => res('timeout'), policy.signatureTimeoutMs); timer.unref?.(); });
  const outcome = await Promise.race([run.then(() => 'done' as const), timeout]);
  if (timer) clearTimeout(timer);
  if (outcome === 'timeout') {
    s.verdicts.push({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER', block: 'VCI', check: 'time-bound', message: `validation did not finish within ${policy.signatureTimeoutMs} ms` });
    s.stopped = true;
  }
  return buildReport(s);
}

function buildReport(s: SigState): SignatureReport {
  const j = s.job;
  const v = decide(s.verdicts);
  const claimed = j.claimedTime ?? (s.signerInfo ? claimedSigningTime(s.signerInfo) : undefined);
  const validTs = s.timestamps.filter((t) => t.valid && t.genTime).map((t) => t.genTime!);
  const earliest = validTs.length ? new Date(Math.min(...validTs.map((d) => d.getTime()))) : undefined;
  const best = s.poe && s.poe < s.policy.validationTime ? s.poe : s.policy.validationTime;
  const pdf = j.pdf;
  const report: SignatureReport = {
    field: j.field,
    kind: j.kind,
    indication: v ? v.indication : 'TOTAL_PASSED',
    subIndication: v ? v.subIndication : null,
    block: v ? v.block : null,
    message: v ? v.message : j.kind === 'document-timestamp' ? 'the document timestamp is valid' : 'the signature is valid',
    level: detectLevel(s),
    intact: s.integrityOk === true && !s.verdicts.some((x) => x.subIndication === 'HASH_FAILURE' || x.subIndication === 'SIG_CRYPTO_FAILURE'),
    signer: s.signer ? signerInfoOf(s.signer, s.certValidation?.chain) : null,
    signingTime: claimed ? claimed.toISOString() : null,
    timestamp: earliest ? earliest.toISOString() : null,
    bestSignatureTime: best.toISOString(),
    coverage: pdf
      ? {
          ...(pdf.coverage ? { byteRange: pdf.coverage.byteRange, coversWholeRevision: pdf.coverage.coversWholeRevision, coversWholeFile: pdf.coverage.coversWholeFile } : {}),
          revision: pdf.revision,
        }
      : j.dataSize !== undefined ? { dataSize: j.dataSize } : {},
    modifications: (pdf?.modifications ?? []).map((m) => ({ revision: m.revision, kind: m.kind, ...(m.object ? { object: m.object } : {}), allowed: m.allowed, ...(m.warning ? { warning: true } : {}), rule: m.rule, description: m.description })),
    timestamps: s.timestamps.map((t) => ({
      time: t.genTime ? t.genTime.toISOString() : '',
      kind: t.kind,
      ...(t.tsa ? { tsa: t.tsa.subject } : {}),
      valid: t.valid,
      message: t.message,
    })),
    digestAlgorithm: s.digestAlgorithm ?? null,
    signatureAlgorithm: s.signatureAlgorithm ?? null,
    revocation: (s.certValidation?.revocation ?? []).map((r) => ({
      certificate: r.certificate, status: r.status, source: r.source,
      ...(r.revokedAt ? { revokedAt: r.revokedAt.toISOString() } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    })),
    checks: s.results,
  };
  if (pdf?.reason) report.reason = pdf.reason;
  if (pdf?.location) report.location = pdf.location;
  if (pdf?.contactInfo) report.contactInfo = pdf.contactInfo;
  if (pdf?.name) report.name = pdf.name;
  return report;
}
