import type { PadesErrorCode } from '../pades/errors.js';
/** Stable error codes of the signer's crypto layer (key backends, CMS, timestamps, LTV). */
export type SignerErrorCode =
  | 'KEY_LOCKED' | 'BAD_PASSWORD' | 'BAD_PIN' | 'PIN_LOCKED' | 'KEY_NOT_FOUND' | 'KEY_CERT_MISMATCH' | 'KEY_UNSUPPORTED'
  | 'KEY_PARSE' | 'CERT_PARSE' | 'PKCS12_UNSUPPORTED' | 'PKCS11_ERROR' | 'TOKEN_NOT_FOUND'
  | 'ALG_UNSUPPORTED' | 'ALG_KEY_MISMATCH' | 'SIGN_FAILED' | 'SIGNATURE_INVALID'
  | 'STATE_INVALID' | 'CMS_PARSE' | 'CMS_TOO_LARGE'
  | 'CERT_REVOKED' | 'CERT_EXPIRED' | 'CERT_NOT_YET_VALID' | 'REVOCATION_UNKNOWN'
  | 'TSA_FAILED' | 'LTV_FAILED' | 'INPUT_READ' | 'CSC_UNREACHABLE'
  | PadesErrorCode;

/**
 * The one error class of `@kyso/signer`'s crypto layer. `code` is stable; `message` says what
 * failed and where, and never contains a password, PIN or key material.
 */
export class SignerError extends Error {
  override readonly name = 'SignerError';
  constructor(readonly code: SignerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
