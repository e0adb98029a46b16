/**
 * @kyso/idp — citizen identity provider.
 *  - contracts: interfaces between the protocol layer and storage
 *  - storage / accounts / security / audit: createStorage() (memory or Redis), argon2id + TOTP accounts,
 *    rate limiter, hash-chained audit log
 *  - provider: createKysoIdp() (oidc-provider configuration, pages, CIBA, key rotation)
 */
export * from './contracts.js';
export * from './storage/index.js';
export * from './accounts/index.js';
export * from './security/index.js';
export * from './audit/index.js';
export * from './provider/index.js';
