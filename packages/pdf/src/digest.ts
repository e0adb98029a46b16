/** The one streamed ByteRange digest: hashes the bytes a /ByteRange designates, window by window. */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { PdfError } from './errors.js';
import type { ByteSource } from './source.js';

/** Node algorithm names of the digests a signed byte range may use. */
const NODE_ALG: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/** [start, end) pairs of a ByteRange clamped to `size`. */
export function byteRangeSpans(byteRange: readonly number[], size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < byteRange.length; i += 2) {
    const s = Math.min(byteRange[i]!, size);
    const e = Math.min(byteRange[i]! + byteRange[i + 1]!, size);
    if (e > s) out.push([s, e]);
  }
  return out;
}

/**
 * Digest of the bytes a ByteRange designates in `input` (bytes, a file path or a ByteSource), streamed in
 * 1 MiB windows; yields to the event loop every 16 MiB so that a large file does not starve other work.
 * `algorithm`: 'SHA-256' style or node's 'sha256' style.
 */
export async function digestByteRange(input: Uint8Array | string | ByteSource, byteRange: readonly number[], algorithm: string): Promise<Uint8Array> {
  const alg = NODE_ALG[algorithm] ?? algorithm;
  const h = createHash(alg);
  if (input instanceof Uint8Array) {
    for (const [s, e] of byteRangeSpans(byteRange, input.length)) h.update(input.subarray(s, e));
    return new Uint8Array(h.digest());
  }
  const buf = Buffer.allocUnsafe(1 << 20);
  let since = 0;
  const pause = async (n: number): Promise<void> => {
    if ((since += n) >= 16 << 20) {
      since = 0;
      await new Promise((r) => setImmediate(r));
    }
  };
  if (typeof input !== 'string') {
    for (const [s, e] of byteRangeSpans(byteRange, input.size)) {
      for (let p = s; p < e; p += buf.length) {
        const chunk = input.read(p, Math.min(buf.length, e - p));
        if (chunk.length === 0) break;
        h.update(chunk);
        await pause(chunk.length);
      }
    }
    return new Uint8Array(h.digest());
  }
  const fd = openSync(input, 'r');
  try {
    const size = fstatSync(fd).size;
    for (const [s, e] of byteRangeSpans(byteRange, size)) {
      let pos = s;
      while (pos < e) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, e - pos), pos);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        pos += n;
        await pause(n);
      }
    }
  } finally {
    closeSync(fd);
  }
  return new Uint8Array(h.digest());
}

/**
 * The bytes a ByteRange designates, concatenated (only for signatures that sign the data itself, i.e. without
 * signed attributes). Refused, before anything is allocated, when they exceed `maxBytes`.
 */
export async function readByteRange(input: Uint8Array | string | ByteSource, byteRange: readonly number[], maxBytes: number): Promise<Uint8Array> {
  const size = input instanceof Uint8Array ? input.length : typeof input === 'string' ? statSync(input).size : input.size;
  const spans = byteRangeSpans(byteRange, size);
  const total = spans.reduce((a, [s, e]) => a + e - s, 0);
  if (total > maxBytes) throw new PdfError('PDF_LIMIT_EXCEEDED', `signed range of ${total} bytes exceeds ${maxBytes} bytes`);
  const out = new Uint8Array(total);
  let pos = 0;
  if (input instanceof Uint8Array) {
    for (const [s, e] of spans) {
      out.set(input.subarray(s, e), pos);
      pos += e - s;
    }
    return out;
  }
  if (typeof input !== 'string') {
    for (const [s, e] of spans) {
      out.set(input.read(s, e - s), pos);
      pos += e - s;
    }
    return out;
  }
  const fd = openSync(input, 'r');
  try {
    for (const [s, e] of spans) {
      let p = s;
      while (p < e) {
        const n = readSync(fd, out, pos, e - p, p);
        if (n <= 0) break;
        p += n;
        pos += n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
