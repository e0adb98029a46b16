/** @kyso/signer: PAdES and CAdES signing. */
export * from './crypto/index.js';
export * from './pades/index.js';
export * from './xades/index.js';
