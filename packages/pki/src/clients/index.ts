/** TSA / OCSP / CRL / AIA HTTP clients and the small DER / X.509 helpers they share. */
export * from './errors.js';
export * from './der.js';
export * from './http.js';
export * from './algorithms.js';
export * from './x509.js';
export * from './tsa.js';
