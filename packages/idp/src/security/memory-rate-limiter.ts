/** In-memory {@link RateLimiter} (single process). */
import type { RateLimiter } from '../contracts.js';
import { IncrementalSweeper } from '../storage/sweeper.js';
import { DEFAULT_BACKOFF, delayAfter, resettableOnSuccess, type BackoffPolicy } from './backoff.js';

interface State {
  failures: number;
  blockedUntil: number;
  expiresAt: number;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly state = new Map<string, State>();
  private readonly sweeper: IncrementalSweeper<string, State>;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF, private readonly now: () => number = Date.now) {
    this.sweeper = new IncrementalSweeper(this.state, (s) => s.expiresAt <= this.now());
  }

  private live(key: string, now: number): State | undefined {
    const s = this.state.get(key);
    if (s && s.expiresAt <= now) {
      this.state.delete(key);
      return undefined;
    }
    return s;
  }

  async check(keys: string[]): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const now = this.now();
    let wait = 0;
    for (const k of keys) {
      const s = this.live(k, now);
      if (s && s.blockedUntil > now) wait = Math.max(wait, s.blockedUntil - now);
    }
    return { allowed: wait === 0, retryAfterSeconds: Math.ceil(wait / 1000) };
  }

  async recordFailure(keys: string[]): Promise<void> {
    const now = this.now();
    for (const k of new Set(keys)) {
      let s = this.live(k, now);
      if (!s) s = { failures: 0, blockedUntil: 0, expiresAt: 0 };
      s.failures++;
      const d = delayAfter(s.failures, this.policy);
      if (d > 0) s.blockedUntil = now + d;
      s.expiresAt = Math.max(now + this.policy.windowMs, s.blockedUntil);
      this.state.set(k, s);
    }
    this.sweeper.step();
  }

  async recordSuccess(keys: string[]): Promise<void> {
    for (const k of keys) if (resettableOnSuccess(k)) this.state.delete(k);
  }
}
