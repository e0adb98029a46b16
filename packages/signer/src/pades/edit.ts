import { IncrementalWriter, PdfArray, PdfDict, type PdfObject, PdfRef, PdfStream } from '@kyso/pdf';

/**
 * The working copy of an existing dictionary object in an update: the copy already in the writer,
 * or a fresh clone of the reader's object registered for redefinition under its own number.
 */
export function editDict(w: IncrementalWriter, ref: PdfRef): PdfDict {
  const cur = w.get(ref);
  if (cur instanceof PdfDict) return cur;
  if (cur instanceof PdfStream) return cur.dict;
  const orig = w.reader.getObject(ref);
  if (orig instanceof PdfStream) {
    const copy = new PdfStream(orig.dict.clone(), orig.raw());
    w.set(ref, copy);
    return copy.dict;
  }
  const d = orig instanceof PdfDict ? orig.clone() : new PdfDict();
  w.set(ref, d);
  return d;
}

/** Working copy of an existing indirect array. */
export function editArray(w: IncrementalWriter, ref: PdfRef): PdfArray {
  const cur = w.get(ref);
  if (cur instanceof PdfArray) return cur;
  const orig = w.reader.getObject(ref);
  const a = new PdfArray(orig instanceof PdfArray ? [...orig.items] : []);
  w.set(ref, a);
  return a;
}

/** Resolves through the writer first (objects changed in this update), then the reader. */
export function resolveIn(w: IncrementalWriter, o: PdfObject | undefined): PdfObject | undefined {
  if (o instanceof PdfRef) return w.has(o) ? w.get(o) : w.reader.getObject(o);
  return o;
}
