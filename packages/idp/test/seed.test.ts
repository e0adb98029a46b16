/** Seeding accounts: one loader for `kyso serve idp --seed` and `kyso idp seed`; idempotent, race-safe, both link forms. */
import assert from 'node:assert/strict';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { applySeed, createStorage, makePersonalNumber, seedAccounts, type KysoIdpStorage, type SeedAccount } from '../src/index.js';

const KEY = Buffer.alloc(32, 3).toString('base64');
const ARGON = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('idp seed: accounts and guardian links', function () {
  this.timeout(30000);
  let redis: RedisInstance;
  before(async () => { redis = await startRedis(); });
  after(async () => { await redis?.stop(); });

  const people = () => {
    const mum = makePersonalNumber({ birthdate: '1988-03-04', gender: 'female', serial: 11 });
    const dad = makePersonalNumber({ birthdate: '1986-05-06', gender: 'male', serial: 12 });
    const kid = makePersonalNumber({ birthdate: '2019-07-08', gender: 'male', serial: 13 });
    const users: SeedAccount[] = [
      { id: mum, password: 'mật khẩu của mẹ', name: 'Đỗ Thị Mẹ', birthdate: '1988-03-04', gender: 'female', level: 2 },
      { id: dad, password: 'mật khẩu của bố', name: 'Đỗ Văn Bố', birthdate: '1986-05-06', gender: 'male', level: 1 },
      { id: kid, password: 'mật khẩu của con', name: 'Đỗ Văn Con', birthdate: '2019-07-08', gender: 'male', level: 1, guardians: [{ id: mum, relationship: 'mẹ' }] },
    ];
    return { mum, dad, kid, users };
  };

  it('creates accounts once, links guardians given on the minor or at the top level; a second run changes nothing', async () => {
    const s = await createStorage({ secretKey: KEY, argon2: ARGON });
    try {
      const { mum, dad, kid, users } = people();
      const links = [{ guardian: dad, minor: kid, relationship: 'bố' }];
      assert.deepEqual(await seedAccounts(s, users, links), { created: 3, existing: 0 });
      assert.deepEqual((await s.accounts.get(kid))!.guardians.map((g) => g.id).sort(), [dad, mum].sort());
      assert.deepEqual(await seedAccounts(s, users, links), { created: 0, existing: 3 });
      assert.equal((await s.accounts.get(kid))!.guardians.length, 2, 'links not duplicated');
      assert.equal((await s.audit.list({ accountId: mum })).filter((e) => e.type === 'account.created').length, 1);
    } finally { await s.close(); }
  });

  it('two processes seeding one Redis at the same moment: every account created exactly once, no error', async () => {
    const mk = () => createStorage({ secretKey: KEY, argon2: ARGON, redis: { url: redis.url, keyPrefix: 'seedrace:' } });
    const [a, b] = await Promise.all([mk(), mk()]);
    try {
      const { kid, users } = people();
      const [ra, rb] = await Promise.all([seedAccounts(a, users), seedAccounts(b, users)]);
      assert.equal(ra.created + rb.created, 3);
      assert.equal(ra.existing + rb.existing, 3);
      assert.equal((await a.accounts.get(kid))!.guardians.length, 1);
    } finally { await Promise.all([a.close(), b.close()]); }
  });

  it('applySeed stores clients and reports counts; a bad user names its index', async () => {
    const s = await createStorage({ secretKey: KEY, argon2: ARGON });
    try {
      const { users } = people();
      const r = await applySeed(s, { clients: [{ client_id: 'svc', client_secret: 'svc-secret-0123456789abcdef', redirect_uris: ['https://svc.example/cb'] }], users });
      assert.deepEqual(r, { clients: 1, usersCreated: 3, usersExisting: 0 });
      assert.ok(await s.clients.get('svc'));
      await assert.rejects(applySeed(s, { users: [{ id: '123', password: 'x', name: 'y', birthdate: '2000-01-01', level: 1 }] }), /seed users\[0\]/);
      await assert.rejects(applySeed(s, { guardians: 'no' }), /"guardians" must be an array/);
    } finally { await s.close(); }
  });
});
