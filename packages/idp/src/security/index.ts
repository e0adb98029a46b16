/**
 * Rate limiting with exponential backoff that always expires (no permanent lockout).
 */
export { MemoryRateLimiter } from './memory-rate-limiter.js';
export { DEFAULT_BACKOFF, delayAfter, resettableOnSuccess, type BackoffPolicy } from './backoff.js';
export { RedisRateLimiter } from './redis-rate-limiter.js';
