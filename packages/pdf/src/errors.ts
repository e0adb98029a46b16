/** Stable error codes of @kyso/pdf. */
export type PdfErrorCode =
  | 'PDF_NOT_PDF'
  | 'PDF_TRUNCATED'
  | 'PDF_SYNTAX'
  | 'PDF_XREF_BROKEN'
  | 'PDF_XREF_LOOP'
  | 'PDF_OBJECT_NOT_FOUND'
  | 'PDF_OBJECT_MISMATCH'
  | 'PDF_TOO_DEEP'
  | 'PDF_LIMIT_EXCEEDED'
  | 'PDF_FILTER_UNSUPPORTED'
  | 'PDF_FILTER_FAILED'
  | 'PDF_ENCRYPTED'
  | 'PDF_BAD_STRUCTURE'
  | 'PDF_WRITE_FAILED'
  | 'PDF_IO';

/** The one error class of @kyso/pdf: `code` is stable, `message` says what failed and where (byte offset / object). */
export class PdfError extends Error {
  override name = 'PdfError';
  constructor(readonly code: PdfErrorCode, message: string, readonly offset?: number) {
    super(offset !== undefined ? `${message} (at byte ${offset})` : message);
  }
}
