/** An object redefined with repeated dictionary keys: readers disagree on which value counts (first vs last),
 *  so what the verifier compares may not be what a viewer shows. Never allowed. */
import { Rule, RevisionContext } from './context.js';

export const ambiguityRule: Rule = {
  name: 'ambiguity-rule',
  apply(ctx: RevisionContext): void {
    for (const [num, c] of ctx.changes) {
      if (!c.ambiguous || ctx.claimed.has(num)) continue;
      ctx.report({ kind: 'ambiguous-object', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `object ${c.ref} redefined with repeated keys ${c.ambiguous.map((k) => '/' + k).join(', ')}` }, num);
    }
  },
};
