/** @kyso/pki: X.509, CMS helpers and TSA / OCSP / CRL clients shared by signer and verifier. */
export * from './clients/index.js';
