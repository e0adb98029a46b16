// Node runtime flags for kyso's long-running servers (`kyso serve`, `kyso demo`), shared with bench/.
//
// Young generation: the identity provider allocates a few kB per request (tokens, JSON, Redis replies) that die
// young; with Node's default 16 MB semi-spaces the scavenger runs every few hundred requests. 32 MB halves the
// number of scavenges (their cost depends on the survivors, not on the space size) and measured +5–9 %
// throughput on token, introspection and userinfo requests, for at most ~64 MB more memory.
// KYSO_SEMI_SPACE_MB overrides the size; 0 keeps Node's default.
//
// Allocation-site pretenuring off: V8 allocates objects straight in the old generation once their allocation
// site's objects tend to survive a scavenge. Under load, a request that is still in flight at one scavenge makes
// its sites look long-lived; the pretenured objects then point at young ones, which survive the next scavenge
// too, and the effect feeds itself. With it off, refresh-token grants at 100 connections measured ~+10 %
// throughput and p99 from ~40 ms to ~26 ms (bench/idp.ts). KYSO_PRETENURING=1 keeps V8's default.
//
// A flag the caller already gave (on the command line or in NODE_OPTIONS) is not added again.

/** The flags to start a server process with, given the environment and the caller's own flags. */
export function serverNodeFlags(env = process.env, execArgv = process.execArgv) {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  const flags = [];
  if (!given.some((a) => a.startsWith('--max-semi-space-size'))) {
    const mb = env.KYSO_SEMI_SPACE_MB === undefined || env.KYSO_SEMI_SPACE_MB === '' ? 32 : Number(env.KYSO_SEMI_SPACE_MB);
    if (!Number.isInteger(mb) || mb < 0 || mb > 1024) throw new Error(`KYSO_SEMI_SPACE_MB must be an integer 0-1024, got '${env.KYSO_SEMI_SPACE_MB}'`);
    if (mb !== 0) flags.push(`--max-semi-space-size=${mb}`);
  }
  if (!given.some((a) => /^--(no-)?allocation-site-pretenuring$/.test(a))) {
    const p = env.KYSO_PRETENURING ?? '';
    if (!['', '0', '1'].includes(p)) throw new Error(`KYSO_PRETENURING must be 0 or 1, got '${p}'`);
    if (p !== '1') flags.push('--no-allocation-site-pretenuring');
  }
  return flags;
}
