/** Finds the signature dictionaries of a PDF (AcroForm fields incl. kids, and orphan widgets on pages). */
import type { Finding, PdfSignatureInfo } from './types.js';
import type { PdfHistory } from '@kyso/pdf';
import { listFields, listPages } from './fields.js';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRef, PdfString } from '@kyso/pdf';

/** A signature as found in the latest revision, with the references the modification analysis needs. */
export interface SigRecord {
  fieldName: string;
  fieldRef?: PdfRef;
  field: PdfDict;
  widgets: { ref?: PdfRef; dict: PdfDict }[];
  /** Reference of the signature dictionary (undefined when /V is a direct dictionary). */
  sigRef?: PdfRef;
  sig: PdfDict;
  /** Object number whose bytes contain the signature dictionary (for offset checks). */
  containerNum?: number;
  orphan: boolean;
}

export function findSignatures(doc: PdfHistory, findings: Finding[]): SigRecord[] {
  const last = doc.revisions.length - 1;
  const out: SigRecord[] = [];
  const bySig = new Set<number>();
  const fieldNums = new Set<number>();
  for (const f of listFields(doc, last)) {
    if (f.ref) fieldNums.add(f.ref.num);
    for (const w of f.widgets) if (w.ref) fieldNums.add(w.ref.num);
    if (f.ft !== 'Sig') continue;
    const v = f.dict.get('V');
    if (v === undefined || v === null) continue; // empty signature field
    const sig = doc.dict(v, last);
    if (!sig) {
      findings.push({ code: 'SIGNATURE_VALUE_UNREADABLE', severity: 'error', message: `signature field '${f.name}' has a /V that is not a readable dictionary`, where: f.ref?.toString() ?? f.name });
      continue;
    }
    if (v instanceof PdfRef) {
      if (bySig.has(v.num)) {
        findings.push({ code: 'SIGNATURE_DICTIONARY_SHARED', severity: 'error', message: `signature dictionary ${v} is the value of more than one field`, where: v.toString() });
        continue;
      }
      bySig.add(v.num);
    }
    const rec: SigRecord = { fieldName: f.name, field: f.dict, widgets: f.widgets, sig, orphan: false };
    if (f.ref) rec.fieldRef = f.ref;
    if (v instanceof PdfRef) {
      rec.sigRef = v;
      rec.containerNum = v.num;
    } else if (f.ref) rec.containerNum = f.ref.num;
    out.push(rec);
  }
  // Orphan signature widgets: on a page but not reachable from /AcroForm /Fields.
  let pages: ReturnType<typeof listPages> = [];
  try {
    pages = listPages(doc, last);
  } catch {
    pages = [];
  }
  pages.forEach((p, pi) => {
    for (const a of doc.array(p.dict.get('Annots'), last).slice(0, 10000)) {
      if (!(a instanceof PdfRef) || fieldNums.has(a.num)) continue;
      const ad = doc.dict(a, last);
      if (!ad) continue;
      const ft = ad.get('FT');
      const v = ad.get('V');
      if (!(ft instanceof PdfName && ft.name === 'Sig') || v === undefined || v === null) continue;
      const sig = doc.dict(v, last);
      if (!sig || (v instanceof PdfRef && bySig.has(v.num))) continue;
      const t = ad.get('T');
      const rec: SigRecord = { fieldName: t instanceof PdfString ? t.text() : `orphan-${a.num}`, fieldRef: a, field: ad, widgets: [{ ref: a, dict: ad }], sig, orphan: true };
      if (v instanceof PdfRef) {
        rec.sigRef = v;
        rec.containerNum = v.num;
        bySig.add(v.num);
      } else rec.containerNum = a.num;
      findings.push({ code: 'SIGNATURE_FIELD_ORPHAN', severity: 'warning', message: `signature widget ${a} on page ${pi + 1} is not in the AcroForm field tree`, where: a.toString() });
      out.push(rec);
    }
  });
  return out;
}

export function nameOf(o: PdfObject | undefined): string | undefined {
  return o instanceof PdfName ? o.name : undefined;
}
export function textOf(o: PdfObject | undefined): string | undefined {
  return o instanceof PdfString ? o.text() : undefined;
}

/** DocMDP / FieldMDP information from a signature dictionary's /Reference array and the field's /Lock. */
export function readTransforms(
  doc: PdfHistory,
  rec: SigRecord,
  info: PdfSignatureInfo,
): void {
  const last = doc.revisions.length - 1;
  for (const r of doc.array(rec.sig.get('Reference'), last).slice(0, 16)) {
    const ref = doc.dict(r, last);
    if (!ref) continue;
    const tm = nameOf(doc.resolve(ref.get('TransformMethod'), last));
    const tp = doc.dict(ref.get('TransformParams'), last);
    if (tm === 'DocMDP') {
      info.isCertification = true;
      const p = doc.resolve(tp?.get('P'), last);
      info.docMdpPermissions = p === 1 || p === 2 || p === 3 ? p : 2;
      if (p !== undefined && p !== 1 && p !== 2 && p !== 3) {
        info.formatFindings.push({ code: 'DOCMDP_P_INVALID', severity: 'warning', message: `DocMDP /P ${String(p)} is not 1, 2 or 3: treated as 2`, where: rec.sigRef?.toString() });
      }
    } else if (tm === 'FieldMDP' && tp) {
      info.fieldLock = lockOf(doc, tp, last);
    }
  }
  const lock = doc.dict(rec.field.get('Lock'), last);
  if (lock && !info.fieldLock) info.fieldLock = lockOf(doc, lock, last);
}

function lockOf(doc: PdfHistory, d: PdfDict, rev: number): { action: string; fields: string[] } {
  const action = nameOf(doc.resolve(d.get('Action'), rev)) ?? 'All';
  const fields: string[] = [];
  const arr = doc.resolve(d.get('Fields'), rev);
  if (arr instanceof PdfArray) for (const x of arr.items.slice(0, 10000)) {
    const t = doc.resolve(x, rev);
    if (t instanceof PdfString) fields.push(t.text());
  }
  return { action, fields };
}
