import type { IdpProtocolErrorCode } from '../provider/errors.js';
/** Stable error codes raised by the identity provider's storage, accounts, security and audit layers. */
export type IdpErrorCode =
  | 'IDP_STORAGE_CONFIG'
  | 'IDP_STORAGE_UNAVAILABLE'
  | 'IDP_STORAGE_CORRUPT'
  | 'IDP_SECRET_KEY'
  | 'ACCOUNT_INVALID'
  | 'ACCOUNT_EXISTS'
  | 'ACCOUNT_NOT_FOUND'
  | 'PERSONAL_NUMBER_INVALID'
  | 'PASSWORD_POLICY'
  | 'TOTP_NOT_ENROLLED'
  | 'TOTP_SECRET_INVALID'
  | 'ENROLMENT_CODE_INVALID'
  | 'GUARDIAN_INVALID'
  | 'CLIENT_INVALID'
  | 'AUDIT_CONFLICT'
  | IdpProtocolErrorCode;

/**
 * The one error class of @kyso/idp's storage/accounts/security/audit layers: `code` is stable, `message` says what
 * failed and where. Messages never contain passwords, TOTP secrets or codes.
 */
export class IdpError extends Error {
  override name = 'IdpError';
  constructor(readonly code: IdpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
