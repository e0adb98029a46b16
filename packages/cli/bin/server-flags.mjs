// Node runtime flags for kyso's long-running servers (`kyso serve`, `kyso demo`), shared with bench/.
//
// Young generation: the identity provider allocates a few kB per request (tokens, JSON, Redis replies) that die
// young; with Node's default 16 MB semi-spaces the scavenger runs every few hundred requests. 32 MB halves the
// number of scavenges (their cost depends on the survivors, not on the space size) and measured +5–9 %
// throughput on token, introspection and userinfo requests, for at most ~64 MB more memory.
// KYSO_SEMI_SPACE_MB overrides the size; 0 keeps Node's default.

/** The flags to start a server process with, given the environment (empty when the caller set its own). */
export function serverNodeFlags(env = process.env, execArgv = process.execArgv) {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => a.startsWith('--max-semi-space-size'))) return [];
  const mb = env.KYSO_SEMI_SPACE_MB === undefined || env.KYSO_SEMI_SPACE_MB === '' ? 32 : Number(env.KYSO_SEMI_SPACE_MB);
  if (!Number.isInteger(mb) || mb < 0 || mb > 1024) throw new Error(`KYSO_SEMI_SPACE_MB must be an integer 0-1024, got '${env.KYSO_SEMI_SPACE_MB}'`);
  return mb === 0 ? [] : [`--max-semi-space-size=${mb}`];
}
