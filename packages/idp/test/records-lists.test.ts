/**
 * Per-account lists (remembered consents, login sessions, CIBA inbox) under concurrency: many writes at the same
 * moment from two processes (two storages on one Redis) lose nothing; expired entries drop out.
 */
import assert from 'node:assert/strict';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { createStorage, type KysoIdpStorage } from '../src/storage/index.js';
import { Records } from '../src/provider/records.js';

const KEY = Buffer.alloc(32, 5).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisInstance;
before(async function () { this.timeout(20000); redis = await startRedis(); });
after(async () => { await redis?.stop(); });

let n = 0;
for (const kind of ['memory', 'redis (two processes)'] as const) {
  describe(`idp records: per-account lists, ${kind}`, function () {
    this.timeout(20000);
    let s1: KysoIdpStorage;
    let s2: KysoIdpStorage;
    let a: Records;
    let b: Records;
    beforeEach(async () => {
      const prefix = `lists${++n}:`;
      s1 = await createStorage(kind === 'memory' ? { secretKey: KEY } : { secretKey: KEY, redis: { url: redis.url, keyPrefix: prefix } });
      s2 = kind === 'memory' ? s1 : await createStorage({ secretKey: KEY, redis: { url: redis.url, keyPrefix: prefix } });
      a = new Records(s1);
      b = new Records(s2);
    });
    afterEach(async () => {
      await s1.close();
      if (s2 !== s1) await s2.close();
    });

    it('30 consents given at the same moment are all listed; revoking one removes it', async () => {
      const acct = '001090000123';
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).putConsent(acct, { clientId: `svc${i}`, grantId: `g${i}`, scope: 'openid', grantedAt: 1700000000 + i }, 60)));
      const listed = await a.listConsents(acct);
      assert.equal(listed.length, 30);
      assert.deepEqual(new Set(listed.map((c) => c.clientId)), new Set(Array.from({ length: 30 }, (_, i) => `svc${i}`)));
      assert.equal((await b.deleteConsent(acct, 'svc7'))?.grantId, 'g7');
      assert.equal((await a.listConsents(acct)).length, 29);
      assert.equal(Object.keys(await s1.lists.all('consents', acct)).length, 29);
    });

    it('an expired consent drops out of the list', async () => {
      const acct = '001090000124';
      await a.putConsent(acct, { clientId: 'short', grantId: 'gs', scope: 'openid', grantedAt: 1 }, 1);
      await a.putConsent(acct, { clientId: 'long', grantId: 'gl', scope: 'openid', grantedAt: 2 }, 60);
      await sleep(2100);
      assert.deepEqual((await b.listConsents(acct)).map((c) => c.clientId), ['long']);
      assert.deepEqual(Object.keys(await s2.lists.all('consents', acct)), ['long']);
    });

    it('30 logins at the same moment: the newest 20 sessions are listed, oldest first; ended and expired ones drop out', async () => {
      const acct = '001090000125';
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).touchSession(acct, { uid: `s${i}`, clients: ['svc'], lastSeen: 1000 + i }, 60)));
      const listed = await a.listSessions(acct);
      assert.equal(listed.length, 20);
      assert.deepEqual(listed.map((e) => e.uid), Array.from({ length: 20 }, (_, i) => `s${i + 10}`));
      assert.equal((listed[0] as unknown as Record<string, unknown>).expiresAt, undefined, 'internal expiry not exposed');
      await b.dropSession(acct, 's15');
      assert.ok(!(await a.listSessions(acct)).some((e) => e.uid === 's15'));
      await a.touchSession(acct, { uid: 'brief', clients: [], lastSeen: 5000 }, 1);
      assert.ok((await b.listSessions(acct)).some((e) => e.uid === 'brief'));
      await sleep(1100);
      assert.ok(!(await b.listSessions(acct)).some((e) => e.uid === 'brief'));
    });

    it('CIBA requests made at the same moment all reach the phone inbox; answered ones leave it', async () => {
      const acct = '001090000126';
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).putCiba(`c${i}`, { authReqId: `r${i}`, accountId: acct, clientId: 'svc', scope: 'openid' }, 60)));
      const inbox = await a.listCiba(acct);
      assert.equal(inbox.length, 12);
      await b.takeCiba('c3');
      const after = await a.listCiba(acct);
      assert.equal(after.length, 11);
      assert.ok(!after.some((x) => x.id === 'c3'));
      assert.ok(!Object.keys(await s1.lists.all('ciba', acct)).includes('c3'), 'answered request dropped from the list');
    });
  });
}
