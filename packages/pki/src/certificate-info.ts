import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OIDS, oidName } from './oids.js';
import { toDer } from './pem.js';
import { PkiClientError } from './clients/errors.js';
import { CertInfo } from './x509/certificate.js';

/** Decoded distinguished name: one entry per attribute, in order, plus shortcuts. */
export interface NameInfo {
  /** Every attribute in order, with the OID's short name when known. */
  attributes: { oid: string; name: string; value: string }[];
  commonName?: string;
  serialNumber?: string;
  organization?: string;
  organizationIdentifier?: string;
  country?: string;
  /** RFC 4514-style one-line form (most specific last, as openssl prints it). */
  text: string;
}

/** Friendly view of a certificate. */
export interface CertificateSummary {
  subject: NameInfo;
  issuer: NameInfo;
  /** Serial number, lower-case hex, no leading zero bytes. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** 'RSA' (rsaEncryption), 'RSA-PSS' (id-RSASSA-PSS key), 'EC'. */
  keyAlgorithm: 'RSA' | 'RSA-PSS' | 'EC' | string;
  /** RSA modulus bits or EC curve size. */
  keySize?: number;
  /** EC curve OID name (secp256r1 ...). */
  curve?: string;
  signatureAlgorithm: string;
  isCA: boolean;
  pathLength?: number;
  /** keyUsage bit names that are set (digitalSignature, nonRepudiation, keyCertSign, cRLSign ...). */
  keyUsage: string[];
  extKeyUsage: string[];
  ocspUrls: string[];
  caIssuersUrls: string[];
  crlUrls: string[];
  ocspNoCheck: boolean;
  subjectKeyIdHex?: string;
  authorityKeyIdHex?: string;
  sha256Hex: string;
}

const SHORT: Record<string, string> = {
  [OIDS.commonName]: 'CN', [OIDS.countryName]: 'C', [OIDS.organizationName]: 'O', [OIDS.organizationalUnitName]: 'OU',
  [OIDS.localityName]: 'L', [OIDS.stateOrProvinceName]: 'ST', [OIDS.serialNumber]: 'serialNumber',
  [OIDS.organizationIdentifier]: 'organizationIdentifier', [OIDS.givenName]: 'GN', [OIDS.surname]: 'SN',
  [OIDS.userId]: 'UID', [OIDS.emailAddress]: 'emailAddress', [OIDS.title]: 'title',
};

/** Decode a pkijs Name. */
export function nameInfo(rdns: pkijs.RelativeDistinguishedNames): NameInfo {
  const attributes = rdns.typesAndValues.map((tv) => {
    const v = tv.value as asn1js.AsnType & { valueBlock: { value?: unknown } };
    const value = typeof v.valueBlock?.value === 'string' ? v.valueBlock.value : String(v.valueBlock?.value ?? '');
    return { oid: tv.type, name: SHORT[tv.type] ?? oidName(tv.type), value };
  });
  const get = (oid: string) => attributes.find((a) => a.oid === oid)?.value;
  const info: NameInfo = { attributes, text: attributes.map((a) => `${a.name}=${a.value}`).join(', ') };
  const cn = get(OIDS.commonName); if (cn !== undefined) info.commonName = cn;
  const sn = get(OIDS.serialNumber); if (sn !== undefined) info.serialNumber = sn;
  const o = get(OIDS.organizationName); if (o !== undefined) info.organization = o;
  const oi = get(OIDS.organizationIdentifier); if (oi !== undefined) info.organizationIdentifier = oi;
  const c = get(OIDS.countryName); if (c !== undefined) info.country = c;
  return info;
}

/**
 * Parse a certificate (DER, PEM text or PEM bytes) into a PKI.js Certificate plus a friendly summary
 * (subject fields decoded incl. serialNumber / organizationIdentifier, serial hex, validity, key).
 * Throws PkiClientError CERT_PARSE on input that is not one DER certificate.
 */
export function describeCertificate(input: Uint8Array | string): { certificate: pkijs.Certificate; summary: CertificateSummary } {
  const der = toDer(input, 'CERTIFICATE');
  let certificate: pkijs.Certificate;
  try {
    const asn = asn1js.fromBER(der);
    if (asn.offset === -1 || asn.offset !== der.length) throw new PkiClientError('CERT_PARSE', 'certificate: not one valid DER object');
    certificate = new pkijs.Certificate({ schema: asn.result });
  } catch (e) {
    if (e instanceof PkiClientError) throw e;
    throw new PkiClientError('CERT_PARSE', `certificate: not an X.509 certificate (${(e as Error).message})`, { cause: e });
  }
  const spki = certificate.subjectPublicKeyInfo;
  const keyOid = spki.algorithm.algorithmId;
  let keyAlgorithm: string = oidName(keyOid);
  let keySize: number | undefined;
  let curve: string | undefined;
  if (keyOid === OIDS.rsaEncryption || keyOid === OIDS.rsassaPss) {
    keyAlgorithm = keyOid === OIDS.rsaEncryption ? 'RSA' : 'RSA-PSS';
    try {
      const rsa = pkijs.RSAPublicKey.fromBER(new Uint8Array(spki.subjectPublicKey.valueBlock.valueHexView));
      let mod = rsa.modulus.valueBlock.valueHexView;
      while (mod.length > 0 && mod[0] === 0) mod = mod.subarray(1);
      keySize = mod.length * 8 - Math.clz32(mod[0] ?? 0) + 24;
    } catch { /* keep undefined */ }
  } else if (keyOid === OIDS.ecPublicKey) {
    keyAlgorithm = 'EC';
    const p = spki.algorithm.algorithmParams as asn1js.ObjectIdentifier | undefined;
    const c = p?.valueBlock?.toString?.();
    if (c) { curve = oidName(c); keySize = c === OIDS.secp256r1 ? 256 : c === OIDS.secp384r1 ? 384 : c === OIDS.secp521r1 ? 521 : undefined; }
  }
  // Extensions are read through the one certificate model (CertInfo), so summaries and validation agree.
  const info = new CertInfo(der, { lenient: true });
  const bc = info.basicConstraints;
  const summary: CertificateSummary = {
    subject: nameInfo(certificate.subject),
    issuer: nameInfo(certificate.issuer),
    serialHex: info.serialHex,
    notBefore: certificate.notBefore.value,
    notAfter: certificate.notAfter.value,
    keyAlgorithm,
    signatureAlgorithm: oidName(certificate.signatureAlgorithm.algorithmId),
    isCA: bc?.ca === true,
    keyUsage: [...(info.keyUsage ?? [])],
    extKeyUsage: info.extKeyUsages.map(oidName),
    ocspUrls: info.ocspUrls,
    caIssuersUrls: info.caIssuersUrls,
    crlUrls: info.crlUrls,
    ocspNoCheck: info.hasOcspNoCheck,
    sha256Hex: info.sha256,
  };
  if (keySize !== undefined) summary.keySize = keySize;
  if (curve !== undefined) summary.curve = curve;
  if (bc?.pathLen !== undefined) summary.pathLength = bc.pathLen;
  if (info.ski) summary.subjectKeyIdHex = info.ski;
  if (info.aki) summary.authorityKeyIdHex = info.aki;
  return { certificate, summary };
}
