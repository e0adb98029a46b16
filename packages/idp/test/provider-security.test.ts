/**
 * kyso-specific behaviour of the provider: step-up, guardians, consent memory and revocation, account page
 * and MFA enrolment, CSRF, security headers, rate limits, audit, back-channel logout, CIBA ping/deny,
 * binding-message and acr rules, seed validation, log redaction.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import * as oc from 'openid-client';
import * as jose from 'jose';
import { pino } from 'pino';
import { MemoryRateLimiter, totpCode, checkBindingMessage, requiredLevel, satisfies, amrFor, EIDAS_MAPPING, createStorage, IdpError } from '@kyso/idp';
import { splitLimiter } from '../src/provider/context.js';
import { REDACT_PATHS } from '../src/provider/logger.js';
import { parseSeed, createIdpServer } from '@kyso/service-idp';
import { Browser, RP_REDIRECT, SECRET, baseSeed, formOf, loginFlow, newCitizen, startTestIdp, type Citizen, type TestIdp } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };

describe('idp provider: assurance levels and helpers', () => {
  it('acr levels are ordered; eIDAS mapping; amr per RFC 8176', () => {
    assert.equal(requiredLevel('level2'), 2);
    assert.equal(requiredLevel('level1 level2'), 1);
    assert.equal(requiredLevel('urn:unknown'), 0);
    assert.equal(satisfies('level2', 'level1'), true);
    assert.equal(satisfies('level1', 'level2'), false);
    assert.deepEqual(EIDAS_MAPPING, { level1: 'low', level2: 'substantial' });
    assert.deepEqual(amrFor({ pwd: true, otp: true }), ['pwd', 'otp', 'mfa']);
    assert.deepEqual(amrFor({ pwd: true, otp: false }), ['pwd']);
  });

  it('binding messages: Vietnamese accepted; controls, bidi overrides and long text refused', () => {
    assert.equal(checkBindingMessage('Xác nhận ký hợp đồng số 12/2025'), undefined);
    assert.equal(checkBindingMessage('Đăng ký khai sinh cho bé Hà'), undefined);
    assert.equal(checkBindingMessage(undefined), undefined);
    assert.ok(checkBindingMessage('abc\u0000'));
    assert.ok(checkBindingMessage('abc\u202Edef'));
    assert.ok(checkBindingMessage('<script>'));
    // ordinary Vietnamese punctuation: en and em dashes, typographic quotes, ellipsis, percent
    assert.equal(checkBindingMessage('Hồ sơ số 12 – “Đăng ký kết hôn”'), undefined);
    assert.equal(checkBindingMessage('Phí 100% — ‘đã nộp’… «xong» [mã 7]'), undefined);
    // still refused: markup, bidi isolates and overrides, zero-width and other format characters, tabs, newlines
    for (const bad of ['a & b', 'a > b', 'a\u2066b', 'a\u202Bb', 'a\u200Bb', 'a\u00ADb', 'a\tb', 'a\nb', 'a\u2028b', 'a\u00A0b', 'a\\b', 'a`b']) {
      assert.ok(checkBindingMessage(bad), `refused: ${JSON.stringify(bad)}`);
    }
    assert.ok(checkBindingMessage('a'.repeat(65)));
    assert.ok(checkBindingMessage(''));
    // NFD input is counted after NFC normalisation
    assert.equal(checkBindingMessage('Ký'.normalize('NFD')), undefined);
  });

  it('split rate limiter: a lenient per-address policy, a strict per-account one', async () => {
    const main = new MemoryRateLimiter({ threshold: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, windowMs: 60_000 });
    const ip = new MemoryRateLimiter({ threshold: 100, baseDelayMs: 60_000, maxDelayMs: 60_000, windowMs: 60_000 });
    const l = splitLimiter(main, ip);
    for (let i = 0; i < 6; i++) await l.recordFailure(['ip:10.0.0.1', 'acct:001090012345']);
    const a = await l.check(['ip:10.0.0.1', 'acct:001090012345']);
    assert.equal(a.allowed, false);
    assert.ok(a.retryAfterSeconds > 0);
    assert.equal((await l.check(['ip:10.0.0.1', 'acct:079191000123'])).allowed, true, 'others behind the same address still log in');
    assert.equal(splitLimiter(main), main);
  });

  it('seed validation names the bad field', () => {
    assert.throws(() => parseSeed({ clients: [{ client_id: 'x', redirect_uris: ['https://a/*'] }], users: [] }), (e: IdpError) => e.code === ('IDP_SEED_INVALID' as never) && /clients\[0\]/.test(e.message));
    assert.throws(() => parseSeed({ clients: [], users: [{ id: '001090012345', password: 'x', name: 'A', birthdate: '1990-01-01', level: 3 }] }), /users\[0\]\.level/);
    assert.throws(() => parseSeed([]), /top level/);
    assert.deepEqual(parseSeed({ clients: [], users: [] }).users, []);
  });
});

describe('idp provider: pages and security', function () {
  this.timeout(60_000);
  let idp: TestIdp;
  let rp: oc.Configuration;
  let bcl: Server;
  const logoutTokens: string[] = [];

  before(async () => {
    bcl = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? ''); res.writeHead(200).end(); });
    });
    await new Promise<void>((r) => bcl.listen(0, '127.0.0.1', r));
    const bclUrl = `http://127.0.0.1:${(bcl.address() as AddressInfo).port}/backchannel`;
    const seed = baseSeed();
    seed.clients.push({ client_id: 'xss', client_secret: 'xss-secret-0123456789abcdef', client_name: '<script>alert(1)</script>"\'&', redirect_uris: ['http://127.0.0.1:6/cb'] });
    seed.clients.push({ client_id: 'rpb', client_secret: 'rpb-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:5/cb'], backchannel_logout_uri: bclUrl, backchannel_logout_session_required: true });
    idp = await startTestIdp({ seed });
    rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, insecure);
  });
  after(async () => {
    await idp?.close();
    await new Promise((r) => bcl.close(r));
  });

  async function start(b: Browser, extra: Record<string, string> = {}, config = rp, redirect = RP_REDIRECT) {
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid profile', state: 'st', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
    return { url, verifier };
  }
  async function flow(b: Browser, c: Citizen | undefined, extra: Record<string, string> = {}, config = rp, redirect = RP_REDIRECT) {
    const s = await start(b, extra, config, redirect);
    const r = await loginFlow(b, s.url.href, c);
    const tokens = await oc.authorizationCodeGrant(config, new URL(r.url), { pkceCodeVerifier: s.verifier, expectedState: 'st' });
    return { tokens, steps: r.steps };
  }

  it('step-up: a level1 session asked for level2 gets only the TOTP step, then acr=level2', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const b = new Browser(idp.issuer);
    const first = await flow(b, c, { acr_values: 'level1' });
    assert.deepEqual(first.steps, ['login', 'consent']);
    assert.equal(first.tokens.claims()!.acr, 'level1');
    const second = await flow(b, c, { acr_values: 'level2' });
    assert.deepEqual(second.steps, ['totp'], 'no password again, no consent again');
    assert.equal(second.tokens.claims()!.acr, 'level2');
    assert.deepEqual(second.tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
    // level2 satisfies level1 (ordered, not exact): no interaction, acr stays level2
    const s1 = await start(b, { acr_values: 'level1', prompt: 'none' });
    const r1 = await b.follow(s1.url.href);
    const t1 = await oc.authorizationCodeGrant(rp, new URL(r1.url), { pkceCodeVerifier: s1.verifier, expectedState: 'st' });
    assert.equal(t1.claims()!.acr, 'level2');
    // an essential acr claim request is honoured the same way
    const s3 = await start(b, { prompt: 'none', claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['level1'] } } }) });
    const r3 = await b.follow(s3.url.href);
    assert.ok(new URL(r3.url).searchParams.get('code'), 'essential level1 satisfied by the level2 session');
    // prompt=none cannot step up silently
    const b2 = new Browser(idp.issuer);
    await flow(b2, await newCitizen(idp.storage, { level: 2 }), { acr_values: 'level1' });
    const s = await start(b2, { acr_values: 'level2', prompt: 'none' });
    const r = await b2.follow(s.url.href);
    assert.equal(new URL(r.url).searchParams.get('error'), 'login_required');
  });

  it('an essential acr claim of level2 triggers the second factor', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const b = new Browser(idp.issuer);
    const r = await flow(b, c, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'level2' } } }) });
    assert.deepEqual(r.steps, ['login', 'totp', 'consent']);
    assert.equal(r.tokens.claims()!.acr, 'level2');
  });

  it('a level1 account asking for level2 gets unmet_authentication_requirements', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const s = await start(b, { acr_values: 'level2' });
    const r = await loginFlow(b, s.url.href, c);
    assert.equal(new URL(r.url).searchParams.get('error'), 'unmet_authentication_requirements');
  });

  it('consent is remembered per service across sessions and revocable from the account page', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const first = await flow(b, c);
    assert.deepEqual(first.steps, ['login', 'consent']);
    const b2 = new Browser(idp.issuer); // new session, same citizen
    const second = await flow(b2, c);
    assert.deepEqual(second.steps, ['login'], 'consent remembered');
    const account = await b2.follow('/account');
    assert.equal(account.res.status, 200);
    assert.match(account.body, /Dịch vụ công trực tuyến/);
    const f = formOf(account.body, '/account/consents/revoke');
    const after = await b2.submit(f.action, { csrf: f.csrf, client_id: 'rp1' });
    assert.match(after.body, /Consent withdrawn/);
    assert.equal((await oc.tokenIntrospection(rp, second.tokens.access_token)).active, false, 'tokens of the grant revoked');
    const third = await flow(new Browser(idp.issuer), c);
    assert.deepEqual(third.steps, ['login', 'consent'], 'consent asked again');
    const events = await idp.storage.audit.list({ accountId: c.id });
    for (const t of ['login.success', 'consent.granted', 'consent.revoked']) assert.ok(events.some((e) => e.type === t), t);
    assert.equal(await idp.storage.audit.verifyChain(), true);
  });

  it('account page lists other sessions and can end one (its tokens stop working)', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const laptop = new Browser(idp.issuer);
    const phone = new Browser(idp.issuer);
    await flow(laptop, c);
    const onPhone = await flow(phone, c);
    const page = await laptop.follow('/account');
    const f = formOf(page.body, '/account/sessions/end');
    const uid = /name="uid" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(uid, 'the phone session is listed');
    const done = await laptop.submit(f.action, { csrf: f.csrf, uid });
    assert.match(done.body, /Session ended/);
    assert.doesNotMatch(done.body, /name="uid"/);
    // the phone's session is gone: prompt=none fails, and its session-bound refresh token is dead
    const s = await start(phone, { prompt: 'none' });
    const r = await phone.follow(s.url.href);
    assert.equal(new URL(r.url).searchParams.get('error'), 'login_required');
    await assert.rejects(oc.refreshTokenGrant(rp, onPhone.tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
  });

  it('account page: TOTP enrolment with QR code and recovery codes; recovery code works once', async () => {
    const c = await newCitizen(idp.storage, { level: 2, totp: false });
    // a level-2 account enrols with the one-time code an administrator gives (kyso idp user reset-mfa)
    const { enrolmentCode } = await idp.storage.accounts.resetMfa(c.id);
    const b = new Browser(idp.issuer);
    await flow(b, c);
    const page = await b.follow('/account');
    const begin = formOf(page.body, '/account/mfa/begin');
    const enrol = await b.submit(begin.action, { csrf: begin.csrf });
    assert.match(enrol.body, /<svg/);
    const secret = /<code>([A-Z2-7]{32})<\/code>/.exec(enrol.body)?.[1];
    assert.ok(secret, 'secret shown for manual entry (160 bits, 32 characters)');
    const confirm = formOf(enrol.body, '/account/mfa/confirm');
    const done = await b.submit(confirm.action, { csrf: confirm.csrf, code: await totpCode(secret), enrolment_code: enrolmentCode });
    const codes = [...done.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
    assert.ok(codes.length >= 5, 'recovery codes shown');
    assert.equal((await idp.storage.accounts.get(c.id))!.totpEnabled, true);
    // log in at level2 with a recovery code
    const b2 = new Browser(idp.issuer);
    const s = await start(b2, { acr_values: 'level2' });
    let p = await b2.follow(s.url.href);
    let f = formOf(p.body, '/login');
    p = await b2.submit(f.action, { csrf: f.csrf, login: c.id, password: c.password });
    f = formOf(p.body, '/totp');
    p = await b2.submit(f.action, { csrf: f.csrf, kind: 'recovery', code: codes[0]! });
    assert.ok(p.body.includes('/consent"') || !p.url.startsWith(idp.issuer), 'recovery code accepted');
    const events = await idp.storage.audit.list({ accountId: c.id });
    assert.ok(events.some((e) => e.type === 'mfa.enrolled'));
    assert.ok(events.some((e) => e.type === 'mfa.recovery-used'));
  });

  it('guardian acting for a minor: the token is the minor\'s, with an act claim naming the guardian', async () => {
    const guardian = await newCitizen(idp.storage, { level: 1, birthdate: '1985-03-02', name: 'Lê Văn Bố' });
    const minor = await newCitizen(idp.storage, { level: 1, birthdate: '2019-08-09', name: 'Lê Thị Con' });
    await idp.storage.accounts.linkGuardian(guardian.id, minor.id, 'parent');
    const b = new Browser(idp.issuer);
    const s = await start(b, { scope: 'openid profile citizen' });
    let p = await b.follow(s.url.href);
    let f = formOf(p.body, '/login');
    p = await b.submit(f.action, { csrf: f.csrf, login: guardian.id, password: guardian.password });
    assert.match(p.body, /Lê Thị Con/);
    f = formOf(p.body, '/actor');
    p = await b.submit(f.action, { csrf: f.csrf, for: minor.id });
    assert.match(p.body, /acting for Lê Thị Con/);
    f = formOf(p.body, '/consent');
    p = await b.submit(f.action, { csrf: f.csrf });
    const tokens = await oc.authorizationCodeGrant(rp, new URL(p.url), { pkceCodeVerifier: s.verifier, expectedState: 'st' });
    const claims = tokens.claims()!;
    const act = claims.act as { sub: string; relationship: string; personal_number?: string };
    assert.equal(act.relationship, 'parent');
    assert.equal(act.personal_number, guardian.id, 'guardian identified by personal number under the citizen scope');
    assert.notEqual(act.sub, guardian.id, 'act.sub is pairwise like sub');
    const info = await oc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(info.personal_number, minor.id);
    assert.equal(info.name, 'Lê Thị Con');
    assert.deepEqual(info.act, act, 'userinfo names the guardian as the id_token does');
    // the access token was minted with the act claim: introspection shows it (RFC 8693)
    const intro = await oc.tokenIntrospection(rp, tokens.access_token);
    assert.equal(intro.active, true);
    assert.deepEqual(intro.act, act);
    // after a refresh, the new id_token and access token still name the guardian
    const refreshed = await oc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.deepEqual(refreshed.claims()!.act, act);
    assert.deepEqual((await oc.tokenIntrospection(rp, refreshed.access_token)).act, act);
    // a citizen's own login has no act anywhere
    const own = await newCitizen(idp.storage, { level: 1 });
    const { tokens: ownTokens } = await flow(new Browser(idp.issuer), own, { scope: 'openid profile citizen' });
    assert.equal(ownTokens.claims()!.act, undefined);
    assert.equal((await oc.fetchUserInfo(rp, ownTokens.access_token, ownTokens.claims()!.sub)).act, undefined);
    assert.equal((await oc.tokenIntrospection(rp, ownTokens.access_token)).act, undefined);
  });

  it('service names are escaped in pages (no markup injection)', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const xss = await oc.discovery(new URL(idp.issuer), 'xss', 'xss-secret-0123456789abcdef', undefined, insecure);
    const b = new Browser(idp.issuer);
    const s = await start(b, {}, xss, 'http://127.0.0.1:6/cb');
    let p = await b.follow(s.url.href);
    assert.ok(!p.body.includes('<script>alert(1)'), 'login page escapes');
    assert.ok(p.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;'));
    const f = formOf(p.body, '/login');
    p = await b.submit(f.action, { csrf: f.csrf, login: c.id, password: c.password });
    assert.ok(p.body.includes('/consent"'));
    assert.ok(!p.body.includes('<script>alert(1)'), 'consent page escapes');
  });

  it('denying consent returns access_denied to the registered redirect_uri', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const s = await start(b);
    const r = await loginFlow(b, s.url.href, c, { consent: false });
    const back = new URL(r.url);
    assert.equal(back.origin + back.pathname, RP_REDIRECT);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'st');
  });

  it('an unknown or expired interaction shows the error page, never a redirect', async () => {
    const b = new Browser(idp.issuer);
    const res = await b.request('/interaction/doesnotexist123');
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /Đã xảy ra lỗi/);
    const post = await b.request('/interaction/doesnotexist123/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=001090012345&password=x' });
    assert.equal(post.status, 400);
    assert.equal(post.headers.get('location'), null);
  });

  it('forms without a valid CSRF token are refused', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const s = await start(b);
    const p = await b.follow(s.url.href);
    const f = formOf(p.body, '/login');
    const bad = await b.submit(f.action, { csrf: 'x'.repeat(43), login: c.id, password: c.password });
    assert.equal(bad.res.status, 400);
    assert.match(bad.body, /IDP_CSRF_INVALID/);
    const missing = await b.submit(f.action, { login: c.id, password: c.password });
    assert.equal(missing.res.status, 400);
    const events = await idp.storage.audit.list({ accountId: c.id });
    assert.ok(!events.some((e) => e.type === 'login.success'));
  });

  it('pages carry CSP, frame-ancestors none, no-store and secure cookie flags', async () => {
    const b = new Browser(idp.issuer);
    const s = await start(b);
    const first = await b.request(s.url.href);
    const cookies = first.headers.getSetCookie();
    assert.ok(cookies.length > 0 && cookies.every((c) => /httponly/i.test(c) && /samesite=lax/i.test(c)), cookies.join(' | '));
    const page = await b.request(first.headers.get('location')!);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    assert.match(html, /<html lang="vi">/);
    assert.match(html, /<label for="login">/);
    assert.match(html, /<label for="password">/);
    assert.doesNotMatch(html, /<script/);
  });

  it('back-channel logout: one logout ends the session at every service', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const rpb = await oc.discovery(new URL(idp.issuer), 'rpb', 'rpb-secret-0123456789abcdef', undefined, insecure);
    const atB = await flow(b, c, {}, rpb, 'http://127.0.0.1:5/cb');
    const atA = await flow(b, c);
    logoutTokens.length = 0;
    const end = oc.buildEndSessionUrl(rp, { id_token_hint: atA.tokens.id_token! });
    const page = await b.follow(end.href);
    const action = /<form[^>]*id="op.logoutForm"[^>]*>/.exec(page.body)?.[0].match(/action="([^"]+)"/)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    const done = await b.follow(action!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString() });
    assert.match(done.body, /You are logged out/);
    for (let i = 0; i < 50 && logoutTokens.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(logoutTokens.length, 1, 'rpb notified');
    const { payload } = await jose.jwtVerify(logoutTokens[0]!, jose.createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), { issuer: idp.issuer, audience: 'rpb' });
    assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
    assert.equal(payload.sid, atB.tokens.claims()!.sid);
  });

  it('CIBA: a denial on the phone reaches the client as access_denied; the page is single use', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const ping = await oc.discovery(new URL(idp.issuer), 'ciba', 'ciba-secret-0123456789abcdef', undefined, insecure);
    const req = await oc.initiateBackchannelAuthentication(ping, { scope: 'openid', login_hint: c.id, binding_message: 'Nộp thuế 2025' });
    const note = idp.ciba.find((n) => n.accountId === c.id)!;
    const phone = new Browser(idp.issuer);
    const page = await phone.follow(note.approvalUrl);
    const deny = formOf(page.body.split('decision" value="approve"')[1]!);
    await phone.submit(deny.action, { csrf: deny.csrf, decision: 'deny' });
    await assert.rejects(oc.pollBackchannelAuthenticationGrant(ping, { ...req, interval: 0.1 } as never), (e: { error?: string }) => e.error === 'access_denied');
    const gone = await phone.request(note.approvalUrl);
    assert.equal(gone.status, 404, 'approval page single use');
  });

  it('failed logins are rate-limited per account with Retry-After; audit records failures', async () => {
    const c = await newCitizen(idp.storage, { level: 1 });
    const b = new Browser(idp.issuer);
    const s = await start(b);
    let p = await b.follow(s.url.href);
    let limited: Awaited<ReturnType<Browser['submit']>> | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const f = formOf(p.body, '/login');
      p = await b.submit(f.action, { csrf: f.csrf, login: c.id, password: 'wrong password!' });
      if (p.res.status === 429) limited = p;
      else assert.equal(p.res.status, 400);
    }
    assert.ok(limited, 'rate limit reached');
    assert.ok(Number(limited.res.headers.get('retry-after')) > 0);
    assert.match(limited.body, /Too many attempts/);
    // even the right password is refused while limited
    const f = formOf(p.body, '/login');
    const again = await b.submit(f.action, { csrf: f.csrf, login: c.id, password: c.password });
    assert.equal(again.res.status, 429);
    const events = await idp.storage.audit.list({ accountId: c.id });
    assert.ok(events.some((e) => e.type === 'login.failure'));
    assert.ok(events.some((e) => e.type === 'login.rate-limited'));
    assert.ok(!JSON.stringify(events).includes('wrong password'), 'no password in the audit log');
  });

  it('logs carry no secrets (pino redaction)', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({ password: 'hunter2-secret', req: { headers: { authorization: 'Bearer abc.def', cookie: '_session=xyz' } }, body: { code: '123456', client_secret: 's3cr3t' } }, 'x');
    const out = lines.join('');
    for (const s of ['hunter2-secret', 'abc.def', '_session=xyz', '123456', 's3cr3t']) assert.ok(!out.includes(s), s);
  });
});

describe('idp service: seed and proxy options', function () {
  this.timeout(30_000);
  it('log lines carry the request id; access logs have no query string (codes, states)', async () => {
    const storage = await createStorage();
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const { createLogger: _unused, requestContext } = await import('@kyso/idp');
    const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS }, mixin: () => { const c = requestContext.getStore(); return c ? { reqId: c.reqId } : {}; } }, sink);
    const server = await createIdpServer({ port: 0, storage, seed: baseSeed(), logger: log });
    try {
      const res = await fetch(`${server.issuer}/auth?client_id=rp1&code=secret-code-123&state=secret-state`, { headers: { 'x-request-id': 'req-abc-123' }, redirect: 'manual' });
      assert.equal(res.headers.get('x-request-id'), 'req-abc-123');
      await res.arrayBuffer();
      const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.path === '/auth');
      assert.ok(access, 'access log line');
      assert.equal(access.reqId, 'req-abc-123');
      assert.ok(!lines.join('').includes('secret-code-123') && !lines.join('').includes('secret-state'));
      const bad = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'bad id <script>' } });
      assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'unsafe request ids replaced');
    } finally {
      await server.close();
      await storage.close();
    }
  });

  it('refuses an issuer with a path (endpoints are served at the root)', async () => {
    const storage = await createStorage();
    try {
      await assert.rejects(createIdpServer({ port: 0, storage, issuer: 'https://id.example.vn/oidc', logger: pino({ level: 'silent' }) }), /issuer must be an http\(s\) origin/);
    } finally {
      await storage.close();
    }
  });

  it('seeded users can log in; proxy=true honours X-Forwarded-Proto for the issuer', async () => {
    const storage = await createStorage({ argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    const seed = baseSeed({ users: [
      { id: '001090012345', password: 'mật khẩu dài 123', name: 'Trần Văn An', birthdate: '1990-01-01', gender: 'male', level: 1 },
      { id: '001319000001', password: 'mật khẩu dài 456', name: 'Trần Thị Nhỏ', birthdate: '2019-04-05', gender: 'female', level: 1, guardians: [{ id: '001090012345', relationship: 'parent' }] } as never,
    ] });
    const server = await createIdpServer({ port: 0, storage, seed, proxy: true, issuer: 'https://id.example.vn', logger: pino({ level: 'silent' }) });
    try {
      const disc = await fetch(`http://127.0.0.1:${server.port}/.well-known/openid-configuration`, { headers: { 'x-forwarded-proto': 'https', host: 'id.example.vn' } });
      assert.equal(disc.status, 200);
      assert.equal(((await disc.json()) as { issuer: string }).issuer, 'https://id.example.vn');
      const check = await storage.accounts.verifyPassword('001090012345', 'mật khẩu dài 123');
      assert.equal(check.ok, true);
      assert.deepEqual(check.account!.wards, [{ id: '001319000001', relationship: 'parent' }], 'guardian linked from the seed');
    } finally {
      await server.close();
      await storage.close();
    }
  });
});
