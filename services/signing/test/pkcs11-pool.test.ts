/**
 * The PKCS#11 signing threads: each signature comes back to the request that asked for it (many concurrent
 * callers, mixed keys and mechanisms, batched messages), verifies with the key's public key, failures stay with
 * their own request, and a pool can be closed and another opened in the same process.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify, constants } from 'node:crypto';
import { Pkcs11SigningPool, Pkcs11Vault, type PoolMechanism } from '../src/index.js';
import { setupHsm } from './helpers.js';

describe('signing service: PKCS#11 signing threads', function () {
  this.timeout(60_000);
  const hsm = setupHsm();
  const vault = new Pkcs11Vault({ module: hsm.module, token: hsm.token, pin: hsm.pin });
  let ec: { id: string; pub: ReturnType<typeof createPublicKey> };
  let rsa: { id: string; pub: ReturnType<typeof createPublicKey> };

  before(async () => {
    const e = await vault.generate('pool-test-ec', { type: 'EC', curve: 'P-256' });
    const r = await vault.generate('pool-test-rsa', { type: 'RSA', bits: 2048 });
    ec = { id: e.ref.ref, pub: createPublicKey({ key: Buffer.from(e.spki), format: 'der', type: 'spki' }) };
    rsa = { id: r.ref.ref, pub: createPublicKey({ key: Buffer.from(r.spki), format: 'der', type: 'spki' }) };
  });
  after(() => vault.close());

  /** Checks a signature over the message whose SHA-256 digest was signed. */
  function check(mech: PoolMechanism, msg: Buffer, sig: Uint8Array): boolean {
    if (mech.scheme === 'ECDSA') return verify('sha256', msg, { key: ec.pub, dsaEncoding: 'der' }, sig);
    if (mech.scheme === 'RSA-PKCS1') return verify('sha256', msg, rsa.pub, sig);
    return verify('sha256', msg, { key: rsa.pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: mech.saltLength }, sig);
  }

  it('400 concurrent signatures over mixed keys and mechanisms each come back to their caller and verify', async () => {
    const pool = await Pkcs11SigningPool.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, threads: 3 });
    try {
      const mechs: [string, PoolMechanism][] = [[ec.id, { scheme: 'ECDSA' }], [rsa.id, { scheme: 'RSA-PKCS1', hash: 'SHA-256' }], [rsa.id, { scheme: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 }]];
      const jobs = Array.from({ length: 400 }, (_, i) => {
        const [key, mech] = i % 10 === 0 ? mechs[1 + (i % 20 === 0 ? 1 : 0)]! : mechs[0]!;
        const msg = randomBytes(40);
        return { key, mech, msg };
      });
      const sigs = await Promise.all(jobs.map((j) => pool.sign(j.key, j.mech, createHash('sha256').update(j.msg).digest())));
      for (const [i, j] of jobs.entries()) assert.ok(check(j.mech, j.msg, sigs[i]!), `signature ${i} (${j.mech.scheme}) does not verify over its own digest`);
      // a signature is never handed to another request: each verifies only over its own message
      assert.equal(check(jobs[1]!.mech, jobs[2]!.msg, sigs[1]!), false);
      assert.ok(pool.stats.messages < pool.stats.signatures, `signatures share messages (${pool.stats.messages} messages for ${pool.stats.signatures})`);
    } finally {
      await pool.close();
    }
  });

  it('a failure stays with its own request (unknown key, an RSA mechanism on an EC key), the others sign', async () => {
    const pool = await Pkcs11SigningPool.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, threads: 2 });
    try {
      const good = Array.from({ length: 20 }, () => randomBytes(16));
      const results = await Promise.allSettled([
        ...good.map((m) => pool.sign(ec.id, { scheme: 'ECDSA' }, createHash('sha256').update(m).digest())),
        pool.sign('00112233445566778899aabbccddeeff', { scheme: 'ECDSA' }, randomBytes(32)),
        pool.sign(ec.id, { scheme: 'RSA-PKCS1', hash: 'SHA-256' }, randomBytes(32)),
      ]);
      for (let i = 0; i < good.length; i++) {
        const r = results[i]!;
        assert.equal(r.status, 'fulfilled');
        assert.ok(check({ scheme: 'ECDSA' }, good[i]!, (r as PromiseFulfilledResult<Uint8Array>).value));
      }
      const unknown = results[good.length] as PromiseRejectedResult;
      assert.equal(unknown.status, 'rejected');
      assert.equal(unknown.reason.code, 'KEY_NOT_FOUND');
      const wrongMech = results[good.length + 1] as PromiseRejectedResult;
      assert.equal(wrongMech.status, 'rejected');
      assert.match(wrongMech.reason.code, /^CKR_/);
      // the pool still signs after the failures
      const msg = randomBytes(10);
      assert.ok(check({ scheme: 'ECDSA' }, msg, await pool.sign(ec.id, { scheme: 'ECDSA' }, createHash('sha256').update(msg).digest())));
    } finally {
      await pool.close();
    }
  });

  it('a thread that dies fails only its own signatures and is replaced; signing goes on', async () => {
    const pool = await Pkcs11SigningPool.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, threads: 2 });
    try {
      const msgs = Array.from({ length: 200 }, () => randomBytes(12));
      const all = Promise.allSettled(msgs.map((m) => pool.sign(rsa.id, { scheme: 'RSA-PKCS1', hash: 'SHA-256' }, createHash('sha256').update(m).digest())));
      await new Promise((r) => setTimeout(r, 20));
      await pool.killOneThreadForTests();
      const results = await all;
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      for (const f of failed) assert.equal(f.reason.code, 'THREAD_LOST');
      results.forEach((r, i) => { if (r.status === 'fulfilled') assert.ok(check({ scheme: 'RSA-PKCS1', hash: 'SHA-256' }, msgs[i]!, r.value), `signature ${i}`); });
      assert.ok(results.length - failed.length > 100, `most signatures were made (${failed.length} lost)`);
      for (let k = 0; k < 100 && pool.running < 2; k++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(pool.running, 2, 'the lost thread was replaced');
      assert.ok(pool.stats.respawned >= 1);
      const msg = randomBytes(10);
      assert.ok(check({ scheme: 'ECDSA' }, msg, await pool.sign(ec.id, { scheme: 'ECDSA' }, createHash('sha256').update(msg).digest())));
    } finally {
      await pool.close();
    }
  });

  it('more than 65,536 distinct keys over the life of a pool (a key per citizen): no crash, every call answered', async function () {
    this.timeout(300_000); // 70,000 key lookups in SoftHSM2: ~10 s on a quiet machine
    const pool = await Pkcs11SigningPool.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, threads: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => { uncaught.push(e); };
    process.prependListener('uncaughtException', onUncaught);
    try {
      // 70,000 key ids the token does not hold: each answered KEY_NOT_FOUND (nothing is kept per key id but a
      // bounded handle cache), then real keys still sign
      for (let base = 0; base < 70_000; base += 5_000) {
        const rs = await Promise.allSettled(Array.from({ length: 5_000 }, () => pool.sign(randomBytes(20).toString('hex'), { scheme: 'ECDSA' }, randomBytes(32))));
        assert.ok(rs.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'KEY_NOT_FOUND'));
      }
      const msg = randomBytes(10);
      assert.ok(check({ scheme: 'ECDSA' }, msg, await pool.sign(ec.id, { scheme: 'ECDSA' }, createHash('sha256').update(msg).digest())));
      assert.ok(check({ scheme: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 }, msg, await pool.sign(rsa.id, { scheme: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 }, createHash('sha256').update(msg).digest())));
      // a job that cannot be encoded (salt length beyond one octet) fails alone
      await assert.rejects(pool.sign(rsa.id, { scheme: 'RSA-PSS', hash: 'SHA-256', saltLength: 300 }, randomBytes(32)), (e: { code?: string }) => e.code === 'SIGN_FAILED');
      await assert.rejects(pool.sign('abc', { scheme: 'ECDSA' }, randomBytes(32)), (e: { code?: string }) => e.code === 'KEY_NOT_FOUND', 'an odd-length key id is refused');
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.close();
    }
  });

  it('a replacement thread that dies before it is ready is retried one at a time: the pool never grows past its size', async () => {
    const pool = await Pkcs11SigningPool.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, threads: 2 });
    try {
      pool.failStartsForTests(3);
      await pool.killOneThreadForTests();
      for (let k = 0; k < 300 && pool.running < 2; k++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(pool.running, 2, 'back to two threads once starts succeed again');
      // one start per retry: 3 failed starts and the one that worked (each failure used to start two)
      assert.equal(pool.stats.respawned, 4);
      const msg = randomBytes(10);
      assert.ok(check({ scheme: 'ECDSA' }, msg, await pool.sign(ec.id, { scheme: 'ECDSA' }, createHash('sha256').update(msg).digest())));
    } finally {
      await pool.close();
    }
  });

  it('pools close and reopen in one process; a closed pool refuses; an unknown token fails at open', async () => {
    for (let i = 0; i < 3; i++) {
      const pool = await Pkcs11SigningPool.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, threads: 2 });
      const msg = randomBytes(10);
      assert.ok(check({ scheme: 'ECDSA' }, msg, await pool.sign(ec.id, { scheme: 'ECDSA' }, createHash('sha256').update(msg).digest())));
      await pool.close();
      await assert.rejects(pool.sign(ec.id, { scheme: 'ECDSA' }, randomBytes(32)), (e: { code?: string }) => e.code === 'POOL_CLOSED');
    }
    await assert.rejects(Pkcs11SigningPool.open({ module: hsm.module, token: 'no-such-token', pin: hsm.pin, threads: 1 }), /not found/);
  });
});
