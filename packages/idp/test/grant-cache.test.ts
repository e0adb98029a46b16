/**
 * Per-process copies of grant records (RecentRecords) on the Redis store: they are used, bounded in age,
 * dropped by writes in this process at once and by writes in another process through a pub/sub notice, never
 * kept from a read that raced a write, and never stand in for a revoked token.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import type { ChangeNotices } from '../src/contracts.js';
import { createStorage, type KysoIdpStorage } from '../src/index.js';
import { GRANT_RECORD_NOTICE, RecentRecords } from '../src/storage/recent-records.js';

const KEY = Buffer.alloc(32, 6).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, ms: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await sleep(10);
  }
  throw new Error(`not within ${ms} ms`);
}

/** A grant payload as oidc-provider stores it. */
const grant = (scope: string) => ({ kind: 'Grant', accountId: '001090012345', clientId: 'rp', openid: { scope }, iat: 1, exp: 4_000_000_000 });

describe('idp storage: per-process grant copies (Redis)', function () {
  this.timeout(30_000);
  let redis: RedisInstance;
  let raw: Redis;
  const open: KysoIdpStorage[] = [];
  const mk = async (prefix: string, grantCacheMs?: number) => {
    const s = await createStorage({ secretKey: KEY, redis: { url: redis.url, keyPrefix: prefix }, ...(grantCacheMs !== undefined ? { grantCacheMs } : {}) });
    open.push(s);
    return s;
  };
  /** Reads until the copy is in use (the notice subscription is set up by the first read). */
  const warm = async (s: KysoIdpStorage, id: string) => { for (let i = 0; i < 50; i++) { await new s.Adapter('Grant').find(id); await sleep(5); } };

  before(async () => { redis = await startRedis(); raw = new Redis(redis.url); });
  after(async () => {
    for (const s of open) await s.close();
    raw?.disconnect();
    await redis?.stop();
  });

  it('answers from the copy for at most its age cap, then reads Redis again', async () => {
    const s = await mk('gc1:', 300);
    const A = new s.Adapter('Grant');
    await A.upsert('g1', grant('openid'), 3600);
    await warm(s, 'g1');
    // a change that bypasses kyso (no notice): only the age cap ends the copy
    await raw.hset('gc1:oidc:{Grant:g1}', 'p', JSON.stringify(grant('openid profile')));
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid', 'served from the copy');
    const took = await eventually(async () => ((await A.find('g1'))?.openid as { scope: string }).scope === 'openid profile', 1500);
    assert.ok(took <= 600, `copy outlived its 300 ms cap (${took} ms)`);
    // each call returns its own object: a caller mutating it cannot change the copy
    const x = await A.find('g1');
    (x!.openid as { scope: string }).scope = 'tampered';
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid profile');
  });

  it('grantCacheMs: 0 always reads Redis', async () => {
    const s = await mk('gc2:', 0);
    const A = new s.Adapter('Grant');
    await A.upsert('g1', grant('openid'), 3600);
    await warm(s, 'g1');
    await raw.hset('gc2:oidc:{Grant:g1}', 'p', JSON.stringify(grant('openid email')));
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid email');
  });

  it('a write or delete in this process is seen at once', async () => {
    const s = await mk('gc3:', 2000);
    const A = new s.Adapter('Grant');
    await A.upsert('g1', grant('openid'), 3600);
    await warm(s, 'g1');
    await A.upsert('g1', grant('openid phone'), 3600);
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid phone');
    await A.destroy('g1');
    assert.equal(await A.find('g1'), undefined);
  });

  it('a write or delete in another process sharing Redis reaches this one through a notice, long before the cap', async () => {
    const a = await mk('gc4:', 2000);
    const b = await mk('gc4:', 2000);
    const A = new a.Adapter('Grant');
    const B = new b.Adapter('Grant');
    await B.upsert('g1', grant('openid'), 3600);
    await warm(a, 'g1');
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid');
    await B.upsert('g1', grant('openid address'), 3600);
    const seen = await eventually(async () => ((await A.find('g1'))?.openid as { scope: string }).scope === 'openid address', 1900);
    assert.ok(seen < 500, `the notice took ${seen} ms`);
    await B.destroy('g1');
    const gone = await eventually(async () => (await A.find('g1')) === undefined, 1900);
    assert.ok(gone < 500, `the delete notice took ${gone} ms`);
    // guardian links (KysoGrantActor) are copied and dropped the same way, including "no link"
    const AA = new a.Adapter('KysoGrantActor');
    assert.equal(await AA.find('g2'), undefined);
    await new b.Adapter('KysoGrantActor').upsert('g2', { actor: '001080012345', relationship: 'parent' }, 3600);
    const linked = await eventually(async () => (await AA.find('g2'))?.actor === '001080012345', 1900);
    assert.ok(linked < 500, `the link notice took ${linked} ms`);
  });

  it('when the notice subscription drops, copies stop being used (notices may have been missed)', async () => {
    const s = await mk('gc7:', 2000);
    const A = new s.Adapter('Grant');
    await A.upsert('g1', grant('openid'), 3600);
    await warm(s, 'g1');
    // a change no notice tells about, then the subscriber connection is killed on the server side
    await raw.hset('gc7:oidc:{Grant:g1}', 'p', JSON.stringify(grant('openid email')));
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid', 'copy in use');
    const killed = await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    assert.ok(Number(killed) >= 1, 'a subscriber connection existed');
    const seen = await eventually(async () => ((await A.find('g1'))?.openid as { scope: string }).scope === 'openid email', 1900);
    assert.ok(seen < 1000, `stale copy used for ${seen} ms after the subscription dropped`);
    // once resubscribed, copies are used again (and dropped by notices as before)
    await sleep(300);
    await warm(s, 'g1');
    await raw.hset('gc7:oidc:{Grant:g1}', 'p', JSON.stringify(grant('openid phone')));
    assert.equal(((await A.find('g1'))?.openid as { scope: string }).scope, 'openid email', 'copies in use again');
  });

  it('revoking a grant in another process ends its tokens at once, whatever the copy holds', async () => {
    const a = await mk('gc5:', 2000);
    const b = await mk('gc5:', 2000);
    await new b.Adapter('Grant').upsert('g1', grant('openid'), 3600);
    await new b.Adapter('AccessToken').upsert('at1', { kind: 'AccessToken', grantId: 'g1', accountId: '001090012345', clientId: 'rp' }, 600);
    await warm(a, 'g1');
    assert.ok(await new a.Adapter('AccessToken').find('at1'));
    await new b.Adapter('AccessToken').revokeByGrantId('g1');
    assert.equal(await new a.Adapter('AccessToken').find('at1'), undefined, 'token lookups are never copied');
  });

  it('refresh-token reuse revokes the grant and drops every copy of it', async () => {
    const a = await mk('gc6:', 2000);
    const b = await mk('gc6:', 2000);
    await new b.Adapter('Grant').upsert('g1', grant('openid'), 3600);
    await new b.Adapter('RefreshToken').upsert('rt1', { kind: 'RefreshToken', grantId: 'g1', accountId: '001090012345', clientId: 'rp' }, 600);
    await warm(a, 'g1');
    await new b.Adapter('RefreshToken').consume('rt1');
    await assert.rejects(new b.Adapter('RefreshToken').consume('rt1'), { name: 'InvalidGrant' });
    assert.equal(await new b.Adapter('Grant').find('g1'), undefined, 'grant revoked');
    const gone = await eventually(async () => (await new a.Adapter('Grant').find('g1')) === undefined, 1900);
    assert.ok(gone < 500, `the revocation notice took ${gone} ms`);
  });
});

describe('idp storage: per-process account copies (Redis)', function () {
  this.timeout(30_000);
  let redis: RedisInstance;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis?.stop(); });

  it('a citizen disabled from another process (e.g. kyso idp user disable) is seen through the notice, long before the copy expires', async () => {
    const opts = { secretKey: KEY, redis: { url: redis.url, keyPrefix: 'ac1:' }, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };
    const a = await createStorage(opts);
    const b = await createStorage(opts);
    try {
      const id = '001090012345';
      await b.accounts.create({ id, password: 'a long enough password 1', name: 'Trần Văn An', birthdate: '1990-01-01', gender: 'male', level: 1 });
      assert.equal((await a.accounts.getRecent(id, 2000))?.disabled, false);
      await sleep(100); // the first getRecent subscribed
      assert.equal((await a.accounts.getRecent(id, 2000))?.disabled, false);
      // the copy is in use: a change that bypasses kyso (no notice) is not seen yet
      const raw = new Redis(redis.url);
      try {
        await raw.hset(`ac1:acct:{${id}}`, 'disabled', '1');
        assert.equal((await a.accounts.getRecent(id, 2000))?.disabled, false, 'served from the copy');
        await raw.hset(`ac1:acct:{${id}}`, 'disabled', '0');
      } finally { raw.disconnect(); }
      await b.accounts.setDisabled(id, true);
      const seen = await eventually(async () => (await a.accounts.getRecent(id, 2000))?.disabled === true, 1900);
      assert.ok(seen < 500, `the notice took ${seen} ms`);
      await b.accounts.setLevel(id, 2);
      await eventually(async () => (await a.accounts.getRecent(id, 2000))?.level === 2, 500);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('RecentRecords (unit)', () => {
  /** Notices in one process, with a switch for "subscription interrupted". */
  function fakeNotices() {
    const fns: ((d?: string) => void)[] = [];
    let live = true;
    const n: ChangeNotices & { setLive(v: boolean): void; fire(d?: string): void } = {
      async announce(topic, detail) { assert.equal(topic, GRANT_RECORD_NOTICE); for (const f of fns) f(detail); },
      async watch(_t, fn) { fns.push(fn); return async () => { fns.splice(fns.indexOf(fn), 1); }; },
      isLive: () => live,
      setLive(v) { live = v; },
      fire(d) { for (const f of fns) f(d); },
    };
    return n;
  }
  async function armed(n = fakeNotices(), clock?: () => number) {
    const r = new RecentRecords({ notices: n, maxAgeMs: 1000, ...(clock ? { clock } : {}) });
    assert.equal(r.get('k'), undefined, 'first read arms the subscription');
    await sleep(0);
    return { r, n };
  }
  const V1 = ['{"v":1}', null] as const;

  it('keeps nothing until the notice subscription is live', () => {
    const r = new RecentRecords({ notices: fakeNotices(), maxAgeMs: 1000 });
    r.keep('k', r.begin(), V1);
    assert.equal(r.get('k'), undefined);
  });

  it('does not keep a read that raced a write (here or elsewhere)', async () => {
    const { r, n } = await armed();
    let g = r.begin();
    r.drop('k');
    r.keep('k', g, V1);
    assert.equal(r.get('k'), undefined, 'local write during the read');
    g = r.begin();
    n.fire('other-key');
    r.keep('k', g, V1);
    assert.equal(r.get('k'), undefined, 'notice (any key) during the read');
    g = r.begin();
    r.keep('k', g, V1);
    assert.deepEqual(r.get('k'), V1);
  });

  it('a notice without detail (subscription back after a lapse) drops every copy; none is used while not live', async () => {
    const { r, n } = await armed();
    r.keep('a', r.begin(), V1);
    r.keep('b', r.begin(), V1);
    n.fire(undefined);
    assert.equal(r.get('a'), undefined);
    assert.equal(r.get('b'), undefined);
    r.keep('a', r.begin(), V1);
    n.setLive(false);
    assert.equal(r.get('a'), undefined, 'not used while notices could be missed');
    r.keep('a', r.begin(), V1);
    n.setLive(true);
    assert.equal(r.get('a'), undefined, 'not kept while notices could be missed');
  });

  it('expires copies by age, caps the age at 2 s and bounds the entries', async () => {
    let t = 0;
    const { r } = await armed(undefined, () => t);
    r.keep('k', r.begin(), V1);
    t = 999;
    assert.deepEqual(r.get('k'), V1);
    t = 1000;
    assert.equal(r.get('k'), undefined);
    assert.equal(new RecentRecords({ maxAgeMs: 60_000 }).maxAgeMs, 2000);
    const small = new RecentRecords({ processLocal: true, maxEntries: 2 });
    small.keep('a', small.begin(), V1);
    small.keep('b', small.begin(), V1);
    small.keep('c', small.begin(), V1);
    assert.equal(small.get('a'), undefined, 'emptied when full');
    assert.deepEqual(small.get('c'), V1);
  });
});
