import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PdfError } from './errors.js';

/** Random-access read-only bytes: an in-memory buffer or a file read on demand. */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** Reads up to `length` bytes at `offset` (fewer at the end of the source). */
  read(offset: number, length: number): Uint8Array;
  /** Releases the file descriptor, if any. */
  close(): void;
}

/** A ByteSource over bytes already in memory. */
export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.size));
    return this.bytes.subarray(start, Math.min(this.size, start + Math.max(0, length)));
  }
  close(): void {}
}

const BLOCK = 64 * 1024;
const MAX_BLOCKS = 16;

/** A ByteSource over a file, read with `fs.readSync` in 64 KiB blocks (small LRU cache); never reads the file whole. */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | null;
  private readonly cache = new Map<number, Uint8Array>();

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      throw new PdfError('PDF_IO', `cannot open ${path}: ${(err as Error).message}`);
    }
  }

  private block(index: number): Uint8Array {
    let b = this.cache.get(index);
    if (b) {
      this.cache.delete(index);
      this.cache.set(index, b);
      return b;
    }
    if (this.fd === null) throw new PdfError('PDF_IO', `file ${this.path} is closed`);
    const start = index * BLOCK;
    const len = Math.min(BLOCK, this.size - start);
    b = new Uint8Array(Math.max(0, len));
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, b, got, len - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    this.cache.set(index, b);
    if (this.cache.size > MAX_BLOCKS) this.cache.delete(this.cache.keys().next().value as number);
    return b;
  }

  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.size));
    const end = Math.min(this.size, start + Math.max(0, length));
    if (end <= start) return new Uint8Array(0);
    const first = Math.floor(start / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    if (first === last) {
      const b = this.block(first);
      return b.subarray(start - first * BLOCK, end - first * BLOCK);
    }
    if (end - start > 4 * BLOCK && this.fd !== null) {
      // Large read: bypass the cache.
      const out = new Uint8Array(end - start);
      let got = 0;
      while (got < out.length) {
        const n = readSync(this.fd, out, got, out.length - got, start + got);
        if (n <= 0) break;
        got += n;
      }
      return out.subarray(0, got);
    }
    const out = new Uint8Array(end - start);
    let pos = start;
    while (pos < end) {
      const bi = Math.floor(pos / BLOCK);
      const b = this.block(bi);
      const from = pos - bi * BLOCK;
      const take = Math.min(b.length - from, end - pos);
      if (take <= 0) break;
      out.set(b.subarray(from, from + take), pos - start);
      pos += take;
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    this.cache.clear();
  }
}

/** Opens a ByteSource: a path is read on demand, bytes are used as they are. */
export function openSource(input: Uint8Array | string | ByteSource): ByteSource {
  if (typeof input === 'string') return new FileSource(input);
  if (input instanceof Uint8Array) return new BufferSource(input);
  return input;
}
