/**
 * ioredis connections from a {@link RedisConfig}: standalone URL, Sentinel, or Cluster. Also a tiny EVALSHA helper.
 */
import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../contracts.js';
import { IdpError } from './errors.js';

/** Standalone/Sentinel connection or Cluster. */
export type RedisClient = Redis | Cluster;

/** Removes credentials from a Redis URL before it goes into an error message. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password || u.username) { u.username = ''; u.password = ''; }
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function describe(cfg: RedisConfig): string {
  if (cfg.cluster) return `cluster ${cfg.cluster.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (cfg.sentinels) return `sentinel ${cfg.sentinelName ?? 'mymaster'} via ${cfg.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
  return redactRedisUrl(cfg.url ?? '');
}

/** Normalises `string | RedisConfig`. */
export function toRedisConfig(cfg: RedisConfig | string): RedisConfig {
  return typeof cfg === 'string' ? { url: cfg } : cfg;
}

/**
 * Connects and waits until the server answers (IDP_STORAGE_UNAVAILABLE otherwise, without credentials in the
 * message). Commands issued in the same tick are pipelined automatically.
 */
export async function connectRedis(input: RedisConfig | string, opts: { connectTimeoutMs?: number } = {}): Promise<RedisClient> {
  const cfg = toRedisConfig(input);
  const common = {
    lazyConnect: true,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 3,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
  } as const;
  const auth = {
    ...(cfg.username ? { username: cfg.username } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
    ...(cfg.tls ? { tls: {} } : {}),
  };
  let client: RedisClient;
  if (cfg.cluster && cfg.cluster.length) {
    client = new Cluster(cfg.cluster, { lazyConnect: true, enableAutoPipelining: true, redisOptions: { connectTimeout: common.connectTimeout, maxRetriesPerRequest: 3, ...auth } });
  } else if (cfg.sentinels && cfg.sentinels.length) {
    client = new Redis({
      ...common, ...auth, sentinels: cfg.sentinels, name: cfg.sentinelName ?? 'mymaster',
      ...(cfg.password ? { sentinelPassword: cfg.password } : {}), ...(cfg.username ? { sentinelUsername: cfg.username } : {}),
    });
  } else if (cfg.url) {
    if (!/^rediss?:\/\//.test(cfg.url)) throw new IdpError('IDP_STORAGE_CONFIG', `Redis URL must start with redis:// or rediss://, got ${redactRedisUrl(cfg.url)}`);
    client = new Redis(cfg.url, { ...common, ...auth });
  } else {
    throw new IdpError('IDP_STORAGE_CONFIG', 'Redis config needs `url`, `sentinels` + `sentinelName`, or `cluster` nodes');
  }
  let lastError: Error | undefined;
  client.on('error', (err: Error) => { lastError = err; });
  try {
    const timeout = (opts.connectTimeoutMs ?? 5000) + 1000;
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => setTimeout(() => reject(lastError ?? new Error('timed out')), timeout).unref()),
    ]);
    await client.ping();
  } catch (err) {
    client.disconnect();
    const msg = (err as Error)?.message ?? String(err);
    const safe = msg.replace(/\/\/[^@/\s]*@/g, '//').split(cfg.password || '\u0000').join('***');
    throw new IdpError('IDP_STORAGE_UNAVAILABLE', `cannot connect to Redis (${describe(cfg)}): ${safe}`, { cause: err });
  }
  return client;
}

const ALL_SCRIPTS: LuaScript[] = [];

/**
 * Loads every kyso Lua script into the script cache of each master (done once at connect, so a burst of
 * concurrent first calls does not all fall back to EVAL).
 */
export async function preloadScripts(client: RedisClient): Promise<void> {
  const targets: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  await Promise.all(targets.flatMap((node) => ALL_SCRIPTS.map((sc) => node.script('LOAD', sc.source))));
}

/** A Lua script run with EVALSHA (falling back to EVAL when the script cache is cold, e.g. after a restart). */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
    ALL_SCRIPTS.push(this);
  }
  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
