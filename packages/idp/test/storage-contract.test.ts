/**
 * One contract suite for both storage implementations: in-memory and Redis (a real redis-server).
 */
import assert from 'node:assert/strict';
import { startRedis, startRedisCluster, startRedisSentinel, type RedisClusterInstance, type RedisInstance, type RedisSentinelInstance } from '@kyso/fixtures';
import type { AdapterPayload } from 'oidc-provider';
import { createStorage, type KysoIdpStorage } from '../src/storage/index.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  name: string;
  make(prefix: string): Promise<KysoIdpStorage>;
}

let redis: RedisInstance | undefined;
let cluster: RedisClusterInstance | undefined;
let sentinel: RedisSentinelInstance | undefined;
const backends: (Backend & { kind: 'memory' | 'redis' })[] = [
  { name: 'memory', kind: 'memory', make: () => createStorage({ secretKey: KEY }) },
  { name: 'redis', kind: 'redis', make: (prefix) => createStorage({ secretKey: KEY, redis: { url: redis!.url, keyPrefix: prefix } }) },
  { name: 'redis cluster (3 masters)', kind: 'redis', make: (prefix) => createStorage({ secretKey: KEY, redis: { cluster: cluster!.nodes, keyPrefix: prefix } }) },
  { name: 'redis sentinel', kind: 'redis', make: (prefix) => createStorage({ secretKey: KEY, redis: { sentinels: sentinel!.sentinels, sentinelName: sentinel!.name, keyPrefix: prefix } }) },
];

before(async function () {
  this.timeout(40000);
  [redis, cluster, sentinel] = await Promise.all([startRedis(), startRedisCluster(3), startRedisSentinel()]);
});
after(async () => {
  await Promise.all([redis?.stop(), cluster?.stop(), sentinel?.stop()]);
});

let n = 0;
for (const b of backends) {
  describe(`storage contract: ${b.name}`, function () {
    this.timeout(20000);
    let s: KysoIdpStorage;
    beforeEach(async () => {
      s = await b.make(`t${++n}:`);
    });
    afterEach(async () => {
      await s.close();
    });

    it('reports its kind', () => {
      assert.equal(s.kind, b.kind);
    });

    it('upsert then find returns an equal payload; unknown ids give undefined', async () => {
      const A = new s.Adapter('AccessToken');
      const payload = { jti: 'at1', accountId: '001190000042', clientId: 'rp', grantId: 'g1', scope: 'openid', kind: 'AccessToken', exp: 123 } as AdapterPayload;
      await A.upsert('at1', payload, 60);
      assert.deepEqual(await A.find('at1'), payload);
      assert.equal(await A.find('nope'), undefined);
      // models are separate namespaces
      assert.equal(await new s.Adapter('RefreshToken').find('at1'), undefined);
    });

    it('returned payloads are copies (mutating them does not change the store)', async () => {
      const A = new s.Adapter('Grant');
      await A.upsert('g', { accountId: 'a', openid: { scope: 'openid' } } as AdapterPayload, 60);
      const got = (await A.find('g'))!;
      got.accountId = 'mallory';
      assert.equal((await A.find('g'))!.accountId, 'a');
    });

    it('finds of a value as every token model at once (introspection) answer for the model that holds it', async () => {
      const at = { jti: 'v1', kind: 'AccessToken', grantId: 'gv', clientId: 'rp', scope: 'openid' } as AdapterPayload;
      const rt = { jti: 'v2', kind: 'RefreshToken', grantId: 'gv2', clientId: 'rp', scope: 'openid offline_access' } as AdapterPayload;
      await new s.Adapter('AccessToken').upsert('v1', at, 60);
      await new s.Adapter('RefreshToken').upsert('v2', rt, 60);
      const asAll = (v: string) => Promise.all(['AccessToken', 'ClientCredentials', 'RefreshToken'].map((m) => new s.Adapter(m).find(v)));
      const [[a, cc, r], [a2, cc2, r2], [n1, n2, n3], again] = await Promise.all([asAll('v1'), asAll('v2'), asAll('v3'), new s.Adapter('AccessToken').find('v1')]);
      assert.deepEqual(a, at);
      assert.equal(cc, undefined);
      assert.equal(r, undefined);
      assert.equal(a2, undefined);
      assert.equal(cc2, undefined);
      assert.deepEqual(r2, rt);
      assert.deepEqual([n1, n2, n3], [undefined, undefined, undefined]);
      assert.notEqual(a, again, 'two finds of one record get two objects');
      (a as Record<string, unknown>).scope = 'changed';
      assert.equal(again!.scope, 'openid');
      // destroying the value under another token model leaves the token in place
      await new s.Adapter('RefreshToken').destroy('v1');
      assert.deepEqual(await new s.Adapter('AccessToken').find('v1'), at);
    });

    it('upsert replaces the previous payload', async () => {
      const A = new s.Adapter('Interaction');
      await A.upsert('i1', { uid: 'i1', returnTo: '/a' } as AdapterPayload, 60);
      await A.upsert('i1', { uid: 'i1', returnTo: '/b' } as AdapterPayload, 60);
      assert.equal((await A.find('i1'))!.returnTo, '/b');
    });

    it('expires records after expiresIn seconds; records without expiresIn stay', async () => {
      const A = new s.Adapter('AuthorizationCode');
      await A.upsert('short', { grantId: 'gx', clientId: 'rp' } as AdapterPayload, 2);
      await A.upsert('forever', { clientId: 'rp' } as AdapterPayload);
      const S = new s.Adapter('Session');
      await S.upsert('sess-short', { uid: 'uid-short', accountId: 'a' } as AdapterPayload, 2);
      assert.ok(await A.find('short'));
      assert.ok(await S.findByUid('uid-short'));
      await sleep(2300);
      assert.equal(await A.find('short'), undefined);
      assert.equal(await S.findByUid('uid-short'), undefined);
      assert.ok(await A.find('forever'));
    });

    it('consume marks the record consumed (epoch seconds)', async () => {
      const A = new s.Adapter('AuthorizationCode');
      await A.upsert('c1', { grantId: 'g2', clientId: 'rp' } as AdapterPayload, 60);
      const before = Math.floor(Date.now() / 1000);
      await A.consume('c1');
      const got = (await A.find('c1'))!;
      assert.equal(typeof got.consumed, 'number');
      assert.ok(got.consumed >= before && got.consumed <= before + 2, `consumed=${got.consumed}`);
    });

    it('50 concurrent consumes of one code: exactly one succeeds, the others get invalid_grant and the grant is revoked', async () => {
      const A = new s.Adapter('AuthorizationCode');
      const AT = new s.Adapter('AccessToken');
      const G = new s.Adapter('Grant');
      await G.upsert('g3', { accountId: 'a', clientId: 'rp' } as AdapterPayload, 600);
      await A.upsert('race', { grantId: 'g3', clientId: 'rp' } as AdapterPayload, 60);
      await AT.upsert('at-from-race', { grantId: 'g3', clientId: 'rp' } as AdapterPayload, 60);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => A.consume('race')));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, 1, `expected exactly one success, got ${ok.length}`);
      assert.equal(failed.length, 49);
      for (const f of failed) assert.equal((f.reason as { error?: string }).error, 'invalid_grant');
      assert.equal(await AT.find('at-from-race'), undefined, 'tokens of the grant revoked');
      assert.equal(await G.find('g3'), undefined, 'grant destroyed');
    });

    it('50 concurrent refresh-token consumes succeed exactly once', async () => {
      const R = new s.Adapter('RefreshToken');
      await R.upsert('rt', { grantId: 'g4', clientId: 'rp' } as AdapterPayload, 600);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => R.consume('rt')));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    });

    it('a later upsert of a consumed record keeps it consumed', async () => {
      const R = new s.Adapter('RefreshToken');
      await R.upsert('keep', { grantId: 'gk', clientId: 'rp' } as AdapterPayload, 600);
      await R.consume('keep');
      await R.upsert('keep', { grantId: 'gk', clientId: 'rp', iat: 1 } as AdapterPayload, 600);
      const got = (await R.find('keep'))!;
      assert.equal(got.iat, 1);
      assert.equal(typeof got.consumed, 'number');
      await assert.rejects(R.consume('keep'), (e: { error?: string }) => e.error === 'invalid_grant');
    });

    it('handles ids with braces, colons, unicode and 500 characters', async () => {
      const A = new s.Adapter('AccessToken');
      for (const id of ['a}b{c:d', '{grant}', 'ký-số-✓', 'x'.repeat(500)]) {
        await A.upsert(id, { grantId: `g-${id}`, clientId: 'rp' } as AdapterPayload, 60);
        assert.equal((await A.find(id))!.clientId, 'rp', id);
        await A.consume(id);
        await assert.rejects(A.consume(id), (e: { error?: string }) => e.error === 'invalid_grant');
        await A.destroy(id);
        assert.equal(await A.find(id), undefined);
      }
    });

    it('consume of an unknown record is invalid_grant', async () => {
      await assert.rejects(new s.Adapter('AuthorizationCode').consume('missing'), (e: { error?: string }) => e.error === 'invalid_grant');
    });

    it('revokeByGrantId removes every model of that grant and nothing else', async () => {
      const AT = new s.Adapter('AccessToken');
      const RT = new s.Adapter('RefreshToken');
      const AC = new s.Adapter('AuthorizationCode');
      await AT.upsert('a1', { grantId: 'G', clientId: 'rp' } as AdapterPayload, 60);
      await RT.upsert('r1', { grantId: 'G', clientId: 'rp' } as AdapterPayload, 600);
      await AC.upsert('c1', { grantId: 'G', clientId: 'rp' } as AdapterPayload, 60);
      await AT.upsert('a2', { grantId: 'OTHER', clientId: 'rp' } as AdapterPayload, 60);
      await AT.revokeByGrantId('G');
      assert.equal(await AT.find('a1'), undefined);
      assert.equal(await RT.find('r1'), undefined);
      assert.equal(await AC.find('c1'), undefined);
      assert.ok(await AT.find('a2'));
      await AT.revokeByGrantId('does-not-exist'); // no throw
    });

    it('destroy removes the record and its indexes', async () => {
      const S = new s.Adapter('Session');
      await S.upsert('s1', { uid: 'u1', accountId: 'a' } as AdapterPayload, 60);
      assert.equal((await S.findByUid('u1'))!.accountId, 'a');
      await S.destroy('s1');
      assert.equal(await S.find('s1'), undefined);
      assert.equal(await S.findByUid('u1'), undefined);
      const AT = new s.Adapter('AccessToken');
      await AT.upsert('x', { grantId: 'GD', clientId: 'rp' } as AdapterPayload, 60);
      await AT.destroy('x');
      await AT.revokeByGrantId('GD');
      assert.equal(await AT.find('x'), undefined);
    });

    it('findByUid follows a session whose uid changed', async () => {
      const S = new s.Adapter('Session');
      await S.upsert('s2', { uid: 'old', accountId: 'a' } as AdapterPayload, 60);
      await S.upsert('s2', { uid: 'new', accountId: 'a' } as AdapterPayload, 60);
      assert.ok(await S.findByUid('new'));
      assert.equal(await S.findByUid('old'), undefined);
      assert.equal(await S.findByUid('never'), undefined);
    });

    it('findByUserCode finds device codes', async () => {
      const D = new s.Adapter('DeviceCode');
      await D.upsert('dc1', { userCode: 'ABCD-EFGH', grantId: 'GDEV', clientId: 'rp' } as AdapterPayload, 60);
      assert.equal((await D.findByUserCode('ABCD-EFGH'))!.clientId, 'rp');
      assert.equal(await D.findByUserCode('ZZZZ-ZZZZ'), undefined);
      await D.revokeByGrantId('GDEV');
      assert.equal(await D.findByUserCode('ABCD-EFGH'), undefined);
    });

    it('stores clients under the Client model, where oidc-provider reads them', async () => {
      await s.clients.upsert({ client_id: 'rp-b', client_secret: 'a-very-long-client-secret', redirect_uris: ['https://rp.example/cb'] } as never);
      await s.clients.upsert({ client_id: 'rp-a', redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none' } as never);
      assert.deepEqual((await s.clients.list()).map((c) => c.client_id), ['rp-a', 'rp-b']);
      assert.deepEqual((await new s.Adapter('Client').find('rp-b'))!.redirect_uris, ['https://rp.example/cb']);
      assert.equal(await s.clients.remove('rp-b'), true);
      assert.equal(await s.clients.remove('rp-b'), false);
      assert.equal(await new s.Adapter('Client').find('rp-b'), undefined);
      await assert.rejects(s.clients.upsert({ client_id: 'bad', redirect_uris: ['https://*.example/cb'] } as never), { code: 'CLIENT_INVALID' });
      await assert.rejects(s.clients.upsert({ client_id: 'bad', redirect_uris: ['/relative'] } as never), { code: 'CLIENT_INVALID' });
    });
  });
}

describe('storage: redis specifics', function () {
  this.timeout(20000);

  it('sets Redis TTLs from expiresIn on records and their indexes', async () => {
    const s = await createStorage({ secretKey: KEY, redis: { url: redis!.url, keyPrefix: 'ttl:' } });
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis!.url);
    try {
      await new s.Adapter('AccessToken').upsert('t', { grantId: 'gt', clientId: 'rp' } as AdapterPayload, 100);
      await new s.Adapter('Session').upsert('s', { uid: 'us' } as AdapterPayload, 200);
      const objTtl = await raw.ttl('ttl:oidc:{tok:t}');
      assert.ok(objTtl > 90 && objTtl <= 100, `object ttl ${objTtl}`);
      const grantTtl = await raw.ttl('ttl:oidc:grant:{gt}');
      assert.ok(grantTtl > 90 && grantTtl <= 100, `grant index ttl ${grantTtl}`);
      const uidTtl = await raw.ttl('ttl:oidc:uid:{us}');
      assert.ok(uidTtl > 190 && uidTtl <= 200, `uid ttl ${uidTtl}`);
      // a longer-lived member extends the grant index
      await new s.Adapter('RefreshToken').upsert('r', { grantId: 'gt', clientId: 'rp' } as AdapterPayload, 1000);
      assert.ok((await raw.ttl('ttl:oidc:grant:{gt}')) > 900);
      // a shorter one does not shorten it
      await new s.Adapter('AccessToken').upsert('t2', { grantId: 'gt', clientId: 'rp' } as AdapterPayload, 10);
      assert.ok((await raw.ttl('ttl:oidc:grant:{gt}')) > 900);
    } finally {
      raw.disconnect();
      await s.close();
    }
  });

  it('introspection (one value as three token models) costs one Redis read; later finds read again', async () => {
    const s = await createStorage({ secretKey: KEY, redis: { url: redis!.url, keyPrefix: 'one:' } });
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis!.url);
    try {
      await new s.Adapter('AccessToken').upsert('t', { jti: 't', kind: 'AccessToken', clientId: 'rp' } as AdapterPayload, 60);
      assert.equal(await raw.exists('one:oidc:{tok:t}'), 1);
      await raw.config('RESETSTAT');
      const found = await Promise.all(['AccessToken', 'ClientCredentials', 'RefreshToken'].map((m) => new s.Adapter(m).find('t')));
      assert.deepEqual(found.map((x) => x?.kind), ['AccessToken', undefined, undefined]);
      const calls = async (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await raw.info('commandstats'))?.[1] ?? 0);
      assert.equal(await calls('hmget'), 1);
      // a find started after those finished reads again, and sees a change made in between
      await raw.del('one:oidc:{tok:t}');
      assert.equal(await new s.Adapter('AccessToken').find('t'), undefined);
      assert.equal(await calls('hmget'), 2);
    } finally {
      raw.disconnect();
      await s.close();
    }
  });

  it('two storages on one Redis see each other (multi-process deployment)', async () => {
    const s1 = await createStorage({ secretKey: KEY, redis: { url: redis!.url, keyPrefix: 'shared:' } });
    const s2 = await createStorage({ secretKey: KEY, redis: redis!.url.replace('redis://', 'redis://') + '' });
    const s3 = await createStorage({ secretKey: KEY, redis: { url: redis!.url, keyPrefix: 'shared:' } });
    try {
      await new s1.Adapter('AuthorizationCode').upsert('c', { grantId: 'g', clientId: 'rp' } as AdapterPayload, 60);
      assert.ok(await new s3.Adapter('AuthorizationCode').find('c'));
      assert.equal(await new s2.Adapter('AuthorizationCode').find('c'), undefined, 'other prefix is isolated');
      const r = await Promise.allSettled([...Array(25)].flatMap(() => [new s1.Adapter('AuthorizationCode').consume('c'), new s3.Adapter('AuthorizationCode').consume('c')]));
      assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
    } finally {
      await Promise.all([s1.close(), s2.close(), s3.close()]);
    }
  });

  it('fails with IDP_STORAGE_UNAVAILABLE (no credentials in the message) when Redis is unreachable', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => resolve(p)); });
    });
    await assert.rejects(createStorage({ secretKey: KEY, redis: `redis://user:hunter2secret@127.0.0.1:${port}` }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'IDP_STORAGE_UNAVAILABLE');
      assert.ok(!e.message.includes('hunter2secret'), e.message);
      return true;
    });
  });

  it('accounts, TOTP, recovery codes, rate limits and the audit chain work on a Redis Cluster (single-slot scripts)', async () => {
    const { makePersonalNumber, totpCode } = await import('../src/accounts/index.js');
    const s = await createStorage({ secretKey: KEY, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 }, redis: { cluster: cluster!.nodes, keyPrefix: 'cl:' } });
    try {
      const id = makePersonalNumber({ birthdate: '1991-02-03', gender: 'male', serial: 5 });
      await s.accounts.create({ id, password: 'cluster password', name: 'Phạm Văn C', birthdate: '1991-02-03', gender: 'male', level: 2 });
      assert.equal((await s.accounts.verifyPassword(id, 'cluster password')).ok, true);
      const e = await s.accounts.beginTotpEnrolment(id);
      const { recoveryCodes } = (await s.accounts.confirmTotpEnrolment(id, await totpCode(e.secret)))!;
      assert.equal(await s.accounts.useRecoveryCode(id, recoveryCodes[0]!), true);
      assert.equal(await s.accounts.useRecoveryCode(id, recoveryCodes[0]!), false);
      await s.accounts.resetMfa(id);
      assert.equal((await s.accounts.get(id))!.totpEnabled, false);
      assert.deepEqual((await s.accounts.list()).map((a) => a.id), [id]);
      for (let i = 0; i < 5; i++) await s.rateLimiter.recordFailure([`acct:${id}`]);
      assert.equal((await s.rateLimiter.check([`acct:${id}`])).allowed, false);
      await Promise.all(Array.from({ length: 20 }, () => s.audit.append({ type: 'login.failure', accountId: id })));
      assert.equal((await s.audit.list({ accountId: id })).length, 20);
      assert.equal(await s.audit.verifyChain(), true);
    } finally {
      await s.close();
    }
  });

  it('rejects a config without url, sentinels or cluster, and prefixes that would break hash tags', async () => {
    await assert.rejects(createStorage({ secretKey: KEY, redis: { keyPrefix: 'x' } }), { code: 'IDP_STORAGE_CONFIG' });
    await assert.rejects(createStorage({ secretKey: KEY, redis: { url: redis!.url, keyPrefix: '{x}:' } }), { code: 'IDP_STORAGE_CONFIG' });
    await assert.rejects(createStorage({ secretKey: KEY, redis: 'http://127.0.0.1:1' }), { code: 'IDP_STORAGE_CONFIG' });
  });
});
