/**
 * The only place the XML format module reaches into the verifier's X.509 / revocation / timestamp code. When
 * that code moves to @kyso/pki (wt/11pki), re-point these imports and nothing else.
 */
export { buildCertContext } from '../../context.js';
export { validateCertificate, type CertContext, type CertValidation } from '../../x509/validate.js';
export { validateTimestampToken, type TimestampValidation } from '../../timestamp/token.js';
export { CertInfo, tryCert } from '../../x509/cert.js';
export { signerInfoOf } from '../../report/signer-info.js';
export { cryptoConstraintViolation, describeKey, type SignatureScheme } from '../../crypto/signature.js';
export { hash } from '../../util/bytes.js';
