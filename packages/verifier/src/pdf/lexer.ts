/**
 * Bounded PDF object parser over a ByteSource: depth, string size and item counts are capped so hostile
 * input ends in a PdfSyntaxError, never in a hang or a stack overflow.
 */
import { type ByteSource, nextPosition } from './source.js';
import { PArray, PDict, PName, PObj, PRef, PStream, PString } from './objects.js';

/** Thrown by the parser; the analysis turns it into a finding. */
export class PdfSyntaxError extends Error {
  override name = 'PdfSyntaxError';
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
  }
}

export const MAX_DEPTH = 100;
const MAX_STRING = 64 * 1024 * 1024;
const MAX_ITEMS_PER_PARSE = 2_000_000;

export function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}
export function isDelim(c: number): boolean {
  return c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Stream /Length resolver supplied by the document (indirect lengths). */
export type LengthResolver = (o: PObj) => number | undefined;

export class Lexer {
  pos: number;
  private items = 0;
  constructor(readonly src: ByteSource, pos = 0) {
    this.pos = pos;
  }

  skipWs(): void {
    const s = this.src;
    for (;;) {
      const c = s.byte(this.pos);
      if (c === -1) return;
      if (isWhite(c)) this.pos++;
      else if (c === 0x25) {
        while (this.pos < s.size) {
          const d = s.byte(this.pos);
          if (d === 0x0a || d === 0x0d) break;
          this.pos++;
        }
      } else return;
    }
  }

  /** Reads a bare keyword/number token (no delimiters) at the current position, or '' if none. */
  word(): string {
    this.skipWs();
    const start = this.pos;
    let s = '';
    while (this.pos < this.src.size && this.pos - start < 256) {
      const c = this.src.byte(this.pos);
      if (isWhite(c) || isDelim(c)) break;
      s += String.fromCharCode(c);
      this.pos++;
    }
    return s;
  }

  /** Peeks a keyword without consuming. */
  peekWord(): string {
    const save = this.pos;
    const w = this.word();
    this.pos = save;
    return w;
  }

  /** Parses one direct object. `R` references are recognised by look-ahead. */
  value(depth = 0): PObj {
    if (depth > MAX_DEPTH) throw new PdfSyntaxError('nesting too deep', this.pos);
    if (++this.items > MAX_ITEMS_PER_PARSE) throw new PdfSyntaxError('too many items', this.pos);
    this.skipWs();
    const s = this.src;
    const start = this.pos;
    const c = s.byte(start);
    if (c === -1) throw new PdfSyntaxError('unexpected end of file', start);
    if (c === 0x2f) return this.name();
    if (c === 0x28) return this.literalString();
    if (c === 0x3c) {
      if (s.byte(start + 1) === 0x3c) return this.dict(depth);
      return this.hexString();
    }
    if (c === 0x5b) {
      this.pos++;
      const items: PObj[] = [];
      for (;;) {
        this.skipWs();
        const d = s.byte(this.pos);
        if (d === -1) throw new PdfSyntaxError('unterminated array', start);
        if (d === 0x5d) {
          this.pos++;
          return new PArray(items, start, this.pos);
        }
        items.push(this.value(depth + 1));
      }
    }
    const w = this.word();
    if (w === '') {
      this.pos++;
      throw new PdfSyntaxError(`unexpected character 0x${c.toString(16)}`, start);
    }
    if (w === 'true') return true;
    if (w === 'false') return false;
    if (w === 'null') return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(w) || /^[+-]?\d+\.\d*$/.test(w)) {
      const n = Number(w);
      if (/^\d+$/.test(w)) {
        // look ahead for "gen R"
        const save = this.pos;
        const g = this.word();
        if (/^\d+$/.test(g)) {
          const r = this.word();
          if (r === 'R') return new PRef(n, Number(g));
        }
        this.pos = save;
      }
      return Number.isFinite(n) ? n : 0;
    }
    if (/^[+-]?[\d.+-]+$/.test(w)) return 0; // malformed number such as 1.2.3 or --5: lenient zero
    throw new PdfSyntaxError(`unexpected token '${w.slice(0, 20)}'`, start);
  }

  private name(): PName {
    const s = this.src;
    this.pos++;
    let n = '';
    while (this.pos < s.size && n.length < 1024) {
      const c = s.byte(this.pos);
      if (isWhite(c) || isDelim(c)) break;
      if (c === 0x23) {
        const h = hexVal(s.byte(this.pos + 1));
        const l = hexVal(s.byte(this.pos + 2));
        if (h >= 0 && l >= 0) {
          n += String.fromCharCode(h * 16 + l);
          this.pos += 3;
          continue;
        }
      }
      n += String.fromCharCode(c);
      this.pos++;
    }
    return new PName(n);
  }

  private hexString(): PString {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    const out: number[] = [];
    let hi = -1;
    for (;;) {
      const c = s.byte(this.pos);
      if (c === -1) throw new PdfSyntaxError('unterminated hex string', start);
      this.pos++;
      if (c === 0x3e) break;
      if (isWhite(c)) continue;
      const v = hexVal(c);
      if (v < 0) throw new PdfSyntaxError('bad character in hex string', this.pos - 1);
      if (hi < 0) hi = v;
      else {
        out.push(hi * 16 + v);
        hi = -1;
      }
      if (out.length > MAX_STRING) throw new PdfSyntaxError('string too long', start);
    }
    if (hi >= 0) out.push(hi * 16);
    return new PString(Uint8Array.from(out), true, start, this.pos);
  }

  private literalString(): PString {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    const out: number[] = [];
    let nest = 1;
    for (;;) {
      let c = s.byte(this.pos);
      if (c === -1) throw new PdfSyntaxError('unterminated string', start);
      this.pos++;
      if (out.length > MAX_STRING) throw new PdfSyntaxError('string too long', start);
      if (c === 0x5c) {
        c = s.byte(this.pos);
        this.pos++;
        switch (c) {
          case 0x6e: out.push(10); break;
          case 0x72: out.push(13); break;
          case 0x74: out.push(9); break;
          case 0x62: out.push(8); break;
          case 0x66: out.push(12); break;
          case 0x0d:
            if (s.byte(this.pos) === 0x0a) this.pos++;
            break;
          case 0x0a: break;
          case -1: throw new PdfSyntaxError('unterminated string', start);
          default:
            if (c >= 0x30 && c <= 0x37) {
              let v = c - 0x30;
              for (let k = 0; k < 2; k++) {
                const d = s.byte(this.pos);
                if (d >= 0x30 && d <= 0x37) {
                  v = v * 8 + d - 0x30;
                  this.pos++;
                } else break;
              }
              out.push(v & 0xff);
            } else out.push(c);
        }
        continue;
      }
      if (c === 0x28) nest++;
      else if (c === 0x29) {
        nest--;
        if (nest === 0) break;
      }
      out.push(c);
    }
    return new PString(Uint8Array.from(out), false, start, this.pos);
  }

  private dict(depth: number): PDict {
    const s = this.src;
    const start = this.pos;
    this.pos += 2;
    const map = new Map<string, PObj>();
    let dups: string[] | undefined;
    for (;;) {
      this.skipWs();
      const c = s.byte(this.pos);
      if (c === -1) throw new PdfSyntaxError('unterminated dictionary', start);
      if (c === 0x3e) {
        if (s.byte(this.pos + 1) !== 0x3e) throw new PdfSyntaxError("expected '>>'", this.pos);
        this.pos += 2;
        const d = new PDict(map, start, this.pos);
        if (dups) d.duplicates = dups;
        return d;
      }
      if (c !== 0x2f) throw new PdfSyntaxError('dictionary key is not a name', this.pos);
      const k = this.name().name;
      const v = this.value(depth + 1);
      if (!map.has(k)) map.set(k, v); // first occurrence wins (ambiguity is reported elsewhere)
      else if ((dups ??= []).length < 16) dups.push(k);
    }
  }

  /**
   * Parses `num gen obj <value> [stream ... endstream] endobj` at the current position.
   * Returns the number, generation and the value (a PStream for streams).
   */
  indirect(resolveLength?: LengthResolver): { num: number; gen: number; value: PObj } {
    const at = this.pos;
    const n = this.word();
    const g = this.word();
    const kw = this.word();
    if (!/^\d+$/.test(n) || !/^\d+$/.test(g) || kw !== 'obj') throw new PdfSyntaxError('expected "N G obj"', at);
    const value = this.value();
    if (value instanceof PDict) {
      const save = this.pos;
      if (this.word() === 'stream') {
        const s = this.src;
        if (s.byte(this.pos) === 0x0d) this.pos++;
        if (s.byte(this.pos) === 0x0a) this.pos++;
        const dataStart = this.pos;
        let len = resolveLength ? resolveLength(value.get('Length') ?? null) : undefined;
        if (len === undefined) {
          const l = value.get('Length');
          len = typeof l === 'number' ? l : undefined;
        }
        let ok = false;
        if (len !== undefined && Number.isInteger(len) && len >= 0 && dataStart + len <= s.size) {
          this.pos = dataStart + len;
          ok = this.word() === 'endstream';
        }
        if (!ok) {
          // Declared length wrong or absent: find endstream (bounded by the file size).
          const e = nextPosition(s, 'endstream', dataStart);
          if (e < 0) throw new PdfSyntaxError('stream without endstream', dataStart);
          let end = e;
          if (s.byte(end - 1) === 0x0a) end--;
          if (s.byte(end - 1) === 0x0d) end--;
          len = Math.max(0, end - dataStart);
          this.pos = e + 9;
        }
        return { num: Number(n), gen: Number(g), value: new PStream(value, dataStart, len!) };
      }
      this.pos = save;
    }
    return { num: Number(n), gen: Number(g), value };
  }
}

/** First occurrence of `kw` at or after `from`: a short direct look, then the cached position list. */
export function findKeyword(s: ByteSource, kw: string, from: number): number {
  const near = s.find(kw, from, Math.min(s.size, from + 65536));
  return near >= 0 ? near : nextPosition(s, kw, from);
}
