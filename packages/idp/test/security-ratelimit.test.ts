/**
 * Rate limiter (memory and Redis): exponential backoff after 5 failures, capped at 15 min, always expiring,
 * reset by success on account keys only, atomic under concurrency.
 */
import assert from 'node:assert/strict';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { Redis } from 'ioredis';
import { createStorage, type KysoIdpStorage } from '../src/storage/index.js';
import { delayAfter, DEFAULT_BACKOFF } from '../src/security/index.js';

const KEY = Buffer.alloc(32, 3).toString('base64');
let redis: RedisInstance;
before(async function () {
  this.timeout(15000);
  redis = await startRedis();
});
after(async () => { await redis?.stop(); });

describe('backoff policy', () => {
  it('is 0 for the first 4 failures, then 1 s, 2 s, 4 s ... capped at 15 min', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => delayAfter(n, DEFAULT_BACKOFF)), [0, 0, 0, 0]);
    assert.deepEqual([5, 6, 7, 8].map((n) => delayAfter(n, DEFAULT_BACKOFF)), [1000, 2000, 4000, 8000]);
    assert.equal(delayAfter(15, DEFAULT_BACKOFF), 900_000);
    assert.equal(delayAfter(1e9, DEFAULT_BACKOFF), 900_000);
  });
});

for (const backend of ['memory', 'redis'] as const) {
  describe(`rate limiter: ${backend}`, function () {
    this.timeout(15000);
    let s: KysoIdpStorage;
    let clock = Date.now();
    let n = 0;
    const prefix = () => `rl${n}:`;
    beforeEach(async () => {
      clock = Date.now();
      n++;
      s = await createStorage({ secretKey: KEY, now: () => clock, ...(backend === 'redis' ? { redis: { url: redis.url, keyPrefix: prefix() } } : {}) });
    });
    afterEach(async () => { await s.close(); });
    const fail = async (keys: string[], times: number) => { for (let i = 0; i < times; i++) await s.rateLimiter.recordFailure(keys); };

    it('allows 4 failures, then blocks 1 s, 2 s, 4 s', async () => {
      const k = ['acct:001190000001'];
      await fail(k, 4);
      assert.deepEqual(await s.rateLimiter.check(k), { allowed: true, retryAfterSeconds: 0 });
      await fail(k, 1);
      assert.deepEqual(await s.rateLimiter.check(k), { allowed: false, retryAfterSeconds: 1 });
      clock += 1000;
      assert.equal((await s.rateLimiter.check(k)).allowed, true);
      await fail(k, 1);
      assert.deepEqual(await s.rateLimiter.check(k), { allowed: false, retryAfterSeconds: 2 });
      clock += 2000;
      await fail(k, 1);
      assert.deepEqual(await s.rateLimiter.check(k), { allowed: false, retryAfterSeconds: 4 });
      assert.equal((await s.rateLimiter.check(['acct:001190000002'])).allowed, true, 'other keys unaffected');
    });

    it('never blocks for more than 15 minutes, and forgets failures afterwards (no permanent lockout)', async () => {
      const k = ['acct:001190000003'];
      await fail(k, 60);
      const r = await s.rateLimiter.check(k);
      assert.equal(r.allowed, false);
      assert.equal(r.retryAfterSeconds, 900);
      clock += 900_000;
      assert.equal((await s.rateLimiter.check(k)).allowed, true);
      clock += 1;
      await fail(k, 1);
      assert.equal((await s.rateLimiter.check(k)).allowed, true, 'state forgotten once the block and window ended');
      if (backend === 'redis') {
        const raw = new Redis(redis.url);
        try {
          const ttl = await raw.pttl(`${prefix()}rl:{acct:001190000003}`);
          assert.ok(ttl > 0 && ttl <= DEFAULT_BACKOFF.windowMs, `redis key always has an expiry (pttl ${ttl})`);
        } finally { raw.disconnect(); }
      }
    });

    it('checks all keys and reports the longest wait', async () => {
      await fail(['ip:10.0.0.1'], 7); // 4 s
      await fail(['acct:001190000004'], 5); // 1 s
      assert.deepEqual(await s.rateLimiter.check(['ip:10.0.0.1', 'acct:001190000004']), { allowed: false, retryAfterSeconds: 4 });
      assert.deepEqual(await s.rateLimiter.check(['ip:10.0.0.2', 'acct:001190000004']), { allowed: false, retryAfterSeconds: 1 });
      assert.deepEqual(await s.rateLimiter.check([]), { allowed: true, retryAfterSeconds: 0 });
    });

    it('a success resets account keys but not IP keys', async () => {
      const keys = ['ip:10.0.0.9', 'acct:001190000005'];
      await fail(keys, 5);
      await s.rateLimiter.recordSuccess(keys);
      assert.equal((await s.rateLimiter.check(['acct:001190000005'])).allowed, true);
      assert.equal((await s.rateLimiter.check(['ip:10.0.0.9'])).allowed, false, 'IP keys decay by time only');
      await fail(['acct:001190000005'], 4);
      assert.equal((await s.rateLimiter.check(['acct:001190000005'])).allowed, true, 'count restarted from zero');
    });

    it('counts concurrent failures exactly (atomic increments)', async () => {
      const k = ['acct:001190000006'];
      await Promise.all(Array.from({ length: 10 }, () => s.rateLimiter.recordFailure(k)));
      // 10 failures → 2^(10-5) s = 32 s
      assert.deepEqual(await s.rateLimiter.check(k), { allowed: false, retryAfterSeconds: 32 });
    });
  });
}
