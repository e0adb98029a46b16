// Module resolution hook for running kyso from its TypeScript sources (a repository checkout): adds the
// `kyso-source` export condition, so `@kyso/*` imports resolve to each package's src/index.ts instead of dist/.
export async function resolve(specifier, context, nextResolve) {
  if (context.conditions.includes('kyso-source')) return nextResolve(specifier, context);
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'kyso-source'] });
}
