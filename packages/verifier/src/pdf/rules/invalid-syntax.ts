/**
 * An object redefined with syntax that is not valid PDF (an unparsable token, a key without a value...): viewers
 * read such syntax each in their own way, so what the verifier would compare is not what is rendered. Never
 * allowed, and never coerced to some value for the other rules to judge.
 */
import { type Rule, RevisionContext } from './context.js';

export const invalidSyntaxRule: Rule = {
  name: 'invalid-syntax-rule',
  apply(ctx: RevisionContext): void {
    for (const [num, c] of ctx.changes) {
      if (!c.invalid || ctx.claimed.has(num)) continue;
      ctx.report({ kind: 'invalid-syntax', object: c.ref, allowed: false, rule: this.name, level: 'OTHER', description: `object ${c.ref} was ${c.status === 'added' ? 'added' : 'redefined'} with syntax that is not valid PDF (viewers disagree on its value)` }, num);
    }
  },
};
