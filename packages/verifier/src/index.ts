/**
 * @kyso/verifier: legal-validity validation of signed PDFs (PAdES / adbe.pkcs7.*) and CMS/CAdES after
 * ETSI EN 319 102-1, with reports as JSON (see report.schema.json), text and HTML.
 *
 *   const report = await verifyPdf('signed.pdf', { trustAnchors: [rootPem] });
 *   report.documentIndication  // 'TOTAL_PASSED' | 'INDETERMINATE' | 'TOTAL_FAILED'
 */
export { verifyPdf, type VerifyPdfOptions, type PdfAnalyzer } from './verify-pdf.js';
export { verifyCms, type VerifyOptions } from './verify-cms.js';
export { verifyFiles, type VerifyFilesOptions } from './parallel/pool.js';
export { resolvePolicy, loadPolicyFile, policyFromJson, DEFAULT_ALLOWED_DIGESTS, DEFAULT_SIGNING_EKUS, type Policy, type ResolvedPolicy } from './policy.js';
export { VerifierError } from './errors.js';
export * from './report/model.js';
export { renderText } from './report/text.js';
export { renderHtml, escapeHtml } from './report/html.js';
export { toJsonReport, REPORT_SCHEMA_PATH } from './report/json.js';
export { SIGNATURE_CHECKS, DOCUMENT_TIMESTAMP_CHECKS, type Check, type SigState, type SignatureJob, type Verdict } from './checks/index.js';
export { validateTimestampToken, type TimestampValidation } from './checks/timestamp-validation.js';
export { type Fetcher, defaultFetcher, fetchStats } from './util/fetch.js';
export type * from './pdf/types.js';
export * from './formats/xml/index.js';
