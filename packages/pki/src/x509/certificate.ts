import { X509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OIDS } from '../oids.js';
import { PkiClientError } from '../clients/errors.js';
import { bytesEqual, ownBuffer, toHex } from '../util/bytes.js';
import { resolveScheme, verifyWithScheme } from '../algorithms/scheme.js';
import { nameKey, nameToString } from './name.js';

/** Options of {@link CertInfo}'s constructor. */
export interface CertInfoOptions {
  /**
   * Lenient parsing (validation of untrusted input): only the ASN.1 structure must parse; a certificate
   * OpenSSL would refuse (odd key parameters, ...) is still modelled so the verifier can say why it fails.
   * Default false: the certificate and its public key must also load in Node (signing side).
   */
  lenient?: boolean;
}

const KU_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

/**
 * The one certificate model of kyso (signer, verifier, test PKI): a PKI.js Certificate plus the raw DER of
 * the parts signatures and OCSP/CRL matching depend on (issuer / subject Name, serial, SubjectPublicKeyInfo),
 * readable names, key identifiers and the decoded extensions validation needs.
 */
export class CertInfo {
  readonly der: Uint8Array;
  /** PKI.js view of the certificate. */
  readonly cert: pkijs.Certificate;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** Serial number INTEGER content bytes as encoded. */
  readonly serialDer: Uint8Array;
  readonly spkiDer: Uint8Array;
  /** subjectPublicKey BIT STRING content without the unused-bits octet. */
  readonly publicKeyBits: Uint8Array;
  /** Subject as an RFC 4514-like string (most specific first). */
  readonly subject: string;
  readonly issuer: string;
  /** Normalised names for chaining (see {@link nameKey}). */
  readonly subjectKey: string;
  readonly issuerKey: string;
  /** Serial as lower-case hex without leading zero octets. */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** subjectKeyIdentifier / authorityKeyIdentifier keyIdentifier (hex). */
  readonly ski?: string;
  readonly aki?: string;
  /** SHA-256 of the DER (hex), a stable id. */
  readonly sha256: string;
  readonly #ext = new Map<string, pkijs.Extension>();

  constructor(der: Uint8Array, opts: CertInfoOptions = {}) {
    this.der = der;
    try {
      const asn = asn1js.fromBER(ownBuffer(der));
      if (asn.offset === -1) throw new PkiClientError('CERT_PARSE', `certificate: not valid DER (${asn.result.error || 'decoding failed'})`);
      if (!opts.lenient && asn.offset !== der.length) throw new PkiClientError('CERT_PARSE', 'certificate: trailing bytes after the DER');
      const root = asn.result as asn1js.Sequence;
      this.cert = new pkijs.Certificate({ schema: root });
      const tbs = root.valueBlock.value[0] as asn1js.Sequence;
      const f = tbs.valueBlock.value;
      const o = f[0]!.idBlock.tagClass === 3 && f[0]!.idBlock.tagNumber === 0 ? 1 : 0;
      this.serialDer = new Uint8Array((f[o] as asn1js.Integer).valueBlock.valueHexView);
      this.issuerDer = new Uint8Array(f[o + 2]!.valueBeforeDecodeView);
      this.subjectDer = new Uint8Array(f[o + 4]!.valueBeforeDecodeView);
      const spki = f[o + 5] as asn1js.Sequence;
      this.spkiDer = new Uint8Array(spki.valueBeforeDecodeView);
      this.publicKeyBits = new Uint8Array((spki.valueBlock.value[1] as asn1js.BitString).valueBlock.valueHexView);
      this.subject = nameToString(this.cert.subject);
      this.issuer = nameToString(this.cert.issuer);
      this.subjectKey = nameKey(this.cert.subject);
      this.issuerKey = nameKey(this.cert.issuer);
      this.serialHex = toHex(this.cert.serialNumber.valueBlock.valueHexView).replace(/^(00)+(?=.)/, '');
      this.notBefore = this.cert.notBefore.value;
      this.notAfter = this.cert.notAfter.value;
      if (!(this.notBefore instanceof Date) || !(this.notAfter instanceof Date)) throw new Error('validity is not a time');
      for (const e of this.cert.extensions ?? []) this.#ext.set(e.extnID, e);
      // Key identifiers of the wrong type (hostile or broken certificates) are treated as absent.
      const ski = this.#ext.get(OIDS.subjectKeyIdentifier)?.parsedValue as asn1js.OctetString | undefined;
      if (ski instanceof asn1js.OctetString) this.ski = toHex(ski.valueBlock.valueHexView);
      const aki = this.#ext.get(OIDS.authorityKeyIdentifier)?.parsedValue as pkijs.AuthorityKeyIdentifier | undefined;
      const akid = aki instanceof pkijs.AuthorityKeyIdentifier ? aki.keyIdentifier : undefined;
      if (akid instanceof asn1js.OctetString) this.aki = toHex(akid.valueBlock.valueHexView);
    } catch (e) {
      if (e instanceof PkiClientError) throw e;
      throw new PkiClientError('CERT_PARSE', `certificate could not be parsed: ${(e as Error).message}`, { cause: e });
    }
    this.sha256 = createHash('sha256').update(der).digest('hex');
    if (!opts.lenient) {
      // A broken certificate or SubjectPublicKeyInfo is a parse error now, not a crash when signing later.
      try { void this.x509; void this.publicKey; } catch (e) {
        throw new PkiClientError('CERT_PARSE', `certificate could not be parsed: ${(e as Error).message}`, { cause: e });
      }
    }
  }

  #x509: X509Certificate | undefined;
  /** Node's view of the certificate (created on first use). */
  get x509(): X509Certificate { return (this.#x509 ??= new X509Certificate(this.der)); }
  /** PKI.js view (same object as {@link cert}). */
  get pkijs(): pkijs.Certificate { return this.cert; }

  #key: KeyObject | undefined;
  /** The subject public key as a Node KeyObject (created once; throws on an unusable key). */
  get publicKey(): KeyObject { return (this.#key ??= createPublicKey({ key: Buffer.from(this.spkiDer), format: 'der', type: 'spki' })); }
  /** OID of the subject public key algorithm. */
  get publicKeyAlgorithm(): string { return this.cert.subjectPublicKeyInfo.algorithm.algorithmId; }

  /** The extension with this OID. */
  ext(oid: string): pkijs.Extension | undefined { return this.#ext.get(oid); }
  /** All extensions. */
  get extensions(): pkijs.Extension[] { return [...this.#ext.values()]; }
  /** Issuer name equals subject name. */
  get isSelfIssued(): boolean { return this.subjectKey === this.issuerKey; }

  /** basicConstraints: cA flag and pathLenConstraint, or undefined when absent. */
  get basicConstraints(): { ca: boolean; pathLen?: number } | undefined {
    const e = this.#ext.get(OIDS.basicConstraints);
    if (!e) return undefined;
    const bc = e.parsedValue as pkijs.BasicConstraints | undefined;
    if (!(bc instanceof pkijs.BasicConstraints)) return { ca: false }; // unreadable: not a CA
    const pl = bc.pathLenConstraint;
    const r: { ca: boolean; pathLen?: number } = { ca: !!bc.cA };
    if (typeof pl === 'number') r.pathLen = pl;
    else if (pl && typeof (pl as asn1js.Integer).valueBlock?.valueDec === 'number') r.pathLen = (pl as asn1js.Integer).valueBlock.valueDec;
    return r;
  }

  /** keyUsage bits as names, or undefined when the extension is absent. */
  get keyUsage(): Set<string> | undefined {
    const e = this.#ext.get(OIDS.keyUsage);
    if (!e) return undefined;
    const ku = e.parsedValue as asn1js.BitString | undefined;
    // Present but unreadable: no usage at all (restrictive), never "unrestricted".
    if (!(ku instanceof asn1js.BitString)) return new Set();
    const bytes = ku.valueBlock.valueHexView;
    const out = new Set<string>();
    KU_BITS.forEach((n, i) => { if ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) out.add(n); });
    return out;
  }

  /** Extended key usage OIDs, or undefined when the extension is absent. */
  get extKeyUsage(): string[] | undefined {
    const e = this.#ext.get(OIDS.extKeyUsage);
    if (!e) return undefined;
    const eku = e.parsedValue as pkijs.ExtKeyUsage | undefined;
    return eku instanceof pkijs.ExtKeyUsage && Array.isArray(eku.keyPurposes) ? eku.keyPurposes : [];
  }
  /** Extended key usage OIDs (empty when the extension is absent). */
  get extKeyUsages(): string[] { return this.extKeyUsage ?? []; }

  /** URLs from Authority Information Access for one access method. */
  aiaUrls(method: string): string[] {
    const aia = this.#ext.get(OIDS.authorityInfoAccess)?.parsedValue as pkijs.InfoAccess | undefined;
    if (!(aia instanceof pkijs.InfoAccess)) return [];
    return aia.accessDescriptions.filter((d) => d.accessMethod === method && d.accessLocation.type === 6).map((d) => String(d.accessLocation.value));
  }
  /** OCSP responder URLs from Authority Information Access. */
  get ocspUrls(): string[] { return this.aiaUrls(OIDS.ocspAccess); }
  /** CA issuer certificate URLs from Authority Information Access. */
  get caIssuersUrls(): string[] { return this.aiaUrls(OIDS.caIssuersAccess); }
  /** URLs of the CRL distribution points (full names only). */
  get crlUrls(): string[] {
    const dps = this.#ext.get(OIDS.cRLDistributionPoints)?.parsedValue as pkijs.CRLDistributionPoints | undefined;
    if (!(dps instanceof pkijs.CRLDistributionPoints)) return [];
    const out: string[] = [];
    for (const dp of dps.distributionPoints) {
      const names = dp.distributionPoint;
      if (Array.isArray(names)) for (const n of names) if (n.type === 6) out.push(String(n.value));
    }
    return out;
  }

  /** True when the id-pkix-ocsp-nocheck extension is present (OCSP responder certificates). */
  get hasOcspNoCheck(): boolean { return this.#ext.has(OIDS.ocspNoCheck); }
  /** True for a self-issued certificate whose signature verifies with its own key. */
  get isSelfSigned(): boolean { return this.isSelfIssued && verifyCertificateSignature(this, this); }
  /** True when `issuer` names this certificate's issuer and its key verifies this certificate's signature. */
  isIssuedBy(issuer: CertInfo): boolean {
    if (!bytesEqual(this.issuerDer, issuer.subjectDer) && this.issuerKey !== issuer.subjectKey) return false;
    return verifyCertificateSignature(this, issuer);
  }
  /** SHA-1 of the certificate (hex). */
  get sha1Hex(): string { return createHash('sha1').update(this.der).digest('hex'); }
  /** issuerAndSerialNumber identity string. */
  get issuerSerialKey(): string { return `${this.issuerKey}#${this.serialHex}`; }
}

const sigCache = new Map<string, boolean>();

/**
 * Whether `cert`'s signature verifies with `issuer`'s key. RFC 5280 §4.1.1.2: the outer signatureAlgorithm must
 * equal the signed tbsCertificate.signature, and the signature BIT STRING has no unused bits. Cached by pair.
 */
export function verifyCertificateSignature(cert: CertInfo, issuer: CertInfo): boolean {
  const k = `${cert.sha256}/${issuer.sha256}`;
  const hit = sigCache.get(k);
  if (hit !== undefined) return hit;
  let ok = false;
  try {
    const outer = Buffer.from(cert.cert.signatureAlgorithm.toSchema().toBER(false));
    const inner = Buffer.from(cert.cert.signature.toSchema().toBER(false));
    ok = outer.equals(inner) && cert.cert.signatureValue.valueBlock.unusedBits === 0 &&
      verifyWithScheme(resolveScheme(cert.cert.signatureAlgorithm), issuer.publicKey, cert.cert.tbsView, cert.cert.signatureValue.valueBlock.valueHexView);
  } catch {
    ok = false;
  }
  if (sigCache.size > 5000) sigCache.clear();
  sigCache.set(k, ok);
  return ok;
}

const lenientCache = new Map<string, CertInfo | null>();

/** Parses an untrusted certificate leniently (memoised by content, bounded); undefined on malformed DER. */
export function tryCert(der: Uint8Array): CertInfo | undefined {
  const key = createHash('sha256').update(der).digest('base64');
  const hit = lenientCache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let c: CertInfo | null;
  try { c = new CertInfo(der, { lenient: true }); } catch { c = null; }
  if (lenientCache.size >= 2000) lenientCache.delete(lenientCache.keys().next().value!);
  lenientCache.set(key, c);
  return c ?? undefined;
}
