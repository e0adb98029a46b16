import { IdpError } from '../storage/errors.js';

/** Stable error codes of the identity provider's protocol layer (pages, seed, keys). */
export type IdpProtocolErrorCode =
  | 'IDP_CONFIG_INVALID'
  | 'IDP_SEED_INVALID'
  | 'IDP_KEYS_INVALID'
  | 'IDP_KEYS_CONFLICT'
  | 'IDP_FORM_INVALID'
  | 'IDP_CSRF_INVALID'
  | 'IDP_BODY_TOO_LARGE';

/**
 * Error of the protocol layer: an {@link IdpError} (the package's one error class) with a protocol-layer
 * code. The message says what failed and never holds secrets.
 */
export class IdpProtocolError extends IdpError {
  override name = 'IdpProtocolError';
  declare readonly code: IdpProtocolErrorCode;
  constructor(code: IdpProtocolErrorCode, message: string) {
    super(code, message);
  }
}
