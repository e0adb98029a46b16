/**
 * The verifier's own PDF object model (read-only, with byte offsets), kept separate from @kyso/pdf so the
 * verifier can be hardened against hostile input independently of the signer's writer.
 */

export class PName {
  constructor(readonly name: string) {}
}

export class PString {
  constructor(readonly bytes: Uint8Array, readonly hex: boolean, readonly start: number, readonly end: number) {}
  /** Decoded text string (UTF-16BE with BOM, UTF-8 with BOM, else latin1). */
  text(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
      let s = '';
      for (let i = 2; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return s;
    }
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return new TextDecoder().decode(b.subarray(3));
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
}

export class PRef {
  constructor(readonly num: number, readonly gen: number) {}
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
}

export class PArray {
  constructor(readonly items: PObj[], readonly start: number, readonly end: number) {}
}

export class PDict {
  /** Keys that occurred more than once in the parsed dictionary (the first occurrence is kept). */
  duplicates?: string[];
  constructor(readonly map: Map<string, PObj>, readonly start: number, readonly end: number) {}
  get(k: string): PObj | undefined {
    return this.map.get(k);
  }
  has(k: string): boolean {
    return this.map.has(k);
  }
}

export class PStream {
  constructor(
    readonly dict: PDict,
    /** Offset of the first data byte. */
    readonly dataStart: number,
    readonly dataLength: number,
    /** For streams inside decoded data (never happens for conforming files) the bytes themselves. */
    readonly inline?: Uint8Array,
  ) {}
}

export type PObj = null | boolean | number | PName | PString | PRef | PArray | PDict | PStream;

export function isName(o: PObj | undefined, name?: string): o is PName {
  return o instanceof PName && (name === undefined || o.name === name);
}

/** Structural equality ignoring file offsets; stream data compared by the caller-provided function. */
export function deepEqual(a: PObj | undefined, b: PObj | undefined, streamEq: (a: PStream, b: PStream) => boolean, depth = 0): boolean {
  if (depth > 200) return false;
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof PName) return b instanceof PName && a.name === b.name;
  if (a instanceof PRef) return b instanceof PRef && a.num === b.num && a.gen === b.gen;
  if (a instanceof PString) {
    if (!(b instanceof PString) || a.bytes.length !== b.bytes.length) return false;
    for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
    return true;
  }
  if (a instanceof PArray) {
    if (!(b instanceof PArray) || a.items.length !== b.items.length) return false;
    for (let i = 0; i < a.items.length; i++) if (!deepEqual(a.items[i], b.items[i], streamEq, depth + 1)) return false;
    return true;
  }
  if (a instanceof PDict) {
    if (!(b instanceof PDict) || a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) {
      if (!b.map.has(k) || !deepEqual(v, b.map.get(k), streamEq, depth + 1)) return false;
    }
    return true;
  }
  if (a instanceof PStream) {
    if (!(b instanceof PStream)) return false;
    const da = new Map(a.dict.map);
    const db = new Map(b.dict.map);
    da.delete('Length');
    db.delete('Length');
    return deepEqual(new PDict(da, -1, -1), new PDict(db, -1, -1), streamEq, depth + 1) && streamEq(a, b);
  }
  return false;
}

/** Short printable form of a value for messages (bounded length). */
export function show(o: PObj | undefined, max = 80): string {
  const s = showInner(o, 0);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
function showInner(o: PObj | undefined, d: number): string {
  if (d > 6) return '…';
  if (o === undefined) return 'undefined';
  if (o === null) return 'null';
  if (typeof o !== 'object') return String(o);
  if (o instanceof PName) return '/' + o.name;
  if (o instanceof PRef) return o.toString();
  if (o instanceof PString) return '(' + o.text().replace(/[^\x20-\x7e\u00a0-\uffff]/g, '.').slice(0, 40) + ')';
  if (o instanceof PArray) return '[' + o.items.slice(0, 8).map((x) => showInner(x, d + 1)).join(' ') + (o.items.length > 8 ? ' …' : '') + ']';
  if (o instanceof PDict) return '<<' + [...o.map].slice(0, 30).map(([k, v]) => `/${k} ${showInner(v, d + 1)}`).join(' ') + (o.map.size > 30 ? ' …' : '') + '>>';
  return 'stream ' + showInner(o.dict, d + 1);
}

/** Keys repeated in any dictionary inside `o` (readers disagree on which occurrence counts). */
export function duplicateKeys(o: PObj | undefined, depth = 0): string[] {
  if (depth > 100 || o === null || o === undefined || typeof o !== 'object') return [];
  if (o instanceof PDict) {
    const out = [...(o.duplicates ?? [])];
    for (const v of o.map.values()) out.push(...duplicateKeys(v, depth + 1));
    return out;
  }
  if (o instanceof PStream) return duplicateKeys(o.dict, depth + 1);
  if (o instanceof PArray) return o.items.flatMap((x) => duplicateKeys(x, depth + 1));
  return [];
}
