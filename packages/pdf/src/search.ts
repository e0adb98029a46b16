/** Byte searches over a ByteSource, read in windows (never the whole file at once). */
import type { ByteSource } from './source.js';

const WINDOW = 1 << 20;

/** First offset ≥ `from` (and < `to`) where `needle` (latin1) starts, or -1. */
export function findInSource(src: ByteSource, needle: string, from = 0, to = src.size): number {
  const nb = Buffer.from(needle, 'latin1');
  const end = Math.min(to, src.size);
  for (let pos = Math.max(0, from); pos + nb.length <= end; pos += WINDOW) {
    const chunk = src.read(pos, Math.min(WINDOW + nb.length - 1, end - pos));
    const i = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).indexOf(nb);
    if (i >= 0) return pos + i;
    if (chunk.length < WINDOW) break;
  }
  return -1;
}

/** Last offset in [from, to) where `needle` starts, or -1. */
export function lastInSource(src: ByteSource, needle: string, from = 0, to = src.size): number {
  const nb = Buffer.from(needle, 'latin1');
  const lo = Math.max(0, from);
  for (let hi = Math.min(to, src.size); hi - lo >= nb.length; hi -= WINDOW) {
    const start = Math.max(lo, hi - WINDOW - nb.length + 1);
    const chunk = src.read(start, hi - start);
    const i = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).lastIndexOf(nb);
    if (i >= 0) return start + i;
    if (start === lo) break;
  }
  return -1;
}

/** The byte at `i`, or -1 outside the source. */
export function byteAt(src: ByteSource, i: number): number {
  if (i < 0 || i >= src.size) return -1;
  return src.read(i, 1)[0] ?? -1;
}
