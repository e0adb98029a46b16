/**
 * XML signatures: XMLDSig and XAdES baseline B-B/B-T/B-LT/B-LTA, edXML messages, the canonicalizer and the safe
 * parser. The public API is this explicit list (a new public name is added here, in its group); the parts the
 * verifier builds on (tree, references, canonicalization, streaming) are public because @kyso/verifier uses them.
 */

// ---- names and errors ---------------------------------------------------------------------------------------
/** Namespaces, canonicalization / transform / digest / signature-method URIs. */
export {
  NS, C14N, C14N_NAMES, TRANSFORM, DIGEST_URI, DIGEST_BY_URI, SIGNATURE_METHODS, signatureMethodUri, SIGNED_PROPERTIES_TYPE,
  type SignatureMethodInfo,
} from './core/constants.js';
/** The one error class of the XML signer and parser, with a stable `code`. */
export { XmlError, type XmlErrorCode } from './core/errors.js';

// ---- the safe parser and the tree ---------------------------------------------------------------------------
/** Hostile-input-safe parsing (no DTD, no entities, size and depth limits), whole or piece by piece. */
export { decodeXml, parseXml, scanXml, parseXmlStrict, XmlChunkScanner, type XmlLimits } from './core/parse.js';
/** The tree the parser builds. */
export { XmlNode, XmlText, XmlComment, XmlPI, XmlAttr, XmlElement, XmlDocument, type XmlList } from './core/model.js';
/** Walking the tree, IDs, base64 content. */
export {
  childElements, onlyChild, descendants, forEachElement, base64Text, isStrictBase64, decodeBase64, idOf, indexIds, pathOf, isWithin,
  type IdIndex,
} from './core/dom.js';

// ---- canonicalization, references, XAdES properties ---------------------------------------------------------
/** Canonical XML 1.0 / 1.1 and exclusive canonicalization (with or without comments), whole or streamed. */
export { c14nMethod, canonicalize, C14nDocumentStream, type C14nMethod, type C14nOptions } from './core/c14n.js';
/** Dereferencing and digesting references (same-document only: no fetching of URIs). */
export {
  nodeHash, dereference, hashBytes, c14nDigest, c14nOctets,
  type ReferenceProblem, type DereferencedReference, type DereferenceContext,
} from './core/reference.js';
/** XAdES qualifying properties and the timestamp inputs (signature and archive timestamps). */
export { qualifyingPropertiesOf, xadesSignatureTimestampInput, xadesArchiveTimestampInput } from './core/archive.js';
/** Reading a large document as it streams by (attachments digested, not kept). */
export {
  Base64Digester, readTreeStreaming, isEdxmlAttachmentText, type StreamedBase64, type StreamTreeOptions,
} from './core/stream-tree.js';

// ---- signing ------------------------------------------------------------------------------------------------
/** XMLDSig / XAdES signing: one shot (`signXml`, `signXmlFile` streaming), two-step (`prepareXml` → `finalizeXml`),
 *  archive timestamps (`addArchiveTimestamp`). */
export {
  prepareXml, finalizeXml, addArchiveTimestamp, signXml, signXmlFile,
  type XmlSignatureMode, type XadesLevel, type ExtraReference, type XmlSignOptionsBase, type XmlExtendOptions, type SignXmlOptions,
  type PrepareXmlOptions, type XmlSignState, type PreparedXml, type ParsedXml,
} from './sign.js';
/** edXML messages (QCVN 102:2016): build, sign (whole or streaming), status messages. */
export {
  EDXML_NS, EDXML_ENVELOPE_ID, XML_NS, buildEdxml, buildEdxmlStatus, isEdxml, edxmlSignOptions, signEdxml, signEdxmlFile,
  type EdxmlOrganisation, type EdxmlAttachment, type EdxmlMessage, type EdxmlStatus,
} from './edxml.js';
