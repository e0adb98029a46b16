/**
 * Citizen accounts: personal-number validation, argon2id passwords, TOTP + recovery codes, guardians.
 */
export { KvAccountStore, type AccountStoreOptions, MINOR_AGE, GUARDIAN_MIN_AGE, RECOVERY_CODE_COUNT } from './account-store.js';
export { checkPersonalNumber, assertPersonalNumber, makePersonalNumber, parseBirthdate, normaliseGender, ageOn, type PersonalNumberProblem } from './personal-number.js';
export { PasswordHasher, DEFAULT_ARGON2, PASSWORD_MIN, PASSWORD_MAX, assertPasswordPolicy, type Argon2Params } from './passwords.js';
export { SecretBox, resolveSecretBox } from './secret-box.js';
export { totpCode, matchTotp, newTotpSecret, totpUri, totpSecretProblem, isBase32Secret, TOTP_PERIOD, TOTP_DIGITS, TOTP_SECRET_MIN_BITS, TOTP_SECRET_NEW_CHARS } from './totp.js';
export { ENROLMENT_CODE_TTL_MS } from './account-store.js';
