/** Redis {@link RateLimiter}: one hash per key (`f` failures, `u` blocked-until ms), always with an expiry. */
import type { RateLimiter } from '../contracts.js';
import { LuaScript, type RedisClient } from '../storage/redis-connect.js';
import { DEFAULT_BACKOFF, resettableOnSuccess, type BackoffPolicy } from './backoff.js';

/**
 * ARGV: now, threshold, base, max, window (ms). Same formula as delayAfter(). `e` is the logical expiry (the
 * caller's clock); the Redis key expiry mirrors it and only collects garbage.
 */
const FAIL = new LuaScript(`
local now = tonumber(ARGV[1])
local e0 = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
if e0 <= now then redis.call('DEL', KEYS[1]) end
local f = redis.call('HINCRBY', KEYS[1], 'f', 1)
local u = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
local threshold = tonumber(ARGV[2])
if f >= threshold then
  local e = f - threshold
  if e > 40 then e = 40 end
  local d = tonumber(ARGV[3]) * (2 ^ e)
  if d > tonumber(ARGV[4]) then d = tonumber(ARGV[4]) end
  u = now + d
  redis.call('HSET', KEYS[1], 'u', string.format('%.0f', u))
end
local exp = now + tonumber(ARGV[5])
if u > exp then exp = u end
redis.call('HSET', KEYS[1], 'e', string.format('%.0f', exp))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', exp - now))
return f
`);

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  private key(k: string): string {
    return `${this.prefix}rl:{${k}}`;
  }

  async check(keys: string[]): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const now = this.now();
    const until = await Promise.all(keys.map((k) => this.client.hmget(this.key(k), 'u', 'e')));
    let wait = 0;
    for (const [u, e] of until) if (u && Number(u) > now && Number(e) > now) wait = Math.max(wait, Number(u) - now);
    return { allowed: wait === 0, retryAfterSeconds: Math.ceil(wait / 1000) };
  }

  async recordFailure(keys: string[]): Promise<void> {
    const p = this.policy;
    const now = this.now();
    await Promise.all([...new Set(keys)].map((k) => FAIL.run(this.client, [this.key(k)], [now, p.threshold, p.baseDelayMs, p.maxDelayMs, p.windowMs])));
  }

  async recordSuccess(keys: string[]): Promise<void> {
    const del = keys.filter(resettableOnSuccess).map((k) => this.key(k));
    await Promise.all(del.map((k) => this.client.del(k)));
  }
}
