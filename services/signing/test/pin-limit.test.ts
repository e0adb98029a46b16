/**
 * The wrong-PIN limit holds against parallel guesses (memory and Redis stores): each attempt is counted atomically
 * before its PIN is checked, so a burst of guesses gets at most maxPinAttempts of them checked, and the credential is
 * then locked for the right PIN too. (Found by an outside review: the counter used to be read, the PIN checked for
 * 20-30 ms, then the counter raised, so 20 parallel guesses were all checked.)
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { enrolCredential, type AuditEntry } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const hash = () => createHash('sha256').update(randomBytes(8)).digest('base64');
for (const backend of ['memory', 'redis'] as const) {
  describe(`signing service: PIN guesses in parallel (${backend} store, production PIN hashing cost)`, function () {
    this.timeout(120_000);
    let s: Stack;
    let redis: RedisInstance | undefined;
    before(async () => { redis = backend === 'redis' ? await startRedis() : undefined; s = await startStack(redis ? { redis: redis.url } : {}); });
    after(async () => { await s?.close(); await redis?.stop(); });

    it('15 wrong PINs at once (under the 20 authorizations a minute limit): at most 5 are checked, the rest are refused as locked, and then the right PIN is refused too', async () => {
      const alice = await s.citizen(1);
      const token = await s.tokenFor(alice);
      const cred = await enrolCredential({ store: s.signing.store, vault: s.signing.vault, issuer: s.issuer }, { owner: alice.id, kind: 'citizen', subject: { commonName: 'A' }, pin: '246810', key: { type: 'EC', curve: 'P-256' } });
      const rs = await Promise.all(Array.from({ length: 15 }, (_, i) => s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [hash()], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: String(100000 + i) }] })));
      const log = (await s.signing.store.auditRead(0, 1e6)).map((r) => JSON.parse(r.entry) as AuditEntry).filter((e) => e.credentialId === cred.id);
      const checked = log.filter((e) => e.type === 'pin.wrong' || e.type === 'pin.locked');
      assert.ok(checked.length <= 5, `${checked.length} guesses checked against a limit of 5`);
      assert.equal(rs.filter((r) => r.status === 403).length, 15 - checked.length + checked.filter((e) => e.type === 'pin.locked').length, 'the others are refused as locked (403)');
      assert.ok(rs.every((r) => r.status === 400 || r.status === 403), rs.map((r) => r.status).join(','));
      const right = await s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [hash()], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '246810' }] });
      assert.equal(right.status, 403, 'locked: the right PIN is refused too');
      assert.match(String(right.body.error_description), /locked/i);
    });
  });
}
