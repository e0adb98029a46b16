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
  | 'CERT_REVOKED'
  /** The input PDF is damaged (truncated, broken cross-reference data, unfinished revision after %%EOF). */
  | 'PDF_DAMAGED'
  /** A visible signature image is neither PNG nor JPEG (or cannot be decoded). */
  | 'IMAGE_UNSUPPORTED'
  /** A visible signature rectangle lies (partly) outside the page. */
  | 'RECT_OUTSIDE_PAGE'
  /** The time-stamping authority could not be reached (connection refused, DNS, timeout). */
  | 'TSA_UNREACHABLE'
  /** An OCSP responder / CRL distribution point / AIA issuer URL could not be reached. */
  | 'REVOCATION_UNREACHABLE'
  /** A two-step state was altered, sealed with another key, or does not match the document given to finalize. */
  | 'STATE_TAMPERED'
  /** `extendPdf`: the document has nothing to extend, or the requested level is not an extension. */
  | 'EXTEND_FAILED';

/**
 * Error of the PDF signing layer. It is a `SignerError` (same package, same `instanceof`), with a
 * PDF-specific `code`; messages never contain secrets.
 */
export class PadesError extends SignerError {
  constructor(code: PadesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const TSA_DOWN = /\b(TSA_UNREACHABLE|TSA_TIMEOUT)\b/;
const REVOCATION_DOWN = /\b(OCSP_UNREACHABLE|CRL_UNREACHABLE|AIA_UNREACHABLE|HTTP_UNREACHABLE|HTTP_TIMEOUT)\b/;

function chainText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 6; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string') parts.push(e.code);
    if (typeof e.message === 'string') parts.push(e.message);
  }
  return parts.join(' ');
}

/**
 * Re-types a failure caused by a service that could not be reached: TSA → `TSA_UNREACHABLE`,
 * OCSP / CRL / AIA → `REVOCATION_UNREACHABLE` (so callers can tell "retry later" from "refused").
 * Other errors are returned unchanged.
 */
export function classifyServiceError(err: unknown): unknown {
  const code = (err as { code?: unknown })?.code;
  if (code === 'TSA_UNREACHABLE' || code === 'REVOCATION_UNREACHABLE') return err;
  const text = chainText(err);
  if ((code === 'TSA_FAILED' || /^TSA_/.test(String(code))) && TSA_DOWN.test(text)) {
    return new PadesError('TSA_UNREACHABLE', `the time-stamping authority cannot be reached (${(err as Error).message}); check the TSA URL and the network, then retry`, { cause: err });
  }
  if ((code === 'LTV_FAILED' || code === 'REVOCATION_UNKNOWN' || /_UNREACHABLE$/.test(String(code))) && REVOCATION_DOWN.test(text)) {
    return new PadesError('REVOCATION_UNREACHABLE', `a revocation service (OCSP / CRL) cannot be reached (${(err as Error).message}); retry later or sign offline (checkRevocation: false / --offline) where allowed`, { cause: err });
  }
  return err;
}
