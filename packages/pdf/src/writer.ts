import { createHash, randomBytes } from 'node:crypto';
import { PdfError } from './errors.js';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfStream, PdfString } from './objects.js';
import type { PdfReader } from './reader.js';
import { serialize, serializeIndirect } from './serialize.js';
import { encryptForWrite } from './crypt.js';

/** The bytes to append to the original file, and where each object landed. */
export interface IncrementalUpdate {
  /** Bytes to append after the original file (the original stays an exact prefix). */
  bytes: Buffer;
  /** Offset in the final file where `bytes` start (= original size). */
  base: number;
  /** Absolute offset of each written object (`N G obj`). */
  offsets: Map<number, number>;
  /** Offset of the new cross-reference section (the new startxref). */
  startxref: number;
  /** Kind of the section written. */
  xrefKind: 'table' | 'stream';
}

/** Options of `IncrementalWriter.build`. */
export interface BuildOptions {
  /** Force the cross-reference kind (default: same kind as the newest section of the original). */
  xrefKind?: 'table' | 'stream';
}

/**
 * Append-only update of a PDF: new and redefined objects, then a cross-reference section of the
 * same kind as the last one, with /Prev, /Size, the same /Root and /Info, and the first /ID kept.
 * Objects that lived in object streams are written as ordinary objects.
 */
export class IncrementalWriter {
  private readonly objects = new Map<number, { ref: PdfRef; obj: PdfObject }>();
  private next: number;

  constructor(readonly reader: PdfReader) {
    if (reader.sections.some((s) => s.offset < 0)) throw new PdfError('PDF_XREF_BROKEN', 'cannot update a file whose cross-reference data had to be rebuilt');
    this.next = reader.nextObjectNumber;
  }

  /** Reserves a new object number (from the old /Size upwards). */
  allocate(): PdfRef {
    return new PdfRef(this.next++, 0);
  }

  /** Adds a new object and returns its reference. */
  add(obj: PdfObject): PdfRef {
    const ref = this.allocate();
    this.set(ref, obj);
    return ref;
  }

  /** Defines (or redefines, under its own number and generation) the object `ref`. */
  set(ref: PdfRef, obj: PdfObject): void {
    this.objects.set(ref.num, { ref, obj });
  }

  /** Whether `ref` is part of this update. */
  has(ref: PdfRef): boolean {
    return this.objects.has(ref.num);
  }

  /** The object as defined in this update, if any. */
  get(ref: PdfRef): PdfObject | undefined {
    return this.objects.get(ref.num)?.obj;
  }

  /** Number of objects in the update. */
  get count(): number {
    return this.objects.size;
  }

  /** Serialises the update. `base` defaults to the reader's file size. */
  build(opts: BuildOptions = {}): IncrementalUpdate {
    const r = this.reader;
    const base = r.size;
    const kind = opts.xrefKind ?? r.xrefKind;
    const parts: Buffer[] = [];
    let pos = base;
    const push = (b: Buffer): void => {
      parts.push(b);
      pos += b.length;
    };
    // Make sure the update starts on a new line.
    const last = r.size > 0 ? r.src.read(r.size - 1, 1)[0] : 0x0a;
    if (last !== 0x0a && last !== 0x0d) push(Buffer.from('\n'));
    const offsets = new Map<number, number>();
    const sorted = [...this.objects.values()].sort((a, b) => a.ref.num - b.ref.num);
    const crypt = r.crypt;
    if (r.isEncrypted && !crypt) throw new PdfError('PDF_ENCRYPTED', 'cannot update an encrypted PDF without its password');
    for (const { ref, obj } of sorted) {
      offsets.set(ref.num, pos);
      push(serializeIndirect(ref, crypt ? encryptForWrite(obj, ref.num, ref.gen, crypt) : obj));
    }
    const prevTrailer = r.trailer;
    const trailer = new PdfDict();
    const id = this.newId(prevTrailer);
    const common = (d: PdfDict, size: number): void => {
      d.set('Size', size);
      d.set('Root', prevTrailer.get('Root') ?? null);
      const info = prevTrailer.get('Info');
      if (info !== undefined) d.set('Info', info);
      d.set('ID', id);
      const enc = prevTrailer.get('Encrypt');
      if (enc !== undefined) d.set('Encrypt', enc);
      d.set('Prev', r.startxref);
    };
    const startxref = pos;
    if (kind === 'table') {
      const size = Math.max(this.next, r.nextObjectNumber);
      let s = 'xref\n';
      const nums = sorted.map((x) => x.ref.num);
      for (let i = 0; i < nums.length; ) {
        let j = i;
        while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
        s += `${nums[i]} ${j - i + 1}\n`;
        for (let k = i; k <= j; k++) s += `${String(offsets.get(nums[k]!)).padStart(10, '0')} ${String(sorted[k]!.ref.gen).padStart(5, '0')} n\r\n`;
        i = j + 1;
      }
      common(trailer, size);
      s += 'trailer\n' + serialize(trailer) + '\nstartxref\n' + startxref + '\n%%EOF\n';
      push(Buffer.from(s, 'latin1'));
    } else {
      const xref = this.allocate();
      const size = Math.max(this.next, r.nextObjectNumber);
      offsets.set(xref.num, startxref);
      const entries = [...sorted.map((x) => ({ num: x.ref.num, gen: x.ref.gen })), { num: xref.num, gen: 0 }].sort((a, b) => a.num - b.num);
      const w2 = Math.max(4, Math.ceil(Math.log2(startxref + 2) / 8));
      const index: number[] = [];
      for (let i = 0; i < entries.length; ) {
        let j = i;
        while (j + 1 < entries.length && entries[j + 1]!.num === entries[j]!.num + 1) j++;
        index.push(entries[i]!.num, j - i + 1);
        i = j + 1;
      }
      const data = Buffer.alloc(entries.length * (1 + w2 + 2));
      entries.forEach((e, i) => {
        const o = i * (1 + w2 + 2);
        data[o] = 1;
        data.writeUIntBE(offsets.get(e.num)!, o + 1, w2);
        data.writeUInt16BE(e.gen, o + 1 + w2);
      });
      const d = new PdfDict();
      d.set('Type', PdfName.of('XRef'));
      common(d, size);
      d.set('Index', new PdfArray(index));
      d.set('W', new PdfArray([1, w2, 2]));
      push(serializeIndirect(xref, new PdfStream(d, data)));
      push(Buffer.from('startxref\n' + startxref + '\n%%EOF\n', 'latin1'));
    }
    return { bytes: Buffer.concat(parts), base, offsets, startxref, xrefKind: kind };
  }

  private newId(prev: PdfDict): PdfArray {
    const old = this.reader.resolve(prev.get('ID'));
    const second = PdfString.hexOf(new Uint8Array(createHash('md5').update(randomBytes(16)).update(String(this.reader.size)).digest()));
    if (old instanceof PdfArray && old.items[0] instanceof PdfString) {
      const first = old.items[0];
      return new PdfArray([first.hex ? first : PdfString.hexOf(first.bytes), second]);
    }
    return new PdfArray([second, second]);
  }
}
