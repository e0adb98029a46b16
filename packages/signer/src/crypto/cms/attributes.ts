import { certInfoOf, HASH_OIDS, algId, ctx, digest, octets, oid, seq, setOf, time, tlv, type HashName } from '@kyso/pki';
import { OID } from './oids.js';

/** DER of an Attribute { attrType, attrValues SET OF } (values sorted). */
export function attribute(type: string, ...values: Uint8Array[]): Uint8Array {
  return seq(oid(type), setOf(...values));
}

/** content-type attribute (id-data by default). */
export const contentTypeAttribute = (contentType: string = OID.data): Uint8Array => attribute(OID.contentType, oid(contentType));

/** message-digest attribute. */
export const messageDigestAttribute = (md: Uint8Array): Uint8Array => attribute(OID.messageDigest, octets(md));

/** signing-time attribute (not used for PAdES; optional for CAdES). */
export const signingTimeAttribute = (t: Date): Uint8Array => attribute(OID.signingTime, time(t));

/**
 * ESS signing-certificate-v2 (RFC 5035): one ESSCertIDv2 with the certificate hash under `hash`
 * (hashAlgorithm omitted when SHA-256, its DEFAULT) and, unless disabled, IssuerSerial.
 */
export function signingCertificateV2Attribute(certificate: Uint8Array, hash: HashName, includeIssuerSerial = true): Uint8Array {
  const cert = certInfoOf(certificate);
  const parts: Uint8Array[] = [];
  if (hash !== 'SHA-256') parts.push(algId(HASH_OIDS[hash]));
  parts.push(octets(digest(hash, certificate)));
  if (includeIssuerSerial) parts.push(seq(seq(ctx(4, true, cert.issuerDer)), tlv(0x02, cert.serialDer)));
  return attribute(OID.signingCertificateV2, seq(seq(seq(...parts))));
}
