/**
 * The PKCS#12 password MAC (RFC 7292 appendix B key derivation + HMAC) with node:crypto. PKI.js checks it with a
 * JavaScript SHA implementation, which costs tens of milliseconds per file (2,048 iterations and more); this is the
 * same computation natively. Used as a fast path only: a file this check cannot confirm goes through PKI.js's own
 * check, so the outcome (accepted or BAD_PASSWORD) never differs.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type * as pkijs from 'pkijs';

const HASHES: Record<string, { name: string; u: number; v: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', u: 20, v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', u: 32, v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', u: 48, v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', u: 64, v: 128 },
};

/** The password as PKI.js gives it to the KDF: UTF-8 decoded (or Latin-1 when not UTF-8), UTF-16BE, two zero bytes. */
function bmpPassword(password: Uint8Array): Buffer {
  let text = new TextDecoder().decode(password);
  if (!Buffer.from(text, 'utf8').equals(Buffer.from(password))) text = String.fromCharCode(...password);
  const out = Buffer.alloc(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 B.2 with ID = 3 (MAC key), one block of `u` bytes (the HMAC key length). */
function macKey(hash: { name: string; u: number; v: number }, password: Buffer, salt: Uint8Array, iterations: number): Buffer {
  const fill = (src: Uint8Array): Buffer => {
    const out = Buffer.alloc(hash.v * Math.ceil(src.length / hash.v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  let a = createHash(hash.name).update(Buffer.alloc(hash.v, 3)).update(fill(salt)).update(fill(password)).digest();
  // one-shot hashing (no Hash object per round) where Node has it (20.12+)
  const once = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => typeof a }).hash;
  if (once) for (let i = 1; i < iterations; i++) a = once(hash.name, a, 'buffer');
  else for (let i = 1; i < iterations; i++) a = createHash(hash.name).update(a).digest();
  return a.subarray(0, hash.u);
}

/**
 * True when the PFX has a password MAC that this password verifies; false when it cannot tell (no MAC, another
 * integrity mode or digest, or a mismatch — the caller then lets PKI.js decide).
 */
export function pkcs12MacMatches(pfx: pkijs.PFX, password: Uint8Array): boolean {
  try {
    const mac = pfx.macData;
    if (!mac || pfx.authSafe.contentType !== '1.2.840.113549.1.7.1') return false;
    const content = (pfx.authSafe.content as { getValue(): ArrayBuffer }).getValue();
    return pkcs12MacKeyMatches(mac.mac.digestAlgorithm.algorithmId, password, mac.macSalt.valueBlock.valueHexView, mac.iterations ?? 1, new Uint8Array(content), mac.mac.digest.valueBlock.valueHexView);
  } catch {
    return false;
  }
}

/**
 * The same check on the MacData's parts: digest algorithm OID, salt, iteration count, the authenticated safe's
 * bytes and the expected MAC. False when it cannot tell (unknown digest, implausible count) or on a mismatch.
 */
export function pkcs12MacKeyMatches(digestOid: string, password: Uint8Array, salt: Uint8Array, iterations: number, content: Uint8Array, expected: Uint8Array): boolean {
  try {
    const hash = HASHES[digestOid];
    if (!hash || !Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
    const key = macKey(hash, bmpPassword(password), salt, iterations);
    const got = createHmac(hash.name, key).update(content).digest();
    const want = Buffer.from(expected);
    return got.length === want.length && timingSafeEqual(got, want);
  } catch {
    return false;
  }
}
