/**
 * @kyso/pki: the one X.509 / CMS / OCSP / CRL / TSA layer of kyso, shared by signer and verifier: certificate
 * model and names, path building (RFC 5280), OCSP/CRL request and evaluation with one rule set, signature
 * verification, algorithm tables and OIDs, CMS reading, and the TSA / OCSP / CRL / AIA clients.
 */
export * from './clients/index.js';
export { setupCrypto } from './crypto-setup.js';
export { pemBlocks, pemToDer, toPem, isPem, toDer, type PemBlock } from './pem.js';
export {
  OIDS, oidName, DIGEST_OIDS, SIGNATURE_OIDS, CRL_REASONS, crlReasonName, nodeDigestName, type DigestName, type SignatureKeyType,
} from './oids.js';
export { describeCertificate, nameInfo, type CertificateSummary, type NameInfo } from './certificate-info.js';
export {
  signBytes, pkijsSignatureAlgorithm, pkijsHashAlgorithm, pssParams, keyFamily, type SigningHash, type SigningScheme,
} from './signing.js';
export { toHex, ownBuffer, hash } from './util/bytes.js';
export { nameToString, nameKey, nameAttr } from './x509/name.js';
export { buildAndValidatePath, validateStructure, signedBy, type PathResult, type PathOptions, type PathFailure } from './x509/path.js';
export { resolveScheme, verifyWithScheme, verifyRsaPrehashed, spkiToKey, describePublicKey, CURVES, type ResolvedScheme } from './algorithms/scheme.js';
export * from './cms/index.js';
