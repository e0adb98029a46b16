/**
 * `createStorage()` — everything the identity provider stores, in memory (embedded default) or in Redis.
 */
import type { AuditLog, IdpStorage, RedisConfig } from '../contracts.js';
import { KvAccountStore } from '../accounts/account-store.js';
import type { Argon2Params } from '../accounts/passwords.js';
import { resolveSecretBox } from '../accounts/secret-box.js';
import { MemoryAuditLog } from '../audit/memory-audit-log.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../security/backoff.js';
import { MemoryRateLimiter } from '../security/memory-rate-limiter.js';
import { adapterClientStore, type ClientStore } from './clients.js';
import { hashAccountLists, MemoryHashKV } from './kv.js';
import { memoryNotices } from './notices.js';
import { MemoryOidcStore, memoryAdapterClass, type AdapterOptions } from './memory-adapter.js';

/** Options of {@link createStorage}. */
export interface CreateStorageOptions extends AdapterOptions {
  /** Redis URL or config; absent → in-memory. */
  redis?: RedisConfig | string;
  /** At-rest key for account secrets (32 bytes or base64); default `KYSO_IDP_SECRET_KEY`. */
  secretKey?: Uint8Array | string;
  /** Older at-rest keys still accepted for opening (default `KYSO_IDP_SECRET_KEY_PREVIOUS`, comma-separated). */
  previousSecretKeys?: (Uint8Array | string)[];
  /** argon2id parameters (default m=19456 KiB, t=2, p=1). */
  argon2?: Argon2Params;
  /** Rate-limit backoff policy. */
  backoff?: Partial<BackoffPolicy>;
  /** Issuer label in authenticator apps (default "kyso"). */
  totpIssuer?: string;
  /**
   * Redis only: how long (ms) a process may answer from its own copy of a grant record (oidc-provider's Grant,
   * kyso's guardian link) on the token/introspection/userinfo paths. Default 1000, capped at 2000, 0 = always
   * read Redis. Writes in any process sharing the Redis drop the copies at once (pub/sub notice); the age cap
   * bounds a lost notice. Tokens themselves are never copied, so revocation is immediate.
   */
  grantCacheMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Audit log with external anchoring (both implementations). */
export interface AnchoredAuditLog extends AuditLog {
  /** verifyChain, plus: the anchored record (exported earlier with currentHead) is still unchanged. */
  verifyChain(anchor?: { seq: number; hash: string }): Promise<boolean>;
  /** seq and hash of the newest record: publish or store it elsewhere to detect a recomputed chain later. */
  currentHead(): Promise<{ seq: number; hash: string }>;
}

/** {@link IdpStorage} plus kyso extras available on both implementations. */
export interface KysoIdpStorage extends IdpStorage {
  audit: AnchoredAuditLog;
  accounts: KvAccountStore;
  /** Relying parties stored under the adapter's 'Client' model (what `kyso idp client ...` manages). */
  clients: ClientStore;
}

/**
 * Creates the storage. No `redis` → in-memory (one process, lost on exit). A string is a Redis URL; a
 * {@link RedisConfig} selects standalone (`url`), Sentinel (`sentinels` + `sentinelName`) or Cluster (`cluster`).
 */
export async function createStorage(opts: CreateStorageOptions = {}): Promise<KysoIdpStorage> {
  if (opts.redis !== undefined && opts.redis !== '') {
    const { createRedisStorage } = await import('./redis-storage.js');
    return createRedisStorage(opts.redis, opts);
  }
  const now = opts.now ?? Date.now;
  const store = new MemoryOidcStore(now);
  const Adapter = memoryAdapterClass(store, opts);
  const clientIds = new Set<string>();
  const box = resolveSecretBox({ persistent: false, ...(opts.secretKey !== undefined ? { key: opts.secretKey } : {}), ...(opts.previousSecretKeys ? { previousKeys: opts.previousSecretKeys } : {}) });
  return {
    kind: 'memory',
    Adapter,
    accounts: new KvAccountStore({ kv: new MemoryHashKV(), box, now, ...(opts.argon2 ? { argon2: opts.argon2 } : {}), ...(opts.totpIssuer ? { totpIssuer: opts.totpIssuer } : {}) }),
    rateLimiter: new MemoryRateLimiter({ ...DEFAULT_BACKOFF, ...opts.backoff }, now),
    audit: new MemoryAuditLog(now),
    lists: hashAccountLists(new MemoryHashKV()),
    notices: memoryNotices(),
    clients: adapterClientStore(Adapter, {
      add: async (id) => { clientIds.add(id); },
      remove: async (id) => { clientIds.delete(id); },
      all: async () => [...clientIds],
    }),
    async close() { /* nothing to release */ },
  };
}
