/**
 * The verifier's revision-aware view of a PDF: the chain of cross-reference sections (tables, streams,
 * hybrids), grouped into revisions (each ending after its %%EOF), and object resolution "as of revision k".
 * Never trusts a repaired structure silently: every repair adds a finding.
 */
import type { Finding } from './types.js';
import { ByteSource, MemorySource, indexOf, lastIndexOf } from './source.js';
import { Lexer, PdfSyntaxError, findKeyword } from './lexer.js';
import { PArray, PDict, PName, PObj, PRef, PStream } from './objects.js';
import { FilterError, decodeStream, MAX_DECODED } from './filters.js';

export type XrefEntry =
  | { type: 'n'; offset: number; gen: number }
  | { type: 'c'; stm: number; idx: number }
  | { type: 'f'; gen: number };

export interface Revision {
  index: number;
  /** Offset of this revision's (newest) cross-reference section. */
  startxref: number;
  /** Exclusive end: after %%EOF and an optional EOL. */
  end: number;
  entries: Map<number, XrefEntry>;
  trailer: PDict;
}

const MAX_SECTIONS = 4096;
const MAX_OBJECT_NUMBER = 10_000_000;

interface Section {
  offset: number;
  entries: Map<number, XrefEntry>;
  trailer: PDict;
  parseEnd: number;
}

export class PdfDocument {
  readonly revisions: Revision[] = [];
  readonly findings: Finding[] = [];
  /** True when the cross-reference chain was unusable and objects were found by scanning. */
  repaired = false;
  private readonly cache = new Map<string, PObj>();
  private readonly objStms = new Map<string, { src: MemorySource; index: { num: number; off: number }[]; first: number } | null>();
  private scanIndex: Map<number, number> | undefined;
  private resolving = new Set<string>();
  /** Work budget: number of object parses allowed (hostile files cannot make analysis unbounded). */
  private budget = 2_000_000;

  constructor(readonly src: ByteSource) {
    try {
      this.load();
    } catch (e) {
      this.finding('PDF_UNREADABLE', 'error', `cannot read the PDF structure: ${(e as Error).message}`);
    }
  }

  finding(code: string, severity: Finding['severity'], message: string, where?: string): void {
    if (this.findings.length > 200) return;
    if (this.findings.some((f) => f.code === code && f.message === message)) return;
    this.findings.push(where === undefined ? { code, severity, message } : { code, severity, message, where });
  }

  private load(): void {
    const s = this.src;
    if (indexOf(s, '%PDF-', 0, Math.min(s.size, 1024)) < 0) this.finding('PDF_HEADER_MISSING', 'warning', 'no %PDF- header in the first 1024 bytes');
    const sx = lastIndexOf(s, 'startxref', Math.max(0, s.size - (1 << 20)));
    let head = -1;
    if (sx >= 0) {
      const lx = new Lexer(s, sx + 9);
      const w = lx.word();
      if (/^\d+$/.test(w)) head = Number(w);
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
        if (sections.length >= MAX_SECTIONS) {
          this.finding('XREF_TOO_MANY_SECTIONS', 'error', `more than ${MAX_SECTIONS} cross-reference sections`);
          break;
        }
        seen.add(off);
        let sec: Section;
        try {
          sec = this.readSection(off);
        } catch (e) {
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
      const entries = new Map<number, XrefEntry>();
      // within a group the first (newest) section wins
      for (const sec of [...g].reverse()) for (const [k, v] of sec.entries) entries.set(k, v);
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
      const tail = s.slice(last.end, Math.min(s.size, last.end + 4096));
      const junk = [...tail].some((c) => !(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x00));
      this.finding('DATA_AFTER_LAST_EOF', junk ? 'warning' : 'info', `${s.size - last.end} byte(s) after the last %%EOF are not part of any revision`, `offset ${last.end}`);
    }
  }

  /** End of the revision whose xref section was parsed up to `from`: after %%EOF and one optional EOL. */
  private revisionEnd(from: number): number {
    const s = this.src;
    const e = findKeyword(s, '%%EOF', from);
    if (e < 0) {
      this.finding('EOF_MARKER_MISSING', 'warning', `no %%EOF after the cross-reference section ending at ${from}`);
      return s.size;
    }
    let end = e + 5;
    if (s.byte(end) === 0x0d) end++;
    if (s.byte(end) === 0x0a) end++;
    return end;
  }

  private readSection(off: number): Section {
    const s = this.src;
    if (off >= s.size) throw new PdfSyntaxError('offset beyond end of file', off);
    const lx = new Lexer(s, off);
    lx.skipWs();
    if (lx.peekWord() === 'xref') {
      lx.word();
      const entries = new Map<number, XrefEntry>();
      for (;;) {
        const w = lx.peekWord();
        if (w === 'trailer') break;
        const a = lx.word();
        const b = lx.word();
        if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) throw new PdfSyntaxError('bad xref subsection header', lx.pos);
        const start = Number(a);
        const count = Number(b);
        if (start + count > MAX_OBJECT_NUMBER || count * 18 > s.size) throw new PdfSyntaxError('xref subsection too large', lx.pos);
        for (let i = 0; i < count; i++) {
          const o = lx.word();
          const g = lx.word();
          const t = lx.word();
          if (!/^\d+$/.test(o) || !/^\d+$/.test(g) || (t !== 'n' && t !== 'f')) throw new PdfSyntaxError('bad xref entry', lx.pos);
          const num = start + i;
          const e: XrefEntry = t === 'n' ? { type: 'n', offset: Number(o), gen: Number(g) } : { type: 'f', gen: Number(g) };
          if (entries.has(num)) {
            this.duplicateEntry(num, entries.get(num)!, e, off);
            continue;
          }
          entries.set(num, e);
        }
      }
      lx.word();
      const trailer = lx.value();
      if (!(trailer instanceof PDict)) throw new PdfSyntaxError('trailer is not a dictionary', lx.pos);
      const parseEnd = lx.pos;
      const xs = trailer.get('XRefStm');
      if (typeof xs === 'number' && Number.isInteger(xs) && xs >= 0 && xs < s.size) {
        try {
          const hs = this.readXrefStream(xs);
          for (const [k, v] of hs.entries) if (!entries.has(k)) entries.set(k, v);
        } catch (e) {
          this.finding('XREF_STREAM_BROKEN', 'warning', `hybrid /XRefStm at ${xs} unreadable: ${(e as Error).message}`);
        }
      }
      return { offset: off, entries, trailer, parseEnd };
    }
    return this.readXrefStream(off);
  }

  private readXrefStream(off: number): Section {
    const lx = new Lexer(this.src, off);
    const { value } = lx.indirect((o) => (typeof o === 'number' ? o : undefined));
    if (!(value instanceof PStream) || !(value.dict.get('Type') instanceof PName) || (value.dict.get('Type') as PName).name !== 'XRef') {
      throw new PdfSyntaxError('not a cross-reference table or stream', off);
    }
    const d = value.dict;
    const W = d.get('W');
    if (!(W instanceof PArray) || W.items.length < 3 || !W.items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 8)) {
      throw new PdfSyntaxError('bad /W in xref stream', off);
    }
    const w = W.items as number[];
    const size = d.get('Size');
    const idx = d.get('Index');
    const ranges: number[] = [];
    if (idx instanceof PArray) for (const x of idx.items) ranges.push(typeof x === 'number' ? x : 0);
    else ranges.push(0, typeof size === 'number' ? size : 0);
    const data = decodeStream(d, this.src.slice(value.dataStart, value.dataStart + value.dataLength));
    const rowLen = w[0]! + w[1]! + w[2]!;
    if (rowLen === 0) throw new PdfSyntaxError('xref stream /W sums to 0', off);
    const entries = new Map<number, XrefEntry>();
    let p = 0;
    const field = (n: number): number => {
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + data[p++]!;
      return v;
    };
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      const start = ranges[r]!;
      const count = ranges[r + 1]!;
      if (start < 0 || count < 0 || start + count > MAX_OBJECT_NUMBER) throw new PdfSyntaxError('bad /Index in xref stream', off);
      for (let i = 0; i < count; i++) {
        if (p + rowLen > data.length) break;
        const t = w[0] === 0 ? 1 : field(w[0]!);
        const f2 = field(w[1]!);
        const f3 = field(w[2]!);
        const num = start + i;
        const e: XrefEntry | undefined = t === 0 ? { type: 'f', gen: f3 } : t === 1 ? { type: 'n', offset: f2, gen: f3 } : t === 2 ? { type: 'c', stm: f2, idx: f3 } : undefined;
        if (!e) continue;
        if (entries.has(num)) {
          this.duplicateEntry(num, entries.get(num)!, e, off);
          continue;
        }
        entries.set(num, e);
      }
    }
    return { offset: off, entries, trailer: d, parseEnd: lx.pos };
  }

  /** Two different entries for one object in one section: readers disagree on which counts. */
  private duplicateEntry(num: number, a: XrefEntry, b: XrefEntry, off: number): void {
    if (JSON.stringify(a) === JSON.stringify(b) || (a.type === 'f' && b.type === 'f')) return;
    this.finding('XREF_DUPLICATE_ENTRY', 'error', `cross-reference section at ${off} defines object ${num} twice with different entries`, `${num} 0 R`);
  }

  /** Rebuilds a single-revision table by scanning for "N G obj" (repair mode, reported as an error). */
  private reconstruct(): void {
    this.repaired = true;
    this.finding('XREF_REPAIRED', 'error', 'cross-reference data unusable: objects located by scanning the file; revision boundaries and modification analysis are unreliable');
    const idx = this.scan();
    const entries = new Map<number, XrefEntry>();
    for (const [num, offset] of idx) entries.set(num, { type: 'n', offset, gen: 0 });
    // trailer: last "trailer" dictionary, else a catalog found by scanning
    let trailer: PDict | undefined;
    const t = lastIndexOf(this.src, 'trailer', 0);
    if (t >= 0) {
      try {
        const v = new Lexer(this.src, t + 7).value();
        if (v instanceof PDict) trailer = v;
      } catch {
        /* ignore */
      }
    }
    const rev: Revision = { index: 0, startxref: -1, end: this.src.size, entries, trailer: trailer ?? new PDict(new Map(), -1, -1) };
    this.revisions.push(rev);
    if (!trailer || !(trailer.get('Root') instanceof PRef)) {
      for (const [num] of idx) {
        const o = this.get(num, 0);
        if (o instanceof PDict && isType(o, 'Catalog')) {
          rev.trailer = new PDict(new Map([['Root', new PRef(num, 0)]]), -1, -1);
          break;
        }
      }
    }
  }

  /** Object number -> offset of its last "N G obj" in the file. */
  private scan(): Map<number, number> {
    if (this.scanIndex) return this.scanIndex;
    const idx = new Map<number, number>();
    const s = this.src;
    let i = 0;
    for (;;) {
      const p = indexOf(s, 'obj', i);
      if (p < 0) break;
      i = p + 3;
      // walk back over "N G "
      let j = p - 1;
      while (j >= 0 && (s.byte(j) === 0x20 || s.byte(j) === 0x0d || s.byte(j) === 0x0a)) j--;
      const gEnd = j + 1;
      while (j >= 0 && s.byte(j) >= 0x30 && s.byte(j) <= 0x39) j--;
      if (j + 1 === gEnd) continue;
      const nEndSearch = j;
      let k = nEndSearch;
      while (k >= 0 && (s.byte(k) === 0x20 || s.byte(k) === 0x0d || s.byte(k) === 0x0a)) k--;
      if (k === nEndSearch) continue;
      const nEnd = k + 1;
      while (k >= 0 && s.byte(k) >= 0x30 && s.byte(k) <= 0x39) k--;
      if (k + 1 === nEnd) continue;
      let num = 0;
      for (let q = k + 1; q < nEnd; q++) num = num * 10 + s.byte(q) - 0x30;
      if (num > 0 && num < MAX_OBJECT_NUMBER) idx.set(num, k + 1);
      if (idx.size > 1_000_000) break;
    }
    this.scanIndex = idx;
    return idx;
  }

  /** The xref entry of object `num` as of revision `rev`, with the revision that defined it. */
  entry(num: number, rev = this.revisions.length - 1): { entry: XrefEntry; rev: number } | undefined {
    for (let r = Math.min(rev, this.revisions.length - 1); r >= 0; r--) {
      const e = this.revisions[r]!.entries.get(num);
      if (e) return { entry: e, rev: r };
    }
    return undefined;
  }

  /** The revision a file offset belongs to (first revision whose end is beyond it), or -1. */
  revisionOf(offset: number): number {
    for (const r of this.revisions) if (offset < r.end) return r.index;
    return -1;
  }

  trailer(rev = this.revisions.length - 1): PDict {
    return this.revisions[Math.max(0, Math.min(rev, this.revisions.length - 1))]?.trailer ?? new PDict(new Map(), -1, -1);
  }

  /** Object `num` (or a reference) as of revision `rev`; undefined when free/absent/unreadable. */
  get(ref: PRef | number, rev = this.revisions.length - 1): PObj | undefined {
    const num = typeof ref === 'number' ? ref : ref.num;
    const found = this.entry(num, rev);
    if (!found) return undefined;
    const e = found.entry;
    const key = e.type === 'n' ? `n${e.offset}:${num}` : e.type === 'c' ? `c${e.stm}:${e.idx}:${found.rev}` : '';
    if (e.type === 'f') return undefined;
    if (this.cache.has(key)) return this.cache.get(key);
    if (this.resolving.has(key) || this.resolving.size > 64) return undefined;
    if (--this.budget < 0) {
      this.finding('ANALYSIS_BUDGET_EXCEEDED', 'error', 'too many objects to parse: analysis stopped');
      return undefined;
    }
    this.resolving.add(key);
    let v: PObj | undefined;
    try {
      v = e.type === 'n' ? this.parseAt(num, e.offset) : this.fromObjStm(num, e.stm, e.idx, found.rev);
    } finally {
      this.resolving.delete(key);
    }
    this.cache.set(key, v ?? null);
    return v;
  }

  /** Resolves a value that may be a reference. */
  resolve(o: PObj | undefined, rev = this.revisions.length - 1): PObj | undefined {
    let cur = o;
    for (let i = 0; i < 8 && cur instanceof PRef; i++) cur = this.get(cur, rev);
    return cur instanceof PRef ? undefined : cur;
  }

  dict(o: PObj | undefined, rev?: number): PDict | undefined {
    const v = this.resolve(o, rev);
    return v instanceof PDict ? v : v instanceof PStream ? v.dict : undefined;
  }

  array(o: PObj | undefined, rev?: number): PObj[] {
    const v = this.resolve(o, rev);
    return v instanceof PArray ? v.items : [];
  }

  private parseAt(num: number, offset: number): PObj | undefined {
    const tryAt = (off: number): PObj | undefined => {
      const lx = new Lexer(this.src, off);
      const r = lx.indirect((o) => {
        const l = o instanceof PRef ? this.get(o) : o;
        return typeof l === 'number' ? l : undefined;
      });
      if (r.num !== num) throw new PdfSyntaxError(`xref points to object ${r.num}, expected ${num}`, off);
      return r.value;
    };
    try {
      if (offset <= 0 || offset >= this.src.size) throw new PdfSyntaxError('offset outside the file', offset);
      return tryAt(offset);
    } catch (e) {
      if (e instanceof RangeError) throw e;
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

  private fromObjStm(num: number, stm: number, idx: number, rev: number): PObj | undefined {
    const key = `${stm}@${rev}`;
    let os = this.objStms.get(key);
    if (os === undefined) {
      os = null;
      try {
        const st = this.get(stm, rev);
        if (st instanceof PStream && st.dict.get('Type') instanceof PName && (st.dict.get('Type') as PName).name === 'ObjStm') {
          const data = this.streamData(st);
          const src = new MemorySource(data);
          const n = st.dict.get('N');
          const first = st.dict.get('First');
          if (typeof n === 'number' && typeof first === 'number' && n >= 0 && n < 1_000_000 && first >= 0) {
            const lx = new Lexer(src, 0);
            const index: { num: number; off: number }[] = [];
            for (let i = 0; i < n; i++) {
              const a = lx.word();
              const b = lx.word();
              if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) break;
              index.push({ num: Number(a), off: Number(b) });
            }
            os = { src, index, first };
          }
        }
      } catch (e) {
        this.finding('OBJSTM_BROKEN', 'error', `object stream ${stm} unreadable: ${(e as Error).message}`, `${stm} 0 R`);
      }
      this.objStms.set(key, os);
    }
    if (!os) return undefined;
    const ent = os.index[idx];
    if (!ent || ent.num !== num) {
      this.finding('OBJSTM_INDEX_MISMATCH', 'error', `object ${num} not at index ${idx} of object stream ${stm}`, `${num} 0 R`);
      return undefined;
    }
    try {
      return new Lexer(os.src, os.first + ent.off).value();
    } catch (e) {
      this.finding('OBJECT_UNREADABLE', 'error', `object ${num} in object stream ${stm}: ${(e as Error).message}`, `${num} 0 R`);
      return undefined;
    }
  }

  /** Raw (encoded) stream bytes. */
  rawData(s: PStream): Uint8Array {
    return s.inline ?? this.src.slice(s.dataStart, s.dataStart + s.dataLength);
  }

  /** Total bytes decoded so far: bounded so that many medium streams cannot exhaust memory or time. */
  private decoded = 0;
  static readonly DECODE_BUDGET = 256 * 1024 * 1024;

  /** Decoded stream bytes (throws FilterError on unsupported/corrupt/oversized data or an exhausted budget). */
  streamData(s: PStream, max = MAX_DECODED): Uint8Array {
    const left = PdfDocument.DECODE_BUDGET - this.decoded;
    if (left <= 0) throw new FilterError('decoding budget of the document exhausted');
    const out = decodeStream(s.dict, this.rawData(s), Math.min(max, left));
    this.decoded += out.length;
    return out;
  }

  /** Decoded stream bytes, or undefined (with a finding) when not decodable. */
  tryStreamData(s: PStream, where: string, max = MAX_DECODED): Uint8Array | undefined {
    try {
      return this.streamData(s, max);
    } catch (e) {
      this.finding('STREAM_UNDECODABLE', 'warning', `stream ${where} not decodable: ${(e as Error).message}`, where);
      return undefined;
    }
  }

  /** Root catalog as of revision `rev`. */
  catalog(rev = this.revisions.length - 1): PDict | undefined {
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
}

export function isType(d: PDict, t: string): boolean {
  const v = d.get('Type');
  return v instanceof PName && v.name === t;
}

export { FilterError };
