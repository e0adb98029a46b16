/**
 * The only place the XML format module reaches into the shared PKI layer (@kyso/pki) and the verifier's policy
 * checks (certificate validation, timestamp validation, crypto constraints).
 */
export { buildCertContext } from '../../context.js';
export { validateCertificate, type CertContext, type CertValidation } from '../../checks/certificate-validation.js';
export { validateTimestampToken, type TimestampValidation } from '../../checks/timestamp-validation.js';
export { CertInfo, tryCert, hash, describePublicKey as describeKey, type ResolvedScheme as SignatureScheme } from '@kyso/pki';
export { signerInfoOf } from '../../report/signer-info.js';
export { cryptoConstraintViolation } from '../../checks/crypto-policy.js';
