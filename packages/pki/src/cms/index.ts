/** CMS (RFC 5652) reading for validation: strict structure checks, SignedData parsing, SignerInfo helpers. */
export { checkBerStructure, children, readTlv, type Tlv } from './der.js';
export { parseSignedData, parseTstInfo, attrValues, attrCount, adobeRevocationInfo, cadesValidationValues, CmsFormatError, type ParsedCms } from './parse.js';
export { parseSignerInfoFast } from './signer-info.js';
export {
  identifySigner, signerDigestAlg, checkSigningCertificate, checkContentType, checkMessageDigest, checkMessageDigestSync, signerScheme, verifySignedAttributes,
  verifySignerSignature, claimedSigningTime, type SignedContent, type SigningCertCheck, type DigestCheck,
} from './signer.js';
