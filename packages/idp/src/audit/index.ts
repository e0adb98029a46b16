/**
 * Append-only, hash-chained audit log (hash = SHA-256(prevHash || canonical JSON)).
 */
export { MemoryAuditLog } from './memory-audit-log.js';
export { canonicalJson, recordHash, verifyRecords, sanitiseEvent, ChainVerifier, GENESIS_HASH } from './chain.js';
export { RedisAuditLog } from './redis-audit-log.js';
