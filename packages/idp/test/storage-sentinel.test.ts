/**
 * Redis Sentinel: when the master dies, the Sentinel promotes the replica and the storage keeps working on the
 * new master (data written before the failover is still there; atomic consume still holds).
 */
import assert from 'node:assert/strict';
import { startRedisSentinel, type RedisSentinelInstance } from '@kyso/fixtures';
import type { AdapterPayload } from 'oidc-provider';
import { Redis } from 'ioredis';
import { createStorage, type KysoIdpStorage } from '../src/storage/index.js';

const KEY = Buffer.alloc(32, 17).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try { return await fn(); } catch (err) { last = err; await sleep(200); }
  }
  throw last;
}

describe('storage on Redis Sentinel: failover', function () {
  this.timeout(60000);
  let sen: RedisSentinelInstance;
  let s: KysoIdpStorage;
  before(async () => {
    sen = await startRedisSentinel({ replicas: 1, downAfterMs: 1000 });
    s = await createStorage({ secretKey: KEY, redis: { sentinels: sen.sentinels, sentinelName: sen.name } });
  });
  after(async () => {
    await s?.close();
    await sen?.stop();
  });

  it('keeps serving after the master is killed and the replica promoted', async () => {
    const A = new s.Adapter('AuthorizationCode');
    await A.upsert('before', { grantId: 'g', clientId: 'rp' } as AdapterPayload, 600);
    await s.audit.append({ type: 'login.success', accountId: 'X' });
    // wait until the replica has the data (WAIT 1 replica)
    const raw = new Redis(sen.master.url);
    try { assert.equal(await raw.wait(1, 15000), 1, 'replica acknowledged'); } finally { raw.disconnect(); }
    await sen.master.stop();
    const found = await eventually(async () => {
      const v = await A.find('before');
      if (!v) throw new Error('not yet');
      return v;
    }, 30000);
    assert.equal(found.clientId, 'rp');
    // writes go to the promoted replica
    await eventually(() => A.upsert('after', { grantId: 'g2', clientId: 'rp' } as AdapterPayload, 600), 30000);
    const probe = new Redis(sen.replicas[0]!.url);
    try {
      assert.equal((await probe.role())[0], 'master', 'replica promoted');
      assert.ok(await probe.exists('kyso:idp:oidc:{AuthorizationCode:after}'), 'write landed on the new master');
    } finally { probe.disconnect(); }
    const r = await Promise.allSettled(Array.from({ length: 20 }, () => A.consume('after')));
    assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
    await s.audit.append({ type: 'logout', accountId: 'X' });
    assert.equal(await s.audit.verifyChain(), true);
  });
});
