/** KeySetManager: rotation states, JWKS order, cookie keys, shared store across "processes". */
import assert from 'node:assert/strict';
import { KeySetManager, memoryKeySetStore } from '@kyso/idp';

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
    assert.equal(await keys.pruneRetired(Math.floor(Date.now() / 1000) + 3601), 2);
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
});
