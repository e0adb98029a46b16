/** Whatever no rule explained: an object of the signed revision was redefined or deleted (OTHER). */
import { Rule, RevisionContext } from './context.js';
import { showObject } from '@kyso/pdf';

export const fallbackRule: Rule = {
  name: 'object-rule',
  apply(ctx: RevisionContext): void {
    for (const [num, c] of ctx.changes) {
      if (ctx.claimed.has(num) || c.status === 'added') continue;
      ctx.report({ kind: c.status === 'deleted' ? 'object-deleted' : 'object-overwritten', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `object ${c.ref} of the signed revision ${c.status === 'deleted' ? 'deleted' : `redefined: was ${showObject(c.old, 60)}, now ${showObject(c.now, 60)}`}` }, num);
    }
  },
};
