/** An earlier signature's dictionary (or its field's /V) must never change after it was made. */
import { Rule, RevisionContext } from './context.js';
import { PdfRef } from '@kyso/pdf';

export const signatureDictionaryRule: Rule = {
  name: 'signature-dictionary-rule',
  apply(ctx: RevisionContext): void {
    for (const f of ctx.fieldsOld) {
      if (f.ft !== 'Sig') continue;
      const v = f.dict.get('V');
      if (!(v instanceof PdfRef)) continue;
      const c = ctx.open(v.num);
      if (c) {
        const keys = c.old && c.now && 'map' in (c.old as object) && 'map' in (c.now as object) ? ctx.changedKeys(ctx.doc.dict(c.old, ctx.prev), ctx.doc.dict(c.now, ctx.k)) : [];
        ctx.report({ kind: 'signature-dictionary-changed', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `signature dictionary of field '${f.name}' was ${c.status === 'deleted' ? 'deleted' : 'rewritten'} after signing${keys.length ? ` (changed: ${keys.map((x) => '/' + x).join(', ')})` : ''}` }, v.num);
      }
      // The field's /V must keep pointing at the same dictionary.
      const nf = ctx.fieldsNew.find((n) => n.ref && f.ref && n.ref.num === f.ref.num);
      const nv = nf?.dict.get('V');
      if (f.ref && (!(nv instanceof PdfRef) || nv.num !== v.num)) {
        ctx.report({ kind: 'signature-dictionary-changed', object: f.ref.toString(), allowed: false, rule: this.name, level: 'OTHER', description: `signed field '${f.name}' no longer points at its signature dictionary ${v}` }, f.ref.num);
      }
    }
  },
};
