/**
 * Storage layer of the identity provider: `createStorage()` (in-memory or Redis), the oidc-provider Adapter with
 * atomic `consume`, and the client store used by `kyso idp client ...`.
 */
export { createStorage, type CreateStorageOptions, type KysoIdpStorage, type AnchoredAuditLog } from './create-storage.js';
export { IdpError, type IdpErrorCode } from './errors.js';
export { type ClientStore, type ClientMetadata, assertClientMetadata } from './clients.js';
export { type HashKV, MemoryHashKV } from './kv.js';
export { GRANTABLE_MODELS, CONSUMABLE_MODELS } from './grantable.js';
export { type AdapterOptions, type VersionedUpsert, hasVersionedUpsert } from './memory-adapter.js';
export { connectRedis, redactRedisUrl, type RedisClient } from './redis-connect.js';
export { DEFAULT_KEY_PREFIX } from './redis-storage.js';
export { redisConfigFromEnv } from './env-config.js';
export { applySeed, seedAccounts, type IdpSeed, type SeedAccount, type SeedGuardianLink, type SeedResult } from './seed.js';
export { MemoryOidcStore, memoryAdapterClass } from './memory-adapter.js';
