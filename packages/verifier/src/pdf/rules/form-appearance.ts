/**
 * Form-level appearance settings are content: /NeedAppearances makes viewers regenerate every field's
 * appearance, and the form's /DA and /DR are what they regenerate it with. Changing /NeedAppearances or /DA, or
 * changing the meaning of a /DR entry that existed when the document was signed, changes what is drawn and
 * is not allowed. Adding new /DR resources (as signers do for their appearance fonts) leaves existing fields
 * as they were: allowed, with a warning.
 */
import { type PdfDict } from '@kyso/pdf';
import { type Rule, RevisionContext } from './context.js';
import { sameMeaning } from '../diff.js';

export const formAppearanceRule: Rule = {
  name: 'form-appearance-rule',
  apply(ctx: RevisionContext): void {
    const afOld = ctx.doc.dict(ctx.doc.catalog(ctx.prev)?.get('AcroForm'), ctx.prev);
    const afNew = ctx.doc.dict(ctx.doc.catalog(ctx.k)?.get('AcroForm'), ctx.k);
    if (!afNew) return;
    const where = 'AcroForm';
    const same = (key: string, a: PdfDict | undefined, b: PdfDict | undefined): boolean => sameMeaning(ctx.doc, a?.get(key), ctx.prev, b?.get(key), ctx.k);
    const na = (d: PdfDict | undefined): boolean => ctx.doc.resolve(d?.get('NeedAppearances'), d === afOld ? ctx.prev : ctx.k) === true;
    if (na(afOld) !== na(afNew)) {
      ctx.report({ kind: 'appearance-regeneration', object: where, allowed: false, rule: this.name, level: 'OTHER', description: `/NeedAppearances ${na(afNew) ? 'set' : 'cleared'} after signing: viewers ${na(afNew) ? 'regenerate' : 'stop regenerating'} every field's appearance` });
    }
    if (afOld && !same('DA', afOld, afNew)) {
      ctx.report({ kind: 'appearance-regeneration', object: where, allowed: false, rule: this.name, level: 'OTHER', description: 'the form\'s default appearance (/DA) changed after signing' });
    }
    if (afOld && !same('DR', afOld, afNew)) {
      const drOld = ctx.doc.dict(afOld.get('DR'), ctx.prev);
      const drNew = ctx.doc.dict(afNew.get('DR'), ctx.k);
      const changed: string[] = [];
      // Every resource category and entry that existed must keep its meaning; new ones may be added.
      for (const [cat, v] of drOld?.map ?? []) {
        const co = ctx.doc.dict(v, ctx.prev);
        const cn = ctx.doc.dict(drNew?.get(cat), ctx.k);
        if (!co) {
          if (!sameMeaning(ctx.doc, v, ctx.prev, drNew?.get(cat), ctx.k)) changed.push(cat);
          continue;
        }
        for (const [name, x] of co.map) if (!cn || !sameMeaning(ctx.doc, x, ctx.prev, cn.get(name), ctx.k)) changed.push(`${cat}/${name}`);
      }
      if (changed.length) {
        ctx.report({ kind: 'appearance-regeneration', object: where, allowed: false, rule: this.name, level: 'OTHER', description: `the form's default resources (/DR) changed after signing: ${changed.slice(0, 8).map((x) => '/' + x).join(', ')}` });
      } else {
        ctx.report({ kind: 'form-resources-added', object: where, allowed: true, warning: true, rule: this.name, level: 'FORM_FILLING', description: 'resources added to the form\'s default resources (/DR); existing ones unchanged' });
      }
    }
  },
};
