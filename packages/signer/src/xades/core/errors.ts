/** Codes of {@link XmlError}. */
export type XmlErrorCode =
  | 'XML_TOO_LARGE' | 'XML_TOO_DEEP' | 'XML_DTD_FORBIDDEN' | 'XML_MALFORMED' | 'XML_ENCODING'
  | 'XML_UNSUPPORTED' | 'XML_SIGNATURE_NOT_FOUND' | 'XML_STATE_INVALID' | 'XML_INPUT';

/** Error of the XML layer (parser, canonicalizer, signature builder) with a stable code. */
export class XmlError extends Error {
  constructor(readonly code: XmlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XmlError';
  }
}
