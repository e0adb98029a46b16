/**
 * PAdES signing of PDFs (ETSI EN 319 142-1 baseline B-B … B-LTA) by incremental update only.
 *
 * - `signPdf(input, output, { backend, ... })` — one shot.
 * - `preparePdfSignature(input, output, { certificate, chain }, options)` → `{ digest, toBeSigned, state }`;
 *   `finalizePdfSignature(state, signatureValue, chain?)` — two-step (state is JSON, usable in another process).
 * - `addDss(input, output, { ltv | content })` — B-LT validation data; `addDocumentTimestamp(input, output, { url })` — B-LTA.
 *
 * Outputs are written to a temp file in the output's directory and renamed only on success.
 */
export { PadesError, type PadesErrorCode } from './errors.js';
export {
  signPdf, signPdfBytes, preparePdfSignature, finalizePdfSignature, abortPdfSignature, checkCertificateTime, openForUpdate, tempPathFor,
  type PadesLevel, type PdfSignatureOptions, type PdfSignatureState, type PreparedPdfSignature, type SignerCertificates,
  type PdfSignatureResult, type FinalizePdfOptions, type SignPdfOptions,
} from './sign.js';
export { addDss, addDssInPlace, buildDssUpdate, defaultLtvProvider, vriKey, trimDer, listSignatureValues, certificatesOfCms, type LtvData, type LtvProvider, type DssContent, type AddDssOptions, type PdfSignatureValue } from './dss.js';
export { addDocumentTimestamp, addDocumentTimestampInPlace, type DocumentTimestampOptions } from './doc-timestamp.js';
export { buildAppearance, type VisibleSignatureOptions } from './appearance.js';
export { prepareField, existingSignatures, type FieldTarget, type FieldOptions } from './fields.js';
export { pdfDate, displayDate } from './util.js';
