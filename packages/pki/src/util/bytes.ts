import { createHash } from 'node:crypto';
import { nodeDigestName } from '../oids.js';

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array | ArrayBuffer): string {
  return Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
}

/** A Uint8Array view that owns exactly its bytes (fresh ArrayBuffer), for APIs that read `.buffer`. */
export function ownBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Byte equality (not constant time: only for public data such as digests and certificates). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Hash with a WebCrypto-style algorithm name (SHA-256, SHA3-256, ...). */
export function hash(alg: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(nodeDigestName(alg)).update(data).digest());
}

