/** Streams the bytes designated by a ByteRange into a hash (never loads a large file whole). */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { DigestAlgorithm } from './types.js';

const NODE_ALG: Record<DigestAlgorithm, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** Pairs [start, length] clamped to the file. */
function ranges(byteRange: number[], size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < byteRange.length; i += 2) {
    const s = Math.min(byteRange[i]!, size);
    const e = Math.min(byteRange[i]! + byteRange[i + 1]!, size);
    if (e > s) out.push([s, e]);
  }
  return out;
}

export async function digestRanges(input: Uint8Array | string, size: number, byteRange: number[], alg: DigestAlgorithm): Promise<Uint8Array> {
  const h = createHash(NODE_ALG[alg]);
  if (typeof input !== 'string') {
    for (const [s, e] of ranges(byteRange, size)) h.update(input.subarray(s, e));
    return new Uint8Array(h.digest());
  }
  const fd = openSync(input, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let since = 0;
    for (const [s, e] of ranges(byteRange, size)) {
      let pos = s;
      while (pos < e) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, e - pos), pos);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        pos += n;
        // yield to the event loop every ~16 MB so a large file does not starve other work
        if ((since += n) >= 16 << 20) {
          since = 0;
          await new Promise((r) => setImmediate(r));
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return new Uint8Array(h.digest());
}
