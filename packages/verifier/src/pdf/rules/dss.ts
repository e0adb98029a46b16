/** DSS/VRI additions and updates (PAdES B-LT/LTA) are allowed; they never change what a page shows. */
import { Rule, RevisionContext, refNum } from './context.js';

const DSS_ROLES = ['Catalog/DSS'];

export const dssRule: Rule = {
  name: 'dss-rule',
  apply(ctx: RevisionContext): void {
    const catOld = ctx.doc.catalog(ctx.prev);
    const catNew = ctx.doc.catalog(ctx.k);
    const dssNew = catNew?.get('DSS');
    if (dssNew === undefined) return;
    const newSet = ctx.reachable(dssNew, ctx.k);
    const oldSet = ctx.reachable(catOld?.get('DSS'), ctx.prev);
    // Only objects whose every role — in the signed revision and in this one — is DSS material may be
    // explained as DSS updates: anything also used elsewhere (or referenced while it did not exist) is judged
    // by what it was before.
    const claimed: number[] = [];
    for (const n of newSet) {
      const c = ctx.open(n);
      if (!c) continue;
      if ((c.status === 'added' || oldSet.has(n)) && ctx.onlyRoles(n, DSS_ROLES)) claimed.push(n);
    }
    const dn = refNum(dssNew);
    const changedInline = catOld && catNew && ctx.changedKeys(catOld, catNew).includes('DSS');
    if (claimed.length || changedInline) {
      const kind = catOld?.get('DSS') === undefined ? 'dss-added' : 'dss-updated';
      ctx.report({ kind, object: dn !== undefined ? `${dn} 0 R` : 'catalog /DSS', allowed: true, rule: this.name, level: 'LTA_UPDATES', description: `Document Security Store ${kind === 'dss-added' ? 'added' : 'updated'} (${claimed.length} object(s))` }, ...claimed);
    }
  },
};
