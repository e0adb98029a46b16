/** @kyso/pki: X.509, CMS helpers and TSA / OCSP / CRL clients shared by signer and verifier. */
export * from './clients/index.js';
export { setupCrypto } from './crypto-setup.js';
export { pemBlocks, pemToDer, toPem, isPem, toDer, type PemBlock } from './pem.js';
export { OIDS, oidName } from './oids.js';
export { describeCertificate, nameInfo, type CertificateSummary, type NameInfo } from './certificate-info.js';
export {
  signBytes, pkijsSignatureAlgorithm, pkijsHashAlgorithm, pssParams, keyFamily, type SigningHash, type SigningScheme,
} from './signing.js';
