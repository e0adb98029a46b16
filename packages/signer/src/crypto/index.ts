/**
 * Crypto layer of @kyso/signer: key backends (PEM, PKCS#12, PKCS#11, external), the CAdES
 * detached CMS builder with first-class two-step signing, signature timestamps, and LTV data.
 */
export * from './errors.js';
export * from './keys/types.js';
export { SoftwareKeyBackend, describeKey, assertAlgorithmFitsKey, assertKeyMatchesCert } from './keys/software.js';
export * from './keys/pem.js';
export * from './keys/pkcs12.js';
export * from './keys/external.js';
export * from './keys/pkcs11.js';
export * from './keys/csc.js';
export * from './keys/open.js';
export { orderChain } from './keys/chain.js';
export * from './cms/oids.js';
export * from './cms/attributes.js';
export * from './cms/signed-data.js';
export * from './cms/two-step.js';
export * from './cms/seal.js';
export * from './cms/build.js';
export * from './cms/estimate.js';
export * from './cms/timestamp.js';
export * from './cms/archive.js';
export type { HashName, SignatureAlgorithm, SignatureScheme } from '@kyso/pki';
export * from './ltv/collect.js';
export * from './ltv/signer-status.js';
export * from './cades/digest.js';
export * from './cades/detached.js';
export * from './cades/extend.js';
export { bmpPassword, pkcs12Kdf, pkcs12PbeDecrypt, rc2CbcDecrypt, rc2DecryptBlockRaw, PKCS12_PBE } from './keys/pkcs12-legacy.js';
