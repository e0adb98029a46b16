import * as asn1js from 'asn1js';
import { PkiClientError } from './errors.js';
import { CertInfo, tryCert } from '../x509/certificate.js';

export { CertInfo, tryCert, verifyCertificateSignature, type CertInfoOptions } from '../x509/certificate.js';
export { bytesEqual } from '../util/bytes.js';

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

const pemCache = new Map<string, Uint8Array[]>();

/**
 * DER certificates from PEM text (one or many), a DER buffer, or PEM bytes; every one must parse (leniently).
 * Throws PkiClientError CERT_PARSE otherwise.
 */
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
    const blocks = pemToDerList(text);
    if (blocks.length === 0) throw new PkiClientError('CERT_PARSE', 'no PEM CERTIFICATE block found');
    for (const b of blocks) if (!tryCert(b)) throw new PkiClientError('CERT_PARSE', 'a PEM CERTIFICATE block is not a valid certificate');
    return blocks;
  }
  const der = input as Uint8Array;
  if (!tryCert(der)) throw new PkiClientError('CERT_PARSE', 'not a valid DER certificate');
  return [der];
}
