/** One verified source patch to an installed dependency. */
export interface DependencyPatch { id: string; pkg: string; file: string; find: string; replace: string }
export const PATCHES: DependencyPatch[];
/** Applies (or with `check`, only inspects) every patch to every installed copy. */
export function patchDependencies(opts?: { check?: boolean }): { id: string; file: string; state: 'applied' | 'already' | 'pending' | 'missing' | 'not-installed' }[];
/** A copy of the installed package with kyso's patches taken out (node_modules/.cache/kyso-stock/<pkg>); its directory. */
export function stockCopy(pkg: string): string;
