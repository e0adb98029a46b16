/**
 * The revision-aware, tolerant view of a PDF that a verifier needs: the chain of cross-reference sections
 * (classic tables, xref streams, hybrids) grouped into revisions (each ending after its %%EOF), and object
 * resolution "as of revision k" the way viewers do it — the newest definition through the newest
 * cross-reference data of that revision, object streams included (an object stream redefined in a later
 * revision changes every object it holds).
 *
 * Tolerant mode: nothing throws on hostile input. Repairs, duplicate keys, invalid tokens, unreadable objects
 * and exhausted budgets become `findings` (severity 'error' when the structure cannot be trusted), and
 * invalid syntax is never read as a value: an object that does not parse is `undefined` and listed in
 * `invalidObjects`. Budgets (string length, decoded stream bytes, object count, parse work) are checked before
 * allocation.
 */
import { PdfError } from './errors.js';
import { decodeStreamData } from './filters.js';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfStream } from './objects.js';
import { Parser, type ParseLimits, DEFAULT_LIMITS } from './parser.js';
import { type ByteSource, BufferSource, openSource } from './source.js';
import { byteAt, findInSource, lastInSource } from './search.js';

/** A fact found while reading (same shape as a verifier finding). */
export interface PdfFinding {
  code: string;
  severity: 'info' | 'warning' | 'error';
  message: string;
  where?: string;
}

/** A cross-reference entry of one revision. */
export type HistoryEntry =
  | { type: 'n'; offset: number; gen: number }
  | { type: 'c'; stm: number; idx: number }
  | { type: 'f'; gen: number };

/** One revision: the cross-reference sections written by one incremental update. */
export interface HistoryRevision {
  index: number;
  /** Offset of this revision's (newest) cross-reference section. */
  startxref: number;
  /** Exclusive end: after %%EOF and an optional EOL. */
  end: number;
  entries: Map<number, HistoryEntry>;
  trailer: PdfDict;
}

/** Work and memory budgets of a history (hostile files end in a finding, not in allocation). */
export interface HistoryBudgets {
  /** Longest string (decoded bytes), e.g. a signature /Contents. Default 8 MiB. */
  maxStringBytes: number;
  /** Largest decoded size of one stream the reader decodes (xref/object streams, DSS items). Default 64 MiB. */
  maxStreamBytes: number;
  /** Total decoded bytes over the whole file. Default 256 MiB. */
  maxDecodedTotal: number;
  /** Cross-reference entries over all sections. Default 400 000. */
  maxObjects: number;
  /** Object parses (work budget). Default 500 000. */
  maxParses: number;
  /** Cross-reference sections followed. Default 4096. */
  maxSections: number;
}

export const DEFAULT_BUDGETS: HistoryBudgets = {
  maxStringBytes: 8 * 1024 * 1024,
  maxStreamBytes: 64 * 1024 * 1024,
  maxDecodedTotal: 256 * 1024 * 1024,
  maxObjects: 400_000,
  maxParses: 500_000,
  maxSections: 4096,
};

interface Section {
  offset: number;
  entries: Map<number, HistoryEntry>;
  trailer: PdfDict;
  parseEnd: number;
}

const MAX_OBJECT_NUMBER = 10_000_000;
const FREE0: HistoryEntry = Object.freeze({ type: 'f', gen: 0 }) as HistoryEntry;
const MAX_CACHED = 100_000;

class BudgetError extends Error {}

/**
 * A PDF as a sequence of revisions. `get(ref, k)` is object `ref` as a viewer of the file truncated after
 * revision k would read it; `view(k)` binds k.
 */
export class PdfHistory {
  readonly revisions: HistoryRevision[] = [];
  readonly findings: PdfFinding[] = [];
  /** True when the cross-reference chain was unusable and objects were found by scanning. */
  repaired = false;
  /** Objects (as "num@definingRevisionKey") whose definition is not valid PDF: they resolve to undefined. */
  readonly invalidObjects = new Set<string>();
  readonly budgets: HistoryBudgets;
  private readonly limits: ParseLimits;
  private readonly cache = new Map<string, PdfObject | undefined>();
  private readonly objStms = new Map<string, { src: ByteSource; index: { num: number; off: number }[]; first: number } | null>();
  private scanIndex: Map<number, number> | undefined;
  private resolving = new Set<string>();
  private parses = 0;
  private decoded = 0;
  private entryCount = 0;

  /** Opens bytes, a file path or a ByteSource. Never throws on bad PDF structure (see `findings`). */
  static open(input: Uint8Array | string | ByteSource, budgets: Partial<HistoryBudgets> = {}): PdfHistory {
    return new PdfHistory(openSource(input), budgets);
  }

  constructor(readonly src: ByteSource, budgets: Partial<HistoryBudgets> = {}) {
    this.budgets = { ...DEFAULT_BUDGETS, ...budgets };
    this.limits = { ...DEFAULT_LIMITS, maxTokenBytes: this.budgets.maxStringBytes };
    try {
      this.load();
    } catch (e) {
      this.finding(e instanceof BudgetError || (e instanceof PdfError && e.code === 'PDF_LIMIT_EXCEEDED') ? 'PDF_LIMIT_EXCEEDED' : 'PDF_UNREADABLE', 'error', `cannot read the PDF structure: ${(e as Error).message}`);
    }
  }

  /** Size of the file. */
  get size(): number {
    return this.src.size;
  }

  /** Closes the source. */
  close(): void {
    this.src.close();
  }

  /** Records a finding (deduplicated, at most 200). */
  finding(code: string, severity: PdfFinding['severity'], message: string, where?: string): void {
    if (this.findings.length > 200) return;
    if (this.findings.some((f) => f.code === code && f.message === message)) return;
    this.findings.push(where === undefined ? { code, severity, message } : { code, severity, message, where });
  }

  private endstreamMemo: { from: number; at: number }[] = [];
  /**
   * First `endstream` at or after `from`, memoised: a hostile file with many streams whose /Length is wrong
   * costs one pass over the file, not one pass per stream.
   */
  private findEndstream(from: number): number {
    for (const m of this.endstreamMemo) if (from >= m.from && (m.at < 0 || from <= m.at)) return m.at;
    const at = findInSource(this.src, 'endstream', from);
    this.endstreamMemo.push({ from, at });
    if (this.endstreamMemo.length > 64) this.endstreamMemo.shift();
    return at;
  }

  /** Bytes [start, end) of the file (a view or a copy; never modify it). */
  bytes(start: number, end: number): Uint8Array {
    return this.src.read(start, Math.max(0, end - start));
  }
  /** The byte at `i`, or -1. */
  byteAt(i: number): number {
    return byteAt(this.src, i);
  }
  /** First offset of `needle` in [from, to), or -1. */
  find(needle: string, from: number, to?: number): number {
    return findInSource(this.src, needle, from, to);
  }

  /** Definitions (see `definitionKey`) that parsed, but with syntax viewers read in different ways (a key without value). */
  readonly ambiguousSyntax = new Set<string>();
  private parsingKey: string | undefined;

  /** Revision whose view is being parsed (an indirect /Length is resolved as of that revision). */
  private parsingRev: number | undefined;
  /** Indirect /Length objects used by cached stream definitions: key -> [length object number, its definition key]. */
  private readonly lengthDeps = new Map<string, [number, string | undefined]>();

  private parser(src: ByteSource, pos: number, num?: number): Parser {
    return new Parser(src, pos, {
      resolveLength: (r) => {
        const rev = this.parsingRev ?? this.revisions.length - 1;
        if (this.parsingKey) this.lengthDeps.set(this.parsingKey, [r.num, this.definitionKey(r.num, rev)]);
        const l = this.get(r, rev);
        return typeof l === 'number' ? l : undefined;
      },
      loadRaw: (s) => this.src.read(s.dataStart, s.dataLength),
      decoder: (s, max) => this.streamData(s, max),
      findEndstream: src === this.src ? (from) => this.findEndstream(from) : undefined,
      onFinding: (code, message, offset) => {
        if ((code === 'MISSING_VALUE' || code === 'BAD_NAME_ESCAPE') && this.parsingKey) this.ambiguousSyntax.add(this.parsingKey);
        this.finding(code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'INVALID_TOKEN', 'warning', `${message}${num !== undefined ? ` in object ${num}` : ''}`, src === this.src ? `offset ${offset}` : num !== undefined ? `${num} 0 R` : undefined);
      },
    }, this.limits);
  }

  private load(): void {
    const s = this.src;
    if (findInSource(s, '%PDF-', 0, Math.min(s.size, 1024)) < 0) this.finding('PDF_HEADER_MISSING', 'warning', 'no %PDF- header in the first 1024 bytes');
    const sx = lastInSource(s, 'startxref', Math.max(0, s.size - (1 << 20)));
    let head = -1;
    if (sx >= 0) {
      const m = /^startxref\s+(\d+)/.exec(Buffer.from(s.read(sx, 64)).toString('latin1'));
      if (m) head = Number(m[1]);
    }
    const sections: Section[] = [];
    if (head >= 0) {
      const seen = new Set<number>();
      let off: number | undefined = head;
      while (off !== undefined) {
        if (seen.has(off)) {
          this.finding('XREF_PREV_CYCLE', 'error', `cross-reference /Prev chain loops back to offset ${off}`, `offset ${off}`);
          break;
        }
        if (sections.length >= this.budgets.maxSections) {
          this.finding('XREF_TOO_MANY_SECTIONS', 'error', `more than ${this.budgets.maxSections} cross-reference sections`);
          break;
        }
        seen.add(off);
        let sec: Section;
        try {
          sec = this.readSection(off);
        } catch (e) {
          if (e instanceof BudgetError) throw e;
          this.finding('XREF_BROKEN', 'error', `cross-reference section at offset ${off} unreadable: ${(e as Error).message}`, `offset ${off}`);
          break;
        }
        sections.push(sec);
        const prev = sec.trailer.get('Prev');
        off = typeof prev === 'number' && Number.isInteger(prev) && prev >= 0 ? prev : undefined;
      }
    } else {
      this.finding('STARTXREF_MISSING', 'error', 'no usable startxref near the end of the file');
    }
    if (sections.length === 0) {
      this.reconstruct();
      return;
    }
    // Group newest -> oldest into revisions; a /Prev pointing forward (linearized files) stays in the same revision.
    const groups: Section[][] = [];
    for (const sec of sections) {
      const cur = groups[groups.length - 1];
      if (cur && sec.offset > cur[cur.length - 1]!.offset) cur.push(sec);
      else groups.push([sec]);
    }
    groups.reverse();
    let lastEnd = -1;
    groups.forEach((g, i) => {
      let entries: Map<number, HistoryEntry>;
      if (g.length === 1) entries = g[0]!.entries;
      else {
        entries = new Map<number, HistoryEntry>();
        for (const sec of [...g].reverse()) for (const [k, v] of sec.entries) entries.set(k, v);
      }
      let end = -1;
      for (const sec of g) end = Math.max(end, this.revisionEnd(sec.parseEnd));
      if (end <= lastEnd) {
        this.finding('REVISION_ORDER', 'warning', `revision ${i} does not end after revision ${i - 1}`, `revision ${i}`);
        end = Math.max(end, lastEnd);
      }
      lastEnd = end;
      this.revisions.push({ index: i, startxref: g[0]!.offset, end, entries, trailer: g[0]!.trailer });
    });
    const last = this.revisions[this.revisions.length - 1]!;
    if (last.end < s.size) {
      const tail = s.read(last.end, Math.min(4096, s.size - last.end));
      const junk = [...tail].some((c) => !(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x00));
      this.finding('DATA_AFTER_LAST_EOF', junk ? 'warning' : 'info', `${s.size - last.end} byte(s) after the last %%EOF are not part of any revision`, `offset ${last.end}`);
    }
  }

  private revisionEnd(from: number): number {
    const e = findInSource(this.src, '%%EOF', from);
    if (e < 0) {
      this.finding('EOF_MARKER_MISSING', 'warning', `no %%EOF after the cross-reference section ending at ${from}`);
      return this.src.size;
    }
    let end = e + 5;
    if (this.byteAt(end) === 0x0d) end++;
    if (this.byteAt(end) === 0x0a) end++;
    return end;
  }

  private countEntries(n: number, off: number): void {
    this.entryCount += n;
    if (this.entryCount > this.budgets.maxObjects) throw new BudgetError(`more than ${this.budgets.maxObjects} cross-reference entries (section at ${off})`);
  }

  private readSection(off: number): Section {
    const s = this.src;
    if (off >= s.size) throw new PdfError('PDF_XREF_BROKEN', 'offset beyond end of file', off);
    const p = this.parser(s, off);
    const tok = p.peek();
    if (!(tok.t === 'kw' && tok.v === 'xref')) return this.readXrefStream(off);
    p.next();
    const entries = new Map<number, HistoryEntry>();
    for (;;) {
      const a = p.peek();
      if (a.t === 'kw' && a.v === 'trailer') break;
      p.next();
      const b = p.next();
      if (a.t !== 'num' || b.t !== 'num' || !a.int || !b.int || a.v < 0 || b.v < 0) throw new PdfError('PDF_XREF_BROKEN', 'bad xref subsection header', p.pos);
      const start = a.v;
      const count = b.v;
      // Checked before anything is read or allocated: each entry takes at least 18 bytes of the file.
      if (start + count > MAX_OBJECT_NUMBER || count * 18 > s.size - p.pos) throw new PdfError('PDF_XREF_BROKEN', `xref subsection of ${count} entries does not fit`, p.pos);
      this.countEntries(count, off);
      p.pos = this.readTableEntries(p.pos, start, count, entries, off);
      p.seek(p.pos);
    }
    p.next();
    const trailer = p.parseObject();
    if (!(trailer instanceof PdfDict)) throw new PdfError('PDF_XREF_BROKEN', 'trailer is not a dictionary', p.pos);
    const parseEnd = p.pos;
    const xs = trailer.get('XRefStm');
    if (typeof xs === 'number' && Number.isInteger(xs) && xs >= 0 && xs < s.size) {
      try {
        const hs = this.readXrefStream(xs);
        for (const [k, v] of hs.entries) if (!entries.has(k)) entries.set(k, v);
      } catch (e) {
        if (e instanceof BudgetError) throw e;
        this.finding('XREF_STREAM_BROKEN', 'warning', `hybrid /XRefStm at ${xs} unreadable: ${(e as Error).message}`);
      }
    }
    return { offset: off, entries, trailer, parseEnd };
  }

  /** Reads `count` classic entries ("oooooooooo ggggg n") from `pos` with a byte scanner; returns the end. */
  private readTableEntries(pos: number, start: number, count: number, entries: Map<number, HistoryEntry>, off: number): number {
    const CH = 1 << 20;
    let buf = this.src.read(pos, CH);
    let bufStart = pos;
    const at = (i: number): number => {
      if (i - bufStart >= buf.length) {
        buf = this.src.read(i, CH);
        bufStart = i;
      }
      return buf[i - bufStart] ?? -1;
    };
    let i = pos;
    const ws = (): void => {
      for (let c = at(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00; c = at(i)) i++;
    };
    const digits = (): number => {
      let v = 0;
      let n = 0;
      for (let c = at(i); c >= 0x30 && c <= 0x39 && n < 12; c = at(i)) {
        v = v * 10 + c - 0x30;
        i++;
        n++;
      }
      return n === 0 ? -1 : v;
    };
    for (let k = 0; k < count; k++) {
      // Fast path: the fixed form "oooooooooo ggggg n" read straight from the buffer.
      ws();
      let j = i - bufStart;
      if (j + 20 > buf.length) {
        buf = this.src.read(i, CH);
        bufStart = i;
        j = 0;
      }
      if (j + 20 <= buf.length && buf[j + 10] === 0x20 && buf[j + 16] === 0x20 && (buf[j + 17] === 0x6e || buf[j + 17] === 0x66)) {
        let o = 0;
        let g = 0;
        let ok = true;
        for (let q = 0; q < 10; q++) {
          const c = buf[j + q]! - 0x30;
          if (c < 0 || c > 9) ok = false;
          o = o * 10 + c;
        }
        for (let q = 11; q < 16; q++) {
          const c = buf[j + q]! - 0x30;
          if (c < 0 || c > 9) ok = false;
          g = g * 10 + c;
        }
        if (ok) {
          const num = start + k;
          const e: HistoryEntry = buf[j + 17] === 0x6e ? { type: 'n', offset: o, gen: g } : g === 0 ? FREE0 : { type: 'f', gen: g };
          if (entries.has(num)) this.duplicateEntry(num, entries.get(num)!, e, off);
          else entries.set(num, e);
          i += 18;
          continue;
        }
      }
      const o = digits();
      ws();
      const g = digits();
      ws();
      const t = at(i);
      i++;
      if (o < 0 || g < 0 || (t !== 0x6e && t !== 0x66)) throw new PdfError('PDF_XREF_BROKEN', `bad xref entry for object ${start + k}`, i);
      const num = start + k;
      const e: HistoryEntry = t === 0x6e ? { type: 'n', offset: o, gen: g } : { type: 'f', gen: g };
      if (entries.has(num)) {
        this.duplicateEntry(num, entries.get(num)!, e, off);
        continue;
      }
      entries.set(num, e);
    }
    return i;
  }

  private readXrefStream(off: number): Section {
    const p = this.parser(this.src, off);
    const ind = p.parseIndirect();
    const value = ind.obj;
    if (!(value instanceof PdfStream) || value.dict.getName('Type') !== 'XRef') throw new PdfError('PDF_XREF_BROKEN', 'not a cross-reference table or stream', off);
    const d = value.dict;
    const W = d.get('W');
    if (!(W instanceof PdfArray) || W.items.length < 3 || !W.items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 8)) {
      throw new PdfError('PDF_XREF_BROKEN', 'bad /W in xref stream', off);
    }
    const w = W.items as number[];
    const size = d.get('Size');
    const idx = d.get('Index');
    const ranges: number[] = [];
    if (idx instanceof PdfArray) for (const x of idx.items) ranges.push(typeof x === 'number' ? x : 0);
    else ranges.push(0, typeof size === 'number' ? size : 0);
    const rowLen = w[0]! + w[1]! + w[2]!;
    if (rowLen === 0) throw new PdfError('PDF_XREF_BROKEN', 'xref stream /W sums to 0', off);
    let rows = 0;
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      if (ranges[r]! < 0 || ranges[r + 1]! < 0 || ranges[r]! + ranges[r + 1]! > MAX_OBJECT_NUMBER) throw new PdfError('PDF_XREF_BROKEN', 'bad /Index in xref stream', off);
      rows += ranges[r + 1]!;
    }
    this.countEntries(rows, off);
    const data = this.streamData(value, Math.min(this.budgets.maxStreamBytes, rows * rowLen + 1024));
    const entries = new Map<number, HistoryEntry>();
    let q = 0;
    const field = (n: number): number => {
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + data[q++]!;
      return v;
    };
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      const start = ranges[r]!;
      const count = ranges[r + 1]!;
      for (let i = 0; i < count; i++) {
        if (q + rowLen > data.length) break;
        const t = w[0] === 0 ? 1 : field(w[0]!);
        const f2 = field(w[1]!);
        const f3 = field(w[2]!);
        const num = start + i;
        const e: HistoryEntry | undefined = t === 0 ? { type: 'f', gen: f3 } : t === 1 ? { type: 'n', offset: f2, gen: f3 } : t === 2 ? { type: 'c', stm: f2, idx: f3 } : undefined;
        if (!e) continue;
        if (entries.has(num)) {
          this.duplicateEntry(num, entries.get(num)!, e, off);
          continue;
        }
        entries.set(num, e);
      }
    }
    return { offset: off, entries, trailer: d, parseEnd: ind.end };
  }

  private duplicateEntry(num: number, a: HistoryEntry, b: HistoryEntry, off: number): void {
    if (JSON.stringify(a) === JSON.stringify(b) || (a.type === 'f' && b.type === 'f')) return;
    this.finding('XREF_DUPLICATE_ENTRY', 'error', `cross-reference section at ${off} defines object ${num} twice with different entries`, `${num} 0 R`);
  }

  /** Rebuilds a single-revision table by scanning for "N G obj" (repair mode, reported as an error). */
  private reconstruct(): void {
    this.repaired = true;
    this.finding('XREF_REPAIRED', 'error', 'cross-reference data unusable: objects located by scanning the file; revision boundaries and modification analysis are unreliable');
    const idx = this.scan();
    const entries = new Map<number, HistoryEntry>();
    for (const [num, offset] of idx) entries.set(num, { type: 'n', offset, gen: 0 });
    let trailer: PdfDict | undefined;
    const t = lastInSource(this.src, 'trailer', 0);
    if (t >= 0) {
      try {
        const v = this.parser(this.src, t + 7).parseObject();
        if (v instanceof PdfDict) trailer = v;
      } catch {
        /* no usable trailer */
      }
    }
    const rev: HistoryRevision = { index: 0, startxref: -1, end: this.src.size, entries, trailer: trailer ?? new PdfDict() };
    this.revisions.push(rev);
    if (!trailer || !(trailer.get('Root') instanceof PdfRef)) {
      for (const [num] of idx) {
        const o = this.get(num, 0);
        if (o instanceof PdfDict && o.getName('Type') === 'Catalog') {
          rev.trailer = new PdfDict([['Root', new PdfRef(num, 0)]]);
          break;
        }
      }
    }
  }

  /** Object number -> offset of its last "N G obj" in the file (each "obj" found natively, then walked back). */
  private scan(): Map<number, number> {
    if (this.scanIndex) return this.scanIndex;
    const idx = new Map<number, number>();
    const CH = 1 << 20;
    const OVER = 64;
    const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x0d || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x00;
    const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
    for (let off = 0; off < this.src.size && idx.size < this.budgets.maxObjects; off += CH) {
      const base = Math.max(0, off - OVER);
      const chunk = Buffer.from(this.src.read(base, off - base + CH));
      let i = chunk.indexOf('obj', off - base, 'latin1');
      while (i >= 0) {
        let j = i - 1;
        while (j >= 0 && isWs(chunk[j])) j--;
        const gEnd = j + 1;
        while (j >= 0 && isDigit(chunk[j])) j--;
        if (j + 1 < gEnd && gEnd - j <= 12) {
          let k = j;
          while (k >= 0 && isWs(chunk[k])) k--;
          const nEnd = k + 1;
          if (k < j) {
            while (k >= 0 && isDigit(chunk[k]) && nEnd - k <= 11) k--;
            if (k + 1 < nEnd && (k < 0 || !isDigit(chunk[k]))) {
              const num = Number(chunk.toString('latin1', k + 1, nEnd));
              if (num > 0 && num < MAX_OBJECT_NUMBER) idx.set(num, base + k + 1);
            }
          }
        }
        i = chunk.indexOf('obj', i + 3, 'latin1');
      }
    }
    this.scanIndex = idx;
    return idx;
  }

  private defsIndex: Map<number, number[]> | undefined;
  private inStreams: Map<number, number[]> | undefined;

  /** Object number -> revisions (ascending) that have an entry for it; object stream -> objects said to be in it. */
  private indexes(): { defs: Map<number, number[]>; inStreams: Map<number, number[]> } {
    if (!this.defsIndex || !this.inStreams) {
      const defs = new Map<number, number[]>();
      const inStreams = new Map<number, number[]>();
      this.revisions.forEach((r, i) => {
        for (const [n, e] of r.entries) {
          let l = defs.get(n);
          if (!l) defs.set(n, (l = []));
          l.push(i);
          if (e.type === 'c') {
            let s = inStreams.get(e.stm);
            if (!s) inStreams.set(e.stm, (s = []));
            s.push(n);
          }
        }
      });
      this.defsIndex = defs;
      this.inStreams = inStreams;
    }
    return { defs: this.defsIndex, inStreams: this.inStreams };
  }

  /** The xref entry of object `num` as of revision `rev`, with the revision that defined it. */
  entry(num: number, rev = this.revisions.length - 1): { entry: HistoryEntry; rev: number } | undefined {
    const list = this.indexes().defs.get(num);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! <= rev) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const r = list[best]!;
    return { entry: this.revisions[r]!.entries.get(num)!, rev: r };
  }

  /** The revision a file offset belongs to (first revision whose end is beyond it), or -1. */
  revisionOf(offset: number): number {
    for (const r of this.revisions) if (offset < r.end) return r.index;
    return -1;
  }

  /** Trailer of revision `rev` (for xref streams: the stream dictionary). */
  trailer(rev = this.revisions.length - 1): PdfDict {
    return this.revisions[Math.max(0, Math.min(rev, this.revisions.length - 1))]?.trailer ?? new PdfDict();
  }

  /**
   * Identity of the definition object `num` has as of revision `rev`: equal keys mean the same bytes are read.
   * For an object in an object stream it includes the definition of that stream as of `rev`.
   */
  definitionKey(num: number, rev = this.revisions.length - 1): string | undefined {
    const found = this.entry(num, rev);
    if (!found || found.entry.type === 'f') return undefined;
    const e = found.entry;
    if (e.type === 'n') return `n${e.offset}:${num}`;
    const stm = this.entry(e.stm, rev);
    if (!stm || stm.entry.type !== 'n') return `c?${e.stm}:${e.idx}`;
    return `c${stm.entry.offset}:${e.stm}:${e.idx}:${num}`;
  }

  /** Object `num` (or a reference) as of revision `rev`; undefined when free, absent or not valid PDF. */
  get(ref: PdfRef | number, rev = this.revisions.length - 1): PdfObject | undefined {
    const num = typeof ref === 'number' ? ref : ref.num;
    const found = this.entry(num, rev);
    if (!found || found.entry.type === 'f') return undefined;
    const e = found.entry;
    const key = this.definitionKey(num, rev)!;
    if (this.cache.has(key)) {
      // A stream whose /Length is an indirect object is only the same stream while that object is the same.
      const dep = this.lengthDeps.get(key);
      if (!dep || this.definitionKey(dep[0], rev) === dep[1]) return this.cache.get(key);
      this.cache.delete(key);
      this.invalidObjects.delete(key);
    }
    if (this.resolving.has(key) || this.resolving.size > 64) return undefined;
    if (++this.parses > this.budgets.maxParses) {
      this.finding('ANALYSIS_BUDGET_EXCEEDED', 'error', 'too many objects to parse: analysis stopped');
      return undefined;
    }
    this.resolving.add(key);
    let v: PdfObject | undefined;
    const outer = this.parsingKey;
    const outerRev = this.parsingRev;
    this.parsingKey = key;
    this.parsingRev = rev;
    try {
      v = e.type === 'n' ? this.parseAt(num, e.offset) : this.fromObjStm(num, e.stm, e.idx, rev);
    } finally {
      this.resolving.delete(key);
      this.parsingKey = outer;
      this.parsingRev = outerRev;
    }
    if (v === undefined) this.invalidObjects.add(key);
    // Bounded memory: parsed objects are cached up to a limit, the oldest dropped first (re-parsed if needed).
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, v);
    return v;
  }

  /** True when object `num`'s definition as of `rev` exists but is not valid PDF (or could not be read). */
  isInvalid(num: number, rev = this.revisions.length - 1): boolean {
    const key = this.definitionKey(num, rev);
    if (key === undefined) return false;
    this.get(num, rev);
    return this.invalidObjects.has(key);
  }

  /** True when object `num`'s definition as of `rev` holds syntax that viewers read in different ways. */
  isAmbiguous(num: number, rev = this.revisions.length - 1): boolean {
    const key = this.definitionKey(num, rev);
    if (key === undefined) return false;
    this.get(num, rev);
    return this.ambiguousSyntax.has(key);
  }

  /** Resolves a value that may be a reference. */
  resolve(o: PdfObject | undefined, rev = this.revisions.length - 1): PdfObject | undefined {
    let cur = o;
    for (let i = 0; i < 8 && cur instanceof PdfRef; i++) cur = this.get(cur, rev);
    return cur instanceof PdfRef ? undefined : cur;
  }

  /** Resolved dictionary (a stream's dictionary for streams), or undefined. */
  dict(o: PdfObject | undefined, rev?: number): PdfDict | undefined {
    const v = this.resolve(o, rev);
    return v instanceof PdfDict ? v : v instanceof PdfStream ? v.dict : undefined;
  }

  /** Resolved array items, or []. */
  array(o: PdfObject | undefined, rev?: number): PdfObject[] {
    const v = this.resolve(o, rev);
    return v instanceof PdfArray ? v.items : [];
  }

  private parseAt(num: number, offset: number): PdfObject | undefined {
    const tryAt = (off: number): PdfObject => {
      const r = this.parser(this.src, off, num).parseIndirect();
      if (r.num !== num) throw new PdfError('PDF_OBJECT_MISMATCH', `xref points to object ${r.num}, expected ${num}`, off);
      return r.obj;
    };
    try {
      if (offset <= 0 || offset >= this.src.size) throw new PdfError('PDF_XREF_BROKEN', 'offset outside the file', offset);
      return tryAt(offset);
    } catch (e) {
      if (e instanceof PdfError && (e.code === 'PDF_LIMIT_EXCEEDED' || e.code === 'PDF_TOO_DEEP')) {
        this.finding('PDF_LIMIT_EXCEEDED', 'error', `object ${num}: ${e.message}`, `${num} 0 R`);
        return undefined;
      }
      if (e instanceof PdfError && e.code === 'PDF_SYNTAX') {
        // The object is where the xref says, but it is not valid PDF: never guess a value for it.
        const head = /^\s*(\d+)\s+(\d+)\s+obj/.exec(Buffer.from(this.src.read(offset, 32)).toString('latin1'));
        if (head && Number(head[1]) === num) {
          this.finding('OBJECT_INVALID', 'error', `object ${num} is not valid PDF: ${e.message}`, `${num} 0 R`);
          return undefined;
        }
      }
      const alt = this.scan().get(num);
      this.finding('XREF_OFFSET_WRONG', 'error', `object ${num} not found at its cross-reference offset ${offset}${alt !== undefined ? `; found by scanning at ${alt}` : ''}: ${(e as Error).message}`, `${num} 0 R`);
      if (alt === undefined || alt === offset) return undefined;
      try {
        return tryAt(alt);
      } catch {
        return undefined;
      }
    }
  }

  private fromObjStm(num: number, stm: number, idx: number, rev: number): PdfObject | undefined {
    // The object stream as the viewer of revision `rev` resolves it: through the newest xref of that revision.
    const key = this.definitionKey(stm, rev) ?? `?${stm}`;
    let os = this.objStms.get(key);
    if (os === undefined) {
      os = null;
      try {
        const st = this.get(stm, rev);
        if (st instanceof PdfStream && st.dict.getName('Type') === 'ObjStm') {
          const data = this.streamData(st);
          const src = new BufferSource(data);
          const n = st.dict.get('N');
          const first = st.dict.get('First');
          if (typeof n === 'number' && typeof first === 'number' && n >= 0 && n < 1_000_000 && first >= 0) {
            const p = this.parser(src, 0);
            const index: { num: number; off: number }[] = [];
            for (let i = 0; i < n; i++) {
              const a = p.next();
              const b = p.next();
              if (a.t !== 'num' || b.t !== 'num' || !a.int || !b.int) break;
              index.push({ num: a.v, off: b.v });
            }
            os = { src, index, first };
          }
        } else this.finding('OBJSTM_BROKEN', 'error', `object ${num} is said to be in object stream ${stm}, which is not one`, `${stm} 0 R`);
      } catch (e) {
        this.finding('OBJSTM_BROKEN', 'error', `object stream ${stm} unreadable: ${(e as Error).message}`, `${stm} 0 R`);
      }
      this.objStms.set(key, os);
      if (this.objStms.size > 64) this.objStms.delete(this.objStms.keys().next().value as string);
    }
    if (!os) return undefined;
    const ent = os.index[idx];
    if (!ent || ent.num !== num) {
      this.finding('OBJSTM_INDEX_MISMATCH', 'error', `object ${num} not at index ${idx} of object stream ${stm}`, `${num} 0 R`);
      return undefined;
    }
    try {
      const p = this.parser(os.src, os.first + ent.off, num);
      const v = p.parseObject();
      if (v instanceof PdfDict) {
        const t = p.peek();
        if (t.t === 'kw' && t.v === 'stream') throw new PdfError('PDF_SYNTAX', 'a stream inside an object stream', os.first + ent.off);
      }
      return v;
    } catch (e) {
      this.finding(e instanceof PdfError && e.code === 'PDF_LIMIT_EXCEEDED' ? 'PDF_LIMIT_EXCEEDED' : 'OBJECT_INVALID', 'error', `object ${num} in object stream ${stm}: ${(e as Error).message}`, `${num} 0 R`);
      return undefined;
    }
  }

  /** Raw (encoded) stream bytes. */
  rawData(s: PdfStream): Uint8Array {
    return s.dataStart >= 0 ? this.src.read(s.dataStart, s.dataLength) : s.raw();
  }

  /** Decoded stream bytes (throws PdfError on unsupported/corrupt/oversized data or an exhausted budget). */
  streamData(s: PdfStream, max = this.budgets.maxStreamBytes): Uint8Array {
    const left = this.budgets.maxDecodedTotal - this.decoded;
    if (left <= 0) throw new PdfError('PDF_LIMIT_EXCEEDED', 'decoding budget of the document exhausted');
    if (s.dataLength > this.budgets.maxDecodedTotal) throw new PdfError('PDF_LIMIT_EXCEEDED', `stream of ${s.dataLength} bytes exceeds the decoding budget`);
    const out = decodeStreamData(s.dict, this.rawData(s), Math.min(max, left), (o) => this.resolve(o));
    this.decoded += out.length;
    return out;
  }

  /** Decoded stream bytes, or undefined (with a finding) when not decodable. */
  tryStreamData(s: PdfStream, where: string, max = this.budgets.maxStreamBytes): Uint8Array | undefined {
    try {
      return this.streamData(s, max);
    } catch (e) {
      this.finding('STREAM_UNDECODABLE', 'warning', `stream ${where} not decodable: ${(e as Error).message}`, where);
      return undefined;
    }
  }

  /** Root catalog as of revision `rev`. */
  catalog(rev = this.revisions.length - 1): PdfDict | undefined {
    return this.dict(this.trailer(rev).get('Root'), rev);
  }

  /** All in-use object numbers as of revision `rev`. */
  objectNumbers(rev = this.revisions.length - 1): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    for (let r = Math.min(rev, this.revisions.length - 1); r >= 0; r--) {
      for (const [num, e] of this.revisions[r]!.entries) {
        if (seen.has(num)) continue;
        seen.add(num);
        if (e.type !== 'f') out.push(num);
      }
    }
    return out;
  }

  /**
   * Object numbers whose resolved value may differ between revision `from` and revision `to` (> from): those
   * with an xref entry in between, and those held by an object stream that was redefined in between.
   */
  touchedBetween(from: number, to: number): Set<number> {
    const out = new Set<number>();
    for (let r = from + 1; r <= to && r < this.revisions.length; r++) for (const n of this.revisions[r]!.entries.keys()) out.add(n);
    if (out.size === 0) return out;
    const { inStreams } = this.indexes();
    for (const stm of [...out]) {
      for (const n of inStreams.get(stm) ?? []) {
        if (!out.has(n) && this.definitionKey(n, to) !== this.definitionKey(n, from)) out.add(n);
      }
    }
    return out;
  }

  /** The document as a viewer of the file truncated after revision `k` sees it. */
  view(k = this.revisions.length - 1): RevisionView {
    return new RevisionView(this, k);
  }
}

/** A PdfHistory bound to one revision. */
export class RevisionView {
  constructor(readonly history: PdfHistory, readonly revision: number) {}
  get(ref: PdfRef | number): PdfObject | undefined {
    return this.history.get(ref, this.revision);
  }
  resolve(o: PdfObject | undefined): PdfObject | undefined {
    return this.history.resolve(o, this.revision);
  }
  dict(o: PdfObject | undefined): PdfDict | undefined {
    return this.history.dict(o, this.revision);
  }
  array(o: PdfObject | undefined): PdfObject[] {
    return this.history.array(o, this.revision);
  }
  get trailer(): PdfDict {
    return this.history.trailer(this.revision);
  }
  get catalog(): PdfDict | undefined {
    return this.history.catalog(this.revision);
  }
  objectNumbers(): number[] {
    return this.history.objectNumbers(this.revision);
  }
}

