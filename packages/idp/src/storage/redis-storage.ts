/** Redis implementation of {@link createStorage}. */
import type { RedisConfig } from '../contracts.js';
import { KvAccountStore } from '../accounts/account-store.js';
import { resolveSecretBox } from '../accounts/secret-box.js';
import { RedisAuditLog } from '../audit/redis-audit-log.js';
import { DEFAULT_BACKOFF } from '../security/backoff.js';
import { RedisRateLimiter } from '../security/redis-rate-limiter.js';
import { adapterClientStore } from './clients.js';
import type { CreateStorageOptions, KysoIdpStorage } from './create-storage.js';
import { redisAdapterClass } from './redis-adapter.js';
import { connectRedis, preloadScripts, toRedisConfig } from './redis-connect.js';
import { RedisHashKV } from './redis-kv.js';
import { hashAccountLists } from './kv.js';
import { redisNotices } from './notices.js';
import { RecentRecords } from './recent-records.js';
import { IdpError } from './errors.js';

/** Default key prefix; set `keyPrefix` in the config to share one Redis between deployments. */
export const DEFAULT_KEY_PREFIX = 'kyso:idp:';

export async function createRedisStorage(input: RedisConfig | string, opts: CreateStorageOptions): Promise<KysoIdpStorage> {
  const cfg = toRedisConfig(input);
  const prefix = cfg.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (/[{}\s]/.test(prefix)) throw new IdpError('IDP_STORAGE_CONFIG', 'Redis keyPrefix must not contain braces or spaces (braces would break Cluster hash tags)');
  const box = resolveSecretBox({ persistent: true, ...(opts.secretKey !== undefined ? { key: opts.secretKey } : {}), ...(opts.previousSecretKeys ? { previousKeys: opts.previousSecretKeys } : {}) });
  const client = await connectRedis(cfg);
  try {
    await preloadScripts(client);
  } catch (err) {
    client.disconnect();
    throw new IdpError('IDP_STORAGE_UNAVAILABLE', `Redis refused SCRIPT LOAD (kyso needs Lua scripting): ${(err as Error).message}`, { cause: err });
  }
  const now = opts.now ?? Date.now;
  const notices = redisNotices(client, prefix);
  const recent = new RecentRecords({ notices, ...(opts.grantCacheMs !== undefined ? { maxAgeMs: opts.grantCacheMs } : {}) });
  const Adapter = redisAdapterClass(client, prefix, { ...opts, now, recent });
  const clientIndex = `${prefix}oidc:clients`;
  let closed = false;
  const kv = new RedisHashKV(client);
  const accounts = new KvAccountStore({ kv, box, now, prefix, notices, ...(opts.argon2 ? { argon2: opts.argon2 } : {}), ...(opts.totpIssuer ? { totpIssuer: opts.totpIssuer } : {}) });
  return {
    kind: 'redis',
    Adapter,
    accounts,
    rateLimiter: new RedisRateLimiter(client, prefix, { ...DEFAULT_BACKOFF, ...opts.backoff }, now),
    audit: new RedisAuditLog(client, prefix, now),
    lists: hashAccountLists(kv, prefix),
    notices,
    clients: adapterClientStore(Adapter, {
      add: async (id) => { await client.sadd(clientIndex, id); },
      remove: async (id) => { await client.srem(clientIndex, id); },
      all: () => client.smembers(clientIndex),
    }),
    async close() {
      if (closed) return;
      closed = true;
      await recent.close();
      await accounts.close();
      await notices.close();
      try { await client.quit(); } catch { client.disconnect(); }
    },
  };
}
