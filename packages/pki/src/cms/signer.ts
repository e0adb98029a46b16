import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertInfo } from '../x509/certificate.js';
import { nameKey } from '../x509/name.js';
import { DIGEST_OIDS, OIDS } from '../oids.js';
import { bytesEqual, hash, toHex } from '../util/bytes.js';
import { attrCount, attrValues } from './parse.js';
import { resolveScheme, verifyRsaPrehashed, verifyWithScheme, type ResolvedScheme } from '../algorithms/scheme.js';

/** The signed content, abstractly: digests on demand (streamed by the PDF layer) and raw bytes when needed. */
export interface SignedContent {
  digest(alg: string): Promise<Uint8Array>;
  /** Raw bytes; only used for SignerInfos without signed attributes and non-RSA keys. */
  bytes?(): Promise<Uint8Array>;
}

/** Finds the certificate a SignerInfo's sid designates. */
export function identifySigner(si: pkijs.SignerInfo, certs: CertInfo[]): CertInfo | undefined {
  const sid = si.sid as pkijs.IssuerAndSerialNumber | asn1js.Constructed | asn1js.OctetString;
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    const serial = toHex(sid.serialNumber.valueBlock.valueHexView).replace(/^(00)+(?=.)/, '');
    const issuer = nameKey(sid.issuer);
    return certs.find((c) => c.serialHex === serial && c.issuerKey === issuer);
  }
  // [0] SubjectKeyIdentifier
  const block = sid as asn1js.Constructed;
  let ski: Uint8Array | undefined;
  if (block.idBlock?.isConstructed) ski = (block.valueBlock.value[0] as asn1js.OctetString)?.valueBlock?.valueHexView;
  else ski = (block as unknown as asn1js.OctetString).valueBlock?.valueHexView;
  if (!ski) return undefined;
  const hex = toHex(ski);
  return certs.find((c) => c.ski === hex);
}

/** The digest algorithm name of a SignerInfo (e.g. SHA-256), or the OID when unknown. */
export function signerDigestAlg(si: pkijs.SignerInfo): string {
  return DIGEST_OIDS[si.digestAlgorithm.algorithmId] ?? si.digestAlgorithm.algorithmId;
}

/** Result of the ESS signing-certificate(-v2) binding check. */
export type SigningCertCheck = { status: 'match' } | { status: 'absent' } | { status: 'mismatch'; message: string };

/** ESSCertID(v2) list: hash algorithm, certificate hash, and the serial of issuerSerial when present. */
function parseEssCertIds(value: asn1js.AsnType, v2: boolean): { hashAlg: string; hash: Uint8Array; serialHex?: string }[] {
  const seq = value as asn1js.Sequence;
  const certs = (seq.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
  return certs.map((c) => {
    const parts = (c as asn1js.Sequence).valueBlock.value;
    let i = 0;
    let hashAlg = v2 ? 'SHA-256' : 'SHA-1';
    if (v2 && parts[0] instanceof asn1js.Sequence) {
      const oid = (parts[0].valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
      hashAlg = DIGEST_OIDS[oid] ?? oid;
      i = 1;
    }
    const h = parts[i] as asn1js.OctetString;
    if (!(h instanceof asn1js.OctetString)) throw new Error('certHash is not an OCTET STRING');
    const r: { hashAlg: string; hash: Uint8Array; serialHex?: string } = { hashAlg, hash: new Uint8Array(h.valueBlock.valueHexView) };
    const is = parts[i + 1] as asn1js.Sequence | undefined;
    const serial = is?.valueBlock?.value?.[1] as asn1js.Integer | undefined;
    if (serial instanceof asn1js.Integer) r.serialHex = toHex(serial.valueBlock.valueHexView).replace(/^(00)+(?=.)/, '');
    return r;
  });
}

/** Checks ESS signing-certificate-v2 (or v1) against the certificate the sid designates. */
export function checkSigningCertificate(si: pkijs.SignerInfo, cert: CertInfo): SigningCertCheck {
  const v2 = attrValues(si.signedAttrs, OIDS.signingCertificateV2);
  const v1 = attrValues(si.signedAttrs, OIDS.signingCertificate);
  const values = v2 ?? v1;
  if (!values) return { status: 'absent' };
  if (values.length !== 1) return { status: 'mismatch', message: 'the signing-certificate attribute has several values' };
  try {
    const ids = parseEssCertIds(values[0]!, !!v2);
    const first = ids[0];
    if (!first) return { status: 'mismatch', message: 'the signing-certificate attribute lists no certificate' };
    if (first.hashAlg.includes('.')) return { status: 'mismatch', message: `the signing-certificate attribute uses an unknown hash ${first.hashAlg}` };
    if (!bytesEqual(hash(first.hashAlg, cert.der), first.hash)) {
      return { status: 'mismatch', message: `the signing-certificate${v2 ? '-v2' : ''} attribute does not match the signer certificate "${cert.subject}" (certificate substitution)` };
    }
    if (first.serialHex !== undefined) {
      if (first.serialHex !== cert.serialHex) return { status: 'mismatch', message: 'the signing-certificate attribute names another serial number' };
    }
    return { status: 'match' };
  } catch (e) {
    return { status: 'mismatch', message: `the signing-certificate attribute is malformed (${(e as Error).message})` };
  }
}

/** Result of the message-digest check. */
export type DigestCheck = { status: 'match' } | { status: 'mismatch' | 'missing' | 'invalid'; message: string };

/** Compares the messageDigest signed attribute with the digest of `content` (or of `eContent` when encapsulated). */
export async function checkMessageDigest(si: pkijs.SignerInfo, content: SignedContent): Promise<DigestCheck> {
  const alg = signerDigestAlg(si);
  let actual: Uint8Array | undefined;
  if (!(alg.includes('.') || alg === 'SHAKE256') && attrCount(si.signedAttrs, OIDS.messageDigest) === 1) actual = await content.digest(alg);
  return checkMessageDigestSync(si, () => actual ?? new Uint8Array());
}

/** {@link checkMessageDigest} with the content digest computed synchronously by `digestOf(alg)`. */
export function checkMessageDigestSync(si: pkijs.SignerInfo, digestOf: (alg: string) => Uint8Array): DigestCheck {
  const n = attrCount(si.signedAttrs, OIDS.messageDigest);
  if (n === 0) return { status: 'missing', message: 'signed attributes lack message-digest' };
  const vals = attrValues(si.signedAttrs, OIDS.messageDigest)!;
  if (n !== 1 || vals.length !== 1) return { status: 'invalid', message: 'message-digest attribute must occur once with one value' };
  const v = vals[0] as asn1js.OctetString;
  if (!(v instanceof asn1js.OctetString)) return { status: 'invalid', message: 'message-digest attribute is not an OCTET STRING' };
  const alg = signerDigestAlg(si);
  if (alg.includes('.') || alg === 'SHAKE256') return { status: 'invalid', message: `digest algorithm ${alg} is not supported` };
  const actual = digestOf(alg);
  if (!bytesEqual(actual, v.valueBlock.valueHexView)) {
    return { status: 'mismatch', message: `message-digest (${alg}) ${toHex(v.valueBlock.valueHexView).slice(0, 16)}… does not match the signed data's digest ${toHex(actual).slice(0, 16)}…` };
  }
  return { status: 'match' };
}

/** Checks the content-type signed attribute equals the encapsulated content type. */
export function checkContentType(si: pkijs.SignerInfo, eContentType: string): string | undefined {
  const n = attrCount(si.signedAttrs, OIDS.contentType);
  if (n === 0) return 'signed attributes lack content-type';
  const vals = attrValues(si.signedAttrs, OIDS.contentType)!;
  if (n !== 1 || vals.length !== 1) return 'content-type attribute must occur once with one value';
  const v = vals[0] as asn1js.ObjectIdentifier;
  if (!(v instanceof asn1js.ObjectIdentifier)) return 'content-type attribute is not an OBJECT IDENTIFIER';
  if (v.valueBlock.toString() !== eContentType) return `content-type attribute ${v.valueBlock.toString()} differs from the encapsulated content type ${eContentType}`;
  return undefined;
}

/** The signature scheme of a SignerInfo. */
export function signerScheme(si: pkijs.SignerInfo): ResolvedScheme {
  return resolveScheme(si.signatureAlgorithm, signerDigestAlg(si));
}

/**
 * Verifies the SignerInfo's signature value with `cert`: over the DER SET OF signed attributes when present,
 * else directly over the content (RSA PKCS#1 v1.5 from the digest, other schemes from the bytes).
 */
export async function verifySignerSignature(si: pkijs.SignerInfo, cert: CertInfo, content: SignedContent): Promise<boolean> {
  const scheme = signerScheme(si);
  const key = cert.publicKey;
  const sig = si.signature.valueBlock.valueHexView;
  if (si.signedAttrs) return verifySignedAttributes(si, cert);
  if (scheme.key === 'RSA' && scheme.digest) return verifyRsaPrehashed(key, scheme.digest, await content.digest(scheme.digest), sig);
  if (!content.bytes) throw new Error('signature without signed attributes needs the signed bytes, which are not available');
  return verifyWithScheme(scheme, key, await content.bytes(), sig);
}

/** Verifies the signature value over the DER SET OF signed attributes (throws when the scheme is unusable). */
export function verifySignedAttributes(si: pkijs.SignerInfo, cert: CertInfo): boolean {
  if (!si.signedAttrs) return false;
  return verifyWithScheme(signerScheme(si), cert.publicKey, new Uint8Array(si.signedAttrs.encodedValue), si.signature.valueBlock.valueHexView);
}

/** signing-time signed attribute, if any. */
export function claimedSigningTime(si: pkijs.SignerInfo): Date | undefined {
  const v = attrValues(si.signedAttrs, OIDS.signingTime)?.[0] as asn1js.UTCTime | asn1js.GeneralizedTime | undefined;
  try {
    return v && typeof v.toDate === 'function' ? v.toDate() : undefined;
  } catch {
    return undefined;
  }
}
