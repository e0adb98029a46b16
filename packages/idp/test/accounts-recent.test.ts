/** KvAccountStore.getRecent: the short-lived account copy used by findAccount on the token/userinfo hot path. */
import assert from 'node:assert/strict';
import { SecretBox, makePersonalNumber } from '../src/index.js';
import { KvAccountStore } from '../src/accounts/account-store.js';
import { MemoryHashKV } from '../src/storage/kv.js';

const ARGON = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KvAccountStore.getRecent (1 s in-process copy)', function () {
  this.timeout(20_000);
  const box = SecretBox.fromKey(Buffer.alloc(32, 3));
  const id = makePersonalNumber({ birthdate: '1990-01-01', gender: 'male', serial: 12345 });

  async function twoProcesses() {
    const kv = new MemoryHashKV(); // shared, like one Redis seen by two processes
    const a = new KvAccountStore({ kv, box, argon2: ARGON });
    const b = new KvAccountStore({ kv, box, argon2: ARGON });
    await a.create({ id, password: 'a long enough password 1', name: 'Trần Văn An', birthdate: '1990-01-01', gender: 'male', level: 1 });
    return { a, b };
  }

  it('answers from the copy, and drops it on every write through the same store', async () => {
    const { a } = await twoProcesses();
    const first = await a.getRecent(id);
    assert.equal(first?.disabled, false);
    assert.equal(await a.getRecent(id), first, 'second read within 1 s is the cached copy');
    await a.setDisabled(id, true);
    assert.equal((await a.getRecent(id))?.disabled, true, 'a disable in this process is seen at once');
    await a.setLevel(id, 2);
    assert.equal((await a.getRecent(id))?.level, 2);
  });

  it('sees a change made by another process within the TTL, never later', async () => {
    const { a, b } = await twoProcesses();
    assert.equal((await a.getRecent(id, 300))?.disabled, false);
    await b.setDisabled(id, true);
    await sleep(350);
    assert.equal((await a.getRecent(id, 300))?.disabled, true, 'stale copy expired');
    assert.equal((await a.get(id))?.disabled, true, 'get() is never cached');
  });

  it('caps the TTL at 2 s and never caches a missing account', async () => {
    const { a, b } = await twoProcesses();
    const other = makePersonalNumber({ birthdate: '1991-02-02', gender: 'female', serial: 777 });
    assert.equal(await a.getRecent(other), undefined);
    await b.create({ id: other, password: 'a long enough password 2', name: 'Lê Thị Hoa', birthdate: '1991-02-02', gender: 'female', level: 1 });
    assert.equal((await a.getRecent(other))?.name, 'Lê Thị Hoa', 'a miss is not remembered');
    assert.ok(await a.getRecent(id, 60_000));
    await b.setDisabled(id, true);
    await sleep(2100);
    assert.equal((await a.getRecent(id, 60_000))?.disabled, true, 'even a long maxAge is capped at 2 s');
  });
});
