/**
 * Accounts on both storages: personal numbers, argon2id, TOTP (replay, window, concurrency), recovery codes,
 * encryption at rest, guardians.
 */
import assert from 'node:assert/strict';
import { parseOptions } from '@node-rs/argon2';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { createStorage, MemoryHashKV, type KysoIdpStorage } from '../src/storage/index.js';
import {
  KvAccountStore, SecretBox, checkPersonalNumber, makePersonalNumber, totpCode, DEFAULT_ARGON2, PasswordHasher, ageOn,
} from '../src/accounts/index.js';
import type { NewAccount } from '../src/contracts.js';

const KEY = Buffer.alloc(32, 9).toString('base64');
const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0); // fixed clock, multiple of 30 s

let redis: RedisInstance;
before(async function () {
  this.timeout(15000);
  redis = await startRedis();
});
after(async () => { await redis?.stop(); });

function citizen(over: Partial<NewAccount> = {}): NewAccount {
  const birthdate = over.birthdate ?? '1990-05-01';
  const gender = over.gender ?? 'female';
  return {
    id: makePersonalNumber({ birthdate, gender, serial: Math.floor(Math.random() * 999999) }),
    password: 'correct horse battery',
    name: 'Nguyễn Thị Lan',
    birthdate,
    gender,
    address: '12 Tràng Tiền, Hoàn Kiếm, Hà Nội',
    phone: '+84 912 345 678',
    email: 'lan@example.vn',
    level: 2,
    ...over,
  };
}

describe('personal number (12 digits)', () => {
  it('accepts well-formed numbers consistent with birth date and gender', () => {
    assert.deepEqual(checkPersonalNumber('001190012345', { birthdate: '1990-01-01', gender: 'female' }), []);
    assert.deepEqual(checkPersonalNumber('079205000001', { birthdate: '2005-12-31', gender: 'male' }), []);
    assert.deepEqual(checkPersonalNumber('096399999999', { birthdate: '2099-02-03', gender: 'nữ' }), []);
    assert.equal(makePersonalNumber({ birthdate: '2012-06-01', gender: 'male', province: 79, serial: 7 }), '079212000007');
  });
  it('rejects wrong format, province, century, year and gender', () => {
    for (const bad of ['', '12345678901', '1234567890123', '00119001234a', '００１１９００１２３４５', ' 001190012345', 12 as unknown as string]) {
      assert.equal(checkPersonalNumber(bad)[0]?.field, 'format', JSON.stringify(bad));
    }
    assert.equal(checkPersonalNumber('000190012345')[0]?.field, 'province');
    assert.equal(checkPersonalNumber('097190012345')[0]?.field, 'province');
    assert.ok(checkPersonalNumber('001290012345', { birthdate: '1990-01-01' }).some((p) => p.field === 'century'));
    assert.ok(checkPersonalNumber('001191012345', { birthdate: '1990-01-01' }).some((p) => p.field === 'year'));
    assert.ok(checkPersonalNumber('001090012345', { gender: 'female' }).some((p) => p.field === 'gender'));
  });
  it('round-trips: every number made for a person checks out for that person only (fast-check)', () => {
    const day = fc.date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2099, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    fc.assert(fc.property(day, fc.constantFrom('male', 'female'), fc.integer({ min: 1, max: 96 }), fc.integer({ min: 0, max: 999999 }), (birthdate, gender, province, serial) => {
      const id = makePersonalNumber({ birthdate, gender, province, serial });
      assert.match(id, /^[0-9]{12}$/);
      assert.deepEqual(checkPersonalNumber(id, { birthdate, gender }), []);
      assert.notDeepEqual(checkPersonalNumber(id, { birthdate, gender: gender === 'male' ? 'female' : 'male' }), []);
      const otherYear = `${Number(birthdate.slice(0, 4)) + 1}${birthdate.slice(4)}`.replace(/-02-29$/, '-02-28');
      assert.notDeepEqual(checkPersonalNumber(id, { birthdate: otherYear, gender }), []);
    }), { numRuns: 300 });
  });

  it('computes ages on birthdays correctly', () => {
    assert.equal(ageOn('2012-11-24', new Date(T0)), 13);
    assert.equal(ageOn('2012-11-23', new Date(T0)), 14);
  });
});

describe('password hashing (argon2id)', function () {
  this.timeout(20000);
  it('uses the documented OWASP parameters by default', async () => {
    const h = new PasswordHasher();
    const phc = await h.hash('correct horse battery');
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const o = parseOptions(phc);
    assert.deepEqual([o.memoryCost, o.timeCost, o.parallelism], [DEFAULT_ARGON2.memoryCost, DEFAULT_ARGON2.timeCost, DEFAULT_ARGON2.parallelism]);
    assert.equal(await h.verify(phc, 'correct horse battery'), true);
    assert.equal(await h.verify(phc, 'correct horse batterY'), false);
    assert.equal(await h.verify('not-a-hash', 'x'), false);
    assert.equal(h.needsRehash(phc), false);
    assert.equal(new PasswordHasher(FAST).needsRehash(phc), true);
  });
  it('treats NFC and NFD spellings of a Vietnamese password alike', async () => {
    const h = new PasswordHasher(FAST);
    const phc = await h.hash('mật khẩu của tôi');
    assert.equal(await h.verify(phc, 'mật khẩu của tôi'.normalize('NFD')), true);
  });
  it('rehashes on login when the parameters changed', async () => {
    const kv = new MemoryHashKV();
    const box = SecretBox.fromKey(Buffer.alloc(32, 1));
    const old = new KvAccountStore({ kv, box, argon2: FAST });
    const a = citizen();
    await old.create(a);
    const before = (await kv.hgetall(`acct:{${a.id}}`))!.pw!;
    assert.equal(parseOptions(before).memoryCost, 1024);
    const current = new KvAccountStore({ kv, box });
    assert.equal((await current.verifyPassword(a.id, 'wrong password!')).ok, false);
    assert.equal((await kv.hgetall(`acct:{${a.id}}`))!.pw, before, 'no rehash on a failed login');
    assert.equal((await current.verifyPassword(a.id, a.password)).ok, true);
    const after = (await kv.hgetall(`acct:{${a.id}}`))!.pw!;
    assert.notEqual(after, before);
    assert.equal(parseOptions(after).memoryCost, 19456);
    assert.equal((await current.verifyPassword(a.id, a.password)).ok, true);
  });
});

describe('secret key rotation', function () {
  this.timeout(20000);
  it('opens TOTP secrets and recovery codes sealed with a previous key and re-seals them with the new one', async () => {
    const kv = new MemoryHashKV();
    const oldKey = Buffer.alloc(32, 21), newKey = Buffer.alloc(32, 22);
    let clock = T0;
    const before = new KvAccountStore({ kv, box: SecretBox.fromKey(oldKey), argon2: FAST, now: () => clock });
    const a = citizen();
    await before.create(a);
    const e = await before.beginTotpEnrolment(a.id);
    const { recoveryCodes } = (await before.confirmTotpEnrolment(a.id, await totpCode(e.secret, clock)))!;
    const sealedOld = (await kv.hgetall(`acct:{${a.id}}`))!.totp!;
    // new key only: old values cannot be opened
    const newOnly = new KvAccountStore({ kv, box: SecretBox.fromKey(newKey), argon2: FAST, now: () => clock });
    clock += 30_000;
    await assert.rejects(newOnly.verifyTotp(a.id, await totpCode(e.secret, clock)), { code: 'IDP_SECRET_KEY' });
    assert.equal(await newOnly.useRecoveryCode(a.id, recoveryCodes[0]!), false);
    // new key + previous key: everything works and the TOTP secret is re-sealed
    const rotated = new KvAccountStore({ kv, box: SecretBox.fromKey(newKey, [oldKey]), argon2: FAST, now: () => clock });
    assert.equal(await rotated.verifyTotp(a.id, await totpCode(e.secret, clock)), true);
    const sealedNew = (await kv.hgetall(`acct:{${a.id}}`))!.totp!;
    assert.notEqual(sealedNew, sealedOld);
    assert.equal(await rotated.useRecoveryCode(a.id, recoveryCodes[0]!), true);
    clock += 30_000;
    assert.equal(await newOnly.verifyTotp(a.id, await totpCode(e.secret, clock)), true, 'readable with the new key alone now');
  });
  it('rejects keys that are not 32 bytes', () => {
    assert.throws(() => SecretBox.fromKey(Buffer.alloc(16)), { code: 'IDP_SECRET_KEY' });
  });
});

for (const backend of ['memory', 'redis'] as const) {
  describe(`accounts: ${backend}`, function () {
    this.timeout(20000);
    let s: KysoIdpStorage;
    let clock = T0;
    let prefixN = 0;
    const open = (key = KEY) => createStorage({
      secretKey: key, argon2: FAST, now: () => clock,
      ...(backend === 'redis' ? { redis: { url: redis.url, keyPrefix: `acc${prefixN}:` } } : {}),
    });
    beforeEach(async () => {
      clock = T0;
      prefixN++;
      s = await open();
    });
    afterEach(async () => { await s.close(); });

    it('creates, gets and lists accounts (no secrets in the returned object)', async () => {
      const a = citizen();
      const b = citizen({ birthdate: '1985-03-04', gender: 'male', name: 'Trần Văn Bình', level: 1 });
      const created = await s.accounts.create(a);
      await s.accounts.create(b);
      assert.equal(created.id, a.id);
      assert.equal(created.level, 2);
      assert.equal(created.disabled, false);
      assert.equal(created.totpEnabled, false);
      assert.deepEqual(created.address, { formatted: '12 Tràng Tiền, Hoàn Kiếm, Hà Nội' });
      assert.equal(created.createdAt, new Date(T0).toISOString());
      assert.ok(!JSON.stringify(created).includes('argon2'));
      assert.deepEqual(await s.accounts.get(a.id), created);
      assert.equal(await s.accounts.get('001190000000'), undefined);
      assert.equal(await s.accounts.get('../etc'), undefined);
      assert.deepEqual((await s.accounts.list()).map((x) => x.id), [a.id, b.id].sort());
    });

    it('refuses duplicates and invalid input with typed errors', async () => {
      const a = citizen();
      await s.accounts.create(a);
      await assert.rejects(s.accounts.create({ ...a, name: 'Someone else' }), { code: 'ACCOUNT_EXISTS' });
      await assert.rejects(s.accounts.create({ ...citizen(), id: '12345' }), { code: 'PERSONAL_NUMBER_INVALID' });
      await assert.rejects(s.accounts.create({ ...citizen(), id: '001085000001' }), { code: 'PERSONAL_NUMBER_INVALID' });
      await assert.rejects(s.accounts.create(citizen({ password: 'short' })), { code: 'PASSWORD_POLICY' });
      await assert.rejects(s.accounts.create({ ...citizen(), birthdate: '1990-02-30' }), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(s.accounts.create({ ...citizen(), level: 3 as never }), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(s.accounts.create({ ...citizen(), name: '' }), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(s.accounts.create({ ...citizen(), email: 'not-an-email' }), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(s.accounts.create({ ...citizen(), totp_secret: 'not base32!' }), { code: 'ACCOUNT_INVALID' });
      assert.equal((await s.accounts.list()).length, 1);
    });

    it('concurrent creation of the same personal number succeeds once', async () => {
      const a = citizen();
      const r = await Promise.allSettled(Array.from({ length: 10 }, () => s.accounts.create(a)));
      assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
      assert.equal((await s.accounts.list()).length, 1);
    });

    it('verifies passwords; disabled accounts are reported only after a correct password', async () => {
      const a = citizen();
      await s.accounts.create(a);
      assert.equal((await s.accounts.verifyPassword(a.id, a.password)).ok, true);
      assert.deepEqual(await s.accounts.verifyPassword(a.id, 'wrong password'), { ok: false, reason: 'bad-password' });
      assert.deepEqual(await s.accounts.verifyPassword('001190999999', a.password), { ok: false, reason: 'unknown-account' });
      assert.deepEqual(await s.accounts.verifyPassword('garbage', a.password), { ok: false, reason: 'unknown-account' });
      await s.accounts.setDisabled(a.id, true);
      assert.equal((await s.accounts.get(a.id))!.disabled, true);
      assert.deepEqual(await s.accounts.verifyPassword(a.id, a.password), { ok: false, reason: 'disabled' });
      assert.deepEqual(await s.accounts.verifyPassword(a.id, 'wrong password'), { ok: false, reason: 'bad-password' });
      await s.accounts.setDisabled(a.id, false);
      assert.equal((await s.accounts.verifyPassword(a.id, a.password)).ok, true);
      await s.accounts.setPassword(a.id, 'a new passphrase');
      assert.equal((await s.accounts.verifyPassword(a.id, a.password)).ok, false);
      assert.equal((await s.accounts.verifyPassword(a.id, 'a new passphrase')).ok, true);
      await assert.rejects(s.accounts.setPassword(a.id, 'short'), { code: 'PASSWORD_POLICY' });
      await assert.rejects(s.accounts.setDisabled('001190999999', true), { code: 'ACCOUNT_NOT_FOUND' });
      await s.accounts.setLevel(a.id, 1);
      assert.equal((await s.accounts.get(a.id))!.level, 1);
    });

    it('spends the same argon2 work on unknown accounts as on known ones', async function () {
      const slow = await createStorage({ secretKey: KEY, now: () => clock, ...(backend === 'redis' ? { redis: { url: redis.url, keyPrefix: `slow${prefixN}:` } } : {}) });
      try {
        const a = citizen();
        await slow.accounts.create(a);
        const time = async (id: string) => {
          const t = process.hrtime.bigint();
          await slow.accounts.verifyPassword(id, 'wrong password');
          return Number(process.hrtime.bigint() - t) / 1e6;
        };
        await time('001190999999'); // warm the dummy hash
        // medians of interleaved samples; a missing dummy verification would be ~100x faster, so a loose
        // factor-3 bound stays robust on a loaded 2-core CI machine while still catching it
        const known: number[] = [], unknown: number[] = [];
        for (let i = 0; i < 9; i++) { known.push(await time(a.id)); unknown.push(await time('001190999999')); }
        const med = (x: number[]) => x.sort((p, q) => p - q)[4]!;
        assert.ok(med(unknown) > med(known) / 3 && med(unknown) < 3 * med(known), `known ${med(known)} ms, unknown ${med(unknown)} ms`);
      } finally {
        await slow.close();
      }
    });

    it('enrols TOTP with an otpauth URL and an SVG QR code; codes work once, ±1 step', async () => {
      const a = citizen();
      await s.accounts.create(a);
      const e = await s.accounts.beginTotpEnrolment(a.id);
      assert.match(e.secret, /^[A-Z2-7]{32}$/);
      const url = new URL(e.otpauthUrl);
      assert.equal(url.protocol, 'otpauth:');
      assert.equal(url.searchParams.get('secret'), e.secret);
      assert.equal(url.searchParams.get('issuer'), 'kyso');
      assert.match(e.qrSvg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.equal((await s.accounts.get(a.id))!.totpEnabled, false, 'not active before confirmation');
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock)), false);
      assert.equal(await s.accounts.confirmTotpEnrolment(a.id, '000000' === (await totpCode(e.secret, clock)) ? '111111' : '000000'), null);
      const conf = await s.accounts.confirmTotpEnrolment(a.id, await totpCode(e.secret, clock));
      assert.ok(conf);
      assert.equal(conf.recoveryCodes.length, 10);
      assert.equal(new Set(conf.recoveryCodes).size, 10);
      assert.equal((await s.accounts.get(a.id))!.totpEnabled, true);
      // the enrolment code cannot be replayed
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock)), false);
      // next step: accepted once
      clock += 30_000;
      const c1 = await totpCode(e.secret, clock);
      assert.equal(await s.accounts.verifyTotp(a.id, c1), true);
      assert.equal(await s.accounts.verifyTotp(a.id, c1), false, 'replay refused');
      // a code one step ahead (phone clock fast) is accepted, then older steps are refused
      clock += 30_000;
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock + 30_000)), true);
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock)), false, 'older than the last used step');
      // two steps away is outside the window
      clock += 120_000;
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock - 60_000)), false);
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock + 60_000)), false);
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e.secret, clock - 30_000)), true, 'one step behind accepted');
      for (const junk of ['', '12345', '1234567', 'abcdef', ' 12 34 ', null as unknown as string]) {
        assert.equal(await s.accounts.verifyTotp(a.id, junk), false);
      }
    });

    it('two concurrent enrolment confirmations (codes of two steps) activate once, with 10 codes', async () => {
      const a = citizen();
      await s.accounts.create(a);
      const e = await s.accounts.beginTotpEnrolment(a.id);
      const [r1, r2] = await Promise.all([
        s.accounts.confirmTotpEnrolment(a.id, await totpCode(e.secret, clock)),
        s.accounts.confirmTotpEnrolment(a.id, await totpCode(e.secret, clock + 30_000)),
      ]);
      assert.equal([r1, r2].filter(Boolean).length, 1);
      assert.equal(await s.accounts.recoveryCodesLeft(a.id), 10);
    });

    it('accepts one valid TOTP code exactly once under 20 concurrent submissions', async () => {
      const a = citizen({ totp_secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' });
      await s.accounts.create(a);
      assert.equal((await s.accounts.get(a.id))!.totpEnabled, true, 'seeded secret is active');
      const code = await totpCode('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', clock);
      const r = await Promise.all(Array.from({ length: 20 }, () => s.accounts.verifyTotp(a.id, code)));
      assert.equal(r.filter(Boolean).length, 1);
    });

    it('recovery codes work once each, concurrently too; resetMfa removes the factor and the codes', async () => {
      const a = citizen();
      await s.accounts.create(a);
      const e = await s.accounts.beginTotpEnrolment(a.id);
      const { recoveryCodes } = (await s.accounts.confirmTotpEnrolment(a.id, await totpCode(e.secret, clock)))!;
      assert.match(recoveryCodes[0]!, /^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
      assert.equal(await s.accounts.useRecoveryCode(a.id, recoveryCodes[0]!), true);
      assert.equal(await s.accounts.useRecoveryCode(a.id, recoveryCodes[0]!), false);
      assert.equal(await s.accounts.useRecoveryCode(a.id, recoveryCodes[1]!.toLowerCase().replace('-', ' ')), true, 'case and separators ignored');
      assert.equal(await s.accounts.useRecoveryCode(a.id, 'AAAAA-AAAAA'), false);
      assert.equal(await s.accounts.useRecoveryCode('001190999999', recoveryCodes[2]!), false, 'bound to the account');
      const r = await Promise.all(Array.from({ length: 20 }, () => s.accounts.useRecoveryCode(a.id, recoveryCodes[2]!)));
      assert.equal(r.filter(Boolean).length, 1);
      assert.equal(await s.accounts.recoveryCodesLeft(a.id), 7);
      // re-enrolment replaces the codes
      const e2 = await s.accounts.beginTotpEnrolment(a.id);
      clock += 30_000;
      const again = (await s.accounts.confirmTotpEnrolment(a.id, await totpCode(e2.secret, clock)))!;
      assert.equal(await s.accounts.useRecoveryCode(a.id, recoveryCodes[3]!), false, 'old codes void after re-enrolment');
      assert.equal(await s.accounts.recoveryCodesLeft(a.id), 10);
      await s.accounts.resetMfa(a.id);
      assert.equal((await s.accounts.get(a.id))!.totpEnabled, false);
      clock += 30_000;
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(e2.secret, clock)), false);
      assert.equal(await s.accounts.useRecoveryCode(a.id, again.recoveryCodes[0]!), false);
      await assert.rejects(s.accounts.confirmTotpEnrolment(a.id, '123456'), { code: 'TOTP_NOT_ENROLLED' });
    });

    it('keeps TOTP secrets encrypted at rest and bound to the key', async () => {
      const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      const a = citizen({ totp_secret: secret });
      await s.accounts.create(a);
      if (backend === 'redis') {
        const raw = new Redis(redis.url);
        try {
          const h = await raw.hgetall(`acc${prefixN}:acct:{${a.id}}`);
          assert.ok(h.totp, 'record has the sealed secret');
          assert.ok(!JSON.stringify(h).includes(secret), 'plaintext secret not stored');
          assert.ok(!JSON.stringify(h).includes(a.password), 'plaintext password not stored');
          assert.match(h.pw!, /^\$argon2id\$/);
        } finally { raw.disconnect(); }
        const other = await open(Buffer.alloc(32, 10).toString('base64'));
        try {
          await assert.rejects(other.accounts.verifyTotp(a.id, await totpCode(secret, clock)), (err: Error & { code?: string }) => err.code === 'IDP_SECRET_KEY' && !err.message.includes(secret));
        } finally { await other.close(); }
      }
      assert.equal(await s.accounts.verifyTotp(a.id, await totpCode(secret, clock)), true);
    });

    it('updates profile fields but never the personal number or birth date', async () => {
      const a = citizen();
      await s.accounts.create(a);
      const u = await s.accounts.updateProfile(a.id, { name: 'Nguyễn Thị Lan Anh', phone: null, address: { street_address: '1 Lê Lợi', locality: 'Huế', country: 'VN' }, email: 'anh@example.vn' });
      assert.equal(u.name, 'Nguyễn Thị Lan Anh');
      assert.equal(u.phone, undefined);
      assert.deepEqual(u.address, { street_address: '1 Lê Lợi', locality: 'Huế', country: 'VN' });
      assert.deepEqual(await s.accounts.get(a.id), u);
      assert.equal(u.birthdate, a.birthdate);
      await assert.rejects(s.accounts.updateProfile(a.id, { email: 'nope' }), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(s.accounts.updateProfile(a.id, { gender: 'male' }), { code: 'PERSONAL_NUMBER_INVALID' });
      await assert.rejects(s.accounts.updateProfile(a.id, { name: '  ' }), { code: 'ACCOUNT_INVALID' });
      await assert.rejects(s.accounts.updateProfile('001190999999', { name: 'X' }), { code: 'ACCOUNT_NOT_FOUND' });
      assert.equal((await s.accounts.verifyPassword(a.id, a.password)).ok, true, 'password untouched');
    });

    it('links guardians to minors under 14, visible in both accounts', async () => {
      const parent = citizen({ birthdate: '1985-01-01', gender: 'male' });
      const child = citizen({ birthdate: '2016-04-05', gender: 'female', level: 1 });
      const teen = citizen({ birthdate: '2010-01-01', gender: 'male', level: 1 });
      const youngAdult = citizen({ birthdate: '2010-12-01', gender: 'male', level: 1 });
      for (const x of [parent, child, teen, youngAdult]) await s.accounts.create(x);
      await s.accounts.linkGuardian(parent.id, child.id, 'mẹ');
      assert.deepEqual((await s.accounts.get(parent.id))!.wards, [{ id: child.id, relationship: 'mẹ' }]);
      assert.deepEqual((await s.accounts.get(child.id))!.guardians, [{ id: parent.id, relationship: 'mẹ' }]);
      assert.equal(await s.accounts.guardianRelationship(parent.id, child.id), 'mẹ');
      assert.equal(await s.accounts.guardianRelationship(teen.id, child.id), undefined);
      await assert.rejects(s.accounts.linkGuardian(parent.id, teen.id, 'parent'), { code: 'GUARDIAN_INVALID' }); // 16
      await assert.rejects(s.accounts.linkGuardian(youngAdult.id, child.id, 'brother'), { code: 'GUARDIAN_INVALID' }); // 15
      await assert.rejects(s.accounts.linkGuardian(parent.id, parent.id, 'self'), { code: 'GUARDIAN_INVALID' });
      await assert.rejects(s.accounts.linkGuardian(parent.id, child.id, ''), { code: 'GUARDIAN_INVALID' });
      await assert.rejects(s.accounts.linkGuardian('001190999999', child.id, 'parent'), { code: 'ACCOUNT_NOT_FOUND' });
      // the link lapses by itself on the 14th birthday
      clock = Date.UTC(2030, 3, 5);
      assert.equal(await s.accounts.guardianRelationship(parent.id, child.id), undefined);
      await s.accounts.unlinkGuardian(parent.id, child.id);
      assert.deepEqual((await s.accounts.get(parent.id))!.wards, []);
    });
  });
}
