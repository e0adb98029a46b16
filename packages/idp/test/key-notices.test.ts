/**
 * Key rotation across processes: a rotation on one identity provider reaches the others sharing the store at
 * once through a change notice (Redis pub/sub), without waiting for the 30 s poll (disabled here).
 */
import assert from 'node:assert/strict';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { createStorage, createLogger, type KysoIdpStorage } from '../src/index.js';
import { createIdpServer, type IdpServer } from '@kyso/service-idp';

const KEY = Buffer.alloc(32, 4).toString('base64');

async function kids(issuer: string): Promise<string[]> {
  const r = await fetch(`${issuer}/jwks`);
  return ((await r.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('not within time');
}

describe('idp: key changes reach every process at once', function () {
  this.timeout(30000);
  let redis: RedisInstance;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis?.stop(); });

  for (const kind of ['redis (two processes)', 'memory (two servers on one store)'] as const) {
    it(`${kind}: keys published on A are in B's JWKS within a second; promoted and retired keys too`, async () => {
      const mk = () => createStorage({ secretKey: KEY, redis: { url: redis.url, keyPrefix: 'kn:' } });
      const sa: KysoIdpStorage = kind.startsWith('redis') ? await mk() : await createStorage({ secretKey: KEY });
      const sb: KysoIdpStorage = kind.startsWith('redis') ? await mk() : sa;
      const opts = { port: 0, logger: createLogger('silent'), keyReloadMs: 0 };
      let a: IdpServer | undefined;
      let b: IdpServer | undefined;
      try {
        a = await createIdpServer({ ...opts, storage: sa });
        b = await createIdpServer({ ...opts, storage: sb });
        assert.deepEqual((await kids(b.issuer)).sort(), (await kids(a.issuer)).sort(), 'same key set');
        const pending = await a.idp.keys.addPending();
        const took = await eventually(async () => {
          const onB = await kids(b!.issuer);
          return pending.every((k) => onB.includes(k));
        });
        assert.ok(took < 1000, `B published the new keys after ${took} ms`);
        await a.idp.keys.promote();
        await eventually(async () => JSON.stringify(b!.idp.keys.kids()) === JSON.stringify(a!.idp.keys.kids()));
        assert.deepEqual(b.idp.keys.kids().active.sort(), pending.sort(), 'B signs with the promoted keys too');
      } finally {
        await a?.close();
        await b?.close();
        await sa.close();
        if (sb !== sa) await sb.close();
      }
    });
  }

  it('a running service drops retired keys from its JWKS once their tokens have expired, and every process follows', async () => {
    const mk = () => createStorage({ secretKey: KEY, redis: { url: redis.url, keyPrefix: 'kp:' } });
    const sa = await mk();
    const sb = await mk();
    // tokens live 1 s here, so a retired key may go 1 s (+ 1 s grace) after the rotation; A prunes every 200 ms, B never
    const ttl = { AccessToken: 1, IdToken: 1, ClientCredentials: 1 };
    let a: IdpServer | undefined;
    let b: IdpServer | undefined;
    try {
      a = await createIdpServer({ port: 0, logger: createLogger('silent'), keyReloadMs: 0, keyPruneMs: 200, storage: sa, ttl });
      b = await createIdpServer({ port: 0, logger: createLogger('silent'), keyReloadMs: 0, keyPruneMs: 0, storage: sb, ttl });
      const old = await kids(a.issuer);
      await a.idp.rotateKeys();
      await eventually(async () => (await kids(b!.issuer)).length === 4, 1500);
      assert.ok(old.every((k) => b!.idp.keys.kids().retiring.includes(k)), 'old keys retiring, still published');
      const gone = await eventually(async () => {
        const onB = await kids(b!.issuer);
        return onB.length === 2 && old.every((k) => !onB.includes(k));
      }, 5000);
      assert.ok(gone >= 900, `pruned after ${gone} ms: too early, tokens signed with the old keys could still be valid`);
    } finally {
      await a?.close();
      await b?.close();
      await sa.close();
      await sb.close();
    }
  });
});

