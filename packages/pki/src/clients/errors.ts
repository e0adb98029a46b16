/** Stable error codes of the TSA / OCSP / CRL / AIA clients. */
export type PkiClientErrorCode =
  | 'HTTP_UNREACHABLE' | 'HTTP_TIMEOUT' | 'HTTP_STATUS' | 'HTTP_TOO_LARGE' | 'HTTP_BAD_URL'
  | 'TSA_UNREACHABLE' | 'TSA_TIMEOUT' | 'TSA_REJECTED' | 'TSA_BAD_RESPONSE' | 'TSA_NONCE_MISMATCH'
  | 'TSA_IMPRINT_MISMATCH' | 'TSA_BAD_SIGNATURE'
  | 'OCSP_UNREACHABLE' | 'OCSP_BAD_RESPONSE' | 'OCSP_ERROR_STATUS' | 'OCSP_BAD_SIGNATURE'
  | 'OCSP_NONCE_MISMATCH' | 'OCSP_NO_MATCHING_RESPONSE' | 'OCSP_STALE' | 'OCSP_UNAUTHORIZED_RESPONDER'
  | 'CRL_UNREACHABLE' | 'CRL_BAD_RESPONSE' | 'CRL_BAD_SIGNATURE' | 'CRL_STALE' | 'CRL_WRONG_ISSUER'
  | 'AIA_UNREACHABLE' | 'AIA_BAD_RESPONSE'
  | 'CERT_PARSE' | 'ALG_UNSUPPORTED' | 'NO_ISSUER';

/** The one error class of the `@kyso/pki` clients: `code` is stable, `message` says what failed and where. */
export class PkiClientError extends Error {
  override readonly name = 'PkiClientError';
  constructor(readonly code: PkiClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
