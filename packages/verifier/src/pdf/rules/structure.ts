/**
 * Logical structure (tagged PDF): signing or filling a field in a tagged document updates the structure
 * tree (/StructTreeRoot, /ParentTree) so the new widget is tagged. Those objects do not change what a page
 * shows; they are allowed at FORM_FILLING level, unless they are also used for rendering (page contents,
 * resources), which the page rule judges first.
 */
import { Rule, RevisionContext, refNum } from './context.js';

export const structureTreeRule: Rule = {
  name: 'structure-tree-rule',
  apply(ctx: RevisionContext): void {
    const rootNew = ctx.doc.catalog(ctx.k)?.get('StructTreeRoot');
    if (rootNew === undefined) return;
    const inTree = ctx.reachable(rootNew, ctx.k, 50000, 64);
    const rn = refNum(rootNew);
    if (rn !== undefined) inTree.add(rn);
    // objects that render: old page contents and resources (and the pages themselves)
    const rendering = new Set<number>();
    for (const p of ctx.pagesOld) {
      if (p.ref) rendering.add(p.ref.num);
      for (const n of ctx.reachable(p.dict.get('Contents'), ctx.prev, 10000, 8)) rendering.add(n);
      for (const n of ctx.reachable(p.dict.get('Resources'), ctx.prev, 10000, 8)) rendering.add(n);
    }
    const claims: number[] = [];
    for (const n of inTree) {
      const c = ctx.open(n);
      if (!c || rendering.has(n) || !ctx.onlyRoles(n, ['Catalog/StructTreeRoot'])) continue;
      // only structure objects: skip pages/annotations that the tree merely points at (judged elsewhere)
      const d = ctx.doc.dict(c.now as never, ctx.k) ?? ctx.doc.dict(c.old as never, ctx.prev);
      const t = d?.get('Type');
      const tn = t && typeof t === 'object' && 'name' in t ? (t as { name: string }).name : undefined;
      if (tn === 'Page' || tn === 'Pages' || tn === 'Annot' || d?.has('Subtype')) continue;
      claims.push(n);
    }
    if (claims.length) {
      ctx.report({ kind: 'structure-tree-updated', object: rn !== undefined ? `${rn} 0 R` : 'catalog /StructTreeRoot', allowed: true, rule: this.name, level: 'FORM_FILLING', description: `logical structure tree updated (${claims.length} object(s))` }, ...claims);
    }
  },
};
