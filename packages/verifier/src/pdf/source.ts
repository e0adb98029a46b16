/**
 * Random-access byte sources for the verifier's PDF layer: a buffer in memory, or a file read in
 * windows with `fs.readSync` so that large files are never loaded whole.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Read-only random access to the bytes of a PDF. */
export interface ByteSource {
  readonly size: number;
  /** The byte at `i`, or -1 outside the file. */
  byte(i: number): number;
  /** Bytes [start, end) clamped to the file (a copy or a view; never modify it). */
  slice(start: number, end: number): Uint8Array;
  /** First offset ≥ from (and < to) where `needle` starts, or -1 (native-speed search). */
  find(needle: string, from: number, to?: number): number;
  close(): void;
}

/** A source over bytes already in memory. */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(private readonly b: Uint8Array) {
    this.size = b.length;
  }
  byte(i: number): number {
    return i >= 0 && i < this.size ? this.b[i]! : -1;
  }
  slice(start: number, end: number): Uint8Array {
    return this.b.subarray(Math.max(0, start), Math.min(this.size, Math.max(start, end)));
  }
  private buf?: Buffer;
  find(needle: string, from: number, to = this.size): number {
    this.buf ??= Buffer.from(this.b.buffer, this.b.byteOffset, this.b.byteLength);
    const lo = Math.max(0, from);
    const i = this.buf.subarray(lo, Math.min(to, this.size)).indexOf(needle, 0, 'latin1');
    return i < 0 ? -1 : lo + i;
  }
  close(): void {}
}

const PAGE = 64 * 1024;
const MAX_PAGES = 64;

/** A source over a file on disk with a small LRU page cache (at most 4 MB resident). */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number;
  private readonly pages = new Map<number, Uint8Array>();
  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }
  private page(p: number): Uint8Array {
    let buf = this.pages.get(p);
    if (buf) {
      this.pages.delete(p);
      this.pages.set(p, buf);
      return buf;
    }
    const start = p * PAGE;
    const len = Math.min(PAGE, this.size - start);
    buf = new Uint8Array(Math.max(0, len));
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    this.pages.set(p, buf);
    if (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    return buf;
  }
  byte(i: number): number {
    if (i < 0 || i >= this.size) return -1;
    return this.page(Math.floor(i / PAGE))[i % PAGE]!;
  }
  slice(start: number, end: number): Uint8Array {
    start = Math.max(0, start);
    end = Math.min(this.size, end);
    if (end <= start) return new Uint8Array(0);
    const p0 = Math.floor(start / PAGE);
    if (Math.floor((end - 1) / PAGE) === p0) return this.page(p0).subarray(start - p0 * PAGE, end - p0 * PAGE);
    const out = new Uint8Array(end - start);
    let got = 0;
    while (got < out.length) {
      const n = readSync(this.fd, out, got, out.length - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    return out;
  }
  find(needle: string, from: number, to = this.size): number {
    const n = needle.length;
    const win = 1 << 20;
    const nb = Buffer.from(needle, 'latin1');
    const buf = Buffer.allocUnsafe(win + n);
    let pos = Math.max(0, from);
    const end = Math.min(to, this.size);
    while (pos + n <= end) {
      const len = Math.min(win + n, end - pos);
      let got = 0;
      while (got < len) {
        const r = readSync(this.fd, buf, got, len - got, pos + got);
        if (r <= 0) break;
        got += r;
      }
      const i = buf.subarray(0, got).indexOf(nb);
      if (i >= 0) return pos + i;
      if (got < len) return -1;
      pos += win;
    }
    return -1;
  }
  /** Reads [start, end) in windows of `window` bytes, without caching them. */
  *windows(start: number, end: number, window = 1 << 20): Generator<Uint8Array> {
    const buf = new Uint8Array(window);
    let pos = start;
    while (pos < end) {
      const n = readSync(this.fd, buf, 0, Math.min(window, end - pos), pos);
      if (n <= 0) break;
      yield buf.subarray(0, n);
      pos += n;
    }
  }
  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    this.pages.clear();
  }
}

/** Finds `needle` (latin1) in [from, to) of the source; -1 when absent. */
export function indexOf(src: ByteSource, needle: string, from: number, to = src.size): number {
  return src.find(needle, from, to);
}

/** Finds the last `needle` starting in [from, to). */
export function lastIndexOf(src: ByteSource, needle: string, from: number, to = src.size): number {
  const lo = Math.max(0, from);
  const hi = Math.min(to, src.size);
  if (hi - lo <= 4 << 20) {
    const i = Buffer.from(src.slice(lo, hi)).lastIndexOf(needle, undefined, 'latin1');
    return i < 0 ? -1 : lo + i;
  }
  return lastIndexOfSlow(src, needle, from, to);
}

function lastIndexOfSlow(src: ByteSource, needle: string, from: number, to = src.size): number {
  const n = needle.length;
  for (let i = Math.min(to, src.size) - n; i >= Math.max(0, from); i--) {
    let k = 0;
    while (k < n && src.byte(i + k) === needle.charCodeAt(k)) k++;
    if (k === n) return i;
  }
  return -1;
}


const positionCache = new WeakMap<ByteSource, Map<string, number[]>>();

/** All offsets of `needle` in the source (computed once per source and needle, capped at 1e6). */
export function allPositions(src: ByteSource, needle: string): number[] {
  let m = positionCache.get(src);
  if (!m) positionCache.set(src, (m = new Map()));
  let list = m.get(needle);
  if (!list) {
    list = [];
    let i = src.find(needle, 0);
    while (i >= 0 && list.length < 1_000_000) {
      list.push(i);
      i = src.find(needle, i + needle.length);
    }
    m.set(needle, list);
  }
  return list;
}

/** First position of `needle` at or after `from`, using the cached position list. */
export function nextPosition(src: ByteSource, needle: string, from: number): number {
  const list = allPositions(src, needle);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo]! : -1;
}
