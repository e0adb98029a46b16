/** TSA / OCSP / CRL / AIA HTTP clients and the small DER / X.509 helpers they share. */
export * from './errors.js';
export * from './der.js';
export * from './http.js';
export * from './algorithms.js';
export * from './x509.js';
export * from './cache.js';
export * from './tsa.js';
export * from './ocsp.js';
export * from './crl.js';
export * from './aia.js';
export * from './deferred-ca.js';
