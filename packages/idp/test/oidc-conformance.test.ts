/**
 * Re-creations of OpenID conformance checks (basic OP profile) and kyso's security requirements, driven with
 * openid-client and plain HTTP against the service (in-memory store unless noted).
 */
import assert from 'node:assert/strict';
import * as oc from 'openid-client';
import * as jose from 'jose';
import { Browser, RP_LOGOUT, RP_REDIRECT, SECRET, formOf, loginFlow, newCitizen, startTestIdp, type Citizen, type TestIdp } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };

describe('idp: OpenID conformance checks', function () {
  this.timeout(60_000);
  let idp: TestIdp;
  let rp: oc.Configuration;

  before(async () => {
    idp = await startTestIdp();
    rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, insecure);
  });
  after(async () => { await idp?.close(); });

  async function authUrl(extra: Record<string, string> = {}, config = rp, redirect = RP_REDIRECT) {
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const nonce = oc.randomNonce();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: redirect, scope: 'openid', state, nonce,
      code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
    });
    return { url, verifier, state, nonce };
  }

  async function login(b: Browser, c: Citizen | undefined, extra: Record<string, string> = {}, config = rp, redirect = RP_REDIRECT) {
    const a = await authUrl(extra, config, redirect);
    const { url, steps } = await loginFlow(b, a.url.href, c);
    const callback = new URL(url);
    return { ...a, callback, steps };
  }

  async function tokensFor(b: Browser, c: Citizen | undefined, extra: Record<string, string> = {}) {
    const r = await login(b, c, extra);
    const t = await oc.authorizationCodeGrant(rp, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
    return { ...r, tokens: t };
  }

  const tokenPost = (body: Record<string, string>, auth = `Basic ${Buffer.from(`rp1:${SECRET}`).toString('base64')}`) =>
    fetch(`${idp.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: new URLSearchParams(body) });

  it('happy path: nonce, state, acr and auth_time in the id_token', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const { tokens, nonce } = await tokensFor(new Browser(idp.issuer), c, { acr_values: 'level2', scope: 'openid profile' });
    const claims = tokens.claims()!;
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.acr, 'level2');
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.aud, 'rp1');
    assert.ok(Math.abs((claims.auth_time as number) - Date.now() / 1000) < 30);
    assert.equal(jose.decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
  });

  it('per-client id_token algorithm: rp2 receives PS256', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const rp2 = await oc.discovery(new URL(idp.issuer), 'rp2', 'rp2-secret-0123456789abcdef', undefined, insecure);
    const r = await login(new Browser(idp.issuer), c, {}, rp2, 'http://127.0.0.1:2/cb');
    const t = await oc.authorizationCodeGrant(rp2, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
    assert.equal(jose.decodeProtectedHeader(t.id_token!).alg, 'PS256');
  });

  it('PKCE is required for every client, and plain is refused', async () => {
    const b = new Browser(idp.issuer);
    const base = `${idp.issuer}/auth?client_id=rp1&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(RP_REDIRECT)}&state=s1`;
    const none = await b.follow(base);
    assert.equal(new URL(none.url).searchParams.get('error'), 'invalid_request');
    assert.match(new URL(none.url).searchParams.get('error_description') ?? '', /PKCE/);
    const plain = await b.follow(`${base}&code_challenge=${'a'.repeat(43)}&code_challenge_method=plain`);
    assert.equal(new URL(plain.url).searchParams.get('error'), 'invalid_request');
  });

  it('prompt=none: logged in → code without interaction; not logged in → login_required', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const fresh = new Browser(idp.issuer);
    const a0 = await authUrl({ prompt: 'none' });
    const r0 = await fresh.follow(a0.url.href);
    assert.equal(new URL(r0.url).searchParams.get('error'), 'login_required');
    assert.equal(new URL(r0.url).searchParams.get('state'), a0.state);
    await tokensFor(b, c);
    const a = await authUrl({ prompt: 'none' });
    const r = await b.follow(a.url.href);
    assert.ok(new URL(r.url).searchParams.get('code'), 'code issued silently');
  });

  it('prompt=login and max_age=1 force a new authentication (new auth_time)', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const first = await tokensFor(b, c);
    const t1 = first.tokens.claims()!.auth_time as number;
    await new Promise((r) => setTimeout(r, 2100));
    const second = await tokensFor(b, c, { prompt: 'login' });
    assert.ok(second.steps.includes('login'), 'login page shown again');
    const t2 = second.tokens.claims()!.auth_time as number;
    assert.ok(t2 > t1);
    await new Promise((r) => setTimeout(r, 2100));
    const third = await tokensFor(b, c, { max_age: '1' });
    assert.ok(third.steps.includes('login'));
    assert.ok((third.tokens.claims()!.auth_time as number) > t2);
  });

  it('code reuse → invalid_grant, and the tokens of the first redemption are revoked', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const r = await login(new Browser(idp.issuer), c);
    const t = await oc.authorizationCodeGrant(rp, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
    assert.equal((await oc.tokenIntrospection(rp, t.access_token)).active, true);
    await assert.rejects(oc.authorizationCodeGrant(rp, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce }),
      (e: { error?: string }) => e.error === 'invalid_grant');
    assert.equal((await oc.tokenIntrospection(rp, t.access_token)).active, false);
    await assert.rejects(oc.refreshTokenGrant(rp, t.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
  });

  for (const [label, redirect] of [['unregistered redirect_uri', 'https://evil.example/cb'], ['added query', `${RP_REDIRECT}?x=1`], ['different port', 'http://127.0.0.1:4/cb']]) {
    it(`redirect_uri with ${label} → error page, no redirect`, async () => {
      const b = new Browser(idp.issuer);
      const a = await authUrl({ redirect_uri: redirect });
      const res = await b.request(a.url.href);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      const body = await res.text();
      assert.match(body, /redirect_uri/);
      assert.ok(!body.includes('evil.example') || !/href="https:\/\/evil/.test(body), 'no link to the bad URI');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    });
  }

  it('userinfo by GET (header) and POST (body)', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const { tokens } = await tokensFor(new Browser(idp.issuer), c, { scope: 'openid profile' });
    const get = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(get.status, 200);
    const post = await fetch(`${idp.issuer}/me`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: tokens.access_token }) });
    assert.equal(post.status, 200);
    const g = await get.json() as Record<string, unknown>;
    const p = await post.json() as Record<string, unknown>;
    assert.deepEqual(g, p);
    assert.equal(g.sub, tokens.claims()!.sub);
    const bad = await fetch(`${idp.issuer}/me`, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
  });

  it('scopes release exactly their claims: profile / email / address / phone / citizen', async () => {
    const cases: [string, string[], string[]][] = [
      ['profile', ['name', 'birthdate', 'gender'], ['email', 'address', 'personal_number']],
      ['email', ['email'], ['name', 'phone_number']],
      ['address', ['address'], ['name', 'population_address']],
      ['phone', ['phone_number'], ['email']],
      ['citizen', ['personal_number', 'population_address'], ['name', 'email']],
    ];
    for (const [scope, present, absent] of cases) {
      const c = await newCitizen(idp.storage, { level: 1 });
      const { tokens } = await tokensFor(new Browser(idp.issuer), c, { scope: `openid ${scope}` });
      const info = await oc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
      for (const k of present) assert.ok(info[k] !== undefined, `${scope} releases ${k}`);
      for (const k of absent) assert.equal(info[k], undefined, `${scope} must not release ${k}`);
      if (scope === 'citizen') assert.equal(info.personal_number, c.id);
    }
  });

  it('a refresh token is bound to its client', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const { tokens } = await tokensFor(new Browser(idp.issuer), c);
    const res = await tokenPost({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, `Basic ${Buffer.from('rp2:rp2-secret-0123456789abcdef').toString('base64')}`);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
    const ok = await oc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.ok(ok.access_token, 'still usable by its own client');
  });

  it('a bad post_logout_redirect_uri is not followed', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const { tokens } = await tokensFor(b, c);
    const url = oc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/bye' });
    const res = await b.request(url.href);
    assert.equal(res.headers.get('location'), null);
    assert.ok(res.status >= 400);
    const url2 = oc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${RP_LOGOUT}/x` });
    const res2 = await b.request(url2.href);
    assert.equal(res2.headers.get('location'), null);
  });

  it('id_token_hint with prompt=none: same user → code; other user → login_required', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const other = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const { tokens } = await tokensFor(b, c);
    const same = await authUrl({ prompt: 'none', id_token_hint: tokens.id_token! });
    const r = await b.follow(same.url.href);
    assert.ok(new URL(r.url).searchParams.get('code'));
    const b2 = new Browser(idp.issuer);
    await tokensFor(b2, other);
    const mismatch = await authUrl({ prompt: 'none', id_token_hint: tokens.id_token! });
    const r2 = await b2.follow(mismatch.url.href);
    assert.equal(new URL(r2.url).searchParams.get('error'), 'login_required');
  });

  it('key rotation: new keys published before use, old tokens still verify, new tokens use the new kid', async () => {
    const jwksBefore = await (await fetch(`${idp.issuer}/jwks`)).json() as { keys: { kid: string }[] };
    const c = await newCitizen(idp.storage, { level: 1 });
    const old = await tokensFor(new Browser(idp.issuer), c);
    const oldKid = jose.decodeProtectedHeader(old.tokens.id_token!).kid!;
    assert.ok(jwksBefore.keys.some((k) => k.kid === oldKid));
    const pending = await idp.server.idp.keys.addPending();
    const published = await (await fetch(`${idp.issuer}/jwks`)).json() as { keys: { kid: string }[] };
    for (const kid of pending) assert.ok(published.keys.some((k) => k.kid === kid), 'pending key published');
    const mid = await tokensFor(new Browser(idp.issuer), await newCitizen(idp.storage, { level: 1 }));
    assert.equal(jose.decodeProtectedHeader(mid.tokens.id_token!).kid, oldKid, 'pending key not used yet');
    await idp.server.idp.keys.promote();
    const fresh = await tokensFor(new Browser(idp.issuer), await newCitizen(idp.storage, { level: 1 }));
    const newKid = jose.decodeProtectedHeader(fresh.tokens.id_token!).kid!;
    assert.ok(pending.includes(newKid), 'new tokens signed with the promoted key');
    const jwks = jose.createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    await jose.jwtVerify(old.tokens.id_token!, jwks, { issuer: idp.issuer, audience: 'rp1' });
    await jose.jwtVerify(fresh.tokens.id_token!, jwks, { issuer: idp.issuer, audience: 'rp1' });
    // old refresh tokens and sessions keep working across the provider rebuild
    assert.ok((await oc.refreshTokenGrant(rp, old.tokens.refresh_token!)).access_token);
    // once the old tokens have expired, the retired key leaves the JWKS
    await idp.server.idp.keys.pruneRetired(Math.floor(Date.now() / 1000) + 10 * 24 * 3600);
    const after = await (await fetch(`${idp.issuer}/jwks`)).json() as { keys: { kid: string }[] };
    assert.ok(!after.keys.some((k) => k.kid === oldKid));
    assert.ok(after.keys.some((k) => k.kid === newKid));
  });

  it('cookie key rotation keeps existing sessions', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    await tokensFor(b, c);
    await idp.server.idp.rotateCookieKeys();
    const a = await authUrl({ prompt: 'none' });
    const r = await b.follow(a.url.href);
    assert.ok(new URL(r.url).searchParams.get('code'), 'session cookie signed with the old key still accepted');
  });
});

describe('idp: 50 parallel redemptions of one code succeed exactly once', function () {
  this.timeout(60_000);
  for (const redis of [false, true]) {
    it(redis ? 'Redis' : 'memory', async () => {
      const idp = await startTestIdp({ redis });
      try {
        const c = await newCitizen(idp.storage, { level: 1 });
        const rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, insecure);
        const verifier = oc.randomPKCECodeVerifier();
        const url = oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid', state: 's', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
        const { url: back } = await loginFlow(new Browser(idp.issuer), url.href, c);
        const code = new URL(back).searchParams.get('code')!;
        const auth = `Basic ${Buffer.from(`rp1:${SECRET}`).toString('base64')}`;
        const results = await Promise.all(Array.from({ length: 50 }, () => fetch(`${idp.issuer}/token`, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
          body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: verifier }),
        }).then(async (r) => ({ status: r.status, body: await r.json() as { error?: string; access_token?: string } }))));
        const ok = results.filter((r) => r.status === 200);
        assert.equal(ok.length, 1, `exactly one success, got ${ok.length}`);
        for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.body.error, 'invalid_grant');
        // the reuse revoked the grant: the winner's token is dead as well
        const intro = await oc.tokenIntrospection(rp, ok[0]!.body.access_token!);
        assert.equal(intro.active, false);
      } finally {
        await idp.close();
      }
    });
  }
});
