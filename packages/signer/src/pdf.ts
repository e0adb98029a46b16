/**
 * @kyso/signer/pdf — PDF and CMS signing without the XML signer: PAdES (B-B … B-LTA), CAdES detached `.p7s`,
 * key backends and two-step signing. The same names as `@kyso/signer`, for programs (such as a command line) that
 * should not load the XML parser:
 *
 *   import { loadPkcs12File, signPdf } from '@kyso/signer/pdf';
 *
 * The public API is the explicit list below (a new public name is added here, in its group).
 */

// ---- errors -------------------------------------------------------------------------------------------------
/** Errors of the crypto layer (keys, CMS, timestamps, LTV), with a stable `code`. */
export { SignerError, type SignerErrorCode } from './crypto/errors.js';
/** Errors of PDF signing (input PDF, field, placeholder, output), with a stable `code`. */
export { PadesError, type PadesErrorCode } from './pades/errors.js';

// ---- keys ---------------------------------------------------------------------------------------------------
/** What a key backend is: the certificate, its chain and `sign(toBeSigned)`. */
export { type KeyBackend, type KeyType, type KeyAlgorithmInfo, type ToBeSigned, defaultSignatureAlgorithm } from './crypto/keys/types.js';
/** Digest and signature algorithm names shared with @kyso/pki. */
export type { HashName, SignatureAlgorithm, SignatureScheme } from '@kyso/pki';
/** A key in process memory (from PEM or PKCS#12), and helpers to check a key against its certificate. */
export { SoftwareKeyBackend, describeKey, assertKeyMatchesCert } from './crypto/keys/software.js';
/** PEM private key + certificate (+ chain) files. */
export { loadPemBackend, loadPemFiles, parsePrivateKey, type PemBackendOptions } from './crypto/keys/pem.js';
/** PKCS#12 (.p12 / .pfx) files, including legacy RC2 / 3DES encryption. */
export { loadPkcs12Backend, loadPkcs12File, parsePkcs12, type Pkcs12Contents } from './crypto/keys/pkcs12.js';
/** A key held elsewhere (remote service, smart card): you supply the signing function. */
export { ExternalKeyBackend, type ExternalSignFunction } from './crypto/keys/external.js';
/** PKCS#11 tokens and HSMs (e.g. SoftHSM2) through graphene-pk11. */
export {
  openPkcs11Backend, storeCertificateOnToken, Pkcs11KeyBackend, type Pkcs11BackendOptions,
} from './crypto/keys/pkcs11.js';
/** A remote key of a Cloud Signature Consortium API v2 service (remote signing, approval on the phone). */
export { CscKeyBackend, openCscBackend, type CscBackendOptions } from './crypto/keys/csc.js';
/** One entry point for every key source (what the CLI uses). */
export { openKeyBackend, type KeySource } from './crypto/keys/open.js';
/** Orders a set of certificates into a chain from the signer towards the root. */
export { orderChain } from './crypto/keys/chain.js';

// ---- CMS / CAdES --------------------------------------------------------------------------------------------
/** CMS object identifiers used in signed attributes and unsigned attributes. */
export { OID } from './crypto/cms/oids.js';
/** Parsing a CMS SignedData and reading attribute values. */
export { parseSignedData, attributeValues, type SignedDataParts } from './crypto/cms/signed-data.js';
/** One-shot CMS SignedData with a key backend. */
export { buildCms, type BuildCmsOptions } from './crypto/cms/build.js';
/** Two-step CMS: `prepareCms` → sign the digest elsewhere → `finalizeCms`. */
export {
  prepareCms, finalizeCms, type PrepareCmsOptions, type PreparedCms, type CmsState, type FinalizeCmsOptions,
} from './crypto/cms/two-step.js';
/** Sealing a two-step CMS state with an HMAC when it leaves the process. */
export { sealCmsState, unsealCmsState } from './crypto/cms/seal.js';
/** Size of the CMS to reserve in a PDF placeholder. */
export { estimateCmsSize, DEFAULT_TIMESTAMP_TOKEN_SIZE, type EstimateCmsOptions } from './crypto/cms/estimate.js';
/** RFC 3161 signature timestamps (CAdES-T) on an existing SignerInfo. */
export { addSignatureTimestamp, type SignatureTimestampOptions } from './crypto/cms/timestamp.js';
/** ETSI archive timestamps (ATSv3) for CAdES-A. */
export { addArchiveTimestampV3, type ArchiveTimestampOptions } from './crypto/cms/archive.js';
/** Certificates, OCSP responses and CRLs for long-term validation, and the signer's own status check. */
export { collectValidationData, type CollectOptions, type ValidationData, type CertValidationStatus } from './crypto/ltv/collect.js';
export { checkSignerCertificate, type SignerCheckOptions, type SignerCheckResult } from './crypto/ltv/signer-status.js';
/** CAdES detached signatures of any file (B-B … B-LTA). */
export { digestContent, type DetachedInput } from './crypto/cades/digest.js';
export { signDetached, type SignDetachedOptions, type DetachedSignature, type CadesLevel } from './crypto/cades/detached.js';
/** Extending an existing CAdES signature to a higher level. */
export { extendCades, type ExtendCadesOptions } from './crypto/cades/extend.js';

// ---- PAdES --------------------------------------------------------------------------------------------------
/** Signing a PDF: one shot (`signPdf`, `signPdfBytes`) or two-step (`preparePdfSignature` → `finalizePdfSignature`). */
export {
  signPdf, signPdfBytes, preparePdfSignature, finalizePdfSignature, abortPdfSignature, checkCertificateTime,
  type PadesLevel, type PdfSignatureOptions, type PdfSignatureState, type PreparedPdfSignature, type SignerCertificates,
  type PdfSignatureResult, type FinalizePdfOptions, type SignPdfOptions,
} from './pades/sign.js';
/** B-LT: the Document Security Store (DSS / VRI) with certificates, OCSP responses and CRLs. */
export {
  addDss, addDssInPlace, defaultLtvProvider, vriKey, listSignatureValues, certificatesOfCms,
  type LtvData, type LtvProvider, type DssContent, type AddDssOptions, type PdfSignatureValue,
} from './pades/dss.js';
/** B-LTA: document timestamps. */
export { addDocumentTimestamp, addDocumentTimestampInPlace, type DocumentTimestampOptions } from './pades/doc-timestamp.js';
/** Visible signatures (rectangle, text, image) and signature fields. */
export { type VisibleSignatureOptions } from './pades/appearance.js';
export { existingSignatures, type FieldTarget, type FieldOptions } from './pades/fields.js';
/** Two-step state sealed with an HMAC when it leaves the process (prepare and finalize on different hosts). */
export { sealPdfSignatureState, openPdfSignatureState, isSealedState } from './pades/state.js';
/** Extending signed PDFs (kyso's and other tools') to B-LT / B-LTA, and renewing the archive timestamp. */
export { extendPdf, type ExtendPdfOptions, type ExtendPdfResult } from './pades/extend.js';
/** Honest input handling: damaged inputs refused unless repaired on request; image and rectangle checks. */
export { preflightPdf, assertPdfWhole, repairPdf, type PreflightReport, type PreflightFinding, type RepairResult } from './pades/preflight.js';
export { checkImage, checkRectOnPage } from './pades/sign.js';
export { classifyServiceError } from './pades/errors.js';
