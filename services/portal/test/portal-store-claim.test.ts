/**
 * The officers' claim on an application, in both portal stores: of many concurrent claimants exactly one wins;
 * only the holder releases; a claim lapses after its time (an instance that died holding it blocks no one for good).
 */
import assert from 'node:assert/strict';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { MemoryPortalStore, RedisPortalStore, type PortalStore } from '../src/store.js';

describe('portal store: one officer at a time claims an application', function () {
  this.timeout(30_000);
  let redis: RedisInstance;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis?.stop(); });

  it('redis (two instances): 20 concurrent claims, one winner; release by the holder only; the claim lapses', async () => {
    const a: PortalStore = new RedisPortalStore(redis.url);
    const b: PortalStore = new RedisPortalStore(redis.url);
    try {
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimApplication('app-1', `officer-${i}`, 60_000)));
      assert.equal(wins.filter(Boolean).length, 1, 'one winner');
      const winner = `officer-${wins.indexOf(true)}`;
      await a.releaseApplication('app-1', 'officer-x'); // not the holder: no effect
      assert.equal(await b.claimApplication('app-1', 'officer-y', 60_000), false);
      await b.releaseApplication('app-1', winner);
      assert.equal(await a.claimApplication('app-1', 'officer-y', 1000), true, 'free again once released');
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(await b.claimApplication('app-1', 'officer-z', 60_000), true, 'a lapsed claim is taken');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('memory (one store): one winner, release by the holder only, the claim lapses', async () => {
    const m = new MemoryPortalStore();
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => m.claimApplication('x', `o${i}`, 60_000)));
    assert.equal(wins.filter(Boolean).length, 1);
    await m.releaseApplication('x', 'someone-else');
    assert.equal(await m.claimApplication('x', 'o99', 60_000), false);
    await m.releaseApplication('x', `o${wins.indexOf(true)}`);
    assert.equal(await m.claimApplication('x', 'o99', 50), true);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(await m.claimApplication('x', 'o100', 60_000), true);
  });
});
