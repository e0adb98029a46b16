/**
 * The portal's "try again" after a refusal keeps the same QR code (clientData): the new authorization waits for the
 * citizen on the same phone page instead of being refused at once by the earlier refusal (found by an outside
 * review: the refusal flag outlived its request, and the audit blamed the citizen for a refusal she never made).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AuditEntry } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
describe('signing service: the same QR code after a refusal', function () {
  this.timeout(120_000);
  let s: Stack;
  before(async () => { s = await startStack({ ciba: true, policy: { approvalTimeoutMs: 20_000 } }); });
  after(async () => { await s?.close(); });

  it('a new request with the same page reference waits for the citizen, and her new answer decides it', async () => {
    const c = await s.citizen(2);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const ref = randomBytes(24).toString('base64url');
    const ask = () => s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [createHash('sha256').update(randomBytes(8)).digest('base64')], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '112233' }], clientData: ref });
    const refuse = () => fetch(`${s.signing.url}/approve/${ref}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=refuse', redirect: 'manual' });
    const pending = async (after: number) => {
      for (let i = 0; i < 200; i++) { const p = await s.signing.service.phone.get(ref); if (p?.status === 'pending' && p.created >= after) return; await new Promise((r) => setTimeout(r, 25)); }
      assert.fail('the phone page never showed the request');
    };
    const t1 = Date.now();
    const first = ask();
    await pending(t1);
    assert.equal((await refuse()).status, 303);
    const r1 = await first;
    assert.equal(r1.status, 403);
    assert.match(String(r1.body.error_description), /refused/);

    const t2 = Date.now();
    let settled = false;
    const second = ask().finally(() => { settled = true; });
    await pending(t2);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(settled, false, 'the new request waits for the citizen (it was refused at once by the old refusal)');
    assert.equal((await refuse()).status, 303, 'the page takes her new answer');
    const r2 = await second;
    assert.equal(r2.status, 403);
    const refusals = (await s.signing.store.auditRead(0, 1e6)).map((r) => JSON.parse(r.entry) as AuditEntry).filter((e) => e.credentialId === cred.id && e.result === 'refused');
    assert.equal(refusals.length, 2, 'two refusals recorded, one per answer she gave');
  });
});
