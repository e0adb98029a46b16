/** Structural comparison and short printing of PDF objects (for modification analysis and messages). */
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfStream, PdfString } from './objects.js';

/** Structural equality ignoring file offsets (and a stream's /Length); stream data compared by `streamEq`. */
export function deepEqual(a: PdfObject | undefined, b: PdfObject | undefined, streamEq: (a: PdfStream, b: PdfStream) => boolean, depth = 0): boolean {
  if (depth > 200) return false;
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof PdfName) return b instanceof PdfName && a.name === b.name;
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfString) {
    if (!(b instanceof PdfString) || a.bytes.length !== b.bytes.length) return false;
    return Buffer.compare(a.bytes, b.bytes) === 0;
  }
  if (a instanceof PdfArray) {
    if (!(b instanceof PdfArray) || a.items.length !== b.items.length) return false;
    for (let i = 0; i < a.items.length; i++) if (!deepEqual(a.items[i], b.items[i], streamEq, depth + 1)) return false;
    return true;
  }
  if (a instanceof PdfDict) {
    if (!(b instanceof PdfDict) || a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!b.map.has(k) || !deepEqual(v, b.map.get(k), streamEq, depth + 1)) return false;
    return true;
  }
  if (a instanceof PdfStream) {
    if (!(b instanceof PdfStream)) return false;
    const da = new Map(a.dict.map);
    const db = new Map(b.dict.map);
    da.delete('Length');
    db.delete('Length');
    return deepEqual(new PdfDict(da), new PdfDict(db), streamEq, depth + 1) && streamEq(a, b);
  }
  return false;
}

/** Short printable form of a value for messages (bounded length). */
export function showObject(o: PdfObject | undefined, max = 80): string {
  const s = showInner(o, 0);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
function showInner(o: PdfObject | undefined, d: number): string {
  if (d > 6) return '…';
  if (o === undefined) return 'undefined';
  if (o === null) return 'null';
  if (typeof o !== 'object') return String(o);
  if (o instanceof PdfName) return '/' + o.name;
  if (o instanceof PdfRef) return o.toString();
  if (o instanceof PdfString) return '(' + o.text().replace(/[^\x20-\x7e\u00a0-\uffff]/g, '.').slice(0, 40) + ')';
  if (o instanceof PdfArray) return '[' + o.items.slice(0, 8).map((x) => showInner(x, d + 1)).join(' ') + (o.items.length > 8 ? ' …' : '') + ']';
  if (o instanceof PdfDict) return '<<' + [...o.map].slice(0, 30).map(([k, v]) => `/${k} ${showInner(v, d + 1)}`).join(' ') + (o.map.size > 30 ? ' …' : '') + '>>';
  if (o instanceof PdfStream) return 'stream ' + showInner(o.dict, d + 1);
  return '?';
}

/** Keys repeated in any dictionary inside `o` (readers disagree on which occurrence counts). */
export function duplicateKeys(o: PdfObject | undefined, depth = 0): string[] {
  if (depth > 100 || o === null || o === undefined || typeof o !== 'object') return [];
  if (o instanceof PdfDict) {
    const out = [...(o.duplicates ?? [])];
    for (const v of o.map.values()) out.push(...duplicateKeys(v, depth + 1));
    return out;
  }
  if (o instanceof PdfStream) return duplicateKeys(o.dict, depth + 1);
  if (o instanceof PdfArray) return o.items.flatMap((x) => duplicateKeys(x, depth + 1));
  return [];
}
