/** Configuration helpers: Redis settings from the environment, client metadata checks, seeds. */
import assert from 'node:assert/strict';
import { applySeed, assertClientMetadata, createStorage, redactRedisUrl, redisConfigFromEnv } from '../src/storage/index.js';
import { makePersonalNumber } from '../src/accounts/index.js';
import { startRedis } from '@kyso/fixtures';

const KEY = Buffer.alloc(32, 19).toString('base64');

describe('redisConfigFromEnv', () => {
  it('reads standalone, Sentinel and Cluster settings and the key prefix', () => {
    assert.equal(redisConfigFromEnv({}), undefined);
    assert.deepEqual(redisConfigFromEnv({ REDIS_URL: 'redis://h:1' }), { url: 'redis://h:1' });
    assert.deepEqual(redisConfigFromEnv({ REDIS_URL: 'redis://h:1', KYSO_IDP_REDIS_PREFIX: 'p:' }), { url: 'redis://h:1', keyPrefix: 'p:' });
    assert.deepEqual(redisConfigFromEnv({ REDIS_SENTINELS: 'a:26379, b:26380', REDIS_SENTINEL_NAME: 'm' }), { sentinels: [{ host: 'a', port: 26379 }, { host: 'b', port: 26380 }], sentinelName: 'm' });
    assert.deepEqual(redisConfigFromEnv({ REDIS_SENTINELS: '[::1]:26379' }), { sentinels: [{ host: '::1', port: 26379 }], sentinelName: 'mymaster' });
    assert.deepEqual(redisConfigFromEnv({ REDIS_CLUSTER: 'n1:7000,n2:7001', REDIS_URL: 'redis://ignored' }), { cluster: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }] });
    assert.throws(() => redisConfigFromEnv({ REDIS_CLUSTER: 'n1' }), { code: 'IDP_STORAGE_CONFIG' });
    assert.deepEqual(redisConfigFromEnv({ REDIS_CLUSTER: 'n1:7000', REDIS_PASSWORD: 'pw', REDIS_USERNAME: 'kyso', REDIS_TLS: '1' }), { cluster: [{ host: 'n1', port: 7000 }], username: 'kyso', password: 'pw', tls: true });
  });

  it('authenticates with a password from the config, and never prints it', async function () {
    this.timeout(15000);
    const r = await startRedis({ extraArgs: ['--requirepass', 'redis-pass-0123456789'] });
    try {
      const ok = await createStorage({ secretKey: KEY, redis: { url: r.url, password: 'redis-pass-0123456789' } });
      await new ok.Adapter('Session').upsert('s', { uid: 'u' } as never, 60);
      assert.ok(await new ok.Adapter('Session').findByUid('u'));
      await ok.close();
      await assert.rejects(createStorage({ secretKey: KEY, redis: { url: r.url, password: 'wrong-pass-0123456789' } }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'IDP_STORAGE_UNAVAILABLE');
        assert.ok(!e.message.includes('wrong-pass-0123456789'), e.message);
        return true;
      });
      await assert.rejects(createStorage({ secretKey: KEY, redis: r.url }), { code: 'IDP_STORAGE_UNAVAILABLE' });
    } finally {
      await r.stop();
    }
  });
  it('redacts credentials from Redis URLs', () => {
    assert.equal(redactRedisUrl('redis://user:s3cret@host:6379/0'), 'redis://host:6379/0');
    assert.ok(!redactRedisUrl('redis://:s3cret@host:6379').includes('s3cret'));
    assert.equal(redactRedisUrl('::::'), '(unparseable URL)');
  });
});

describe('client metadata checks', () => {
  it('accepts ordinary clients and refuses unsafe ones', () => {
    assertClientMetadata({ client_id: 'rp-1', redirect_uris: ['https://rp.example/cb'], client_secret: '0123456789abcdef' });
    assertClientMetadata({ client_id: 'svc', grant_types: ['client_credentials'] });
    for (const [bad, why] of [
      [null, 'not an object'],
      [{ client_id: '' }, 'empty id'],
      [{ client_id: 'a b' }, 'space in id'],
      [{ client_id: 'x', redirect_uris: 'https://x/cb' }, 'not an array'],
      [{ client_id: 'x', redirect_uris: ['https://x.example/cb#frag'] }, 'fragment'],
      [{ client_id: 'x', redirect_uris: ['https://*.example/cb'] }, 'wildcard'],
      [{ client_id: 'x', client_secret: 'short' }, 'weak secret'],
    ] as const) {
      assert.throws(() => assertClientMetadata(bad), { code: 'CLIENT_INVALID' }, why);
    }
  });
});

describe('applySeed', function () {
  this.timeout(20000);
  it('loads clients and users, is idempotent, and names the bad record', async () => {
    const s = await createStorage({ secretKey: KEY, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    try {
      const id = makePersonalNumber({ birthdate: '1980-01-01', gender: 'male', serial: 1 });
      const seed = { clients: [{ client_id: 'rp', redirect_uris: ['https://rp.example/cb'] }], users: [{ id, password: 'seed password', name: 'Seed', birthdate: '1980-01-01', gender: 'male', level: 1 }] };
      assert.deepEqual(await applySeed(s, seed), { clients: 1, usersCreated: 1, usersExisting: 0 });
      assert.deepEqual(await applySeed(s, seed), { clients: 1, usersCreated: 0, usersExisting: 1 });
      await assert.rejects(applySeed(s, { users: [{ ...seed.users[0], id: '123' }] }), (e: Error & { code?: string }) => e.code === 'PERSONAL_NUMBER_INVALID' && e.message.startsWith('seed users[0]'));
      await assert.rejects(applySeed(s, 'nope'), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(applySeed(s, { clients: {} }), { code: 'CLIENT_INVALID' });
      assert.deepEqual((await s.audit.list()).map((r) => r.type), ['account.created']);
    } finally {
      await s.close();
    }
  });
});
