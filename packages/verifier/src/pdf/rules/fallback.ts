/** Whatever no rule explained: an object of the signed revision was redefined or deleted (OTHER). */
import { Rule, RevisionContext } from './context.js';
import { showObject } from '@kyso/pdf';

export const fallbackRule: Rule = {
  name: 'object-rule',
  apply(ctx: RevisionContext): void {
    for (const [num, c] of ctx.changes) {
      if (ctx.claimed.has(num)) continue;
      if (c.status === 'added') {
        // A new object under a number the signed revision already referred to (a dangling reference that
        // viewers read as null until now) changes what that reference means.
        const roles = ctx.rolesOf(num, ctx.prev);
        if (roles === 'UNKNOWN' || roles.size > 0) {
          ctx.report({ kind: 'dangling-reference-filled', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `object ${c.ref} was referenced by the signed revision (${roles === 'UNKNOWN' ? 'roles unknown' : [...roles].slice(0, 4).join(', ')}) while it did not exist, and is now defined` }, num);
        }
        continue;
      }
      ctx.report({ kind: c.status === 'deleted' ? 'object-deleted' : 'object-overwritten', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `object ${c.ref} of the signed revision ${c.status === 'deleted' ? 'deleted' : `redefined: was ${showObject(c.old, 60)}, now ${showObject(c.now, 60)}`}` }, num);
    }
  },
};
