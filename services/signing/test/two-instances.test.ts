/**
 * Two instances of the signing service behind one Redis (as behind a load balancer): nothing a request needs is
 * in one process's memory. A SAD minted by one instance signs on the other, once; a PIN lock counted on one is
 * seen by the other; both append to one audit chain; an idempotent retry on the other instance is replayed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { IntrospectionVerifier, createSigningLogger, createSigningServer, verifyAuditChain, type SigningServer } from '../src/index.js';
import { ScriptedApprover, SIGNING_CLIENT, startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const ECDSA = '1.2.840.10045.4.3.2';

describe('signing service: two instances sharing Redis', function () {
  this.timeout(120_000);
  let redis: RedisInstance;
  let s: Stack;
  let b: SigningServer;
  before(async () => {
    redis = await startRedis();
    s = await startStack({ redis: redis.url });
    b = await createSigningServer({
      redis: redis.url, vault: { pkcs11: { module: s.hsm.module, token: s.hsm.token, pin: s.hsm.pin } }, approver: new ScriptedApprover(), oauth2Issuer: s.idp.issuer,
      tokens: new IntrospectionVerifier({ issuer: s.idp.issuer, clientId: SIGNING_CLIENT.client_id, clientSecret: SIGNING_CLIENT.client_secret }), logger: createSigningLogger('silent'),
    });
  });
  after(async () => { await b?.close(); await s?.close(); await redis?.stop(); });

  const post = async (base: string, path: string, token: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}/csc/v2/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() as Record<string, unknown>, headers: r.headers };
  };

  it('authorize on A, sign on B once, replay refused on A; PIN lock and idempotency shared; one audit chain', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '555666');
    const A = s.signing.url; const B = b.url;
    assert.deepEqual((await post(B, 'credentials/list', token, {})).body.credentialIDs, [cred.id], 'B sees the credential enrolled through A');
    const hashes = [0, 1].map(() => createHash('sha256').update(randomBytes(8)).digest('base64'));
    const auth = await post(A, 'credentials/authorize', token, { credentialID: cred.id, numSignatures: 2, hashes, hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '555666' }] });
    assert.equal(auth.status, 200);
    const body = (h: string) => ({ credentialID: cred.id, SAD: auth.body.SAD, hashes: [h], signAlgo: ECDSA });
    assert.equal((await post(B, 'signatures/signHash', token, body(hashes[0]!))).status, 200);
    assert.equal((await post(A, 'signatures/signHash', token, body(hashes[0]!))).status, 400, 'the hash used on B is used up on A');
    const key = { 'idempotency-key': 'retry-1' };
    const first = await post(A, 'signatures/signHash', token, body(hashes[1]!), key);
    assert.equal(first.status, 200);
    const retry = await post(B, 'signatures/signHash', token, body(hashes[1]!), key);
    assert.equal(retry.status, 200);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body.signatures, first.body.signatures);
    // wrong PINs alternate between instances; the lock is counted once for the credential
    for (let i = 0; i < 5; i++) await post(i % 2 ? A : B, 'credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [hashes[0]], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '000000' }] });
    const locked = await post(A, 'credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [hashes[0]], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '555666' }] });
    assert.equal(locked.status, 403);
    assert.match(String(locked.body.error_description), /locked/);
    const v = await verifyAuditChain((after) => b.store.auditRead(after, 100));
    assert.equal(v.ok, true, JSON.stringify(v.broken));
    assert.ok(v.count >= 10);
  });

  it('the phone page of an authorization made on A is served by B; a reference held in Redis is not taken over by another citizen', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '555666');
    const ref = randomBytes(24).toString('base64url');
    const h = createHash('sha256').update(randomBytes(8)).digest('base64');
    const auth = await post(s.signing.url, 'credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '555666' }], documentNames: ['Đơn đề nghị.pdf'], documentSummaries: ['Nội dung: cấp bản sao'], clientData: ref });
    assert.equal(auth.status, 200);
    const page = await (await fetch(`${b.url}/approve/${ref}`)).text();
    assert.match(page, /Đơn đề nghị\.pdf/);
    assert.match(page, /Nội dung: cấp bản sao/);
    assert.match(page, /Bạn đã phê duyệt yêu cầu ký này/);
    // the reference is held (NX in Redis): another citizen's request gets a fresh one
    const other = await s.citizen(1);
    const t2 = await s.tokenFor(other);
    const cred2 = await s.enrol(other.id, { type: 'EC', curve: 'P-256' }, '555666');
    assert.equal((await post(b.url, 'credentials/authorize', t2, { credentialID: cred2.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '555666' }], documentNames: ['Khác.pdf'], clientData: ref })).status, 200);
    const still = await (await fetch(`${s.signing.url}/approve/${ref}`)).text();
    assert.match(still, /Đơn đề nghị\.pdf/);
    assert.doesNotMatch(still, /Khác\.pdf/);
  });
});
