/**
 * Sole control through the real identity provider: credentials/authorize starts a CIBA request at level 2; the
 * citizen's phone page shows the requesting service, the document and its hash prefix in Vietnamese; she
 * approves with her TOTP (or refuses) and only then is a SAD minted. Also: an expired access token is refused.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Browser, formOf, newCitizen, startTestIdp, baseSeed } from '../../../packages/idp/test/provider-helpers.js';
import { IntrospectionVerifier, bindingMessage, createSigningLogger, createSigningServer } from '../src/index.js';
import { ScriptedApprover, SIGNING_CLIENT, startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';

describe('signing service: approval on the phone through CIBA (kyso IdP)', function () {
  this.timeout(120_000);
  let s: Stack;
  before(async () => { s = await startStack({ ciba: true }); });
  after(async () => { await s?.close(); });

  async function phone(accountId: string) {
    for (let i = 0; i < 100; i++) {
      const n = s.idp.ciba.find((x) => x.accountId === accountId);
      if (n) return n;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no CIBA notification reached the phone');
  }

  it('the citizen sees service, document and hash on her phone, approves with TOTP at level 2, and the SAD signs', async () => {
    const c = await s.citizen(2);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const h = createHash('sha256').update(randomBytes(64)).digest('base64');
    const pending = s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '112233' }], documentNames: ['Đơn đăng ký kết hôn.pdf'] });
    const note = await phone(c.id);
    const code = Buffer.from(h, 'base64').subarray(0, 4).toString('hex').toUpperCase();
    assert.equal(note.bindingMessage, `Cổng dịch vụ công: ký Đơn đăng ký kết hôn.pdf #${code}`);
    const b = new Browser(s.idp.issuer);
    const page = await b.follow(note.approvalUrl);
    assert.equal(page.res.status, 200);
    assert.ok(page.body.includes('Đơn đăng ký kết hôn.pdf'), 'document name on the phone');
    assert.ok(page.body.includes(code), 'hash prefix on the phone');
    assert.ok(page.body.includes('Cổng dịch vụ công'), 'requesting service on the phone');
    const f = formOf(page.body);
    const ok = await b.submit(f.action, { csrf: f.csrf, decision: 'approve', password: c.password, code: await c.code() });
    assert.equal(ok.res.status, 200);
    const r = await pending;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const sig = await s.call('signatures/signHash', token, { credentialID: cred.id, SAD: r.body.SAD, hashes: [h], signAlgo: '1.2.840.10045.4.3.2' });
    assert.equal(sig.status, 200, JSON.stringify(sig.body));
  });

  it('refusing on the phone gives access_denied and no SAD', async () => {
    const c = await s.citizen(2);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const h = createHash('sha256').update(randomBytes(64)).digest('base64');
    const pending = s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '112233' }] });
    const note = await phone(c.id);
    const b = new Browser(s.idp.issuer);
    const page = await b.follow(note.approvalUrl);
    const f = formOf(page.body);
    await b.submit(f.action, { csrf: f.csrf, decision: 'deny' });
    const r = await pending;
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'access_denied');
    assert.equal(r.body.SAD, undefined);
  });

  it('binding messages stay within the provider\'s 64-character rule', () => {
    const long = bindingMessage('Cổng dịch vụ công quốc gia — Bộ Tư pháp <script>', [{ name: 'Tờ khai đăng ký khai sinh cho con thứ hai (bản chính).pdf', hash: Buffer.alloc(32, 7).toString('base64') }]);
    assert.ok([...long].length <= 64, long);
    assert.match(long, /#07070707$/);
    assert.doesNotMatch(long, /[<>—]/);
    assert.match(bindingMessage('X', [{ name: 'a', hash: Buffer.alloc(32).toString('base64') }, { name: 'b', hash: Buffer.alloc(32).toString('base64') }]), /2 tài liệu/);
  });
});

describe('signing service: an expired access token', function () {
  this.timeout(60_000);
  it('is refused with invalid_token', async () => {
    const seed = baseSeed();
    seed.clients.push(SIGNING_CLIENT as never, { client_id: 'portal', client_secret: 'portal-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:1/cb'], subject_type: 'public' } as never);
    const idp = await startTestIdp({ seed, ttl: { AccessToken: 2 } });
    const signing = await createSigningServer({
      vault: { keystoreSecret: 'test-keystore-secret-0123456789' }, approver: new ScriptedApprover(), oauth2Issuer: idp.issuer, logger: createSigningLogger('silent'),
      tokens: new IntrospectionVerifier({ issuer: idp.issuer, clientId: SIGNING_CLIENT.client_id, clientSecret: SIGNING_CLIENT.client_secret }),
    });
    try {
      const c = await newCitizen(idp.storage, { level: 1 });
      const { tokenViaLogin } = await import('./token.js');
      const token = await tokenViaLogin(idp.issuer, c);
      const ok = await fetch(`${signing.url}/csc/v2/credentials/list`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(ok.status, 200);
      await new Promise((r) => setTimeout(r, 2600));
      const late = await fetch(`${signing.url}/csc/v2/credentials/list`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(late.status, 401);
      assert.equal((await late.json() as { error: string }).error, 'invalid_token');
      assert.match(late.headers.get('www-authenticate') ?? '', /invalid_token/);
    } finally {
      await signing.close();
      await idp.close();
    }
  });
});
