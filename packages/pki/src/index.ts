/**
 * @kyso/pki — the one X.509 / CMS / OCSP / CRL / TSA layer shared by kyso's signer and verifier.
 *
 *   import { parseCertificate, requestTimestamp, fetchOcsp } from '@kyso/pki';
 *
 * The public API is the explicit list below (new public names are added here, grouped by module); everything
 * else in src/ is internal. Errors from the network clients are `PkiClientError` with a stable `code`.
 */

/** WebCrypto set-up for PKI.js (call once before PKI.js sign/verify/digest). */
export { setupCrypto } from './crypto-setup.js';
/** PEM armour: split, decode and encode PEM blocks. */
export { pemBlocks, pemToDer, toPem, isPem, toDer, type PemBlock } from './pem.js';
/** Object identifiers kyso knows by name. */
export { OIDS, oidName } from './oids.js';
/** Human-readable summaries of certificates and names (subject, issuer, validity, key usage). */
export { describeCertificate, nameInfo, type CertificateSummary, type NameInfo } from './certificate-info.js';
/** Signing bytes with a Node key and the PKI.js algorithm identifiers that go with it. */
export {
  signBytes, pkijsSignatureAlgorithm, pkijsHashAlgorithm, pssParams, keyFamily, type SigningHash, type SigningScheme,
} from './signing.js';
/** The error of the TSA / OCSP / CRL / AIA clients, with a stable `code`. */
export { type PkiClientErrorCode, PkiClientError } from './clients/errors.js';
/** Minimal DER builders (TLV, SEQUENCE, SET OF, OID, INTEGER, ...) for hand-built ASN.1 structures. */
export {
  tlv, concatBytes, seq, compareDer, setOf, ctx, oid, int, octets, nul, bool, time, generalizedTime, algId,
} from './clients/der.js';
/** The bounded HTTP client the PKI clients use (timeouts, size limits, no redirects to other schemes). */
export { type HttpOptions, type HttpResult, type ServiceKind, httpFetch } from './clients/http.js';
/** Digest and signature algorithms: names, OIDs, AlgorithmIdentifiers, signature verification. */
export {
  type HashName, HASH_OIDS, HASH_LENGTHS, nodeHashName, digest, hashFromOid, parseHashName, hashAlgorithmIdentifier,
  OID_RSA_ENCRYPTION, OID_RSASSA_PSS, OID_MGF1, OID_EC_PUBLIC_KEY, type SignatureScheme, type SignatureAlgorithm,
  signatureAlgorithmIdentifier, type DecodedSignatureAlgorithm, decodeSignatureAlgorithm, verifySignature,
} from './clients/algorithms.js';
/** X.509 certificates: parsing, PEM/DER conversion, the `CertInfo` view. */
export {
  pemToDerList, derToPem, parseDer, bytesEqual, CertInfo, parseCertificate, certInfoOf,
} from './clients/x509.js';
/** A cache for OCSP responses and CRLs, honouring their validity periods. */
export { RevocationCache, defaultRevocationCache } from './clients/cache.js';
/** RFC 3161 timestamps: build a request, ask a TSA, parse and verify the token. */
export {
  type TimestampRequestOptions, type TimestampToken, buildTimestampRequest, requestTimestamp, parseTimestampResponse,
  parseTimestampToken, verifyTimestampToken,
} from './clients/tsa.js';
/** OCSP (RFC 6960): build a request, fetch and check the response. */
export {
  type CertStatus, type OcspResult, type OcspOptions, ocspCertId, buildOcspRequest, checkOcspResponse,
  type OcspCheckOptions, fetchOcsp,
} from './clients/ocsp.js';
/** CRLs (RFC 5280): fetch, check the issuer's signature, look a certificate up. */
export { type CrlInfo, type CrlOptions, checkCrl, crlStatus, fetchCrl } from './clients/crl.js';
/** AIA caIssuers: fetch a missing issuer certificate. */
export { fetchCaIssuers } from './clients/aia.js';
