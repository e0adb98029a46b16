/**
 * `@kyso/verifier/xml`: XML signature validation (XMLDSig, XAdES, edXML, trusted lists) without the PDF and CMS
 * validators — what `kyso verify FILE.xml` needs (a smaller start than the whole package). Everything here is also
 * exported by the package root.
 */
export * from './formats/xml/index.js';
export { resolvePolicy, loadPolicyFile, policyFromJson, type Policy, type ResolvedPolicy } from './policy.js';
export type { ValidationReport, SignatureReport } from './report/model.js';
/** The report renderers (the same as the PDF half's). */
export { renderText } from './report/text.js';
export { renderHtml } from './report/html.js';
export { toJsonReport } from './report/json.js';
