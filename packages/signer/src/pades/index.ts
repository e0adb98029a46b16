/**
 * PAdES signing of PDFs (ETSI EN 319 142-1 baseline B-B … B-LTA) by incremental update only.
 *
 * - `signPdf(input, output, { backend, ... })` — one shot.
 * - `preparePdfSignature(input, output, { certificate, chain }, options)` → `{ digest, toBeSigned, state }`;
 *   `finalizePdfSignature(state, signatureValue, { input, output, stateKey })` — two-step: the state is
 *   self-contained JSON (the incremental update only; the original is supplied again and checked by
 *   SHA-256), sealed with HMAC-SHA-256 (`stateKey`) for another process or host.
 * - `extendPdf(input, output, { level: 'B-LT' | 'B-LTA', tsa })` — extend existing signatures (any tool's).
 * - `preflightPdf` / `repairPdf` — damaged-input detection (PDF_DAMAGED) and explicit repair.
 * - `addDss(input, output, { ltv | content })` — B-LT validation data; `addDocumentTimestamp(input, output, { url })` — B-LTA.
 *
 * Outputs are written to a temp file in the output's directory and renamed only on success.
 */
export { PadesError, classifyServiceError, type PadesErrorCode } from './errors.js';
export {
  signPdf, signPdfBytes, preparePdfSignature, finalizePdfSignature, abortPdfSignature, checkCertificateTime, openForUpdate, tempPathFor, checkImage, checkRectOnPage,
  type PadesLevel, type PdfSignatureOptions, type PdfSignatureState, type PreparedPdfSignature, type SignerCertificates,
  type PdfSignatureResult, type FinalizePdfOptions, type SignPdfOptions,
} from './sign.js';
export { addDss, addDssInPlace, buildDssUpdate, defaultLtvProvider, vriKey, trimDer, listSignatureValues, certificatesOfCms, type LtvData, type LtvProvider, type DssContent, type AddDssOptions, type PdfSignatureValue } from './dss.js';
export { addDocumentTimestamp, addDocumentTimestampInPlace, type DocumentTimestampOptions } from './doc-timestamp.js';
export { buildAppearance, type VisibleSignatureOptions } from './appearance.js';
export { prepareField, existingSignatures, type FieldTarget, type FieldOptions } from './fields.js';
export { pdfDate, displayDate } from './util.js';
export { sealPdfSignatureState, openPdfSignatureState, isSealedState } from './state.js';
export { preflightPdf, assertPdfWhole, repairPdf, type PreflightReport, type PreflightFinding, type RepairResult } from './preflight.js';
export { extendPdf, type ExtendPdfOptions, type ExtendPdfResult } from './extend.js';
