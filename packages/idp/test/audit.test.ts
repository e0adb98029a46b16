/**
 * Audit log (memory and Redis): append-only, hash-chained, verifyChain detects alteration and removal, linear
 * under concurrent writers, never stores secrets.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { createStorage, type KysoIdpStorage } from '../src/storage/index.js';
import { canonicalJson, GENESIS_HASH, MemoryAuditLog } from '../src/audit/index.js';
import type { AuditRecord } from '../src/contracts.js';

const KEY = Buffer.alloc(32, 5).toString('base64');
let redis: RedisInstance;
before(async function () {
  this.timeout(15000);
  redis = await startRedis();
});
after(async () => { await redis?.stop(); });

describe('audit log: several writers on one Redis', function () {
  this.timeout(20000);
  it('keeps one linear chain when three connections append 300 records at once', async () => {
    const open = () => createStorage({ secretKey: KEY, redis: { url: redis.url, keyPrefix: 'multi:' } });
    const stores = await Promise.all([open(), open(), open()]);
    try {
      await Promise.all(stores.flatMap((st, j) => Array.from({ length: 100 }, (_, i) => st.audit.append({ type: 'login.success', accountId: `W${j}`, detail: { i } }))));
      const all = await stores[0]!.audit.list();
      assert.equal(all.length, 300);
      assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 300 }, (_, i) => i + 1));
      assert.equal(await stores[1]!.audit.verifyChain(), true);
      assert.equal((await stores[2]!.audit.list({ accountId: 'W1' })).length, 100);
      // verification while other writers append never reports a false break
      const writing = Promise.all(Array.from({ length: 300 }, (_, i) => stores[i % 2]!.audit.append({ type: 'logout', accountId: 'V' })));
      const checks = await Promise.all(Array.from({ length: 5 }, () => stores[2]!.audit.verifyChain()));
      await writing;
      assert.deepEqual(checks, [true, true, true, true, true]);
      // an extra record pushed behind the head's back is detected
      const raw = new Redis(redis.url);
      try {
        await raw.rpush('multi:{audit}:log', JSON.stringify({ type: 'logout', seq: 601, at: 'x', prevHash: 'y', hash: 'z' }));
        assert.equal(await stores[0]!.audit.verifyChain(), false);
      } finally { raw.disconnect(); }
    } finally {
      await Promise.all(stores.map((st) => st.close()));
    }
  });
});

describe('audit chain properties (fast-check)', function () {
  this.timeout(20000);
  const eventArb = fc.record({
    type: fc.constantFrom('login.success', 'login.failure', 'logout', 'mfa.success', 'consent.granted') as fc.Arbitrary<'logout'>,
    accountId: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    detail: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/pass|secret|token|otp|pin|code|key|sad|recovery|cookie|auth|assert|private|cred|verif/i.test(k)), fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.boolean()), { maxKeys: 4 }), { nil: undefined }),
  });
  it('any appended sequence verifies, and any single change to any record is detected', async () => {
    await fc.assert(fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 15 }), fc.nat(), fc.string({ minLength: 1, maxLength: 5 }), async (events, pick, junk) => {
      const log = new MemoryAuditLog();
      for (const e of events) await log.append(e);
      assert.equal(await log.verifyChain(), true);
      const i = pick % log.records.length;
      const original = log.records[i]!;
      log.records[i] = { ...original, accountId: (original.accountId ?? '') + junk };
      assert.equal(await log.verifyChain(), false);
      log.records[i] = original;
      assert.equal(await log.verifyChain(), true);
    }), { numRuns: 100 });
  });
});

describe('audit chain format', () => {
  it('canonical JSON sorts keys recursively and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 'x'], c: true }, u: undefined }), '{"a":{"c":true,"d":[1,"x"]},"b":1}');
  });
  it('hash = SHA-256(prevHash || canonical JSON of the record without hash)', async () => {
    const log = new MemoryAuditLog(() => Date.UTC(2026, 0, 1));
    const r1 = await log.append({ type: 'login.success', accountId: '001190000001', ip: '10.0.0.1' });
    const { hash, ...rest } = r1;
    assert.equal(r1.prevHash, GENESIS_HASH);
    assert.equal(hash, createHash('sha256').update(GENESIS_HASH + canonicalJson(rest)).digest('hex'));
    const r2 = await log.append({ type: 'logout', accountId: '001190000001' });
    assert.equal(r2.prevHash, r1.hash);
    assert.equal(r2.seq, 2);
  });
});

for (const backend of ['memory', 'redis'] as const) {
  describe(`audit log: ${backend}`, function () {
    this.timeout(20000);
    let s: KysoIdpStorage;
    let n = 0;
    const prefix = () => `au${n}:`;
    beforeEach(async () => {
      n++;
      s = await createStorage({ secretKey: KEY, ...(backend === 'redis' ? { redis: { url: redis.url, keyPrefix: prefix() } } : {}) });
    });
    afterEach(async () => { await s.close(); });

    it('appends linked records and lists them newest last, per account and with a limit', async () => {
      assert.equal(await s.audit.verifyChain(), true, 'empty chain is valid');
      await s.audit.append({ type: 'account.created', accountId: 'A' });
      await s.audit.append({ type: 'login.failure', accountId: 'B', ip: '10.0.0.2', detail: { reason: 'bad-password' } });
      await s.audit.append({ type: 'login.success', accountId: 'A', clientId: 'rp', detail: { acr: 'level2', mfa: true, n: 3 } });
      await s.audit.append({ type: 'logout', accountId: 'A' });
      const all = await s.audit.list();
      assert.deepEqual(all.map((r) => r.seq), [1, 2, 3, 4]);
      assert.deepEqual(all.map((r) => r.type), ['account.created', 'login.failure', 'login.success', 'logout']);
      assert.deepEqual((await s.audit.list({ accountId: 'A' })).map((r) => r.seq), [1, 3, 4]);
      assert.deepEqual((await s.audit.list({ accountId: 'A', limit: 2 })).map((r) => r.seq), [3, 4]);
      assert.deepEqual((await s.audit.list({ limit: 1 })).map((r) => r.type), ['logout']);
      assert.deepEqual(all[2]!.detail, { acr: 'level2', mfa: true, n: 3 });
      assert.equal(await s.audit.verifyChain(), true);
    });

    it('stays linear under 50 concurrent appends', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => s.audit.append({ type: 'login.failure', accountId: `U${i % 5}` })));
      const all = await s.audit.list();
      assert.equal(all.length, 50);
      assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.equal(await s.audit.verifyChain(), true);
      assert.equal((await s.audit.list({ accountId: 'U3' })).length, 10);
    });

    it('never stores secrets, even when a caller passes them', async () => {
      const secrets = { password: 'hunter2-pass', otp: '123456', totp_secret: 'JBSWY3DPEHPK3PXP', access_token: 'eyJhbGciOi.tok', code: 'authz-code-xyz', recoveryCode: 'ABCDE-FGHJK', pin: '9876', client_secret: 'cs-very-secret' };
      const r = await s.audit.append({ type: 'login.failure', accountId: 'C', detail: { ...secrets, reason: 'bad-password' } });
      const stored = backend === 'redis'
        ? await (async () => { const raw = new Redis(redis.url); try { return (await raw.lrange(`${prefix()}{audit}:log`, 0, -1)).join('\n'); } finally { raw.disconnect(); } })()
        : JSON.stringify(await s.audit.list());
      for (const v of Object.values(secrets)) assert.ok(!stored.includes(v), `secret ${v} leaked into the audit log`);
      assert.equal(r.detail!.reason, 'bad-password');
      assert.equal(r.detail!.password, '[redacted]');
      await assert.rejects(s.audit.append({ type: 'something.else' as never }), TypeError);
      // unknown top-level fields are dropped
      const r2 = await s.audit.append({ type: 'logout', accountId: 'C', password: 'top-level-secret' } as never);
      assert.ok(!JSON.stringify(r2).includes('top-level-secret'));
    });

    it('an exported head (anchor) detects a chain rewritten with recomputed hashes', async () => {
      for (let i = 0; i < 4; i++) await s.audit.append({ type: 'login.success', accountId: `Q${i}` });
      const anchor = await s.audit.currentHead();
      assert.equal(anchor.seq, 4);
      await s.audit.append({ type: 'logout', accountId: 'Q0' });
      assert.equal(await s.audit.verifyChain(anchor), true);
      // rewrite everything from record 2 with valid fresh hashes: only the anchor notices
      const all = await s.audit.list();
      const forged: AuditRecord[] = [all[0]!];
      for (const r of all.slice(1)) {
        const { hash: _h, ...rest } = { ...r, accountId: 'FORGED', prevHash: forged[forged.length - 1]!.hash };
        forged.push({ ...rest, hash: createHash('sha256').update(rest.prevHash + canonicalJson(rest)).digest('hex') });
      }
      if (backend === 'memory') {
        const log = s.audit as MemoryAuditLog;
        log.records.splice(0, log.records.length, ...forged);
        log.head.hash = forged[forged.length - 1]!.hash;
      } else {
        const raw = new Redis(redis.url);
        try {
          await raw.del(`${prefix()}{audit}:log`);
          await raw.rpush(`${prefix()}{audit}:log`, ...forged.map((r) => JSON.stringify(r)));
          await raw.hset(`${prefix()}{audit}:head`, 'hash', forged[forged.length - 1]!.hash);
        } finally { raw.disconnect(); }
      }
      assert.equal(await s.audit.verifyChain(), true, 'a full rewrite is self-consistent');
      assert.equal(await s.audit.verifyChain(anchor), false, 'but the anchor catches it');
      assert.equal(await s.audit.verifyChain({ seq: 99, hash: anchor.hash }), false);
    });

    it('verifyChain detects an altered, a removed, a reordered and a truncated record', async () => {
      for (let i = 0; i < 5; i++) await s.audit.append({ type: 'login.success', accountId: `P${i}` });
      assert.equal(await s.audit.verifyChain(), true);
      if (backend === 'memory') {
        const log = s.audit as MemoryAuditLog;
        const original = [...log.records];
        const restore = () => { log.records.length = 0; log.records.push(...original); };
        log.records[2] = { ...original[2]!, accountId: 'MALLORY' };
        assert.equal(await s.audit.verifyChain(), false, 'altered');
        restore();
        log.records.splice(1, 1);
        assert.equal(await s.audit.verifyChain(), false, 'removed');
        restore();
        [log.records[1], log.records[2]] = [log.records[2]!, log.records[1]!];
        assert.equal(await s.audit.verifyChain(), false, 'reordered');
        restore();
        log.records.pop();
        assert.equal(await s.audit.verifyChain(), false, 'newest removed');
        restore();
        assert.equal(await s.audit.verifyChain(), true);
      } else {
        const raw = new Redis(redis.url);
        const logKey = `${prefix()}{audit}:log`;
        try {
          const original = await raw.lrange(logKey, 0, -1);
          const restore = async () => { await raw.del(logKey); await raw.rpush(logKey, ...original); };
          const altered = JSON.parse(original[2]!) as AuditRecord;
          altered.accountId = 'MALLORY';
          await raw.lset(logKey, 2, JSON.stringify(altered));
          assert.equal(await s.audit.verifyChain(), false, 'altered');
          await restore();
          // altering and re-hashing one record still breaks the link to the next
          const { hash: _h, ...rest } = altered;
          const rehashed = { ...rest, hash: createHash('sha256').update(rest.prevHash + canonicalJson(rest)).digest('hex') };
          await raw.lset(logKey, 2, JSON.stringify(rehashed));
          assert.equal(await s.audit.verifyChain(), false, 'altered and rehashed');
          await restore();
          await raw.lrem(logKey, 1, original[1]!);
          assert.equal(await s.audit.verifyChain(), false, 'removed');
          await restore();
          await raw.rpop(logKey);
          assert.equal(await s.audit.verifyChain(), false, 'newest removed');
          await restore();
          await raw.lset(logKey, 0, 'not json');
          assert.equal(await s.audit.verifyChain(), false, 'garbage');
          await restore();
          assert.equal(await s.audit.verifyChain(), true);
        } finally { raw.disconnect(); }
      }
    });
  });
}
