/**
 * @kyso/idp — the citizen identity provider: OpenID Connect on oidc-provider, with kyso's accounts (argon2id
 * password + TOTP), assurance levels (`acr`) and step-up, consent, CIBA approvals on the phone, hash-chained audit
 * and one storage interface with two implementations (in-memory and Redis).
 *
 *   import { createKysoIdp, createStorage } from '@kyso/idp';
 *   const storage = await createStorage();              // or createStorage({ redis: 'redis://…' })
 *   const idp = await createKysoIdp({ issuer: 'https://id.example.vn', storage, clients: [...] });
 *   // mount idp.middleware in a koa app (services/idp does this)
 *
 * The public API is the explicit list below. A new public name is added here, in its group; anything not
 * listed is internal and may change without notice.
 */
/** Contracts between the protocol layer and storage: accounts, audit, rate limiting, the storage bundle. */
export {
  type AssuranceLevel, type CitizenAddress, type CitizenAccount, type NewAccount, type PasswordCheck,
  type AccountStore, type RateLimiter, type AuditEventType, type AuditEvent, type AuditRecord, type AuditLog,
  type RedisConfig, type AccountLists, type ChangeNotices, type IdpStorage,
} from './contracts.js';
/** Storage: `createStorage()` gives the in-memory store (embedded) or Redis (standalone, Sentinel, Cluster). */
export {
  createStorage, type CreateStorageOptions, type KysoIdpStorage, type AnchoredAuditLog,
} from './storage/create-storage.js';
/** The error of storage and accounts, with a stable `code`. */
export { IdpError, type IdpErrorCode } from './storage/errors.js';
/** Relying-party (client) registrations. */
export { type ClientStore, type ClientMetadata, assertClientMetadata } from './storage/clients.js';
/** A Redis connection from a `RedisConfig`. */
export { connectRedis, type RedisClient } from './storage/redis-connect.js';
/** The default Redis key prefix. */
export { DEFAULT_KEY_PREFIX } from './storage/redis-storage.js';
/** Redis configuration from REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER. */
export { redisConfigFromEnv } from './storage/env-config.js';
/** Seeding clients and accounts (demo, tests, first start). */
export {
  applySeed, seedAccounts, type IdpSeed, type SeedAccount, type SeedGuardianLink, type SeedResult,
} from './storage/seed.js';
/** Account rules: minors, guardians, recovery codes. */
export { MINOR_AGE, GUARDIAN_MIN_AGE, RECOVERY_CODE_COUNT, ENROLMENT_CODE_TTL_MS } from './accounts/account-store.js';
/** Vietnamese personal (CCCD) numbers: check, parse, birthdate, gender. */
export {
  checkPersonalNumber, assertPersonalNumber, makePersonalNumber, parseBirthdate, normaliseGender, ageOn,
  type PersonalNumberProblem,
} from './accounts/personal-number.js';
/** Passwords: argon2id hashing and the password policy. */
export {
  PasswordHasher, DEFAULT_ARGON2, PASSWORD_MIN, PASSWORD_MAX, assertPasswordPolicy, type Argon2Params,
} from './accounts/passwords.js';
/** At-rest encryption of account secrets (TOTP seeds). */
export { SecretBox } from './accounts/secret-box.js';
/** TOTP (RFC 6238) codes, secrets and otpauth:// URIs. */
export {
  totpCode, matchTotp, newTotpSecret, totpUri, TOTP_PERIOD, TOTP_DIGITS, totpSecretProblem, isBase32Secret, TOTP_SECRET_MIN_BITS,
  TOTP_SECRET_NEW_CHARS,
} from './accounts/totp.js';
/** Rate limiting with back-off, in memory or in Redis. */
export { MemoryRateLimiter } from './security/memory-rate-limiter.js';
export { DEFAULT_BACKOFF, type BackoffPolicy } from './security/backoff.js';
export { RedisRateLimiter } from './security/redis-rate-limiter.js';
/** Hash-chained audit logs, in memory or in Redis, and their verification. */
export { MemoryAuditLog } from './audit/memory-audit-log.js';
export { verifyRecords, ChainVerifier, GENESIS_HASH } from './audit/chain.js';
export { RedisAuditLog } from './audit/redis-audit-log.js';
/** CIBA (approval on the phone): binding-message rules. */
export { checkBindingMessage, BINDING_MESSAGE_MAX } from './provider/ciba.js';
/** Scopes and the claims they release. */
export { SCOPE_CLAIMS, SCOPES, accountClaims } from './provider/claims.js';
/** Token lifetimes and client metadata normalisation. */
export { DEFAULT_TTL, normalizeClient } from './provider/configuration.js';
/** CIBA notifications to the citizen's device. */
export { type CibaNotification } from './provider/context.js';
/** Logging: pino JSON logger with secrets redacted, per-request context (request id). */
export { createLogger, requestContext, type Logger } from './provider/logger.js';
/** Assurance levels: `acr` values, eIDAS mapping, step-up rules, `amr`. */
export {
  ACR_VALUES, type AcrValue, EIDAS_MAPPING, acrForLevel, levelOfAcr, requiredLevel, satisfies, amrFor,
  requiredLevelOf,
} from './provider/acr.js';
/** The error of the protocol layer, with a stable `code`. */
export { type IdpProtocolErrorCode, IdpProtocolError } from './provider/errors.js';
/** Signing keys: the shared key set, rotation. */
export {
  type PrivateJwk, type StoredKey, type KeySetRecord, type KeySetStore, memoryKeySetStore, KeySetManager,
} from './provider/keys.js';
/** The provider: `createKysoIdp()` (oidc-provider configuration, pages, CIBA, key rotation). */
export { type KysoIdpOptions, type KysoIdp, openSharedKeySet, createKysoIdp } from './provider/idp.js';
/** Assurance: the acr a set of factors (amr) earns, and whether an account can reach level 2 at all. */
export { acrFromAmr, canReachLevel2 } from './provider/acr.js';
/** The client address behind a configured number of trusted proxies (X-Forwarded-For), and the env variable. */
export { clientAddress, proxyHopsFromEnv } from './provider/web.js';
/** Signed device cookies: a browser where the citizen logged in before keeps its own login allowance. */
export { DeviceCookies, DEVICE_COOKIE_DAYS } from './provider/devices.js';
/** Guardians (Decree 59/2022): whether a guardian may act now, and ending a link / disabling an account with the
 *  revocation of everything issued under it. */
export { guardianMayAct, revokeGuardianActing, endGuardianLink, setAccountDisabled, type GuardianRevocation } from './provider/guardians.js';
