/**
 * CSC `auth.mode` `oauth2code` (issue 14, point 1), end to end with a real authorization code flow at the kyso
 * identity provider: the service asks for `authorization_details` of type `credential` naming the credential and
 * the document digests (RFC 9396); the citizen logs in at level 2 (password + TOTP) and sees the documents and
 * digests on the consent page; the access token then stands in for a SAD for exactly those digests, once each —
 * another digest, a second use, another credential, a refresh, a level-1 login or a token without the details
 * are refused, and nothing is signed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, verify } from 'node:crypto';
import * as oc from 'openid-client';
import { Browser, formOf } from '../../../packages/idp/test/provider-helpers.js';
import { PORTAL_CLIENT, startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const insecure = { execute: [oc.allowInsecureRequests] };

describe('signing service: oauth2code — a credential-scoped token from the authorization code flow (RFC 9396)', function () {
  this.timeout(120_000);
  let s: Stack;
  let rp: oc.Configuration;
  before(async () => {
    s = await startStack();
    rp = await oc.discovery(new URL(s.idp.issuer), PORTAL_CLIENT.client_id, PORTAL_CLIENT.client_secret, undefined, insecure);
  });
  after(async () => { await s?.close(); });

  const digest = () => createHash('sha256').update(randomBytes(64)).digest('base64');

  /** The code flow by hand (login, TOTP, consent), returning the consent page seen and the token (or the error). */
  async function codeFlow(c: Awaited<ReturnType<Stack['citizen']>>, details: unknown, acr = 'level2', scope = 'openid credential') {
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const url = oc.buildAuthorizationUrl(rp, {
      redirect_uri: PORTAL_CLIENT.redirect_uris[0]!, scope, state, acr_values: acr, ui_locales: 'vi',
      code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      ...(details ? { authorization_details: JSON.stringify(details) } : {}),
    });
    const b = new Browser(s.idp.issuer);
    let page = await b.follow(url.href);
    let consent = '';
    for (let i = 0; i < 6 && page.url.startsWith(s.idp.issuer); i++) {
      if (page.body.includes('/login"')) { const f = formOf(page.body, '/login'); page = await b.submit(f.action, { csrf: f.csrf, login: c.id, password: c.password }); }
      else if (page.body.includes('/totp"')) { const f = formOf(page.body, '/totp'); page = await b.submit(f.action, { csrf: f.csrf, kind: 'totp', code: await c.code() }); }
      else if (page.body.includes('/consent"')) { consent = page.body; const f = formOf(page.body, '/consent'); page = await b.submit(f.action, { csrf: f.csrf }); }
      else throw new Error(`unexpected page ${page.res.status} ${page.url}: ${page.body.slice(0, 300)}`);
    }
    const back = new URL(page.url);
    if (back.searchParams.get('error')) return { consent, error: back.searchParams.get('error')!, description: back.searchParams.get('error_description') ?? '' };
    const tokens = await oc.authorizationCodeGrant(rp, back, { pkceCodeVerifier: verifier, expectedState: state });
    return { consent, token: tokens.access_token, refresh: tokens.refresh_token };
  }

  it('the token signs exactly the named digests, each once, with that credential only', async () => {
    const c = await s.citizen(2);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const other = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const [h1, h2, h3] = [digest(), digest(), digest()];
    const r = await codeFlow(c, [{ type: 'credential', credentialID: cred.id, hashAlgorithmOID: SHA256, documentDigests: [{ hash: h1, label: 'Tờ khai cư trú.pdf' }, { hash: h2, label: 'Giấy xác nhận.pdf' }] }]);
    assert.ok(r.token, `a token (${r.error}: ${r.description})`);
    // the citizen saw what she authorizes: the documents and their full digests
    assert.match(r.consent, /Tờ khai cư trú\.pdf/);
    assert.match(r.consent, /Giấy xác nhận\.pdf/);
    const hex = (h: string) => (Buffer.from(h, 'base64').toString('hex').toUpperCase().match(/.{4}/g) ?? []).join(' ');
    assert.ok(r.consent.includes(hex(h1)) && r.consent.includes(hex(h2)), 'full digests on the consent page');

    // no SAD: the token's authorization_details authorize h1 and h2
    const ok = await s.call('signatures/signHash', r.token, { credentialID: cred.id, hashes: [h1], signAlgo: ECDSA_SHA256 });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((ok.body.signatures as string[]).length, 1);
    // a second use of h1, another digest, another credential: refused, nothing signed
    const again = await s.call('signatures/signHash', r.token, { credentialID: cred.id, hashes: [h1], signAlgo: ECDSA_SHA256 });
    assert.equal(again.status, 400);
    assert.match(String(again.body.error_description), /not authorized|already signed/);
    const notNamed = await s.call('signatures/signHash', r.token, { credentialID: cred.id, hashes: [h3], signAlgo: ECDSA_SHA256 });
    assert.equal(notNamed.status, 400);
    assert.equal(notNamed.body.signatures, undefined);
    const otherCred = await s.call('signatures/signHash', r.token, { credentialID: other.id, hashes: [h2], signAlgo: ECDSA_SHA256 });
    assert.equal(otherCred.status, 400);
    assert.match(String(otherCred.body.error_description), /SAD/);
    // h2 is still there, once
    const two = await s.call('signatures/signHash', r.token, { credentialID: cred.id, hashes: [h2], signAlgo: ECDSA_SHA256 });
    assert.equal(two.status, 200, JSON.stringify(two.body));
    assert.equal((await s.call('signatures/signHash', r.token, { credentialID: cred.id, hashes: [h2], signAlgo: ECDSA_SHA256 })).status, 400);
  });

  it('first uses of the token in parallel (each for its own named digest) both sign', async () => {
    const c = await s.citizen(2);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const [h1, h2] = [digest(), digest()];
    const r = await codeFlow(c, [{ type: 'credential', credentialID: cred.id, hashAlgorithmOID: SHA256, documentDigests: [{ hash: h1, label: 'a.pdf' }, { hash: h2, label: 'b.pdf' }] }]);
    assert.ok(r.token, String(r.error));
    const [a, b] = await Promise.all([h1, h2].map((h) => s.call('signatures/signHash', r.token!, { credentialID: cred.id, hashes: [h], signAlgo: ECDSA_SHA256 })));
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(b.status, 200, JSON.stringify(b.body));
  });

  it('authorization_details naming two credentials: each credential signs its own digest, not the other\'s', async () => {
    const c = await s.citizen(2);
    const c1 = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const c2 = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const [h1, h2] = [digest(), digest()];
    const r = await codeFlow(c, [
      { type: 'credential', credentialID: c1.id, hashAlgorithmOID: SHA256, documentDigests: [{ hash: h1, label: 'a.pdf' }] },
      { type: 'credential', credentialID: c2.id, hashAlgorithmOID: SHA256, documentDigests: [{ hash: h2, label: 'b.pdf' }] }]);
    assert.ok(r.token, `the identity provider issued the token (${r.error ?? ''})`);
    const cross = await s.call('signatures/signHash', r.token!, { credentialID: c1.id, hashes: [h2], signAlgo: ECDSA_SHA256 });
    assert.equal(cross.status, 400, 'a digest named for the other credential is refused');
    const a = await s.call('signatures/signHash', r.token!, { credentialID: c1.id, hashes: [h1], signAlgo: ECDSA_SHA256 });
    const b = await s.call('signatures/signHash', r.token!, { credentialID: c2.id, hashes: [h2], signAlgo: ECDSA_SHA256 });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(b.status, 200, JSON.stringify(b.body));
    const again = await s.call('signatures/signHash', r.token!, { credentialID: c2.id, hashes: [h2], signAlgo: ECDSA_SHA256 });
    assert.equal(again.status, 400, 'each digest once');
  });

  it('a signature made with the token verifies against the credential certificate', async () => {
    const c = await s.citizen(2);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const data = randomBytes(100);
    const h = createHash('sha256').update(data).digest('base64');
    const r = await codeFlow(c, [{ type: 'credential', credentialID: cred.id, documentDigests: [{ hash: h, label: 'a.pdf' }] }]);
    const sig = await s.call('signatures/signHash', r.token, { credentialID: cred.id, hashes: [h], signAlgo: ECDSA_SHA256 });
    assert.equal(sig.status, 200, JSON.stringify(sig.body));
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(Buffer.from(cred.certificates[0]!, 'base64'));
    assert.ok(verify('sha256', data, cert.publicKey, Buffer.from((sig.body.signatures as string[])[0]!, 'base64')));
  });

  it('a level-1 login gets no credential token (sole control needs password + TOTP)', async () => {
    const c = await s.citizen(2);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const r = await codeFlow(c, [{ type: 'credential', credentialID: cred.id, documentDigests: [{ hash: digest() }] }], 'level1');
    assert.equal(r.token, undefined);
    assert.equal(r.error, 'invalid_authorization_details');
    assert.match(r.description, /level 2/);
  });

  it('malformed details are refused at the identity provider', async () => {
    const c = await s.citizen(2);
    for (const bad of [
      [{ type: 'credential', credentialID: 'x', documentDigests: [] }],
      [{ type: 'credential', credentialID: 'x', documentDigests: [{ hash: 'not base64!' }] }],
      [{ type: 'credential', documentDigests: [{ hash: digest() }] }],
      [{ type: 'credential', credentialID: 'x', documentDigests: [{ hash: digest() }], extra: 1 }],
      [{ type: 'payment', amount: 1 }],
    ]) {
      const r = await codeFlow(c, bad).catch((e: Error) => ({ error: 'thrown', description: e.message, token: undefined }));
      assert.equal(r.token, undefined, JSON.stringify(bad));
      assert.match(String(r.error), /invalid_authorization_details|invalid_request|thrown/, JSON.stringify(r));
    }
  });

  it('without a SAD and without authorization_details (or without the credential scope) nothing is signed', async () => {
    const c = await s.citizen(2);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const plain = await s.tokenFor(c, 'openid service');
    const h = digest();
    const r = await s.call('signatures/signHash', plain, { credentialID: cred.id, hashes: [h], signAlgo: ECDSA_SHA256 });
    assert.equal(r.status, 400);
    assert.match(String(r.body.error_description), /SAD/);
    // details but only the `service` scope
    const t = await codeFlow(c, [{ type: 'credential', credentialID: cred.id, documentDigests: [{ hash: h }] }], 'level2', 'openid service');
    assert.ok(t.token, `${t.error} ${t.description}`);
    const r2 = await s.call('signatures/signHash', t.token, { credentialID: cred.id, hashes: [h], signAlgo: ECDSA_SHA256 });
    assert.equal(r2.status, 403);
    assert.equal(r2.body.error, 'insufficient_scope');
  });
});
