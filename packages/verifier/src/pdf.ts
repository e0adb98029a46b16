/**
 * @kyso/verifier/pdf — validation of signed PDFs and CMS/CAdES without the XML verifier: the same names as
 * `@kyso/verifier` minus the XML ones, for programs (such as a command line) that should not load the XML parser.
 *
 *   import { verifyPdf } from '@kyso/verifier/pdf';
 *
 * The public API is the explicit list below (a new public name is added here, in its group).
 */
/** Validates every signature of a PDF (path or bytes); never throws on a hostile file. */
export { verifyPdf, type VerifyPdfOptions, type PdfAnalyzer } from './verify-pdf.js';
/** Validates a CMS / CAdES signature (detached content given separately). */
export { verifyCms, type VerifyOptions } from './verify-cms.js';
/** Validates many files, in worker threads for big batches. */
export { verifyFiles, type VerifyFilesOptions } from './parallel/pool.js';
/** The validation policy: trust anchors, allowed algorithms, revocation requirements, validation time. */
export { resolvePolicy, loadPolicyFile, policyFromJson, DEFAULT_ALLOWED_DIGESTS, DEFAULT_SIGNING_EKUS, type Policy, type ResolvedPolicy } from './policy.js';
/** The error for bad policy or options (a hostile file never throws: it gets a report). */
export { VerifierError } from './errors.js';
/** The report model (ETSI TS 119 102-2 shape): indications, sub-indications, per-signature reports. */
export {
  type Indication, type SubIndication, type BuildingBlock, type SignatureLevel, type CheckResult, type SignerInfo,
  type TimestampInfo, type CoverageInfo, type XmlCoverage, type ModificationInfo, type SignatureReport, type ValidationReport, documentVerdict,
} from './report/model.js';
/** Reports as text, HTML and schema-checked JSON (report.schema.json). */
export { renderText } from './report/text.js';
export { renderHtml, escapeHtml } from './report/html.js';
export { toJsonReport, REPORT_SCHEMA_PATH } from './report/json.js';
/** The building blocks: one named check per step, run in this order. */
export { SIGNATURE_CHECKS, DOCUMENT_TIMESTAMP_CHECKS, type Check, type SigState, type SignatureJob, type Verdict } from './checks/index.js';
/** RFC 3161 timestamp-token validation. */
export { validateTimestampToken, type TimestampValidation } from './checks/timestamp-validation.js';
/** Online OCSP / CRL / AIA fetching (replaceable, e.g. for tests or proxies). */
export { type Fetcher, defaultFetcher, fetchStats } from './util/fetch.js';
/** What the PDF analysis finds: signatures, coverage, modifications after signing, the DSS. */
export type {
  DigestAlgorithm, Finding, Coverage, ModificationLevel, Modification, PdfSignatureInfo, PdfDss, PdfAnalysis,
} from './pdf/types.js';
/** PDF modification analysis: the default rules (one per file, pyHanko-style diff policy) to extend or replace
 *  through `Policy.modificationRules`. */
export { PDF_MODIFICATION_RULES, modificationRules, type ModificationRule, type RevisionPolicy, type JudgedModification } from './pdf/index.js';
