import { PdfError } from './errors.js';
import { PdfArray, PdfDict, PdfName, PdfObject, PdfRef, PdfStream, PdfString, type StreamDecoder } from './objects.js';
import type { ByteSource } from './source.js';

/** Limits that bound the work done on hostile input. */
export interface ParseLimits {
  /** Maximum nesting of arrays/dictionaries. */
  maxDepth: number;
  /** Maximum length of one string or name token (bytes). */
  maxTokenBytes: number;
  /** Maximum number of items in one array / entries in one dictionary. */
  maxItems: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxDepth: 128, maxTokenBytes: 64 * 1024 * 1024, maxItems: 1_000_000 };

const WINDOW = 64 * 1024;

/** True for PDF white-space bytes. */
export function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}
/** True for PDF delimiter bytes. */
export function isDelim(c: number): boolean {
  return c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
}

/** Hooks the parser needs from the document (resolving an indirect /Length, decoding stream data). */
export interface ParserHooks {
  resolveLength?: (ref: PdfRef) => number | undefined;
  decoder?: StreamDecoder;
  loadRaw?: (s: PdfStream) => Uint8Array;
  /** Finds the first `endstream` at or after `from` (-1: none); lets a document memoise searches. */
  findEndstream?: (from: number) => number;
  /** Tolerant mode: called for syntax that viewers read in different ways (the value is still parsed or refused). */
  onFinding?: (code: string, message: string, offset: number) => void;
}

type Token =
  | { t: 'num'; v: number; int: boolean; start: number }
  | { t: 'kw'; v: string; start: number }
  | { t: 'delim'; v: string; start: number }
  | { t: 'eof'; start: number };

/** A tokenizer + object parser reading from a ByteSource through a sliding window. */
export class Parser {
  pos: number;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private peeked: Token | null = null;
  /** Bytes read per refill: small first (most objects are short), doubling up to WINDOW. */
  private window = 4096;

  constructor(
    readonly src: ByteSource,
    pos = 0,
    readonly hooks: ParserHooks = {},
    readonly limits: ParseLimits = DEFAULT_LIMITS,
    /** Added to every position read, e.g. for object streams parsed from memory with file offsets unknown. */
  ) {
    this.pos = pos;
  }

  /** The byte at absolute position p, or -1 past the end. */
  byte(p: number): number {
    const i = p - this.bufStart;
    if (i >= 0 && i < this.buf.length) return this.buf[i]!;
    if (p < 0 || p >= this.src.size) return -1;
    const start = Math.max(0, p - 256);
    this.buf = this.src.read(start, this.window);
    if (this.window < WINDOW) this.window *= 2;
    this.bufStart = start;
    return this.buf[p - start] ?? -1;
  }

  seek(p: number): void {
    this.pos = p;
    this.peeked = null;
  }

  /** Skips white space and comments. */
  skipWhite(): void {
    for (;;) {
      const c = this.byte(this.pos);
      if (c < 0) return;
      if (isWhite(c)) {
        this.pos++;
      } else if (c === 0x25) {
        while (true) {
          const d = this.byte(this.pos);
          if (d < 0 || d === 0x0a || d === 0x0d) break;
          this.pos++;
        }
      } else return;
    }
  }

  private err(msg: string, at = this.pos): PdfError {
    return new PdfError('PDF_SYNTAX', msg, at);
  }

  /** Reads the next token without consuming it. */
  peek(): Token {
    if (!this.peeked) {
      const save = this.pos;
      this.peeked = this.readToken();
      (this.peeked as Token & { end?: number }).end = this.pos;
      this.pos = save;
    }
    return this.peeked;
  }

  next(): Token {
    if (this.peeked) {
      const t = this.peeked as Token & { end: number };
      this.peeked = null;
      this.pos = t.end;
      return t;
    }
    return this.readToken();
  }

  private readToken(): Token {
    this.skipWhite();
    const start = this.pos;
    const c = this.byte(this.pos);
    if (c < 0) return { t: 'eof', start };
    if (c === 0x3c && this.byte(this.pos + 1) === 0x3c) {
      this.pos += 2;
      return { t: 'delim', v: '<<', start };
    }
    if (c === 0x3e && this.byte(this.pos + 1) === 0x3e) {
      this.pos += 2;
      return { t: 'delim', v: '>>', start };
    }
    if (isDelim(c)) {
      this.pos++;
      return { t: 'delim', v: String.fromCharCode(c), start };
    }
    // number or keyword
    let s = '';
    while (true) {
      const d = this.byte(this.pos);
      if (d < 0 || isWhite(d) || isDelim(d)) break;
      s += String.fromCharCode(d);
      this.pos++;
      if (s.length > 256) throw this.err('token too long', start);
    }
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(s)) {
      return { t: 'num', v: Number(s), int: /^[+-]?\d+$/.test(s), start };
    }
    if (/^[+-]?\d*\.?\d*$/.test(s) && /\d/.test(s)) return { t: 'num', v: Number.parseFloat(s.replace(/^([+-]?)\.?$/, '$10')) || 0, int: false, start };
    return { t: 'kw', v: s, start };
  }

  /** Parses one object at the current position (direct object; `a b R` becomes a PdfRef). */
  parseObject(depth = 0): PdfObject {
    if (depth > this.limits.maxDepth) throw new PdfError('PDF_TOO_DEEP', `objects nested deeper than ${this.limits.maxDepth}`, this.pos);
    const tok = this.next();
    switch (tok.t) {
      case 'eof':
        throw new PdfError('PDF_TRUNCATED', 'unexpected end of file while reading an object', tok.start);
      case 'num': {
        if (tok.int && tok.v >= 0) {
          const save = this.pos;
          const t2 = this.next();
          if (t2.t === 'num' && t2.int && t2.v >= 0) {
            const t3 = this.next();
            if (t3.t === 'kw' && t3.v === 'R') return new PdfRef(tok.v, t2.v);
          }
          this.seek(save);
        }
        return tok.v;
      }
      case 'kw':
        if (tok.v === 'true') return true;
        if (tok.v === 'false') return false;
        if (tok.v === 'null') return null;
        throw this.err(`unexpected keyword '${tok.v.slice(0, 40)}'`, tok.start);
      case 'delim':
        switch (tok.v) {
          case '/':
            return this.readName(tok.start);
          case '(':
            return this.readLiteral(tok.start);
          case '<':
            return this.readHex(tok.start);
          case '[': {
            const items: PdfObject[] = [];
            for (;;) {
              const p = this.peek();
              if (p.t === 'delim' && p.v === ']') {
                this.next();
                return new PdfArray(items, tok.start, this.pos);
              }
              if (p.t === 'eof') throw new PdfError('PDF_TRUNCATED', 'unterminated array', tok.start);
              if (items.length >= this.limits.maxItems) throw new PdfError('PDF_LIMIT_EXCEEDED', 'array too large', tok.start);
              items.push(this.parseObject(depth + 1));
            }
          }
          case '<<': {
            const d = new PdfDict(undefined, tok.start);
            for (;;) {
              const p = this.next();
              if (p.t === 'delim' && p.v === '>>') {
                d.end = this.pos;
                return d;
              }
              if (p.t === 'eof') throw new PdfError('PDF_TRUNCATED', 'unterminated dictionary', tok.start);
              if (!(p.t === 'delim' && p.v === '/')) throw this.err('dictionary key is not a name', p.start);
              const key = this.readName(p.start).name;
              const vp = this.peek();
              if (vp.t === 'delim' && vp.v === '>>') {
                this.hooks.onFinding?.('MISSING_VALUE', `dictionary key /${key} has no value`, vp.start);
                d.set(key, null);
                continue;
              }
              this.skipWhite();
              const vstart = this.pos;
              const v = this.parseObject(depth + 1);
              if (d.map.size >= this.limits.maxItems) throw new PdfError('PDF_LIMIT_EXCEEDED', 'dictionary too large', tok.start);
              if (d.map.has(key)) {
                if ((d.duplicates ??= []).length < 16) d.duplicates.push(key);
                this.hooks.onFinding?.('DUPLICATE_KEY', `dictionary repeats /${key}`, vstart);
              }
              d.set(key, v);
              d.valueOffsets.set(key, { start: vstart, end: this.pos });
            }
          }
          default:
            throw this.err(`unexpected '${tok.v}'`, tok.start);
        }
    }
  }

  private readName(start: number): PdfName {
    let s = '';
    while (true) {
      const d = this.byte(this.pos);
      if (d < 0 || isWhite(d) || isDelim(d)) break;
      this.pos++;
      if (d === 0x23) {
        const h = String.fromCharCode(this.byte(this.pos), this.byte(this.pos + 1));
        if (/^[0-9a-fA-F]{2}$/.test(h)) {
          s += String.fromCharCode(parseInt(h, 16));
          this.pos += 2;
          continue;
        }
        this.hooks.onFinding?.('BAD_NAME_ESCAPE', "'#' in a name not followed by two hex digits", this.pos - 1);
      }
      s += String.fromCharCode(d);
      if (s.length > 65535) throw new PdfError('PDF_LIMIT_EXCEEDED', 'name too long', start);
    }
    return PdfName.of(s);
  }

  private readLiteral(start: number): PdfString {
    const max = this.limits.maxTokenBytes;
    let out = new Uint8Array(64);
    let n = 0;
    const push = (b: number): void => {
      if (n === out.length) {
        if (n >= max) throw new PdfError('PDF_LIMIT_EXCEEDED', `string longer than ${max} bytes`, start);
        const bigger = new Uint8Array(Math.min(max, n * 2));
        bigger.set(out);
        out = bigger;
      }
      out[n++] = b;
    };
    let depth = 1;
    for (;;) {
      const c = this.byte(this.pos++);
      if (c < 0) throw new PdfError('PDF_TRUNCATED', 'unterminated string', start);
      if (c === 0x5c) {
        const e = this.byte(this.pos++);
        switch (e) {
          case 0x6e: push(10); break;
          case 0x72: push(13); break;
          case 0x74: push(9); break;
          case 0x62: push(8); break;
          case 0x66: push(12); break;
          case 0x28: case 0x29: case 0x5c: push(e); break;
          case 0x0d:
            if (this.byte(this.pos) === 0x0a) this.pos++;
            break;
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let v = e - 0x30;
              for (let k = 0; k < 2; k++) {
                const o = this.byte(this.pos);
                if (o >= 0x30 && o <= 0x37) {
                  v = v * 8 + (o - 0x30);
                  this.pos++;
                } else break;
              }
              push(v & 0xff);
            } else if (e >= 0) {
              this.hooks.onFinding?.('UNDEFINED_ESCAPE', `undefined escape \\${String.fromCharCode(e)} in a string`, this.pos - 2);
              push(e);
            }
        }
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      push(c);
    }
    return new PdfString(out.slice(0, n), false, start, this.pos);
  }

  private readHex(start: number): PdfString {
    // Find the closing '>' first (bounded), so the size is known — and refused — before anything is allocated.
    const max = this.limits.maxTokenBytes;
    const from = this.pos;
    const limit = from + max * 2 + 4096;
    let end = -1;
    const CH = 1 << 20;
    for (let off = from; off < Math.min(limit, this.src.size); off += CH) {
      const chunk = this.src.read(off, Math.min(CH, limit - off));
      const i = chunk.indexOf(0x3e);
      if (i >= 0) {
        end = off + i;
        break;
      }
      if (chunk.length === 0) break;
    }
    if (end < 0) {
      if (limit < this.src.size) throw new PdfError('PDF_LIMIT_EXCEEDED', `hex string longer than ${max} bytes`, start);
      throw new PdfError('PDF_TRUNCATED', 'unterminated hex string', start);
    }
    const raw = this.src.read(from, end - from);
    const out = new Uint8Array((raw.length + 1) >> 1);
    let n = 0;
    let hi = -1;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      let v: number;
      if (c >= 0x30 && c <= 0x39) v = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
      else if (isWhite(c)) continue;
      else throw this.err('bad character in hex string', from + i);
      if (hi < 0) hi = v;
      else {
        out[n++] = (hi << 4) | v;
        hi = -1;
      }
    }
    if (hi >= 0) {
      this.hooks.onFinding?.('ODD_HEX', 'hex string with an odd number of digits', start);
      out[n++] = hi << 4;
    }
    if (n > max) throw new PdfError('PDF_LIMIT_EXCEEDED', `hex string longer than ${max} bytes`, start);
    this.seek(end + 1);
    return new PdfString(n === out.length ? out : out.slice(0, n), true, start, this.pos);
  }

  /**
   * Parses `num gen obj ... endobj` at the current position. Streams get their data position;
   * /Length is taken from the dictionary (resolved through hooks when indirect) and checked
   * against `endstream`, falling back to a bounded search.
   */
  parseIndirect(): { num: number; gen: number; obj: PdfObject; start: number; end: number } {
    this.skipWhite();
    const start = this.pos;
    const a = this.next();
    const b = this.next();
    const k = this.next();
    if (a.t !== 'num' || b.t !== 'num' || k.t !== 'kw' || k.v !== 'obj' || !a.int || !b.int) {
      throw new PdfError('PDF_SYNTAX', 'expected "N G obj"', start);
    }
    let obj = this.parseObject(0);
    const after = this.peek();
    if (after.t === 'kw' && after.v === 'stream' && obj instanceof PdfDict) {
      this.next();
      // EOL after 'stream': CRLF or LF (tolerate CR alone).
      let p = this.pos;
      if (this.byte(p) === 0x0d) p++;
      if (this.byte(p) === 0x0a) p++;
      const dataStart = p;
      let len = -1;
      const L = obj.get('Length');
      if (typeof L === 'number') len = L;
      else if (L instanceof PdfRef && this.hooks.resolveLength) len = this.hooks.resolveLength(L) ?? -1;
      if (!(Number.isInteger(len) && len >= 0 && dataStart + len <= this.src.size && this.endstreamAt(dataStart + len))) {
        len = this.searchEndstream(dataStart);
      }
      this.seek(dataStart + len);
      const es = this.next();
      if (!(es.t === 'kw' && es.v === 'endstream')) throw new PdfError('PDF_SYNTAX', 'missing endstream', this.pos);
      obj = new PdfStream(obj, undefined, dataStart, len, this.hooks.loadRaw, this.hooks.decoder, start);
    }
    const e = this.peek();
    if (e.t === 'kw' && e.v === 'endobj') this.next();
    const end = this.pos;
    if (obj instanceof PdfStream) obj.end = end;
    return { num: a.v, gen: b.v, obj, start, end };
  }

  private endstreamAt(p: number): boolean {
    let q = p;
    while (isWhite(this.byte(q)) && q < p + 4) q++;
    const want = 'endstream';
    for (let i = 0; i < want.length; i++) if (this.byte(q + i) !== want.charCodeAt(i)) return false;
    return true;
  }

  private searchEndstream(from: number): number {
    if (this.hooks.findEndstream) {
      const at = this.hooks.findEndstream(from);
      if (at < 0) throw new PdfError('PDF_TRUNCATED', 'stream without endstream', from);
      let end = at;
      if (end > from && this.byte(end - 1) === 0x0a) end--;
      if (end > from && this.byte(end - 1) === 0x0d) end--;
      return end - from;
    }
    const want = new TextEncoder().encode('endstream');
    const CH = 1 << 20;
    for (let off = from; off < this.src.size; off += CH - want.length) {
      const chunk = this.src.read(off, CH);
      const idx = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).indexOf(Buffer.from(want));
      if (idx >= 0) {
        let end = off + idx;
        // drop the EOL before endstream
        if (end > from && this.byte(end - 1) === 0x0a) end--;
        if (end > from && this.byte(end - 1) === 0x0d) end--;
        return end - from;
      }
      if (chunk.length < CH) break;
    }
    throw new PdfError('PDF_TRUNCATED', 'stream without endstream', from);
  }
}
