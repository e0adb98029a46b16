import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { PkiClientError } from './errors.js';

/** Convert PEM text (one or more blocks of the given label) to DER buffers. */
export function pemToDerList(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(re)) out.push(new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  return out;
}

/** DER to PEM. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** Parse DER with asn1js, requiring that the whole input is consumed. */
export function parseDer(der: Uint8Array, what: string): asn1js.AsnType {
  const res = asn1js.fromBER(der);
  if (res.offset === -1 || res.offset !== der.length) throw new PkiClientError('CERT_PARSE', `${what}: not valid DER (${res.result.error || 'trailing bytes'})`);
  return res.result;
}

/** Byte equality (not constant-time; for public data). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_CRLDP = '2.5.29.31';
const OID_EKU = '2.5.29.37';
const OID_OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_AD_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';

/**
 * A parsed X.509 certificate with the raw DER of the parts that signatures and OCSP/CRL matching
 * depend on (issuer / subject Name, serial, SubjectPublicKeyInfo) and the URLs of its extensions.
 */
export class CertInfo {
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
  #pkijs: pkijs.Certificate | undefined;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** Serial number magnitude bytes as encoded (INTEGER content). */
  readonly serialDer: Uint8Array;
  readonly spkiDer: Uint8Array;
  /** subjectPublicKey BIT STRING content without the unused-bits octet. */
  readonly publicKeyBits: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;

  constructor(der: Uint8Array) {
    this.der = der;
    try {
      this.x509 = new X509Certificate(der);
      void this.x509.publicKey; // decode the key now: a broken SubjectPublicKeyInfo is a parse error, not a later crash
      const root = parseDer(der, 'certificate') as asn1js.Sequence;
      const tbs = root.valueBlock.value[0] as asn1js.Sequence;
      const f = tbs.valueBlock.value;
      const o = f[0]!.idBlock.tagClass === 3 && f[0]!.idBlock.tagNumber === 0 ? 1 : 0;
      this.serialDer = (f[o] as asn1js.Integer).valueBlock.valueHexView.slice();
      this.issuerDer = f[o + 2]!.valueBeforeDecodeView.slice();
      this.subjectDer = f[o + 4]!.valueBeforeDecodeView.slice();
      const spki = f[o + 5] as asn1js.Sequence;
      this.spkiDer = spki.valueBeforeDecodeView.slice();
      this.publicKeyBits = (spki.valueBlock.value[1] as asn1js.BitString).valueBlock.valueHexView.slice();
      this.notBefore = new Date(this.x509.validFrom);
      this.notAfter = new Date(this.x509.validTo);
    } catch (e) {
      if (e instanceof PkiClientError) throw e;
      throw new PkiClientError('CERT_PARSE', `certificate could not be parsed: ${(e as Error).message}`, { cause: e });
    }
  }

  #publicKey: KeyObject | undefined;
  /** The subject public key as a Node KeyObject (created once). */
  get publicKey(): KeyObject { return (this.#publicKey ??= this.x509.publicKey); }

  /** PKI.js view of the certificate (parsed on first use: it is the slow part). */
  get pkijs(): pkijs.Certificate {
    if (!this.#pkijs) {
      try { this.#pkijs = pkijs.Certificate.fromBER(new Uint8Array(this.der)); } catch (e) {
        throw new PkiClientError('CERT_PARSE', `certificate could not be parsed: ${(e as Error).message}`, { cause: e });
      }
    }
    return this.#pkijs;
  }

  /** Serial as lower-case hex without leading zero octets. */
  get serialHex(): string {
    let i = 0;
    while (i < this.serialDer.length - 1 && this.serialDer[i] === 0) i++;
    return Buffer.from(this.serialDer.subarray(i)).toString('hex');
  }

  /** Subject as a readable string. */
  get subject(): string { return this.x509.subject.replace(/\n/g, ', '); }

  private ext(oidStr: string): pkijs.Extension | undefined {
    return this.pkijs.extensions?.find((e) => e.extnID === oidStr);
  }

  private accessUrls(method: string): string[] {
    const e = this.ext(OID_AIA);
    if (!e?.parsedValue) return [];
    const aia = e.parsedValue as pkijs.InfoAccess;
    return aia.accessDescriptions
      .filter((d) => d.accessMethod === method && d.accessLocation.type === 6)
      .map((d) => String(d.accessLocation.value));
  }

  /** OCSP responder URLs from Authority Information Access. */
  get ocspUrls(): string[] { return this.accessUrls(OID_AD_OCSP); }
  /** CA issuer certificate URLs from Authority Information Access. */
  get caIssuersUrls(): string[] { return this.accessUrls(OID_AD_CA_ISSUERS); }

  /** HTTP(S) URLs from CRL Distribution Points (full names only). */
  get crlUrls(): string[] {
    const e = this.ext(OID_CRLDP);
    if (!e?.parsedValue) return [];
    const dps = e.parsedValue as pkijs.CRLDistributionPoints;
    const out: string[] = [];
    for (const dp of dps.distributionPoints) {
      const names = dp.distributionPoint;
      if (Array.isArray(names)) for (const n of names) if (n.type === 6) out.push(String(n.value));
    }
    return out;
  }

  /** Extended key usage OIDs (empty when the extension is absent). */
  get extKeyUsages(): string[] {
    const e = this.ext(OID_EKU);
    return e?.parsedValue ? (e.parsedValue as pkijs.ExtKeyUsage).keyPurposes : [];
  }

  /** True when the id-pkix-ocsp-nocheck extension is present (OCSP responder certs). */
  get hasOcspNoCheck(): boolean { return !!this.ext(OID_OCSP_NOCHECK); }

  /** True for a self-issued certificate whose signature verifies with its own key. */
  get isSelfSigned(): boolean {
    return bytesEqual(this.issuerDer, this.subjectDer) && this.x509.verify(this.x509.publicKey);
  }

  /** True when `issuer` names this certificate's issuer and its key verifies this certificate's signature. */
  isIssuedBy(issuer: CertInfo): boolean {
    if (!bytesEqual(this.issuerDer, issuer.subjectDer)) return false;
    try { return this.x509.verify(issuer.x509.publicKey); } catch { return false; }
  }

  /** SHA-1 of the certificate (hex), a stable id. */
  get sha1Hex(): string { return createHash('sha1').update(this.der).digest('hex'); }
}

/** Parse a certificate (DER or PEM). */
export function parseCertificate(input: Uint8Array | string): CertInfo {
  if (typeof input === 'string') {
    const ders = pemToDerList(input);
    if (ders.length === 0) throw new PkiClientError('CERT_PARSE', 'no PEM CERTIFICATE block found');
    return new CertInfo(ders[0]!);
  }
  if (input.length > 0 && input[0] === 0x2d) return parseCertificate(Buffer.from(input).toString('latin1'));
  return new CertInfo(input);
}

const certCache = new Map<string, CertInfo>();
/**
 * {@link CertInfo} of a DER certificate, memoised (bounded, least recently used evicted): signing
 * and validation parse the same few certificates over and over.
 */
export function certInfoOf(der: Uint8Array): CertInfo {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const hit = certCache.get(key);
  if (hit) { certCache.delete(key); certCache.set(key, hit); return hit; }
  const c = new CertInfo(der.slice());
  certCache.set(key, c);
  if (certCache.size > 256) certCache.delete(certCache.keys().next().value as string);
  return c;
}
