/** The AcroForm dictionary: fields may be added (judged by the field rules) but never removed. */
import { Rule, RevisionContext, refNum } from './context.js';
import { PdfDict } from '@kyso/pdf';

const ALLOWED_KEYS = new Set(['Fields', 'SigFlags', 'DR', 'DA', 'NeedAppearances']);

export const acroFormRule: Rule = {
  name: 'acroform-rule',
  apply(ctx: RevisionContext): void {
    const afRefNew = ctx.doc.catalog(ctx.k)?.get('AcroForm');
    const afRefOld = ctx.doc.catalog(ctx.prev)?.get('AcroForm');
    const afOld = ctx.doc.dict(afRefOld, ctx.prev);
    const afNew = ctx.doc.dict(afRefNew, ctx.k);
    const n = refNum(afRefNew);
    if (!afNew) return;
    const keys = ctx.changedKeys(afOld ?? new PdfDict(new Map(), -1, -1), afNew);
    const bad = keys.filter((k) => !ALLOWED_KEYS.has(k));
    const where = n !== undefined ? `${n} 0 R` : 'catalog /AcroForm';
    if (bad.length) ctx.report({ kind: 'acroform-changed', object: where, allowed: false, rule: this.name, level: 'OTHER', description: `AcroForm changed: ${bad.map((x) => '/' + x).join(', ')}` }, n);
    else ctx.claim(n);
    // /Fields may be an indirect array.
    const fOld = refNum(afOld?.get('Fields'));
    const fNew = refNum(afNew.get('Fields'));
    if (fNew !== undefined && (fNew === fOld || ctx.changes.get(fNew)?.status === 'added')) ctx.claim(fNew);
    // Removed fields.
    const newNums = new Set<number>();
    for (const f of ctx.fieldsNew) if (f.ref) newNums.add(f.ref.num);
    const newNames = new Set(ctx.fieldsNew.map((f) => f.name));
    for (const f of ctx.fieldsOld) {
      if ((f.ref && newNums.has(f.ref.num)) || (!f.ref && newNames.has(f.name))) continue;
      ctx.report({ kind: 'field-removed', object: f.ref?.toString() ?? f.name, allowed: false, rule: this.name, level: 'OTHER', description: `form field '${f.name}' was removed from the form` });
    }
  },
};
