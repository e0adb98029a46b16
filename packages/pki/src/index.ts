/**
 * @kyso/pki — the one X.509 / CMS / OCSP / CRL / TSA layer shared by kyso's signer and verifier: certificate
 * model and names, path building (RFC 5280), OCSP/CRL request and evaluation with one rule set, signature
 * verification, algorithm tables and OIDs, CMS reading, and the TSA / OCSP / CRL / AIA clients.
 *
 *   import { parseCertificate, requestTimestamp, fetchOcsp } from '@kyso/pki';
 *
 * The public API is what is listed here and in the module lists it re-exports (clients/index.ts, cms/index.ts);
 * everything else in src/ is internal. Errors from the network clients are `PkiClientError` with a stable `code`.
 */
/** TSA / OCSP / CRL / AIA clients, DER builders, algorithms, the certificate model (see clients/index.ts). */
export * from './clients/index.js';
/** WebCrypto set-up for PKI.js (call once before PKI.js sign/verify/digest). */
export { setupCrypto } from './crypto-setup.js';
/** PEM armour: split, decode and encode PEM blocks. */
export { pemBlocks, pemToDer, toPem, isPem, toDer, type PemBlock } from './pem.js';
export {
  OIDS, oidName, DIGEST_OIDS, SIGNATURE_OIDS, CRL_REASONS, crlReasonName, nodeDigestName, type DigestName, type SignatureKeyType,
} from './oids.js';
export { describeCertificate, nameInfo, type CertificateSummary, type NameInfo } from './certificate-info.js';
/** Signing bytes with a Node key and the PKI.js algorithm identifiers that go with it. */
export {
  signBytes, pkijsSignatureAlgorithm, pkijsHashAlgorithm, pssParams, keyFamily, type SigningHash, type SigningScheme,
} from './signing.js';
export { toHex, ownBuffer, hash } from './util/bytes.js';
export { nameToString, nameKey, nameAttr } from './x509/name.js';
export { buildAndValidatePath, validateStructure, signedBy, type PathResult, type PathOptions, type PathFailure } from './x509/path.js';
export { resolveScheme, verifyWithScheme, verifyRsaPrehashed, spkiToKey, describePublicKey, CURVES, type ResolvedScheme } from './algorithms/scheme.js';
export * from './cms/index.js';
