/**
 * openid-client (independent RP) against the running identity provider backed by Redis: code + PKCE,
 * refresh with rotation and reuse detection, userinfo, introspection, revocation, client_credentials, PAR,
 * RP-initiated logout, CIBA poll.
 */
import assert from 'node:assert/strict';
import * as oc from 'openid-client';
import { createIdpServer } from '@kyso/service-idp';
import { createLogger, createStorage } from '../src/index.js';
import { baseSeed, Browser, RP_LOGOUT, RP_REDIRECT, SECRET, loginFlow, newCitizen, startTestIdp, formOf, type TestIdp } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };

describe('idp: openid-client flows against the service (Redis)', function () {
  this.timeout(60_000);
  let idp: TestIdp;
  let rp: oc.Configuration;

  before(async () => {
    idp = await startTestIdp({ redis: true });
    rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, insecure);
  });
  after(async () => { await idp?.close(); });

  async function codeFlow(b: Browser, citizen: Awaited<ReturnType<typeof newCitizen>>, extra: Record<string, string> = {}) {
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const nonce = oc.randomNonce();
    const url = oc.buildAuthorizationUrl(rp, {
      redirect_uri: RP_REDIRECT, scope: 'openid profile email address phone citizen', state, nonce,
      code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
    });
    const { url: back, steps } = await loginFlow(b, url.href, citizen);
    const tokens = await oc.authorizationCodeGrant(rp, new URL(back), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    return { tokens, steps };
  }

  it('discovery advertises the features, S256 only, acr levels and the citizen scope', () => {
    const m = rp.serverMetadata();
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.acr_values_supported, ['level1', 'level2']);
    assert.ok(m.scopes_supported?.includes('citizen'));
    for (const k of ['introspection_endpoint', 'revocation_endpoint', 'pushed_authorization_request_endpoint', 'end_session_endpoint', 'backchannel_authentication_endpoint', 'userinfo_endpoint']) {
      assert.ok((m as Record<string, unknown>)[k], k);
    }
    assert.ok(m.id_token_signing_alg_values_supported?.includes('ES256'));
    assert.ok(m.id_token_signing_alg_values_supported?.includes('PS256'));
    assert.equal(m.backchannel_logout_supported, true);
    assert.deepEqual(m.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
  });

  it('code + PKCE at level2: login → TOTP → consent, id_token with acr/amr, userinfo claims', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const b = new Browser(idp.issuer);
    const { tokens, steps } = await codeFlow(b, c, { acr_values: 'level2' });
    assert.deepEqual(steps, ['login', 'totp', 'consent']);
    const claims = tokens.claims()!;
    assert.equal(claims.acr, 'level2');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(typeof claims.auth_time, 'number');
    assert.notEqual(claims.sub, c.id, 'sub is pairwise, not the personal number');
    const info = await oc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(info.personal_number, c.id);
    assert.equal(info.name, 'Nguyễn Thị Minh Khai');
    assert.equal((info.address as { locality?: string }).locality, 'Hai Bà Trưng');
    assert.ok(tokens.refresh_token);
  });

  it('two processes on one Redis: consent withdrawn or account disabled on one is enforced at once on the other', async () => {
    // process B: its own connection and copies, same issuer (as behind a load balancer)
    const storageB = await createStorage({ redis: idp.redis!.url, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    const b = await createIdpServer({ port: 0, issuer: idp.issuer, storage: storageB, seed: baseSeed(), logger: createLogger('silent') });
    const onB = `http://127.0.0.1:${b.port}`;
    const userinfoOnB = (at: string) => fetch(`${onB}/me`, { headers: { authorization: `Bearer ${at}` } });
    const introspectOnB = async (at: string) => (await (await fetch(`${onB}/token/introspection`, {
      method: 'POST', body: new URLSearchParams({ token: at }),
      headers: { authorization: `Basic ${Buffer.from(`rp1:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    })).json() as { active: boolean });
    try {
      const c = await newCitizen(idp.storage, { level: 1 });
      const browser = new Browser(idp.issuer);
      const { tokens } = await codeFlow(browser, c);
      // B has read (and keeps copies of) the grant and the account
      for (let i = 0; i < 3; i++) { const r = await userinfoOnB(tokens.access_token); assert.equal(r.status, 200, `${r.headers.get("www-authenticate")} ${await r.text()}`); }
      assert.equal((await introspectOnB(tokens.access_token)).active, true);
      // the citizen withdraws consent on A: B refuses the tokens on the very next request
      const account = await browser.follow('/account');
      const f = formOf(account.body, '/account/consents/revoke');
      assert.match((await browser.submit(f.action, { csrf: f.csrf, client_id: 'rp1' })).body, /Consent withdrawn/);
      assert.equal((await userinfoOnB(tokens.access_token)).status, 401);
      assert.equal((await introspectOnB(tokens.access_token)).active, false);
      // a new login, then the account is disabled on A (as `kyso idp user disable` would): B follows the notice
      const again = await codeFlow(new Browser(idp.issuer), c);
      assert.equal((await userinfoOnB(again.tokens.access_token)).status, 200);
      const t0 = Date.now();
      await idp.storage.accounts.setDisabled(c.id, true);
      let status = 200;
      while (status === 200 && Date.now() - t0 < 3000) status = (await userinfoOnB(again.tokens.access_token)).status;
      assert.equal(status, 401);
      assert.ok(Date.now() - t0 < 500, `B served a disabled citizen for ${Date.now() - t0} ms`);
    } finally {
      await b.close();
      await storageB.close();
    }
  });

  it('refresh rotates the token; reusing the old one revokes the grant', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const { tokens } = await codeFlow(new Browser(idp.issuer), c);
    assert.equal(tokens.claims()!.acr, 'level1');
    assert.deepEqual(tokens.claims()!.amr, ['pwd']);
    const r1 = await oc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.ok(r1.refresh_token && r1.refresh_token !== tokens.refresh_token);
    await assert.rejects(oc.refreshTokenGrant(rp, tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    // reuse detection revoked the whole grant: the rotated token and its access token die too
    await assert.rejects(oc.refreshTokenGrant(rp, r1.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    const intro = await oc.tokenIntrospection(rp, r1.access_token);
    assert.equal(intro.active, false);
  });

  it('introspection and revocation of an access token', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const { tokens } = await codeFlow(new Browser(idp.issuer), c);
    const before = await oc.tokenIntrospection(rp, tokens.access_token);
    assert.equal(before.active, true);
    assert.equal(before.client_id, 'rp1');
    await oc.tokenRevocation(rp, tokens.access_token);
    const after = await oc.tokenIntrospection(rp, tokens.access_token);
    assert.equal(after.active, false);
  });

  it('client_credentials for service-to-service calls', async () => {
    const svc = await oc.discovery(new URL(idp.issuer), 'svc', 'svc-secret-0123456789abcdef', undefined, insecure);
    const t = await oc.clientCredentialsGrant(svc, { scope: '' });
    assert.ok(t.access_token);
    assert.equal(t.token_type.toLowerCase(), 'bearer');
    const intro = await oc.tokenIntrospection(svc, t.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.client_id, 'svc');
  });

  it('PAR: pushed request then authorization with request_uri', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const url = await oc.buildAuthorizationUrlWithPAR(rp, {
      redirect_uri: RP_REDIRECT, scope: 'openid profile', state,
      code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    assert.ok(url.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'));
    const { url: back } = await loginFlow(new Browser(idp.issuer), url.href, c);
    const t = await oc.authorizationCodeGrant(rp, new URL(back), { pkceCodeVerifier: verifier, expectedState: state });
    assert.ok(t.access_token);
  });

  it('RP-initiated logout ends the session and redirects only to the registered URI', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const { tokens } = await codeFlow(b, c);
    const end = oc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: RP_LOGOUT, state: 'bye' });
    const page = await b.follow(end.href);
    const action = /<form[^>]*id="op.logoutForm"[^>]*>/.exec(page.body)?.[0].match(/action="([^"]+)"/)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(xsrf && action, 'logout confirmation form');
    const done = await b.follow(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }).toString() });
    assert.equal(done.url, `${RP_LOGOUT}?state=bye`);
    // session gone: prompt=none now fails with login_required
    const verifier = oc.randomPKCECodeVerifier();
    const again = oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid', prompt: 'none', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const r = await b.follow(again.href);
    assert.equal(new URL(r.url).searchParams.get('error'), 'login_required');
    const events = await idp.storage.audit.list({ accountId: c.id });
    assert.ok(events.some((e) => e.type === 'logout'), 'logout audited');
  });

  it('CIBA poll: Vietnamese binding message, approval with TOTP on the phone page', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const ciba = await oc.discovery(new URL(idp.issuer), 'ciba', 'ciba-secret-0123456789abcdef', undefined, insecure);
    const message = 'Ký hồ sơ đăng ký khai sinh #A12';
    const req = await oc.initiateBackchannelAuthentication(ciba, { scope: 'openid profile', login_hint: c.id, binding_message: message })
      .catch((e) => { throw new Error(`CIBA request failed: ${JSON.stringify(e.cause ?? e.error)}`); });
    assert.ok(req.auth_req_id);
    const note = idp.ciba.find((n) => n.accountId === c.id);
    assert.ok(note, 'phone notified');
    assert.equal(note.bindingMessage, message);
    const phone = new Browser(idp.issuer);
    const page = await phone.follow(note.approvalUrl);
    assert.ok(page.body.includes(message), 'the binding message is shown on the phone');
    const f = formOf(page.body);
    const ok = await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', code: await c.code() });
    assert.equal(ok.res.status, 200);
    const tokens = await oc.pollBackchannelAuthenticationGrant(ciba, { ...req, interval: 0.1 } as never);
    // one factor on the phone (TOTP): level1, whatever the account's level
    assert.equal(tokens.claims()!.acr, 'level1');
    assert.deepEqual(tokens.claims()!.amr, ['otp']);
    const info = await oc.fetchUserInfo(ciba, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.name, 'Nguyễn Thị Minh Khai');
  });

  it('CIBA rejects control characters and over-long binding messages', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const ciba = await oc.discovery(new URL(idp.issuer), 'ciba', 'ciba-secret-0123456789abcdef', undefined, insecure);
    for (const bad of ['Ký\u202Egnp.exe', 'x'.repeat(65), ' leading']) {
      await assert.rejects(oc.initiateBackchannelAuthentication(ciba, { scope: 'openid', login_hint: c.id, binding_message: bad }),
        (e: { error?: string; cause?: unknown }) => { assert.equal(e.error, 'invalid_binding_message', JSON.stringify(e.cause)); return true; }, JSON.stringify(bad));
    }
  });
});
