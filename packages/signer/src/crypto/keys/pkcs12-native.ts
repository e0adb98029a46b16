/**
 * PKCS#12 opened with node:crypto alone, for the common shape of today's files (OpenSSL 3, Windows, Java keytool
 * with modern settings): DER throughout, a password MAC (HMAC over SHA-1/SHA-2 with the RFC 7292 appendix B key),
 * the certificate safe in clear or encrypted with PBES2 (PBKDF2 + AES-CBC) or the legacy PKCS#12 PBE schemes, and
 * a shrouded key bag that OpenSSL decrypts itself. No ASN.1 object model is built: the structure is walked with
 * the strict TLV reader of @kyso/pki (definite lengths, children exactly filling their parent).
 *
 * A fast path only: it answers only when everything checks out (MAC verified with this password, every safe
 * decrypted, a key and a certificate found); in every other case it returns undefined and the caller opens the
 * file with PKI.js, which decides (BAD_PASSWORD, PKCS12_UNSUPPORTED, ...). So no file is accepted here that
 * the full path would refuse, and no error message differs.
 */
import { createDecipheriv, createPrivateKey, pbkdf2Sync, type KeyObject } from 'node:crypto';
import { children, oid, readTlv, type Tlv } from '@kyso/pki';
import { pkcs12MacKeyMatches } from './pkcs12-mac.js';
import { PKCS12_PBE, pkcs12PbeDecrypt } from './pkcs12-legacy.js';

const O = (dotted: string): string => Buffer.from(oid(dotted)).toString('latin1');
const OID = {
  data: O('1.2.840.113549.1.7.1'),
  encryptedData: O('1.2.840.113549.1.7.6'),
  pbes2: O('1.2.840.113549.1.5.13'),
  pbkdf2: O('1.2.840.113549.1.5.12'),
  keyBag: O('1.2.840.113549.1.12.10.1.1'),
  shroudedKeyBag: O('1.2.840.113549.1.12.10.1.2'),
  certBag: O('1.2.840.113549.1.12.10.1.3'),
  x509Certificate: O('1.2.840.113549.1.9.22.1'),
};
const PRF: Record<string, string> = {
  [O('1.2.840.113549.2.7')]: 'sha1', [O('1.2.840.113549.2.8')]: 'sha224', [O('1.2.840.113549.2.9')]: 'sha256',
  [O('1.2.840.113549.2.10')]: 'sha384', [O('1.2.840.113549.2.11')]: 'sha512',
};
const AES: Record<string, { cipher: string; keyLength: number }> = {
  [O('2.16.840.1.101.3.4.1.2')]: { cipher: 'aes-128-cbc', keyLength: 16 },
  [O('2.16.840.1.101.3.4.1.22')]: { cipher: 'aes-192-cbc', keyLength: 24 },
  [O('2.16.840.1.101.3.4.1.42')]: { cipher: 'aes-256-cbc', keyLength: 32 },
};
const LEGACY = new Map(Object.values(PKCS12_PBE).map((dotted) => [O(dotted), dotted]));
const MAX_ITERATIONS = 10_000_000;

/** Thrown inside this module when the file leaves the fast path's shape; never escapes it. */
class NotHere extends Error {}

/** What {@link openPkcs12Natively} found. */
export interface NativePkcs12 {
  key: KeyObject;
  certificates: Uint8Array[];
}

/**
 * The key and certificates of a PKCS#12 file, or undefined when this fast path cannot vouch for the outcome
 * (then open it with PKI.js). `password` is the password's UTF-8 bytes.
 */
export function openPkcs12Natively(data: Uint8Array, password: Uint8Array): NativePkcs12 | undefined {
  try {
    return open(data, password);
  } catch {
    return undefined;
  }
}

function open(buf: Uint8Array, password: Uint8Array): NativePkcs12 | undefined {
  const pfx = need(readTlv(buf, 0), 0x30);
  if (pfx.end !== buf.length) return undefined;
  const [version, authSafe, macData, ...rest] = kids(buf, pfx);
  if (!version || !authSafe || !macData || rest.length || !isSmallInt(buf, version, 3)) return undefined;
  // authSafe: ContentInfo { data, [0] EXPLICIT OCTET STRING }
  const [ct, explicit] = kids(buf, need(authSafe, 0x30));
  if (!ct || !explicit || oidOf(buf, ct) !== OID.data) return undefined;
  const [octets] = kids(buf, need(explicit, 0xa0));
  const safeDer = value(buf, need(octets, 0x04));
  // MacData { DigestInfo { AlgorithmIdentifier, digest }, macSalt, iterations DEFAULT 1 }
  const [digestInfo, macSalt, iterTlv, ...more] = kids(buf, need(macData, 0x30));
  if (!digestInfo || !macSalt || more.length) return undefined;
  const [macAlg, macDigest] = kids(buf, need(digestInfo, 0x30));
  const [macAlgOid] = kids(buf, need(macAlg, 0x30));
  const iterations = iterTlv ? smallInt(buf, need(iterTlv, 0x02)) : 1;
  if (!pkcs12MacKeyMatches(dotted(buf, need(macAlgOid, 0x06)), password, value(buf, need(macSalt, 0x04)), iterations, safeDer, value(buf, need(macDigest, 0x04)))) return undefined;

  // AuthenticatedSafe: SEQUENCE OF ContentInfo
  const safeRoot = need(readTlv(safeDer, 0), 0x30);
  if (safeRoot.end !== safeDer.length) return undefined;
  let key: KeyObject | undefined;
  const certificates: Uint8Array[] = [];
  for (const ci of kids(safeDer, safeRoot)) {
    const [type, content, ...x] = kids(safeDer, need(ci, 0x30));
    if (!type || !content || x.length) return undefined;
    const [inner] = kids(safeDer, need(content, 0xa0));
    let contents: Uint8Array;
    const t = oidOf(safeDer, type);
    if (t === OID.data) contents = value(safeDer, need(inner, 0x04));
    else if (t === OID.encryptedData) contents = decryptSafe(safeDer, need(inner, 0x30), password);
    else return undefined;
    const root = need(readTlv(contents, 0), 0x30);
    if (root.end !== contents.length) return undefined;
    for (const bag of kids(contents, root)) {
      const [bagId, bagValue] = kids(contents, need(bag, 0x30));
      if (!bagId || !bagValue) return undefined;
      const [v] = kids(contents, need(bagValue, 0xa0));
      const id = oidOf(contents, bagId);
      if (id === OID.shroudedKeyBag) {
        // OpenSSL decrypts EncryptedPrivateKeyInfo itself; a failure is left to the full path (it says why)
        key ??= createPrivateKey({ key: Buffer.from(whole(contents, need(v, 0x30))), format: 'der', type: 'pkcs8', passphrase: Buffer.from(password) });
      } else if (id === OID.keyBag) {
        key ??= createPrivateKey({ key: Buffer.from(whole(contents, need(v, 0x30))), format: 'der', type: 'pkcs8' });
      } else if (id === OID.certBag) {
        const [certType, certValue] = kids(contents, need(v, 0x30));
        if (!certType || !certValue) return undefined;
        if (oidOf(contents, certType) !== OID.x509Certificate) continue; // SDSI certificates: not a signer's
        const [certOctets] = kids(contents, need(certValue, 0xa0));
        certificates.push(value(contents, need(certOctets, 0x04)).slice());
      }
    }
  }
  if (!key || certificates.length === 0) return undefined;
  return { key, certificates };
}

/** EncryptedData { version, EncryptedContentInfo { contentType, algorithm, [0] IMPLICIT encryptedContent } }. */
function decryptSafe(buf: Uint8Array, encryptedData: Tlv, password: Uint8Array): Uint8Array {
  const [, eci] = kids(buf, encryptedData);
  const [, alg, enc] = kids(buf, need(eci, 0x30));
  const [algOid, params] = kids(buf, need(alg, 0x30));
  const ciphertext = value(buf, need(enc, 0x80));
  const a = oidOf(buf, need(algOid, 0x06));
  if (a === OID.pbes2) {
    const [kdf, scheme] = kids(buf, need(params, 0x30));
    const [kdfOid, kdfParams] = kids(buf, need(kdf, 0x30));
    if (oidOf(buf, need(kdfOid, 0x06)) !== OID.pbkdf2) throw new NotHere();
    const [salt, iter, ...opt] = kids(buf, need(kdfParams, 0x30));
    const iterations = smallInt(buf, need(iter, 0x02));
    let keyLength: number | undefined;
    let prf = 'sha1';
    for (const o of opt) {
      if (o.cls === 0 && o.tag === 2 && keyLength === undefined) keyLength = smallInt(buf, o);
      else if (o.cls === 0 && o.tag === 16) {
        const [prfOid] = kids(buf, o);
        prf = PRF[oidOf(buf, need(prfOid, 0x06))] ?? '';
        if (!prf) throw new NotHere();
      } else throw new NotHere();
    }
    const [encOid, iv] = kids(buf, need(scheme, 0x30));
    const aes = AES[oidOf(buf, need(encOid, 0x06))];
    const ivBytes = value(buf, need(iv, 0x04));
    if (!aes || ivBytes.length !== 16 || (keyLength !== undefined && keyLength !== aes.keyLength)) throw new NotHere();
    const k = pbkdf2Sync(password, value(buf, need(salt, 0x04)), iterations, aes.keyLength, prf);
    const d = createDecipheriv(aes.cipher, k, ivBytes);
    return new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]));
  }
  const legacy = LEGACY.get(a);
  if (legacy) {
    const [salt, iter] = kids(buf, need(params, 0x30));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(password);
    return pkcs12PbeDecrypt(legacy, text, value(buf, need(salt, 0x04)), smallInt(buf, need(iter, 0x02)), ciphertext);
  }
  throw new NotHere();
}

// ---- TLV helpers (any deviation → NotHere) ----------------------------------------------------------------------
function need(t: Tlv | undefined, identifier: number): Tlv {
  if (!t || ((t.cls << 6) | (t.constructed ? 0x20 : 0) | t.tag) !== identifier) throw new NotHere();
  return t;
}
function kids(buf: Uint8Array, t: Tlv | undefined): Tlv[] {
  if (!t || !t.constructed) throw new NotHere();
  const c = children(buf, t);
  if (!c) throw new NotHere();
  return c;
}
function value(buf: Uint8Array, t: Tlv): Uint8Array { return buf.subarray(t.valueStart, t.end); }
function whole(buf: Uint8Array, t: Tlv): Uint8Array { return buf.subarray(t.start, t.end); }
function oidOf(buf: Uint8Array, t: Tlv | undefined): string {
  return Buffer.from(whole(buf, need(t, 0x06))).toString('latin1');
}
function dotted(buf: Uint8Array, t: Tlv): string {
  const v = value(buf, t);
  if (v.length === 0) throw new NotHere();
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    n = n * 128 + (v[i]! & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 256) throw new NotHere();
    if (!(v[i]! & 0x80)) { parts.push(n); n = 0; }
  }
  if (v[v.length - 1]! & 0x80) throw new NotHere();
  const first = parts.shift()!;
  const a = first < 40 ? 0 : first < 80 ? 1 : 2;
  return [a, first - 40 * a, ...parts].join('.');
}
function smallInt(buf: Uint8Array, t: Tlv): number {
  const v = value(buf, t);
  if (v.length === 0 || v.length > 4 || v[0]! & 0x80) throw new NotHere();
  let n = 0;
  for (const b of v) n = n * 256 + b;
  if (n < 1 || n > MAX_ITERATIONS) throw new NotHere();
  return n;
}
function isSmallInt(buf: Uint8Array, t: Tlv, want: number): boolean {
  return t.cls === 0 && !t.constructed && t.tag === 2 && t.end - t.valueStart === 1 && buf[t.valueStart] === want;
}
