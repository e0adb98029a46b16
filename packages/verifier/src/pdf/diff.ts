/** Objects added, changed or deleted by one revision relative to the previous one. */
import type { PdfHistory } from '@kyso/pdf';
import { type PdfObject, PdfStream, deepEqual, duplicateKeys } from '@kyso/pdf';

export interface ObjectChange {
  num: number;
  /** "N G R" */
  ref: string;
  status: 'added' | 'changed' | 'deleted';
  /** Keys repeated inside the new definition (parser-disagreement attack). */
  ambiguous?: string[];
  old?: PdfObject;
  now?: PdfObject;
}

const MAX_COMPARE = 256 * 1024 * 1024;

export function streamBytesEqual(doc: PdfHistory, a: PdfStream, b: PdfStream): boolean {
  if (a.dataLength !== b.dataLength) return false;
  if (a.dataStart === b.dataStart && a.dataStart >= 0) return true;
  if (a.dataLength > MAX_COMPARE) return false;
  const step = 1 << 20;
  for (let off = 0; off < a.dataLength; off += step) {
    const n = Math.min(step, a.dataLength - off);
    const x = a.dataStart < 0 ? a.raw().subarray(off, off + n) : doc.bytes(a.dataStart + off, a.dataStart + off + n);
    const y = b.dataStart < 0 ? b.raw().subarray(off, off + n) : doc.bytes(b.dataStart + off, b.dataStart + off + n);
    if (Buffer.compare(x, y) !== 0) return false;
  }
  return true;
}

/** Changes made by revision `k` (k ≥ 1). Identical redefinitions are not changes. */
export function revisionChanges(doc: PdfHistory, k: number): ObjectChange[] {
  const out: ObjectChange[] = [];
  const rev = doc.revisions[k];
  if (!rev) return out;
  for (const [num, e] of rev.entries) {
    if (num === 0) continue;
    const before = doc.entry(num, k - 1);
    const wasThere = before !== undefined && before.entry.type !== 'f';
    const gen = e.type === 'n' ? e.gen : e.type === 'f' ? Math.max(0, e.gen - 1) : 0;
    const ref = `${num} ${gen} R`;
    if (e.type === 'f') {
      if (wasThere && doc.get(num, k - 1) !== undefined) out.push({ num, ref, status: 'deleted', old: doc.get(num, k - 1) });
      continue;
    }
    const now = doc.get(num, k);
    if (!wasThere) {
      out.push(now === undefined ? { num, ref, status: 'added' } : { num, ref, status: 'added', now });
      continue;
    }
    const old = doc.get(num, k - 1);
    if (old === undefined && now === undefined) continue;
    const dups = duplicateKeys(now);
    if (dups.length === 0 && deepEqual(old, now, (a, b) => streamBytesEqual(doc, a, b))) continue;
    const c: ObjectChange = { num, ref, status: 'changed' };
    if (dups.length) c.ambiguous = [...new Set(dups)];
    if (old !== undefined) c.old = old;
    if (now !== undefined) c.now = now;
    out.push(c);
  }
  return out;
}
