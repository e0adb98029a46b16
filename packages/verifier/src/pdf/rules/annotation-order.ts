/**
 * Order is content: a page's /Annots array is its drawing order (later annotations are drawn on top). The
 * annotations a page had when it was signed must keep their relative order; new annotations may be added
 * (judged by the page rule), but moving an old one above or below another changes what is seen.
 */
import { PdfRef } from '@kyso/pdf';
import { type Rule, RevisionContext } from './context.js';

export const annotationOrderRule: Rule = {
  name: 'annotation-order-rule',
  apply(ctx: RevisionContext): void {
    const oldPages = new Map<number, number>();
    ctx.pagesOld.forEach((p, i) => p.ref && oldPages.set(p.ref.num, i));
    ctx.pagesNew.forEach((p, i) => {
      if (!p.ref || !oldPages.has(p.ref.num)) return;
      const oldPage = ctx.pagesOld[oldPages.get(p.ref.num)!]!.dict;
      const before = ctx.doc.array(oldPage.get('Annots'), ctx.prev).map((a) => (a instanceof PdfRef ? a.num : -1));
      const after = ctx.doc.array(p.dict.get('Annots'), ctx.k).map((a) => (a instanceof PdfRef ? a.num : -1));
      const keptBefore = before.filter((n) => n >= 0 && after.includes(n));
      const keptAfter = after.filter((n) => n >= 0 && before.includes(n));
      const moved = keptBefore.length !== keptAfter.length || keptBefore.some((n, j) => keptAfter[j] !== n);
      // The same annotation listed twice (drawn twice) is also a change of order.
      const dup = after.some((n, j) => n >= 0 && after.indexOf(n) !== j) && !before.some((n, j) => n >= 0 && before.indexOf(n) !== j);
      if (moved || dup) {
        ctx.report({ kind: 'annotation-order-changed', object: `page ${i + 1}`, allowed: false, rule: this.name, level: 'OTHER', description: `annotations of page ${i + 1} ${dup ? 'listed twice' : 'reordered'} after signing (the /Annots order is the drawing order): [${keptBefore.slice(0, 8).join(' ')}] → [${keptAfter.slice(0, 8).join(' ')}]` });
      }
    });
  },
};
