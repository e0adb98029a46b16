import { IncrementalWriter, PdfArray, PdfDict, PdfName, PdfRef, PdfString, type PdfField } from '@kyso/pdf';
import { editArray, editDict, resolveIn } from './edit.js';
import { PadesError } from './errors.js';

/** Where the signature goes: an existing empty field, or a new one. */
export interface FieldTarget {
  /** The field dictionary that receives /V. */
  fieldRef: PdfRef;
  /** The widget annotation (same object as the field when merged). */
  widgetRef: PdfRef;
  /** 0-based page index of the widget (if known). */
  pageIndex: number;
  /** Whether the field existed before. */
  existing: boolean;
  fullName: string;
}

/** Options that decide the field. */
export interface FieldOptions {
  /** Field name: sign that empty field if it exists, else create it. Default: a fresh "SignatureN". */
  fieldName?: string;
  /** 1-based page of a new widget (default 1). */
  page?: number;
  /** Rectangle [x1 y1 x2 y2] of a new widget (default [0 0 0 0]: invisible). */
  rect?: [number, number, number, number];
  /** FieldMDP lock written into a new field (/Lock). */
  lock?: { action: 'All' | 'Include' | 'Exclude'; fields?: string[] };
}

function sigFields(fields: PdfField[]): PdfField[] {
  return fields.filter((f) => f.fieldType === 'Sig');
}

/** Existing signature values (/V of Sig fields) in the document. */
export function existingSignatures(fields: PdfField[]): PdfField[] {
  return sigFields(fields).filter((f) => f.dict.has('V') && f.dict.get('V') !== null);
}

/**
 * Finds or creates the signature field and wires it into the document (AcroForm /Fields, /SigFlags 3,
 * page /Annots — redefining an indirect /Annots array or an indirect /Fields array when that is where
 * they live). Does not set /V; the caller does.
 */
export function prepareField(w: IncrementalWriter, fields: PdfField[], opts: FieldOptions): FieldTarget {
  const r = w.reader;
  const existing = opts.fieldName !== undefined ? fields.find((f) => f.fullName === opts.fieldName) : undefined;
  let target: FieldTarget;
  if (existing) {
    if (existing.fieldType !== 'Sig') throw new PadesError('FIELD_NOT_SIGNATURE', `field '${opts.fieldName}' is a ${existing.fieldType ?? 'non-terminal'} field, not a signature field`);
    if (existing.dict.has('V') && existing.dict.get('V') !== null) throw new PadesError('FIELD_ALREADY_SIGNED', `field '${opts.fieldName}' is already signed`);
    const widgetRef = existing.widgets[0] ?? existing.ref;
    const wd = r.dict(widgetRef);
    let pageIndex = -1;
    const p = wd?.get('P');
    if (p instanceof PdfRef) {
      let i = 0;
      for (const pg of r.pages()) {
        if (pg.ref.num === p.num) {
          pageIndex = i;
          break;
        }
        if (++i > 100000) break;
      }
    }
    target = { fieldRef: existing.ref, widgetRef, pageIndex, existing: true, fullName: existing.fullName };
  } else {
    const name = opts.fieldName ?? uniqueName(fields);
    if (name.includes('.')) throw new PadesError('FIELD_NOT_FOUND', `field name '${name}' contains a '.'; give an existing field's full name or a simple name`);
    const pageIndex = (opts.page ?? 1) - 1;
    if (!(pageIndex >= 0 && pageIndex < r.pageCount)) throw new PadesError('PAGE_NOT_FOUND', `page ${pageIndex + 1} does not exist (document has ${r.pageCount} pages)`);
    const page = r.getPage(pageIndex);
    const rect = opts.rect ?? [0, 0, 0, 0];
    const field = new PdfDict({
      Type: PdfName.of('Annot'),
      Subtype: PdfName.of('Widget'),
      FT: PdfName.of('Sig'),
      T: PdfString.fromText(name),
      F: 132,
      Rect: new PdfArray([...rect]),
      P: page.ref,
    });
    if (opts.lock) {
      const lock = new PdfDict({ Type: PdfName.of('SigFieldLock'), Action: PdfName.of(opts.lock.action) });
      if (opts.lock.action !== 'All') lock.set('Fields', new PdfArray((opts.lock.fields ?? []).map((f) => PdfString.fromText(f))));
      field.set('Lock', lock);
    }
    const ref = w.add(field);
    addToAnnots(w, page.ref, ref);
    addToFields(w, ref);
    target = { fieldRef: ref, widgetRef: ref, pageIndex, existing: false, fullName: name };
  }
  setSigFlags(w);
  return target;
}

function uniqueName(fields: PdfField[]): string {
  const names = new Set(fields.map((f) => f.fullName));
  for (let i = 1; ; i++) if (!names.has(`Signature${i}`)) return `Signature${i}`;
}

function addToAnnots(w: IncrementalWriter, pageRef: PdfRef, annot: PdfRef): void {
  const page = editDict(w, pageRef);
  const annots = page.get('Annots');
  if (annots instanceof PdfRef) {
    const arr = editArray(w, annots);
    arr.push(annot);
  } else if (annots instanceof PdfArray) {
    page.set('Annots', new PdfArray([...annots.items, annot]));
  } else {
    page.set('Annots', new PdfArray([annot]));
  }
}

/** The AcroForm dictionary to edit: the indirect one, or the inline one inside a redefined catalog. */
export function editAcroForm(w: IncrementalWriter): PdfDict {
  const r = w.reader;
  const current = resolveIn(w, r.catalogRef);
  const af0 = current instanceof PdfDict ? current.get('AcroForm') : undefined;
  if (af0 instanceof PdfRef && resolveIn(w, af0) instanceof PdfDict) return editDict(w, af0);
  const catalog = editDict(w, r.catalogRef);
  const af = catalog.get('AcroForm');
  if (af instanceof PdfDict) {
    if (af.start >= 0) {
      const copy = af.clone();
      catalog.set('AcroForm', copy);
      return copy;
    }
    return af;
  }
  const created = new PdfDict({ Fields: new PdfArray([]) });
  catalog.set('AcroForm', w.add(created));
  return created;
}

function addToFields(w: IncrementalWriter, field: PdfRef): void {
  const af = editAcroForm(w);
  const fields = af.get('Fields');
  if (fields instanceof PdfRef) editArray(w, fields).push(field);
  else if (fields instanceof PdfArray) af.set('Fields', new PdfArray([...fields.items, field]));
  else af.set('Fields', new PdfArray([field]));
}

function setSigFlags(w: IncrementalWriter): void {
  const af = editAcroForm(w);
  const cur = resolveIn(w, af.get('SigFlags'));
  if (cur !== 3) af.set('SigFlags', 3);
  // Avoid viewers regenerating appearances of signed forms.
  if (af.has('NeedAppearances')) af.delete('NeedAppearances');
}
