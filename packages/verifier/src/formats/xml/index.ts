/** XML signatures (XMLDSig, XAdES) for @kyso/verifier. */
export { verifyXml, verifyXmlSigned, type VerifyXmlOptions, type XmlVerification, type XmlSignedContent } from './verify-xml.js';
export { validateXmlSignature, verifyXmlSignatureValue, type SignedReference, type XmlSignatureJob } from './validate.js';
export { checkEdxmlSignature, type EdxmlSignedInfo } from './edxml.js';
export { loadTrustedList, withTrustedList, TSL_NS, CA_SERVICE_TYPES, TSA_SERVICE_TYPES, GRANTED_STATUSES, type TrustedList, type TrustedListOptions } from './trusted-list.js';
