import { createHash } from 'node:crypto';
import { PdfError } from './errors.js';
import { decodeStreamData, DEFAULT_MAX_DECODED } from './filters.js';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfStream, PdfString } from './objects.js';
import { DEFAULT_LIMITS, Parser, type ParseLimits } from './parser.js';
import { mapStrings, StandardSecurityHandler } from './crypt.js';
import { type ByteSource, openSource } from './source.js';

/** Where an object lives, according to the cross-reference data. */
export type XrefEntry =
  | { type: 'free'; gen: number }
  | { type: 'offset'; offset: number; gen: number }
  | { type: 'compressed'; stream: number; index: number };

/** One cross-reference section of the chain (newest first in `PdfReader.sections`). */
export interface XrefSection {
  /** Offset the `startxref` / `/Prev` pointed at. */
  offset: number;
  kind: 'table' | 'stream';
  trailer: PdfDict;
  /** For hybrid files: offset of the /XRefStm stream. */
  xrefStm?: number;
  /** Object numbers defined (in use or free) by this section. */
  objects: number[];
}

/** One revision of the file: what `startxref` said and where its `%%EOF` ends. */
export interface PdfRevision {
  /** Value written after `startxref`. */
  startxref: number;
  /** Offset of the `startxref` keyword. */
  startxrefOffset: number;
  /** Offset of `%%EOF`. */
  eofOffset: number;
  /** Exclusive end of the revision: after `%%EOF` and its end-of-line, if any. */
  end: number;
}

/** A page found in the page tree, with inherited attributes resolved. */
export interface PdfPage {
  index: number;
  ref: PdfRef;
  dict: PdfDict;
  mediaBox: number[];
  rotate: number;
  resources?: PdfDict;
}

/** A form field (terminal or not) from /AcroForm /Fields. */
export interface PdfField {
  ref: PdfRef;
  dict: PdfDict;
  /** Full name: partial names /T joined by '.'. */
  fullName: string;
  /** Field type /FT (inherited): Btn, Tx, Ch, Sig. */
  fieldType?: string;
  /** /V (inherited), not resolved. */
  value?: PdfObject;
  /** Widget annotations: the field itself when merged, or its /Kids without /T. */
  widgets: PdfRef[];
  /** Parent field, when not top level. */
  parent?: PdfRef;
}

/** Options of `PdfReader.open`. */
export interface ReaderOptions {
  /** Cap on the decoded size of a stream (default 256 MiB). */
  maxDecodedBytes?: number;
  /** Maximum number of cross-reference sections followed (default 4096). */
  maxSections?: number;
  /** Parser limits. */
  limits?: Partial<ParseLimits>;
  /** When the xref data is unusable, rebuild it by scanning for objects (reported in `repairs`). Default false. */
  repair?: boolean;
  /** Password of an encrypted PDF (user or owner); without it the empty user password is tried. */
  password?: string;
}

const OBJSTM_CACHE = 8;

const stats = { objectsLoaded: 0, bytesDecoded: 0 };
/** Process-wide diagnostics: objects loaded and stream bytes decoded by every reader (to check laziness). */
export function pdfReadStats(): { objectsLoaded: number; bytesDecoded: number } {
  return { ...stats };
}
/** Resets `pdfReadStats()`. */
export function resetPdfReadStats(): void {
  stats.objectsLoaded = 0;
  stats.bytesDecoded = 0;
}

/**
 * Lazy PDF reader over a random-access byte source: reads the trailer and the cross-reference chain
 * (classic tables, xref streams, hybrid /XRefStm, object streams) and loads objects only on demand.
 */
export class PdfReader {
  readonly src: ByteSource;
  /** Newest first. */
  readonly sections: XrefSection[] = [];
  /** Merged view: newest definition of each object. */
  readonly xref = new Map<number, XrefEntry>();
  /** The newest trailer (for xref streams: the stream dictionary). */
  trailer!: PdfDict;
  /** Offset the last `startxref` points at. */
  startxref = -1;
  /** PDF version from the header (e.g. "1.7"), and the header offset. */
  version = '';
  headerOffset = 0;
  /** What had to be repaired to read the file (empty when the structure is sound). */
  readonly repairs: string[] = [];
  private readonly cache = new Map<number, PdfObject>();
  private readonly objStmCache = new Map<number, { offsets: [number, number][]; data: Uint8Array; first: number }>();
  private readonly maxDecoded: number;
  private readonly limits: ParseLimits;
  private resolving = new Set<number>();
  /** Security handler of an encrypted file, when the password (or the empty one) opened it. */
  crypt: StandardSecurityHandler | undefined;
  /** Why an encrypted file could not be decrypted (missing or wrong password, unsupported handler). */
  encryptionError: PdfError | undefined;
  private encryptNum = -1;
  private revisionsCache: PdfRevision[] | undefined;

  private constructor(src: ByteSource, opts: ReaderOptions) {
    this.src = src;
    this.maxDecoded = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  /** Opens a PDF from bytes, a file path (read on demand) or a ByteSource. Throws PdfError. */
  static open(input: Uint8Array | string | ByteSource, opts: ReaderOptions = {}): PdfReader {
    const src = openSource(input);
    const r = new PdfReader(src, opts);
    try {
      r.readHeader();
      try {
        r.readXrefChain(opts.maxSections ?? 4096);
      } catch (err) {
        if (!opts.repair || !(err instanceof PdfError) || err.code === 'PDF_ENCRYPTED') throw err;
        r.rebuildXref(err);
      }
      r.setupEncryption(opts.password);
    } catch (err) {
      if (typeof input === 'string') src.close();
      throw err;
    }
    return r;
  }

  /** Size of the file in bytes. */
  get size(): number {
    return this.src.size;
  }

  /** Closes the underlying file. */
  close(): void {
    this.src.close();
  }

  /** Kind of the newest cross-reference section. */
  get xrefKind(): 'table' | 'stream' {
    return this.sections[0]?.kind ?? 'table';
  }

  /** True when the trailer has /Encrypt. */
  get isEncrypted(): boolean {
    return this.trailer.has('Encrypt');
  }

  /** True when the file is not encrypted, or its password (or the empty one) opened it. */
  get canDecrypt(): boolean {
    return !this.isEncrypted || this.crypt !== undefined;
  }

  private setupEncryption(password: string | undefined): void {
    const e = this.trailer.get('Encrypt');
    if (e === undefined) return;
    if (e instanceof PdfRef) this.encryptNum = e.num;
    try {
      const enc = e instanceof PdfRef ? this.getObject(e) : e;
      if (!(enc instanceof PdfDict)) throw new PdfError('PDF_ENCRYPTED', '/Encrypt is not a dictionary');
      const id = this.resolve(this.trailer.get('ID'));
      const id0 = id instanceof PdfArray && id.items[0] instanceof PdfString ? id.items[0].bytes : new Uint8Array(0);
      this.crypt = StandardSecurityHandler.open(enc, id0, password);
      this.cache.clear();
      this.objStmCache.clear();
    } catch (err) {
      this.encryptionError = err instanceof PdfError ? err : new PdfError('PDF_ENCRYPTED', (err as Error).message);
    }
  }

  /** Highest object number + 1 over the whole chain (trailer /Size, or more if the xref says so). */
  get nextObjectNumber(): number {
    let size = 0;
    for (const s of this.sections) {
      const v = s.trailer.get('Size');
      if (typeof v === 'number' && v > size) size = v;
    }
    for (const k of this.xref.keys()) if (k + 1 > size) size = k + 1;
    return size;
  }

  private readHeader(): void {
    const head = this.src.read(0, 1024);
    const s = Buffer.from(head).toString('latin1');
    const i = s.indexOf('%PDF-');
    if (i < 0) throw new PdfError('PDF_NOT_PDF', 'no %PDF- header in the first 1024 bytes');
    this.headerOffset = i;
    this.version = /^%PDF-(\d\.\d)/.exec(s.slice(i))?.[1] ?? '';
  }

  private findStartxref(): number {
    // Usually in the last 1 KiB; tolerate up to 64 KiB of junk after %%EOF (reported in `repairs`).
    let tailLen = Math.min(this.src.size, 4096);
    let tail = Buffer.from(this.src.read(this.src.size - tailLen, tailLen)).toString('latin1');
    let i = tail.lastIndexOf('startxref');
    if (i < 0 && this.src.size > tailLen) {
      tailLen = Math.min(this.src.size, 65536);
      tail = Buffer.from(this.src.read(this.src.size - tailLen, tailLen)).toString('latin1');
      i = tail.lastIndexOf('startxref');
      if (i >= 0) this.repairs.push(`${tailLen - i} bytes after the last startxref (junk after %%EOF ignored)`);
    }
    if (i < 0) throw new PdfError('PDF_TRUNCATED', 'no startxref near the end of the file (truncated?)');
    const m = /^startxref\s+(\d+)/.exec(tail.slice(i));
    if (!m) throw new PdfError('PDF_XREF_BROKEN', 'startxref without an offset', this.src.size - tailLen + i);
    return Number(m[1]);
  }

  private parser(pos: number): Parser {
    return new Parser(this.src, pos, {
      resolveLength: (ref) => {
        const v = this.resolve(ref);
        return typeof v === 'number' ? v : undefined;
      },
      loadRaw: (s) => this.src.read(s.dataStart, s.dataLength),
      decoder: (s, max) => this.decoder(s, max),
    }, this.limits);
  }

  private readXrefChain(maxSections: number): void {
    const start = this.findStartxref();
    this.startxref = start;
    const seen = new Set<number>();
    let off: number | undefined = start;
    const added = new Set<number>();
    while (off !== undefined) {
      if (seen.has(off)) throw new PdfError('PDF_XREF_LOOP', `cross-reference /Prev loop back to offset ${off}`);
      if (seen.size >= maxSections) throw new PdfError('PDF_LIMIT_EXCEEDED', `more than ${maxSections} cross-reference sections`);
      seen.add(off);
      if (!Number.isInteger(off) || off < 0 || off >= this.src.size) throw new PdfError('PDF_XREF_BROKEN', `cross-reference offset ${off} is outside the file`);
      const section = this.readSection(off, added);
      this.sections.push(section);
      const prev = section.trailer.get('Prev');
      off = typeof prev === 'number' ? prev : undefined;
    }
    this.trailer = this.sections[0]!.trailer;
    if (!(this.trailer.get('Root') instanceof PdfRef)) throw new PdfError('PDF_BAD_STRUCTURE', 'trailer has no /Root reference');
  }

  private readSection(off: number, added: Set<number>): XrefSection {
    const p = this.parser(off);
    const tok = p.peek();
    if (tok.t === 'kw' && tok.v === 'xref') {
      p.next();
      const entries = this.readTable(p, off);
      const t = p.next();
      if (!(t.t === 'kw' && t.v === 'trailer')) throw new PdfError('PDF_XREF_BROKEN', 'xref table without trailer', p.pos);
      const trailer = p.parseObject();
      if (!(trailer instanceof PdfDict)) throw new PdfError('PDF_XREF_BROKEN', 'trailer is not a dictionary', p.pos);
      const objects: number[] = [];
      const stm = trailer.get('XRefStm');
      let xrefStm: number | undefined;
      // Table entries in use first; then the hybrid /XRefStm; then free entries of the table.
      for (const [n, e] of entries) if (e.type !== 'free') this.addEntry(n, e, added, objects);
      if (typeof stm === 'number') {
        xrefStm = stm;
        try {
          const s = this.readXrefStream(stm);
          for (const [n, e] of s.entries) this.addEntry(n, e, added, objects);
        } catch (err) {
          this.repairs.push(`ignored unreadable /XRefStm at ${stm}: ${(err as Error).message}`);
        }
      }
      for (const [n, e] of entries) if (e.type === 'free') this.addEntry(n, e, added, objects);
      return { offset: off, kind: 'table', trailer, objects, ...(xrefStm !== undefined ? { xrefStm } : {}) };
    }
    const s = this.readXrefStream(off);
    const objects: number[] = [];
    for (const [n, e] of s.entries) this.addEntry(n, e, added, objects);
    return { offset: off, kind: 'stream', trailer: s.dict, objects };
  }

  private addEntry(n: number, e: XrefEntry, added: Set<number>, objects: number[]): void {
    objects.push(n);
    if (added.has(n)) return;
    added.add(n);
    this.xref.set(n, e);
  }

  private readTable(p: Parser, off: number): [number, XrefEntry][] {
    const out: [number, XrefEntry][] = [];
    for (;;) {
      const t = p.peek();
      if (t.t !== 'num') break;
      p.next();
      const c = p.next();
      if (c.t !== 'num' || !t.int || !c.int || t.v < 0 || c.v < 0) throw new PdfError('PDF_XREF_BROKEN', 'bad xref subsection header', t.start);
      if (out.length + c.v > 10_000_000) throw new PdfError('PDF_LIMIT_EXCEEDED', 'xref table too large', off);
      if (this.readTableFast(p, t.v, c.v, out)) continue;
      for (let i = 0; i < c.v; i++) {
        const a = p.next();
        const g = p.next();
        const k = p.next();
        if (a.t !== 'num' || g.t !== 'num' || k.t !== 'kw' || (k.v !== 'n' && k.v !== 'f')) {
          throw new PdfError('PDF_XREF_BROKEN', `bad xref entry for object ${t.v + i}`, a.start);
        }
        const num = t.v + i;
        if (k.v === 'n') {
          if (a.v === 0 && num === 0) continue;
          out.push([num, { type: 'offset', offset: a.v, gen: g.v }]);
        } else if (num !== 0) out.push([num, { type: 'free', gen: g.v }]);
      }
    }
    return out;
  }

  /**
   * A subsection of `count` entries in the standard 20-byte form ("oooooooooo ggggg n" + a two-byte end of line),
   * read straight from the bytes: the same entries the tokenizer loop reads, without a token per field. False
   * (nothing consumed) as soon as one entry has another form; the caller then reads the subsection token by token.
   */
  private readTableFast(p: Parser, first: number, count: number, out: [number, XrefEntry][]): boolean {
    let pos = p.pos;
    const head = p.src.read(pos, 4);
    let ws = 0;
    while (ws < head.length && (head[ws] === 0x20 || head[ws] === 0x0a || head[ws] === 0x0d)) ws++;
    if (ws === head.length) return false;
    pos += ws;
    const b = p.src.read(pos, count * 20);
    if (b.length !== count * 20) return false;
    const start = out.length;
    for (let i = 0, j = 0; i < count; i++, j += 20) {
      const kind = b[j + 17];
      const e1 = b[j + 18];
      const e2 = b[j + 19];
      if (b[j + 10] !== 0x20 || b[j + 16] !== 0x20 || (kind !== 0x6e && kind !== 0x66)
        || !((e1 === 0x20 && (e2 === 0x0a || e2 === 0x0d)) || (e1 === 0x0d && e2 === 0x0a))) {
        out.length = start;
        return false;
      }
      let o = 0;
      for (let q = j; q < j + 10; q++) {
        const d = b[q]! - 0x30;
        if (d < 0 || d > 9) { out.length = start; return false; }
        o = o * 10 + d;
      }
      let g = 0;
      for (let q = j + 11; q < j + 16; q++) {
        const d = b[q]! - 0x30;
        if (d < 0 || d > 9) { out.length = start; return false; }
        g = g * 10 + d;
      }
      const num = first + i;
      if (kind === 0x6e) {
        if (o === 0 && num === 0) continue;
        out.push([num, { type: 'offset', offset: o, gen: g }]);
      } else if (num !== 0) out.push([num, { type: 'free', gen: g }]);
    }
    p.seek(pos + count * 20);
    return true;
  }

  private readXrefStream(off: number): { dict: PdfDict; entries: [number, XrefEntry][] } {
    const p = this.parser(off);
    let ind;
    try {
      ind = p.parseIndirect();
    } catch (err) {
      if (err instanceof PdfError) throw new PdfError('PDF_XREF_BROKEN', `no cross-reference section at offset ${off}: ${err.message}`);
      throw err;
    }
    const s = ind.obj;
    if (!(s instanceof PdfStream) || s.dict.getName('Type') !== 'XRef') throw new PdfError('PDF_XREF_BROKEN', 'startxref does not point at an xref table or /Type /XRef stream', off);
    const d = s.dict;
    const W = d.get('W');
    if (!(W instanceof PdfArray) || W.length !== 3 || !W.items.every((x) => typeof x === 'number' && x >= 0 && x <= 8)) {
      throw new PdfError('PDF_XREF_BROKEN', 'xref stream /W is invalid', off);
    }
    const w = W.items as number[];
    const size = d.get('Size');
    if (typeof size !== 'number' || size < 0) throw new PdfError('PDF_XREF_BROKEN', 'xref stream has no /Size', off);
    const idx = d.get('Index');
    const ranges: number[] = idx instanceof PdfArray ? (idx.items.filter((x) => typeof x === 'number') as number[]) : [0, size];
    const data = decodeStreamData(d, s.raw(), 512 * 1024 * 1024);
    const rowLen = w[0]! + w[1]! + w[2]!;
    if (rowLen === 0) throw new PdfError('PDF_XREF_BROKEN', 'xref stream /W is all zero', off);
    const entries: [number, XrefEntry][] = [];
    let pos = 0;
    const field = (width: number, dflt: number): number => {
      if (width === 0) return dflt;
      let v = 0;
      for (let i = 0; i < width; i++) v = v * 256 + data[pos++]!;
      return v;
    };
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      const first = ranges[r]!;
      const count = ranges[r + 1]!;
      for (let i = 0; i < count; i++) {
        if (pos + rowLen > data.length) {
          this.repairs.push(`xref stream at ${off} is shorter than its /Index says`);
          return { dict: d, entries };
        }
        const type = field(w[0]!, 1);
        const f2 = field(w[1]!, 0);
        const f3 = field(w[2]!, 0);
        const num = first + i;
        if (type === 0) {
          if (num !== 0) entries.push([num, { type: 'free', gen: f3 }]);
        } else if (type === 1) entries.push([num, { type: 'offset', offset: f2, gen: f3 }]);
        else if (type === 2) entries.push([num, { type: 'compressed', stream: f2, index: f3 }]);
      }
    }
    return { dict: d, entries };
  }

  /** Rebuilds the xref by scanning the whole file for `N G obj` (only with `repair: true`). */
  private rebuildXref(cause: PdfError): void {
    this.repairs.push(`cross-reference data unusable (${cause.code}: ${cause.message}); rebuilt by scanning the file`);
    this.sections.length = 0;
    this.xref.clear();
    const CH = 1 << 20;
    let trailer: PdfDict | undefined;
    const re = /(\d{1,10})\s+(\d{1,5})\s+obj\b/g;
    for (let off = 0; off < this.src.size; off += CH - 64) {
      const chunk = Buffer.from(this.src.read(off, CH)).toString('latin1');
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(chunk))) {
        const at = off + m.index;
        if (m.index > CH - 64 && off + CH < this.src.size) break;
        if (m.index > 0 && /[0-9]/.test(chunk[m.index - 1]!)) continue;
        this.xref.set(Number(m[1]), { type: 'offset', offset: at, gen: Number(m[2]) });
      }
      let ti = chunk.lastIndexOf('trailer');
      while (ti >= 0) {
        try {
          const p = this.parser(off + ti + 7);
          const t = p.parseObject();
          if (t instanceof PdfDict && t.get('Root') instanceof PdfRef) {
            trailer = t;
            break;
          }
        } catch {
          /* keep looking */
        }
        ti = ti > 0 ? chunk.lastIndexOf('trailer', ti - 1) : -1;
      }
      if (off + CH >= this.src.size) break;
    }
    if (!trailer) {
      for (const [n] of this.xref) {
        const o = this.resolve(new PdfRef(n, 0));
        if (o instanceof PdfStream && o.dict.getName('Type') === 'XRef' && o.dict.get('Root') instanceof PdfRef) trailer = o.dict;
      }
    }
    if (!trailer) throw new PdfError('PDF_XREF_BROKEN', `${cause.message}; and no trailer found while rebuilding`);
    this.trailer = trailer;
    this.sections.push({ offset: -1, kind: 'table', trailer, objects: [...this.xref.keys()] });
  }

  /** Resolves a reference (or returns the object itself). Missing/free objects resolve to null. */
  resolve(o: PdfObject | undefined): PdfObject | undefined {
    if (o instanceof PdfRef) return this.getObject(o);
    return o;
  }

  /** Loads an object by reference; free or missing objects are `null` (as ISO 32000 says). */
  getObject(ref: PdfRef | number): PdfObject {
    const num = typeof ref === 'number' ? ref : ref.num;
    if (this.cache.has(num)) return this.cache.get(num)!;
    const e = this.xref.get(num);
    if (!e || e.type === 'free') return null;
    if (this.resolving.has(num)) throw new PdfError('PDF_BAD_STRUCTURE', `object ${num} refers to itself while being loaded`);
    if (this.resolving.size > 64) throw new PdfError('PDF_TOO_DEEP', 'too many nested object loads');
    this.resolving.add(num);
    try {
      let obj = e.type === 'offset' ? this.loadAt(num, e.offset, e.gen) : this.loadCompressed(num, e.stream, e.index);
      if (this.crypt && e.type === 'offset' && num !== this.encryptNum) obj = this.decryptObject(obj, num, e.gen);
      stats.objectsLoaded++;
      this.cache.set(num, obj);
      return obj;
    } finally {
      this.resolving.delete(num);
    }
  }

  private decryptObject(obj: PdfObject, num: number, gen: number): PdfObject {
    const h = this.crypt!;
    mapStrings(obj, (st) => new PdfString(h.decryptString(num, gen, st.bytes), st.hex, st.start, st.end));
    if (obj instanceof PdfStream) {
      const type = obj.dict.getName('Type');
      if (type === 'XRef' || (type === 'Metadata' && !h.encryptMetadata)) return obj;
      const src = this.src;
      return new PdfStream(obj.dict, undefined, obj.dataStart, obj.dataLength, (s) => h.decryptStream(num, gen, src.read(s.dataStart, s.dataLength)), this.decoder, obj.start, obj.end);
    }
    return obj;
  }

  private readonly decoder = (s: PdfStream, max?: number): Uint8Array => {
    const d = decodeStreamData(s.dict, s.raw(), Math.min(max ?? this.maxDecoded, this.maxDecoded), (o) => this.resolve(o));
    stats.bytesDecoded += d.length;
    return d;
  };

  /** Byte range of an uncompressed object in the file (`N G obj` to after `endobj`), or undefined. */
  objectSpan(ref: PdfRef | number): { start: number; end: number } | undefined {
    const num = typeof ref === 'number' ? ref : ref.num;
    const e = this.xref.get(num);
    if (!e || e.type !== 'offset') return undefined;
    const ind = this.parser(e.offset).parseIndirect();
    return { start: ind.start, end: ind.end };
  }

  private loadAt(num: number, offset: number, gen: number): PdfObject {
    if (offset < 0 || offset >= this.src.size) throw new PdfError('PDF_XREF_BROKEN', `object ${num} offset ${offset} is outside the file`);
    let ind;
    try {
      ind = this.parser(offset).parseIndirect();
    } catch (err) {
      if (err instanceof PdfError && err.code === 'PDF_SYNTAX') throw new PdfError('PDF_XREF_BROKEN', `object ${num} ${gen} is not at offset ${offset}: ${err.message}`);
      throw err;
    }
    if (ind.num !== num || ind.gen !== gen) {
      throw new PdfError('PDF_OBJECT_MISMATCH', `xref says object ${num} ${gen} is at ${offset}, found ${ind.num} ${ind.gen}`, offset);
    }
    return ind.obj;
  }

  private loadCompressed(num: number, stmNum: number, index: number): PdfObject {
    let os = this.objStmCache.get(stmNum);
    if (!os) {
      const s = this.getObject(stmNum);
      if (!(s instanceof PdfStream) || s.dict.getName('Type') !== 'ObjStm') throw new PdfError('PDF_BAD_STRUCTURE', `object ${num} is said to be in object stream ${stmNum}, which is not one`);
      const n = s.dict.get('N');
      const first = s.dict.get('First');
      if (typeof n !== 'number' || typeof first !== 'number' || n < 0 || n > 1_000_000 || first < 0) throw new PdfError('PDF_BAD_STRUCTURE', `object stream ${stmNum} has bad /N or /First`);
      const data = s.decode();
      const hp = new Parser(new BufferSourceLite(data), 0, {}, this.limits);
      const offsets: [number, number][] = [];
      for (let i = 0; i < n; i++) {
        const a = hp.next();
        const b = hp.next();
        if (a.t !== 'num' || b.t !== 'num') throw new PdfError('PDF_BAD_STRUCTURE', `object stream ${stmNum} header is truncated`);
        offsets.push([a.v, b.v]);
      }
      os = { offsets, data, first };
      this.objStmCache.set(stmNum, os);
      if (this.objStmCache.size > OBJSTM_CACHE) this.objStmCache.delete(this.objStmCache.keys().next().value as number);
    }
    const entry = os.offsets[index];
    if (!entry || entry[0] !== num) {
      // Tolerate a wrong index: look the number up.
      const found = os.offsets.find((x) => x[0] === num);
      if (!found) throw new PdfError('PDF_OBJECT_NOT_FOUND', `object ${num} is not in object stream ${stmNum}`);
      return new Parser(new BufferSourceLite(os.data), os.first + found[1], {}, this.limits).parseObject();
    }
    return new Parser(new BufferSourceLite(os.data), os.first + entry[1], {}, this.limits).parseObject();
  }

  /** The document catalog (/Root). */
  get catalogRef(): PdfRef {
    return this.trailer.get('Root') as PdfRef;
  }
  get catalog(): PdfDict {
    const c = this.getObject(this.catalogRef);
    if (!(c instanceof PdfDict)) throw new PdfError('PDF_BAD_STRUCTURE', `catalog ${this.catalogRef} is not a dictionary`);
    return c;
  }

  /** Resolved dictionary value, or undefined. */
  dict(o: PdfObject | undefined): PdfDict | undefined {
    const r = this.resolve(o);
    return r instanceof PdfDict ? r : r instanceof PdfStream ? r.dict : undefined;
  }
  /** Resolved array value, or undefined. */
  array(o: PdfObject | undefined): PdfArray | undefined {
    const r = this.resolve(o);
    return r instanceof PdfArray ? r : undefined;
  }

  /** Number of pages (/Count of the page tree root). */
  get pageCount(): number {
    const pages = this.dict(this.catalog.get('Pages'));
    const c = pages?.get('Count');
    return typeof c === 'number' ? c : 0;
  }

  /** Page `index` (0-based), found by descending the page tree with /Count (does not load other pages). */
  getPage(index: number): PdfPage {
    let nodeRef = this.catalog.get('Pages');
    const inherited: { mediaBox?: number[]; rotate?: number; resources?: PdfDict } = {};
    let remaining = index;
    const seen = new Set<number>();
    for (let depth = 0; depth < 64; depth++) {
      if (!(nodeRef instanceof PdfRef)) throw new PdfError('PDF_BAD_STRUCTURE', 'page tree node is not an indirect reference');
      if (seen.has(nodeRef.num)) throw new PdfError('PDF_BAD_STRUCTURE', `page tree loop at ${nodeRef}`);
      seen.add(nodeRef.num);
      const node = this.dict(nodeRef);
      if (!node) throw new PdfError('PDF_BAD_STRUCTURE', `page tree node ${nodeRef} is missing`);
      this.inherit(node, inherited);
      const type = node.getName('Type');
      if (type === 'Page' || (!node.has('Kids') && type !== 'Pages')) {
        if (remaining !== 0) break;
        return this.makePage(index, nodeRef, node, inherited);
      }
      const kids = this.array(node.get('Kids'));
      if (!kids) throw new PdfError('PDF_BAD_STRUCTURE', `page tree node ${nodeRef} has no /Kids`);
      let next: PdfObject | undefined;
      for (const kid of kids.items) {
        const kd = this.dict(kid);
        if (!kd) continue;
        const isLeaf = kd.getName('Type') === 'Page' || !kd.has('Kids');
        const cnt = isLeaf ? 1 : Number(this.resolve(kd.get('Count')) ?? 0);
        if (remaining < cnt) {
          next = kid;
          break;
        }
        remaining -= cnt;
      }
      if (next === undefined) break;
      nodeRef = next;
    }
    throw new PdfError('PDF_BAD_STRUCTURE', `page ${index + 1} not found (document has ${this.pageCount} pages)`);
  }

  private inherit(node: PdfDict, inh: { mediaBox?: number[]; rotate?: number; resources?: PdfDict }): void {
    const mb = this.array(node.get('MediaBox'));
    if (mb && mb.items.every((x) => typeof x === 'number')) inh.mediaBox = mb.items as number[];
    const rot = this.resolve(node.get('Rotate'));
    if (typeof rot === 'number') inh.rotate = rot;
    const res = this.dict(node.get('Resources'));
    if (res) inh.resources = res;
  }

  private makePage(index: number, ref: PdfRef, dict: PdfDict, inh: { mediaBox?: number[]; rotate?: number; resources?: PdfDict }): PdfPage {
    return { index, ref, dict, mediaBox: inh.mediaBox ?? [0, 0, 612, 792], rotate: inh.rotate ?? 0, ...(inh.resources ? { resources: inh.resources } : {}) };
  }

  /** All pages in order (walks the whole tree with loop detection). */
  *pages(): Generator<PdfPage> {
    const root = this.catalog.get('Pages');
    const seen = new Set<number>();
    let index = 0;
    const self = this;
    function* walk(ref: PdfObject | undefined, inh: { mediaBox?: number[]; rotate?: number; resources?: PdfDict }, depth: number): Generator<PdfPage> {
      if (!(ref instanceof PdfRef) || depth > 64 || seen.has(ref.num)) return;
      seen.add(ref.num);
      const node = self.dict(ref);
      if (!node) return;
      const mine = { ...inh };
      self.inherit(node, mine);
      if (node.getName('Type') === 'Page' || !node.has('Kids')) {
        yield self.makePage(index++, ref, node, mine);
        return;
      }
      for (const kid of self.array(node.get('Kids'))?.items ?? []) yield* walk(kid, mine, depth + 1);
    }
    yield* walk(root, {}, 0);
  }

  /** The /AcroForm dictionary (indirect or inline), if any. */
  get acroForm(): PdfDict | undefined {
    return this.dict(this.catalog.get('AcroForm'));
  }

  /** Every field of /AcroForm /Fields (depth-first, parents before kids), with inherited /FT and /V. */
  fields(): PdfField[] {
    const out: PdfField[] = [];
    const af = this.acroForm;
    if (!af) return out;
    const seen = new Set<number>();
    const walk = (ref: PdfObject, prefix: string, ft: string | undefined, v: PdfObject | undefined, parent: PdfRef | undefined, depth: number): void => {
      if (!(ref instanceof PdfRef) || seen.has(ref.num) || depth > 32 || out.length > 100_000) return;
      seen.add(ref.num);
      const d = this.dict(ref);
      if (!d) return;
      const t = this.resolve(d.get('T'));
      const partial = t instanceof PdfString ? t.text() : undefined;
      const fullName = partial === undefined ? prefix : prefix ? `${prefix}.${partial}` : partial;
      const myFt = d.getName('FT') ?? ft;
      const myV = d.has('V') ? d.get('V') : v;
      const kids = this.array(d.get('Kids'))?.items ?? [];
      const widgetKids = kids.filter((k) => {
        const kd = this.dict(k);
        return kd && !kd.has('T');
      }) as PdfRef[];
      const fieldKids = kids.filter((k) => {
        const kd = this.dict(k);
        return kd && kd.has('T');
      });
      const widgets = d.getName('Subtype') === 'Widget' || (kids.length === 0 && d.has('Rect')) ? [ref, ...widgetKids] : widgetKids;
      const f: PdfField = { ref, dict: d, fullName, widgets };
      if (myFt !== undefined) f.fieldType = myFt;
      if (myV !== undefined) f.value = myV;
      if (parent) f.parent = parent;
      out.push(f);
      for (const k of fieldKids) walk(k, fullName, myFt, myV, ref, depth + 1);
    };
    for (const f of this.array(af.get('Fields'))?.items ?? []) walk(f, '', undefined, undefined, undefined, 0);
    return out;
  }

  /**
   * The revisions of the file, oldest first: each `startxref N %%EOF` found by streaming through the
   * file (cached). The last revision's end may be before the file size when junk follows.
   */
  revisions(): PdfRevision[] {
    if (this.revisionsCache) return this.revisionsCache;
    const out: PdfRevision[] = [];
    const CH = 1 << 20;
    const OVER = 64;
    const size = this.src.size;
    for (let off = 0; off < size; off += CH) {
      const chunk = Buffer.from(this.src.read(off, CH + OVER));
      let i = chunk.indexOf('%%EOF');
      while (i >= 0 && i < CH) {
        const eofOffset = off + i;
        let end = eofOffset + 5;
        const c1 = end < size ? this.src.read(end, 2) : new Uint8Array(0);
        if (c1[0] === 0x0d) end += c1[1] === 0x0a ? 2 : 1;
        else if (c1[0] === 0x0a) end += 1;
        // look back for "startxref <n>"
        const backLen = Math.min(eofOffset, 64);
        const back = Buffer.from(this.src.read(eofOffset - backLen, backLen)).toString('latin1');
        const m = /startxref\s+(\d+)\s*$/.exec(back);
        if (m) {
          out.push({ startxref: Number(m[1]), startxrefOffset: eofOffset - backLen + m.index, eofOffset, end });
        }
        i = chunk.indexOf('%%EOF', i + 5);
      }
    }
    this.revisionsCache = out;
    return out;
  }

  /** SHA-256 (or another node:crypto algorithm) of byte ranges of the file, streamed. */
  digestRanges(ranges: [number, number][], algorithm = 'sha256'): Uint8Array {
    const h = createHash(algorithm);
    const CH = 1 << 20;
    for (const [start, len] of ranges) {
      for (let p = start; p < start + len; p += CH) h.update(this.src.read(p, Math.min(CH, start + len - p)));
    }
    return new Uint8Array(h.digest());
  }
}

/** Minimal in-memory ByteSource for object-stream data. */
class BufferSourceLite implements ByteSource {
  readonly size: number;
  constructor(private readonly b: Uint8Array) {
    this.size = b.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.b.subarray(Math.max(0, offset), Math.min(this.size, offset + length));
  }
  close(): void {}
}

export { PdfName };
