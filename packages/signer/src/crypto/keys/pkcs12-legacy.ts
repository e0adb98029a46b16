import { createDecipheriv, createHash } from 'node:crypto';

/**
 * The legacy PKCS#12 password-based encryption schemes (RFC 7292 appendix B/C) that OpenSSL 3
 * only offers through its legacy provider: PBE-SHA1-3DES and PBE-SHA1-RC2 (40/128), used by
 * older exports (Windows, openssl -legacy) for the certificate safe. Decryption only.
 */

/** OIDs of pkcs-12PbeIds handled here. */
export const PKCS12_PBE = {
  sha1And3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  sha1And128BitRc2Cbc: '1.2.840.113549.1.12.1.5',
  sha1And40BitRc2Cbc: '1.2.840.113549.1.12.1.6',
} as const;

/** Password as PKCS#12 wants it: BMPString (UTF-16BE) with a two-byte NUL terminator. */
export function bmpPassword(password: string): Uint8Array {
  const out = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) { const c = password.charCodeAt(i); out[2 * i] = c >> 8; out[2 * i + 1] = c & 0xff; }
  return out;
}

/** RFC 7292 B.2 key derivation with SHA-1 (id 1 = key, 2 = IV, 3 = MAC key). */
export function pkcs12Kdf(password: Uint8Array, salt: Uint8Array, iterations: number, id: 1 | 2 | 3, n: number): Uint8Array {
  const u = 20; const v = 64;
  const fill = (src: Uint8Array): Uint8Array => {
    if (src.length === 0) return new Uint8Array(0);
    const out = new Uint8Array(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = new Uint8Array(v).fill(id);
  const I = new Uint8Array([...fill(salt), ...fill(password)]);
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += u) {
    let A = createHash('sha1').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha1').update(A).digest();
    out.set(A.subarray(0, Math.min(u, n - off)), off);
    const B = new Uint8Array(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u]!;
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = I[j + k]! + B[k]! + carry;
        I[j + k] = x & 0xff;
        carry = x >> 8;
      }
    }
  }
  return out;
}

/** RC2 key-expansion permutation (RFC 2268 section 2). */
const PITABLE = Uint8Array.from([
  0xd9, 0x78, 0xf9, 0xc4, 0x19, 0xdd, 0xb5, 0xed, 0x28, 0xe9, 0xfd, 0x79, 0x4a, 0xa0, 0xd8, 0x9d,
  0xc6, 0x7e, 0x37, 0x83, 0x2b, 0x76, 0x53, 0x8e, 0x62, 0x4c, 0x64, 0x88, 0x44, 0x8b, 0xfb, 0xa2,
  0x17, 0x9a, 0x59, 0xf5, 0x87, 0xb3, 0x4f, 0x13, 0x61, 0x45, 0x6d, 0x8d, 0x09, 0x81, 0x7d, 0x32,
  0xbd, 0x8f, 0x40, 0xeb, 0x86, 0xb7, 0x7b, 0x0b, 0xf0, 0x95, 0x21, 0x22, 0x5c, 0x6b, 0x4e, 0x82,
  0x54, 0xd6, 0x65, 0x93, 0xce, 0x60, 0xb2, 0x1c, 0x73, 0x56, 0xc0, 0x14, 0xa7, 0x8c, 0xf1, 0xdc,
  0x12, 0x75, 0xca, 0x1f, 0x3b, 0xbe, 0xe4, 0xd1, 0x42, 0x3d, 0xd4, 0x30, 0xa3, 0x3c, 0xb6, 0x26,
  0x6f, 0xbf, 0x0e, 0xda, 0x46, 0x69, 0x07, 0x57, 0x27, 0xf2, 0x1d, 0x9b, 0xbc, 0x94, 0x43, 0x03,
  0xf8, 0x11, 0xc7, 0xf6, 0x90, 0xef, 0x3e, 0xe7, 0x06, 0xc3, 0xd5, 0x2f, 0xc8, 0x66, 0x1e, 0xd7,
  0x08, 0xe8, 0xea, 0xde, 0x80, 0x52, 0xee, 0xf7, 0x84, 0xaa, 0x72, 0xac, 0x35, 0x4d, 0x6a, 0x2a,
  0x96, 0x1a, 0xd2, 0x71, 0x5a, 0x15, 0x49, 0x74, 0x4b, 0x9f, 0xd0, 0x5e, 0x04, 0x18, 0xa4, 0xec,
  0xc2, 0xe0, 0x41, 0x6e, 0x0f, 0x51, 0xcb, 0xcc, 0x24, 0x91, 0xaf, 0x50, 0xa1, 0xf4, 0x70, 0x39,
  0x99, 0x7c, 0x3a, 0x85, 0x23, 0xb8, 0xb4, 0x7a, 0xfc, 0x02, 0x36, 0x5b, 0x25, 0x55, 0x97, 0x31,
  0x2d, 0x5d, 0xfa, 0x98, 0xe3, 0x8a, 0x92, 0xae, 0x05, 0xdf, 0x29, 0x10, 0x67, 0x6c, 0xba, 0xc9,
  0xd3, 0x00, 0xe6, 0xcf, 0xe1, 0x9e, 0xa8, 0x2c, 0x63, 0x16, 0x01, 0x3f, 0x58, 0xe2, 0x89, 0xa9,
  0x0d, 0x38, 0x34, 0x1b, 0xab, 0x33, 0xff, 0xb0, 0xbb, 0x48, 0x0c, 0x5f, 0xb9, 0xb1, 0xcd, 0x2e,
  0xc5, 0xf3, 0xdb, 0x47, 0xe5, 0xa5, 0x9c, 0x77, 0x0a, 0xa6, 0x20, 0x68, 0xfe, 0x7f, 0xc1, 0xad,
]);

/** RFC 2268 key schedule: 64 16-bit words for `key` with `effectiveBits` effective key bits. */
function rc2Schedule(key: Uint8Array, effectiveBits: number): Uint16Array {
  const L = new Uint8Array(128);
  L.set(key);
  const T = key.length;
  const T8 = Math.ceil(effectiveBits / 8);
  const TM = 0xff >> (8 * T8 - effectiveBits);
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

const rotr16 = (x: number, s: number): number => ((x >>> s) | (x << (16 - s))) & 0xffff;

/** Decrypt one 8-byte RC2 block in place. */
function rc2DecryptBlock(K: Uint16Array, b: Uint8Array): void {
  const R = [b[0]! | (b[1]! << 8), b[2]! | (b[3]! << 8), b[4]! | (b[5]! << 8), b[6]! | (b[7]! << 8)];
  const S = [1, 2, 3, 5];
  let j = 63;
  const rmix = (): void => {
    for (let i = 3; i >= 0; i--) {
      R[i] = rotr16(R[i]!, S[i]!);
      R[i] = (R[i]! - K[j]! - (R[(i + 3) % 4]! & R[(i + 2) % 4]!) - (~R[(i + 3) % 4]! & R[(i + 1) % 4]!)) & 0xffff;
      j--;
    }
  };
  const rmash = (): void => { for (let i = 3; i >= 0; i--) R[i] = (R[i]! - K[R[(i + 3) % 4]! & 63]!) & 0xffff; };
  for (let r = 0; r < 5; r++) rmix();
  rmash();
  for (let r = 0; r < 6; r++) rmix();
  rmash();
  for (let r = 0; r < 5; r++) rmix();
  for (let i = 0; i < 4; i++) { b[2 * i] = R[i]! & 0xff; b[2 * i + 1] = R[i]! >> 8; }
}

/** RC2-CBC decryption with PKCS#7 padding removal (throws on bad padding). */
export function rc2CbcDecrypt(key: Uint8Array, effectiveBits: number, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length === 0 || data.length % 8 !== 0) throw new Error('RC2: ciphertext is not a whole number of blocks');
  const K = rc2Schedule(key, effectiveBits);
  const out = new Uint8Array(data.length);
  let prev = iv;
  for (let off = 0; off < data.length; off += 8) {
    const c = data.subarray(off, off + 8);
    const p = Uint8Array.from(c);
    rc2DecryptBlock(K, p);
    for (let i = 0; i < 8; i++) out[off + i] = p[i]! ^ prev[i]!;
    prev = c;
  }
  const pad = out[out.length - 1]!;
  if (pad < 1 || pad > 8) throw new Error('RC2: bad padding');
  for (let i = out.length - pad; i < out.length; i++) if (out[i] !== pad) throw new Error('RC2: bad padding');
  return out.subarray(0, out.length - pad);
}

/** Decrypt data encrypted under a legacy pkcs-12PbeId. Throws on unknown schemes or wrong password (bad padding). */
export function pkcs12PbeDecrypt(oid: string, password: string, salt: Uint8Array, iterations: number, data: Uint8Array): Uint8Array {
  const pw = bmpPassword(password);
  if (oid === PKCS12_PBE.sha1And3KeyTripleDesCbc) {
    const key = pkcs12Kdf(pw, salt, iterations, 1, 24);
    const iv = pkcs12Kdf(pw, salt, iterations, 2, 8);
    const d = createDecipheriv('des-ede3-cbc', key, iv);
    return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
  }
  if (oid === PKCS12_PBE.sha1And40BitRc2Cbc || oid === PKCS12_PBE.sha1And128BitRc2Cbc) {
    const len = oid === PKCS12_PBE.sha1And40BitRc2Cbc ? 5 : 16;
    const key = pkcs12Kdf(pw, salt, iterations, 1, len);
    const iv = pkcs12Kdf(pw, salt, iterations, 2, 8);
    return rc2CbcDecrypt(key, len * 8, iv, data);
  }
  throw new Error(`unsupported PKCS#12 encryption ${oid}`);
}

/** One raw RC2 block decryption (ECB), exposed for the RFC 2268 known-answer tests. */
export function rc2DecryptBlockRaw(key: Uint8Array, effectiveBits: number, block: Uint8Array): Uint8Array {
  const b = Uint8Array.from(block);
  rc2DecryptBlock(rc2Schedule(key, effectiveBits), b);
  return b;
}
