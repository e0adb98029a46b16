/**
 * Exponential backoff policy shared by the in-memory and Redis rate limiters.
 *
 * After `threshold` failures under one key, each further failure blocks the key for
 * base · 2^(failures − threshold), capped at `maxDelayMs`. Every key forgets its failures `windowMs` after the
 * last failure (or when its block ends, if later), so nobody is ever locked out for good.
 */
export interface BackoffPolicy {
  /** Failures allowed before the first delay (default 5). */
  threshold: number;
  /** First delay (default 1000 ms). */
  baseDelayMs: number;
  /** Longest delay (default 15 min). */
  maxDelayMs: number;
  /** Failures are forgotten this long after the last one (default 15 min). */
  windowMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  threshold: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  windowMs: 15 * 60_000,
});

/** Block duration after the n-th consecutive failure (0 = not blocked). */
export function delayAfter(failures: number, p: BackoffPolicy): number {
  if (failures < p.threshold) return 0;
  const exp = failures - p.threshold;
  if (exp >= 40) return p.maxDelayMs;
  return Math.min(p.baseDelayMs * 2 ** exp, p.maxDelayMs);
}

/**
 * Keys that a success resets. IP keys (`ip:` prefix) are not reset by a success, only by time: otherwise an
 * attacker could interleave logins to their own account to keep guessing others' passwords from one address.
 */
export function resettableOnSuccess(key: string): boolean {
  return !key.startsWith('ip:');
}
