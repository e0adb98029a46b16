import { SignerError } from '../crypto/errors.js';

/** Error codes of the PDF side of signing (in addition to the crypto layer's SignerErrorCode). */
export type PadesErrorCode =
  | 'PDF_ENCRYPTED'
  | 'PDF_UNSUPPORTED'
  | 'FIELD_NOT_FOUND'
  | 'FIELD_NOT_SIGNATURE'
  | 'FIELD_ALREADY_SIGNED'
  | 'CERTIFY_NOT_FIRST'
  | 'DOCMDP_FORBIDS'
  | 'CONTENTS_TOO_SMALL'
  | 'STATE_INVALID'
  | 'PAGE_NOT_FOUND'
  | 'APPEARANCE_FAILED'
  | 'OUTPUT_FAILED'
  | 'LTV_FAILED'
  | 'TSA_FAILED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_REVOKED';

/**
 * Error of the PDF signing layer. It is a `SignerError` (same package, same `instanceof`), with a
 * PDF-specific `code`; messages never contain secrets.
 */
export class PadesError extends SignerError {
  constructor(code: PadesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
