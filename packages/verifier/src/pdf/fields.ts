/** Walks the AcroForm field tree and the page tree of one revision (bounded, cycle-safe). */
import type { PdfHistory } from '@kyso/pdf';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfString } from '@kyso/pdf';

export interface FieldNode {
  ref?: PdfRef;
  dict: PdfDict;
  /** Fully qualified name (parent names joined by '.'). */
  name: string;
  /** Field type, inherited from ancestors. */
  ft?: string;
  /** Widget annotations of this terminal field (the field itself when merged). */
  widgets: { ref?: PdfRef; dict: PdfDict }[];
}

const MAX_FIELDS = 20000;
const MAX_DEPTH = 32;

/** Terminal fields of the AcroForm as of revision `rev`. */
export function listFields(doc: PdfHistory, rev: number): FieldNode[] {
  const out: FieldNode[] = [];
  const cat = doc.catalog(rev);
  const af = doc.dict(cat?.get('AcroForm'), rev);
  if (!af) return out;
  const seen = new Set<number>();
  const walk = (o: PdfObject, parentName: string, parentFt: string | undefined, depth: number): void => {
    if (out.length >= MAX_FIELDS || depth > MAX_DEPTH) return;
    const ref = o instanceof PdfRef ? o : undefined;
    if (ref) {
      if (seen.has(ref.num)) return;
      seen.add(ref.num);
    }
    const d = doc.dict(o, rev);
    if (!d) return;
    const t = d.get('T');
    const part = t instanceof PdfString ? t.text() : '';
    const name = part ? (parentName ? `${parentName}.${part}` : part) : parentName;
    const ftO = d.get('FT');
    const ft = ftO instanceof PdfName ? ftO.name : parentFt;
    const kids = doc.array(d.get('Kids'), rev);
    // Kids that are fields (have /T) make this a non-terminal field; kids without /T are widgets.
    const fieldKids: PdfObject[] = [];
    const widgetKids: { ref?: PdfRef; dict: PdfDict }[] = [];
    for (const k of kids.slice(0, MAX_FIELDS)) {
      const kd = doc.dict(k, rev);
      if (!kd) continue;
      if (kd.has('T') || (kd.has('FT') && !kd.has('Subtype'))) fieldKids.push(k);
      else widgetKids.push(k instanceof PdfRef ? { ref: k, dict: kd } : { dict: kd });
    }
    if (fieldKids.length) {
      for (const k of fieldKids) walk(k, name, ft, depth + 1);
      return;
    }
    const widgets = widgetKids.length ? widgetKids : [ref ? { ref, dict: d } : { dict: d }];
    out.push(ref ? { ref, dict: d, name, ft, widgets } : { dict: d, name, ft, widgets });
  };
  for (const f of doc.array(af.get('Fields'), rev)) walk(f, '', undefined, 0);
  return out;
}

/** Page objects in order as of revision `rev` (bounded, cycle-safe). */
export function listPages(doc: PdfHistory, rev: number): { ref?: PdfRef; dict: PdfDict }[] {
  const out: { ref?: PdfRef; dict: PdfDict }[] = [];
  const cat = doc.catalog(rev);
  const seen = new Set<number>();
  const walk = (o: PdfObject | undefined, depth: number): void => {
    if (depth > MAX_DEPTH || out.length > 100000 || o === undefined) return;
    const ref = o instanceof PdfRef ? o : undefined;
    if (ref) {
      if (seen.has(ref.num)) return;
      seen.add(ref.num);
    }
    const d = doc.dict(o, rev);
    if (!d) return;
    const type = d.get('Type');
    const kids = d.get('Kids');
    if ((type instanceof PdfName && type.name === 'Pages') || (!(type instanceof PdfName) && kids instanceof PdfArray)) {
      for (const k of doc.array(kids, rev)) walk(k, depth + 1);
    } else out.push(ref ? { ref, dict: d } : { dict: d });
  };
  walk(cat?.get('Pages'), 0);
  return out;
}
