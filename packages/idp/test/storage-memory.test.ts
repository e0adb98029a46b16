/** In-memory store specifics: expired records are dropped as the store is used (bounded memory). */
import assert from 'node:assert/strict';
import type { AdapterPayload } from 'oidc-provider';
import { MemoryOidcStore, memoryAdapterClass } from '../src/storage/index.js';
import { MemoryRateLimiter } from '../src/security/index.js';

describe('memory store: expiry sweeping', () => {
  it('drops expired tokens, indexes and grant members while new ones are written', async () => {
    let clock = 1_000_000;
    const store = new MemoryOidcStore(() => clock);
    const Adapter = memoryAdapterClass(store);
    const AT = new Adapter('AccessToken');
    const S = new Adapter('Session');
    for (let i = 0; i < 5000; i++) {
      await AT.upsert(`old${i}`, { grantId: `g${i}`, clientId: 'rp' } as AdapterPayload, 60);
      await S.upsert(`s${i}`, { uid: `u${i}` } as AdapterPayload, 60);
    }
    assert.equal(store.objects.size, 10000);
    clock += 61_000;
    for (let i = 0; i < 5000; i++) await AT.upsert(`new${i}`, { clientId: 'rp' } as AdapterPayload, 600);
    assert.ok(store.objects.size <= 5000 + 100, `objects left: ${store.objects.size}`);
    assert.ok(store.uids.size < 5000, `uid index entries left: ${store.uids.size}`);
    assert.ok(store.grants.size < 5000, `grant indexes left: ${store.grants.size}`);
    assert.ok(await AT.find('new4999'));
    assert.equal(await AT.find('old0'), undefined);
  });

  it('the in-memory rate limiter forgets expired keys as it is used', async () => {
    let clock = 0;
    const rl = new MemoryRateLimiter(undefined, () => clock);
    for (let i = 0; i < 3000; i++) await rl.recordFailure([`ip:10.0.${i >> 8}.${i & 255}`]);
    clock += 16 * 60_000;
    for (let i = 0; i < 3000; i++) await rl.recordFailure([`ip:10.1.${i >> 8}.${i & 255}`]);
    const size = (rl as unknown as { state: Map<string, unknown> }).state.size;
    assert.ok(size <= 3000 + 100, `entries left: ${size}`);
  });
});
