/**
 * Appearance streams redefined in place: allowed only when every user of the stream in the signed
 * revision is a widget being filled/signed in this revision (else the update "clobbers" an appearance
 * shown elsewhere, e.g. under a signed field).
 */
import { Rule, RevisionContext, appearanceObjects } from './context.js';
import { PdfRef } from '@kyso/pdf';

export const appearanceRule: Rule = {
  name: 'appearance-rule',
  apply(ctx: RevisionContext): void {
    const owned = new Set<number>();
    for (const w of ctx.appearanceOwners) {
      owned.add(w);
      const dNew = ctx.doc.dict(new PdfRef(w, 0), ctx.k);
      const dOld = ctx.doc.dict(new PdfRef(w, 0), ctx.prev);
      if (dNew) for (const n of appearanceObjects(ctx, dNew, ctx.k)) owned.add(n);
      if (dOld) for (const n of appearanceObjects(ctx, dOld, ctx.prev)) owned.add(n);
    }
    // Appearances of widgets that nobody filled or signed in this revision must stay as signed.
    for (const f of ctx.fieldsOld) {
      for (const w of f.widgets) {
        if (w.ref && ctx.appearanceOwners.has(w.ref.num)) continue;
        for (const n of appearanceObjects(ctx, w.dict, ctx.prev)) {
          const c = ctx.open(n);
          if (!c || owned.has(n)) continue;
          ctx.report({ kind: 'appearance-overridden', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `appearance object ${c.ref} of field '${f.name}' redefined although the field was neither filled nor signed` }, n);
        }
      }
    }
    for (const n of owned) {
      const c = ctx.open(n);
      if (!c || c.status !== 'changed') continue;
      const users = [...ctx.referrers(n), ...ctx.referrers(n, ctx.k)].filter((r) => !owned.has(r));
      if (users.length === 0) {
        ctx.report({ kind: 'appearance-updated', object: c.ref, allowed: true, warning: true, rule: this.name, level: 'FORM_FILLING', description: `appearance object ${c.ref} of a filled field redefined` }, n);
      } else {
        ctx.report({ kind: 'appearance-overridden', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `appearance object ${c.ref} redefined although it is also used by ${users.slice(0, 5).map((u) => (u < 0 ? 'the trailer' : `${u} 0 R`)).join(', ')}` }, n);
      }
    }
  },
};
