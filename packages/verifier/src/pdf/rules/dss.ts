/** DSS/VRI additions and updates (PAdES B-LT/LTA) are allowed; they never change what a page shows. */
import { Rule, RevisionContext, refNum } from './context.js';

export const dssRule: Rule = {
  name: 'dss-rule',
  apply(ctx: RevisionContext): void {
    const catOld = ctx.doc.catalog(ctx.prev);
    const catNew = ctx.doc.catalog(ctx.k);
    const dssNew = catNew?.get('DSS');
    if (dssNew === undefined) return;
    const newSet = ctx.reachable(dssNew, ctx.k);
    const oldSet = ctx.reachable(catOld?.get('DSS'), ctx.prev);
    // Objects the signed revision used outside the DSS must not be claimed through it.
    const outside = new Set<number>();
    if (catOld) for (const [key, v] of catOld.map) if (key !== 'DSS') for (const n of ctx.reachable(v, ctx.prev, 200000)) outside.add(n);
    const claimed: number[] = [];
    for (const n of newSet) {
      const c = ctx.open(n);
      if (!c) continue;
      if (c.status === 'added' || (oldSet.has(n) && !outside.has(n))) claimed.push(n);
    }
    const dn = refNum(dssNew);
    const changedInline = catOld && catNew && ctx.changedKeys(catOld, catNew).includes('DSS');
    if (claimed.length || changedInline) {
      const kind = catOld?.get('DSS') === undefined ? 'dss-added' : 'dss-updated';
      ctx.report({ kind, object: dn !== undefined ? `${dn} 0 R` : 'catalog /DSS', allowed: true, rule: this.name, level: 'LTA_UPDATES', description: `Document Security Store ${kind === 'dss-added' ? 'added' : 'updated'} (${claimed.length} object(s))` }, ...claimed);
    }
  },
};
