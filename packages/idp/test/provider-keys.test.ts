/** KeySetManager: rotation states, JWKS order, cookie keys, shared store across "processes". */
import assert from 'node:assert/strict';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { KeySetManager, createStorage, memoryKeySetStore, openSharedKeySet, type KysoIdpStorage } from '@kyso/idp';

describe('idp provider: key set manager', function () {
  this.timeout(20_000);

  it('publishes pending keys verify-only, promotes them, retires old keys after their tokens expire', async () => {
    const keys = await KeySetManager.open({ maxTokenLifetimeSeconds: 3600 });
    const first = keys.kids().active;
    assert.equal(first.length, 2, 'one EC (ES256) and one RSA (PS256/RS256) key');
    const pending = await keys.addPending();
    const jwks = keys.providerJwks().keys;
    assert.deepEqual(jwks.slice(0, 2).map((k) => k.kid), first, 'primary keys first');
    for (const k of jwks.filter((j) => pending.includes(j.kid))) assert.deepEqual(k.key_ops, ['verify']);
    await keys.promote();
    assert.deepEqual(keys.kids().active.sort(), [...pending].sort());
    assert.deepEqual(keys.kids().retiring.sort(), [...first].sort());
    const after = keys.providerJwks().keys;
    assert.ok(after.slice(0, 2).every((k) => pending.includes(k.kid) && k.key_ops === undefined));
    assert.ok(after.filter((k) => first.includes(k.kid)).every((k) => (k.key_ops as string[])[0] === 'verify'));
    assert.equal(await keys.pruneRetired(Math.floor(Date.now() / 1000) + 10), 0, 'kept while tokens may live');
    assert.equal(await keys.pruneRetired(Math.floor(Date.now() / 1000) + 3601), 0, 'plus 5 min for relying parties\' clock skew');
    assert.equal(await keys.pruneRetired(Math.floor(Date.now() / 1000) + 3902), 2);
    assert.equal(keys.providerJwks().keys.length, 2);
  });

  it('cookie keys rotate newest-first and keep at most three', async () => {
    const keys = await KeySetManager.open();
    const k0 = keys.cookieKeys()[0];
    await keys.rotateCookieKeys();
    assert.equal(keys.cookieKeys()[1], k0);
    await keys.rotateCookieKeys();
    await keys.rotateCookieKeys();
    assert.equal(keys.cookieKeys().length, 3);
    assert.ok(!keys.cookieKeys().includes(k0!));
  });

  it('two managers on one store share keys; a rotation is picked up by reload()', async () => {
    const store = memoryKeySetStore();
    const [a, b] = await Promise.all([KeySetManager.open({ store }), KeySetManager.open({ store })]);
    await a.reload();
    await b.reload();
    assert.deepEqual(a.kids().active.sort(), b.kids().active.sort(), 'simultaneous start converges');
    assert.equal(a.pairwiseSalt(), b.pairwiseSalt());
    let changed = 0;
    b.onChange(() => { changed++; });
    await a.promote();
    assert.equal(await b.reload(), true);
    assert.equal(changed, 1);
    assert.deepEqual(b.kids().active.sort(), a.kids().active.sort());
    assert.equal(await b.reload(), false);
  });

  describe('changes from several processes at once are never lost (compare-and-set)', function () {
    let redis: RedisInstance;
    const opened: KysoIdpStorage[] = [];
    before(async () => { redis = await startRedis(); });
    after(async () => {
      for (const s of opened) await s.close();
      await redis?.stop();
    });
    const SECRET = Buffer.alloc(32, 5).toString('base64');
    const stores: Record<string, () => Promise<() => Promise<KeySetManager>>> = {
      'memory key-set store': async () => { const store = memoryKeySetStore(); return () => KeySetManager.open({ store }); },
      'memory storage adapter': async () => { const s = await createStorage({ secretKey: SECRET }); opened.push(s); return () => openSharedKeySet(s); },
      'Redis (separate connections, like separate processes)': async () => {
        const prefix = `ks${Math.random().toString(36).slice(2, 8)}:`;
        return async () => { const s = await createStorage({ secretKey: SECRET, redis: { url: redis.url, keyPrefix: prefix } }); opened.push(s); return openSharedKeySet(s); };
      },
    };
    for (const [name, make] of Object.entries(stores)) {
      it(`${name}: five processes starting together on an empty store agree at once on keys and pairwise salt`, async () => {
        const open = await make();
        const ms = await Promise.all(Array.from({ length: 5 }, () => open()));
        for (const m of ms.slice(1)) {
          assert.equal(m.pairwiseSalt(), ms[0]!.pairwiseSalt(), 'without a reload');
          assert.deepEqual(m.kids().active, ms[0]!.kids().active);
          assert.deepEqual(m.cookieKeys(), ms[0]!.cookieKeys());
        }
        assert.equal(ms[0]!.kids().active.length, 2);
      });

      it(`${name}: a rotation and a cookie-key rotation made at once by two stale processes both survive`, async () => {
        const open = await make();
        const a = await open();
        const b = await open();
        const salt = a.pairwiseSalt();
        const cookie0 = b.cookieKeys()[0];
        // neither has seen the other's change: without compare-and-set the later save drops the earlier one
        const [pending] = await Promise.all([a.addPending(), b.rotateCookieKeys()]);
        const c = await open();
        assert.deepEqual(c.kids().pending.sort(), [...pending].sort(), 'the new keys are kept');
        assert.equal(c.cookieKeys().length, 2, 'the new cookie key is kept');
        assert.equal(c.cookieKeys()[1], cookie0);
        assert.equal(c.pairwiseSalt(), salt, 'the pairwise salt never changes');
        // two promotions at once: one set of keys becomes active, the previous one retires once
        const before = c.kids().active;
        await Promise.all([a.promote(), b.promote()]);
        const d = await open();
        assert.deepEqual(d.kids().active.sort(), [...pending].sort());
        assert.deepEqual(d.kids().retiring.sort(), [...before].sort());
        assert.equal(d.kids().pending.length, 0);
        // two pending rotations at once publish one new pair, not two
        await Promise.all([a.addPending(), b.addPending()]);
        assert.equal((await open()).kids().pending.length, 2);
      });
    }
  });
});

