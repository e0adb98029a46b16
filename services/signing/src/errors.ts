/** CSC / OAuth errors: `{error, error_description}` with an HTTP status (CSC API v2 §10, RFC 6750). */

/** An error answered to the caller as a CSC body. The description never carries secrets. */
export class CscError extends Error {
  constructor(readonly status: number, readonly error: string, readonly description: string, readonly headers: Record<string, string> = {}) {
    super(`${error}: ${description}`);
  }
}

export const invalidRequest = (d: string) => new CscError(400, 'invalid_request', d);
/** A header-safe (visible ASCII) copy of a description. */
const headerSafe = (d: string) => d.replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '');
export const invalidToken = (d: string) => new CscError(401, 'invalid_token', d, { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${headerSafe(d)}"` });
export const insufficientScope = (d: string) => new CscError(403, 'insufficient_scope', d, { 'WWW-Authenticate': `Bearer error="insufficient_scope", error_description="${headerSafe(d)}"` });
export const accessDenied = (d: string) => new CscError(403, 'access_denied', d);

/** The shared state store (Redis) is unreachable: callers get 503 with Retry-After. */
export class StoreUnavailable extends Error {
  constructor(cause?: unknown) {
    super('state store unreachable', { cause });
  }
}

/** Typed errors of the signing core (enrolment, keys), with stable codes. */
export type SigningErrorCode = 'CREDENTIAL_EXISTS' | 'CREDENTIAL_NOT_FOUND' | 'KEY_GENERATION_FAILED' | 'KEYSTORE_LOCKED' | 'CONFIG_INVALID' | 'ALG_UNSUPPORTED';
export class SigningError extends Error {
  constructor(readonly code: SigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
