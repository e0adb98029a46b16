/**
 * Redis settings from the environment, shared by `kyso idp ...` and the service so both read the same store:
 *   REDIS_URL                    redis://[user:pass@]host:port[/db]  (standalone)
 *   REDIS_SENTINELS              host:port,host:port  + REDIS_SENTINEL_NAME (default mymaster)
 *   REDIS_CLUSTER                host:port,host:port  (cluster seed nodes)
 *   KYSO_IDP_REDIS_PREFIX        key prefix (default kyso:idp:)
 *   REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS=1   credentials / TLS for Sentinel and Cluster nodes
 */
import type { RedisConfig } from '../contracts.js';
import { IdpError } from './errors.js';

function nodes(list: string, name: string): { host: string; port: number }[] {
  return list.split(',').map((s) => s.trim()).filter(Boolean).map((hp) => {
    const m = /^(.+):(\d{1,5})$/.exec(hp);
    if (!m) throw new IdpError('IDP_STORAGE_CONFIG', `${name}: '${hp}' is not host:port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
}

/** The Redis config described by the environment, or undefined when none of the variables is set. */
export function redisConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RedisConfig | undefined {
  const prefix = {
    ...(env.KYSO_IDP_REDIS_PREFIX ? { keyPrefix: env.KYSO_IDP_REDIS_PREFIX } : {}),
    ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
    ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
    ...(env.REDIS_TLS === '1' || env.REDIS_TLS === 'true' ? { tls: true } : {}),
  };
  if (env.REDIS_CLUSTER) return { cluster: nodes(env.REDIS_CLUSTER, 'REDIS_CLUSTER'), ...prefix };
  if (env.REDIS_SENTINELS) return { sentinels: nodes(env.REDIS_SENTINELS, 'REDIS_SENTINELS'), sentinelName: env.REDIS_SENTINEL_NAME || 'mymaster', ...prefix };
  if (env.REDIS_URL) return { url: env.REDIS_URL, ...prefix };
  return undefined;
}
