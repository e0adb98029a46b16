import { createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../util/oids.js';
import { hash, ownBuffer, pemBlocks, toHex } from '../util/bytes.js';

/** Short names of common X.500 attribute types. */
const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.97': 'organizationIdentifier', '2.5.4.4': 'SN', '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'E', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.12': 'title', '2.5.4.9': 'street', '2.5.4.17': 'postalCode',
};

/** RFC 4514-like string of a Name. */
export function nameToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTR_NAMES[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value ?? '').replace(/([,+"\\<>;])/g, '\\$1')}`)
    .reverse()
    .join(', ');
}

/** Canonical key for name comparison (RFC 5280 7.1, simplified: case-fold and collapse spaces). */
export function nameKey(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${tv.type}=${String(tv.value.valueBlock.value ?? '').trim().replace(/\s+/g, ' ').toLowerCase()}`)
    .join('|');
}

/** Reads the attribute values of a Name by short name. */
export function nameAttr(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  const tv = name.typesAndValues.find((t) => t.type === oid);
  return tv ? String(tv.value.valueBlock.value ?? '') : undefined;
}

/** A parsed certificate with the facts validation needs. */
export class CertInfo {
  readonly der: Uint8Array;
  readonly cert: pkijs.Certificate;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectKey: string;
  readonly issuerKey: string;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ski?: string;
  readonly aki?: string;
  readonly sha256: string;
  private readonly extMap = new Map<string, pkijs.Extension>();

  constructor(der: Uint8Array) {
    this.der = der;
    const asn = asn1js.fromBER(ownBuffer(der));
    if (asn.offset === -1) throw new Error('certificate is not valid DER');
    this.cert = new pkijs.Certificate({ schema: asn.result });
    this.subject = nameToString(this.cert.subject);
    this.issuer = nameToString(this.cert.issuer);
    this.subjectKey = nameKey(this.cert.subject);
    this.issuerKey = nameKey(this.cert.issuer);
    this.serialHex = toHex(this.cert.serialNumber.valueBlock.valueHexView).replace(/^(00)+(?=.)/, '');
    this.notBefore = this.cert.notBefore.value;
    this.notAfter = this.cert.notAfter.value;
    for (const e of this.cert.extensions ?? []) this.extMap.set(e.extnID, e);
    const ski = this.extMap.get(OID.extSubjectKeyId)?.parsedValue as asn1js.OctetString | undefined;
    if (ski?.valueBlock) this.ski = toHex(ski.valueBlock.valueHexView);
    const aki = this.extMap.get(OID.extAuthorityKeyId)?.parsedValue as pkijs.AuthorityKeyIdentifier | undefined;
    if (aki?.keyIdentifier) this.aki = toHex(aki.keyIdentifier.valueBlock.valueHexView);
    this.sha256 = toHex(hash('SHA-256', der));
  }

  ext(oid: string): pkijs.Extension | undefined {
    return this.extMap.get(oid);
  }
  get extensions(): pkijs.Extension[] {
    return [...this.extMap.values()];
  }
  get isSelfIssued(): boolean {
    return this.subjectKey === this.issuerKey;
  }
  /** basicConstraints: cA flag and pathLenConstraint. */
  get basicConstraints(): { ca: boolean; pathLen?: number } | undefined {
    const bc = this.extMap.get(OID.extBasicConstraints)?.parsedValue as pkijs.BasicConstraints | undefined;
    if (!bc) return undefined;
    const pl = bc.pathLenConstraint;
    const r: { ca: boolean; pathLen?: number } = { ca: !!bc.cA };
    if (typeof pl === 'number') r.pathLen = pl;
    else if (pl && typeof (pl as asn1js.Integer).valueBlock?.valueDec === 'number') r.pathLen = (pl as asn1js.Integer).valueBlock.valueDec;
    return r;
  }
  /** keyUsage bits as names, or undefined when the extension is absent. */
  get keyUsage(): Set<string> | undefined {
    const ku = this.extMap.get(OID.extKeyUsage)?.parsedValue as asn1js.BitString | undefined;
    if (!ku) return undefined;
    const names = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
    const bytes = ku.valueBlock.valueHexView;
    const out = new Set<string>();
    names.forEach((n, i) => {
      const byte = bytes[i >> 3] ?? 0;
      if (byte & (0x80 >> (i & 7))) out.add(n);
    });
    return out;
  }
  /** Extended key usage OIDs, or undefined when absent. */
  get extKeyUsage(): string[] | undefined {
    const eku = this.extMap.get(OID.extExtKeyUsage)?.parsedValue as pkijs.ExtKeyUsage | undefined;
    return eku ? eku.keyPurposes : undefined;
  }
  /** URLs from AIA for a given access method. */
  aiaUrls(method: string): string[] {
    const aia = this.extMap.get(OID.extAuthorityInfoAccess)?.parsedValue as pkijs.InfoAccess | undefined;
    if (!aia) return [];
    return aia.accessDescriptions
      .filter((d) => d.accessMethod === method && d.accessLocation.type === 6)
      .map((d) => String(d.accessLocation.value));
  }
  /** HTTP(S) URLs of the CRL distribution points. */
  crlUrls(): string[] {
    const dp = this.extMap.get(OID.extCrlDistributionPoints)?.parsedValue as pkijs.CRLDistributionPoints | undefined;
    if (!dp) return [];
    const out: string[] = [];
    for (const p of dp.distributionPoints) {
      const names = p.distributionPoint;
      if (Array.isArray(names)) for (const n of names) if (n.type === 6) out.push(String(n.value));
    }
    return out;
  }
  private spki?: Uint8Array;
  private key?: KeyObject;
  /** The public key as a node KeyObject (cached). */
  get publicKey(): KeyObject {
    this.key ??= createPublicKey({ key: Buffer.from(this.spkiDer), format: 'der', type: 'spki' });
    return this.key;
  }
  get publicKeyAlgorithm(): string {
    return this.cert.subjectPublicKeyInfo.algorithm.algorithmId;
  }
  /** DER of SubjectPublicKeyInfo. */
  get spkiDer(): Uint8Array {
    this.spki ??= new Uint8Array(this.cert.subjectPublicKeyInfo.toSchema().toBER(false));
    return this.spki;
  }
  /** The issuerAndSerialNumber identity string. */
  get issuerSerialKey(): string {
    return `${this.issuerKey}#${this.serialHex}`;
  }
}

const certCache = new Map<string, CertInfo | null>();

/** Parses a certificate (memoised by content, bounded) or returns undefined on malformed DER. */
export function tryCert(der: Uint8Array): CertInfo | undefined {
  const key = toHex(hash('SHA-256', der));
  const hit = certCache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let c: CertInfo | null;
  try {
    c = new CertInfo(der);
  } catch {
    c = null;
  }
  if (certCache.size >= 2000) certCache.delete(certCache.keys().next().value!);
  certCache.set(key, c);
  return c ?? undefined;
}

const pemCache = new Map<string, Uint8Array[]>();

/** DER certificates from PEM text (one or many), a DER buffer, or PEM bytes. */
export function parseCertificates(input: Uint8Array | string): Uint8Array[] {
  if (typeof input === 'string' && input.length < 1_000_000) {
    const hit = pemCache.get(input);
    if (hit) return hit;
    const r = parseCertificatesUncached(input);
    if (pemCache.size >= 200) pemCache.delete(pemCache.keys().next().value!);
    pemCache.set(input, r);
    return r;
  }
  return parseCertificatesUncached(input);
}

function parseCertificatesUncached(input: Uint8Array | string): Uint8Array[] {
  const text = typeof input === 'string' ? input : input.length > 0 && input[0] === 0x30 ? undefined : Buffer.from(input).toString('latin1');
  if (text !== undefined) {
    const blocks = pemBlocks(text);
    if (blocks.length === 0) throw new Error('no PEM CERTIFICATE block found');
    for (const b of blocks) if (!tryCert(b)) throw new Error('a PEM CERTIFICATE block is not a valid certificate');
    return blocks;
  }
  const der = input as Uint8Array;
  if (!tryCert(der)) throw new Error('not a valid DER certificate');
  return [der];
}
