/** Objects added, changed or deleted by one revision relative to the previous one. */
import type { PdfHistory } from '@kyso/pdf';
import { PdfArray, PdfDict, type PdfObject, PdfRef, PdfStream, deepEqual, duplicateKeys } from '@kyso/pdf';

export interface ObjectChange {
  num: number;
  /** "N G R" */
  ref: string;
  status: 'added' | 'changed' | 'deleted';
  /** Keys repeated inside the new definition (parser-disagreement attack). */
  ambiguous?: string[];
  /** The new definition is not valid PDF (viewers read it in their own ways). */
  invalid?: boolean;
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

/**
 * Changes made by revision `k` (k ≥ 1): every object whose resolved value differs between revision k-1 and
 * revision k — objects with a new cross-reference entry, and objects held by an object stream that was
 * redefined (viewers resolve them through the newest xref). Identical redefinitions, and redefinitions with
 * the same meaning (references resolved on both sides), are not changes.
 */
export function revisionChanges(doc: PdfHistory, k: number, deadline = Infinity): ObjectChange[] {
  const out: ObjectChange[] = [];
  if (!doc.revisions[k]) return out;
  const touchedSet = doc.touchedBetween(k - 1, k);
  // Checked before anything is parsed: an update that redefines more objects than this is not judged.
  if (touchedSet.size > MAX_TOUCHED) throw new AnalysisBudgetError(`revision ${k} redefines ${touchedSet.size} objects (more than ${MAX_TOUCHED} are not analysed)`);
  const touched = [...touchedSet].sort((a, b) => a - b);
  let meaningBudget = 200_000;
  let i = 0;
  for (const num of touched) {
    if ((++i & 1023) === 0 && Date.now() > deadline) throw new AnalysisBudgetError(`time budget exhausted while comparing revision ${k} (${touched.length} objects touched)`);
    if (num === 0) continue;
    if (doc.definitionKey(num, k) === doc.definitionKey(num, k - 1)) continue;
    const found = doc.entry(num, k);
    const e = found?.entry;
    const before = doc.entry(num, k - 1);
    const wasThere = before !== undefined && before.entry.type !== 'f';
    const gen = e?.type === 'n' ? e.gen : e?.type === 'f' ? Math.max(0, e.gen - 1) : 0;
    const ref = `${num} ${gen} R`;
    if (!e || e.type === 'f') {
      if (wasThere && (doc.get(num, k - 1) !== undefined || doc.isInvalid(num, k - 1))) {
        const old = doc.get(num, k - 1);
        out.push(old === undefined ? { num, ref, status: 'deleted' } : { num, ref, status: 'deleted', old });
      }
      continue;
    }
    const now = doc.get(num, k);
    const invalid = doc.isInvalid(num, k) || doc.isAmbiguous(num, k);
    if (!wasThere) {
      const c: ObjectChange = now === undefined ? { num, ref, status: 'added' } : { num, ref, status: 'added', now };
      if (invalid) c.invalid = true;
      out.push(c);
      continue;
    }
    const old = doc.get(num, k - 1);
    if (old === undefined && now === undefined && !invalid) continue;
    const dups = duplicateKeys(now);
    if (!invalid && dups.length === 0 && deepEqual(old, now, (a, b) => streamBytesEqual(doc, a, b))) continue;
    if (!invalid && dups.length === 0 && meaningBudget > 0) {
      meaningBudget -= 5000;
      if (sameMeaning(doc, old, k - 1, now, k)) continue;
    }
    const c: ObjectChange = { num, ref, status: 'changed' };
    if (dups.length) c.ambiguous = [...new Set(dups)];
    if (invalid) c.invalid = true;
    if (old !== undefined) c.old = old;
    if (now !== undefined) c.now = now;
    out.push(c);
  }
  return out;
}

/** Objects one revision may redefine and still be analysed. */
export const MAX_TOUCHED = 50_000;

/** The analysis ran out of its time or work budget: what is left is not judged (and so not allowed). */
export class AnalysisBudgetError extends Error {
  override name = 'AnalysisBudgetError';
}

/**
 * Whether `a` (in revision ra) and `b` (in revision rb) mean the same thing to a viewer: equal after resolving
 * every reference on both sides (a dictionary moved between direct and indirect, renumbered objects with the
 * same content). Bounded: a comparison that needs more than `budget` nodes counts as different.
 */
export function sameMeaning(doc: PdfHistory, a: PdfObject | undefined, ra: number, b: PdfObject | undefined, rb: number, budget = 5000): boolean {
  let left = budget;
  const assumed = new Set<string>();
  const eq = (x: PdfObject | undefined, y: PdfObject | undefined, depth: number): boolean => {
    if (--left < 0 || depth > 64) return false;
    if (x instanceof PdfRef || y instanceof PdfRef) {
      if (x instanceof PdfRef && y instanceof PdfRef) {
        // Co-inductive: a pair already under comparison is assumed equal (cycles through /Parent, /P).
        const key = `${x.num}:${y.num}`;
        if (assumed.has(key)) return true;
        assumed.add(key);
      }
      const xv = x instanceof PdfRef ? doc.get(x, ra) : x;
      const yv = y instanceof PdfRef ? doc.get(y, rb) : y;
      if ((x instanceof PdfRef && xv === undefined && doc.isInvalid(x.num, ra)) || (y instanceof PdfRef && yv === undefined && doc.isInvalid(y.num, rb))) return false;
      return eq(xv ?? null, yv ?? null, depth + 1);
    }
    if (x === y) return true;
    if (x instanceof PdfArray) return y instanceof PdfArray && x.items.length === y.items.length && x.items.every((v, i) => eq(v, y.items[i], depth + 1));
    if (x instanceof PdfDict) {
      if (!(y instanceof PdfDict) || x.map.size !== y.map.size) return false;
      for (const [k, v] of x.map) if (!y.map.has(k) || !eq(v, y.map.get(k), depth + 1)) return false;
      return true;
    }
    if (x instanceof PdfStream) {
      if (!(y instanceof PdfStream)) return false;
      const dx = new PdfDict(x.dict.map);
      const dy = new PdfDict(y.dict.map);
      dx.delete('Length');
      dy.delete('Length');
      return eq(dx, dy, depth + 1) && streamBytesEqual(doc, x, y);
    }
    return deepEqual(x, y, () => false);
  };
  return eq(a, b, 0);
}
