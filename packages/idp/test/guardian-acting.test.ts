/**
 * Guardians act only while they may, always visibly — against Redis with two identity-provider processes (A and B,
 * one issuer, as behind a load balancer) and a third connection for the administrator (as `kyso idp user ...`).
 * For each way a link ends — removed, the child turned 14, the guardian disabled — and for consent withdrawn from
 * the guardian's page: no token, refresh or userinfo answer for the minor without a valid link, on either process;
 * and `act` on everything issued while acting. Consents of a guardian and of the minor are never borrowed.
 */
import assert from 'node:assert/strict';
import * as oc from 'openid-client';
import { createLogger, createStorage, endGuardianLink, setAccountDisabled, type KysoIdpStorage } from '@kyso/idp';
import { createIdpServer, type IdpServer } from '@kyso/service-idp';
import { Browser, RP_REDIRECT, SECRET, baseSeed, formOf, loginFlow, newCitizen, startTestIdp, type Citizen, type TestIdp } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };
const BASIC = `Basic ${Buffer.from(`rp1:${SECRET}`).toString('base64')}`;

/** A birth date `years` years ago, shifted by `days`. */
function bornYearsAgo(years: number, days = 0): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

describe('idp guardians: acting only while the link stands (Redis, two processes)', function () {
  this.timeout(120_000);
  let idp: TestIdp;
  let rp: oc.Configuration;
  let storageB: KysoIdpStorage;
  let b: IdpServer;
  let admin: KysoIdpStorage;
  let onB: string;

  before(async () => {
    idp = await startTestIdp({ redis: true });
    rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, insecure);
    storageB = await createStorage({ redis: idp.redis!.url, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    b = await createIdpServer({ port: 0, issuer: idp.issuer, storage: storageB, seed: baseSeed(), logger: createLogger('silent') });
    onB = `http://127.0.0.1:${b.port}`;
    admin = await createStorage({ redis: idp.redis!.url, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
  });
  after(async () => {
    await b?.close();
    await storageB?.close();
    await admin?.close();
    await idp?.close();
  });

  const userinfo = async (base: string, at: string) => {
    const r = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${at}` } });
    return { status: r.status, body: r.status === 200 ? (await r.json()) as Record<string, unknown> : undefined };
  };
  const refresh = async (base: string, rt: string) => {
    const r = await fetch(`${base}/token`, { method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const introspect = async (base: string, token: string) => (await (await fetch(`${base}/token/introspection`, {
    method: 'POST', body: new URLSearchParams({ token }), headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
  })).json()) as { active: boolean; act?: unknown };
  const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

  async function start(extra: Record<string, string> = {}) {
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid profile citizen offline_access', prompt: 'consent', state: 'st', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
    return { url, verifier };
  }

  /** The guardian logs in on A, acts for the minor, consents; returns the tokens and the pages met. */
  async function actFor(browser: Browser, guardian: Citizen, minor: Citizen) {
    const s = await start();
    let p = await browser.follow(s.url.href);
    const steps: string[] = [];
    for (let i = 0; i < 6 && p.url.startsWith(idp.issuer); i++) {
      if (p.body.includes('/login"')) { steps.push('login'); const f = formOf(p.body, '/login'); p = await browser.submit(f.action, { csrf: f.csrf, login: guardian.id, password: guardian.password }); }
      else if (p.body.includes('/actor"')) { steps.push('actor'); const f = formOf(p.body, '/actor'); p = await browser.submit(f.action, { csrf: f.csrf, for: minor.id }); }
      else if (p.body.includes('/consent"')) { steps.push('consent'); const f = formOf(p.body, '/consent'); p = await browser.submit(f.action, { csrf: f.csrf }); }
      else throw new Error(`unexpected page ${p.res.status}: ${p.body.slice(0, 300)}`);
    }
    const tokens = await oc.authorizationCodeGrant(rp, new URL(p.url), { pkceCodeVerifier: s.verifier, expectedState: 'st' });
    return { tokens, steps };
  }

  async function family(opts: { minorBirth?: string } = {}) {
    const guardian = await newCitizen(idp.storage, { level: 1, birthdate: '1984-02-03', name: 'Phạm Văn Cha' });
    const minor = await newCitizen(idp.storage, { level: 1, birthdate: opts.minorBirth ?? bornYearsAgo(8), name: 'Phạm Thị Út' });
    await admin.accounts.linkGuardian(guardian.id, minor.id, 'cha');
    return { guardian, minor };
  }

  /** While acting: act on the id_token, userinfo (A and B), introspection and the refreshed tokens. */
  async function assertActEverywhere(tokens: oc.TokenEndpointResponse & oc.TokenEndpointResponseHelpers, guardian: Citizen) {
    const act = tokens.claims()!.act as { relationship: string; personal_number?: string; sub: string };
    assert.ok(act, 'act on the id_token');
    assert.equal(act.relationship, 'cha');
    assert.equal(act.personal_number, guardian.id);
    for (const base of [idp.issuer, onB]) {
      const u = await userinfo(base, tokens.access_token);
      assert.equal(u.status, 200);
      assert.deepEqual(u.body!.act, act, `act on userinfo at ${base}`);
    }
    assert.deepEqual((await introspect(onB, tokens.access_token)).act, act);
    const r = await refresh(onB, tokens.refresh_token!);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(decode(String(r.body.id_token)).act, act, 'act on the refreshed id_token');
    assert.deepEqual((await introspect(idp.issuer, String(r.body.access_token))).act, act, 'act on the refreshed access token');
    return { act, accessToken: String(r.body.access_token), refreshToken: String(r.body.refresh_token) };
  }

  /** Nothing for the minor: userinfo 401 and refresh refused, on both processes. */
  async function assertNothing(t: { accessToken: string; refreshToken: string }, why: string) {
    for (const base of [onB, idp.issuer]) {
      assert.equal((await userinfo(base, t.accessToken)).status, 401, `userinfo at ${base} after ${why}`);
      const r = await refresh(base, t.refreshToken);
      assert.equal(r.status, 400, `refresh at ${base} after ${why}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'invalid_grant');
    }
  }

  /** The acting browser on A: a new authorization for the service yields no code for the minor. */
  async function assertNoSso(browser: Browser) {
    const s = await start({ prompt: 'none' });
    const p = await browser.follow(s.url.href);
    const back = new URL(p.url);
    assert.equal(back.searchParams.get('code'), null, 'no code through single sign-on');
    assert.ok(back.searchParams.get('error'), 'an error to the service instead');
  }

  it('link removed (unlink-guardian on a third connection): tokens, refresh, userinfo and SSO end at once on both processes', async () => {
    const { guardian, minor } = await family();
    const browser = new Browser(idp.issuer);
    const { tokens, steps } = await actFor(browser, guardian, minor);
    assert.deepEqual(steps, ['login', 'actor', 'consent']);
    const t = await assertActEverywhere(tokens, guardian);
    const r = await endGuardianLink(admin, guardian.id, minor.id, 'test');
    assert.ok(r.linked && r.grants >= 1 && r.sessions >= 1 && r.consents >= 1, JSON.stringify(r));
    await assertNothing(t, 'unlink');
    assert.equal((await introspect(onB, t.accessToken)).active, false, 'revoked, not merely refused');
    await assertNoSso(browser);
    // acting again is not offered: a fresh login goes straight to the guardian's own account
    const again = new Browser(idp.issuer);
    const s = await start();
    let p = await again.follow(s.url.href);
    const f = formOf(p.body, '/login');
    p = await again.submit(f.action, { csrf: f.csrf, login: guardian.id, password: guardian.password });
    assert.doesNotMatch(p.body, /\/actor"/);
    const events = await admin.audit.list({ accountId: minor.id });
    assert.ok(events.some((e) => e.type === 'guardian.acting' && e.detail?.actor === guardian.id));
    assert.ok(events.some((e) => e.type === 'consent.granted' && e.detail?.actor === guardian.id));
    assert.ok(events.some((e) => e.type === 'guardian.token' && e.detail?.actor === guardian.id && e.detail?.grant_type === 'authorization_code'));
    assert.ok(events.some((e) => e.type === 'guardian.token' && e.detail?.actor === guardian.id && e.detail?.grant_type === 'refresh_token'));
    assert.ok(events.some((e) => e.type === 'guardian.token' && e.detail?.actor === guardian.id && e.detail?.use === 'userinfo'));
    assert.ok(events.some((e) => e.type === 'guardian.unlinked' && e.detail?.actor === guardian.id));
  });

  it('the child turned 14: the process whose clock says so refuses tokens, refresh and userinfo (computed at that moment)', async () => {
    // 14 tomorrow
    const { guardian, minor } = await family({ minorBirth: bornYearsAgo(14, 1) });
    const { tokens } = await actFor(new Browser(idp.issuer), guardian, minor);
    const t = await assertActEverywhere(tokens, guardian);
    // B's account clock moves on a day (nothing was written anywhere: the link lapses by itself)
    const accountsB = storageB.accounts as unknown as { now: () => number };
    const realNow = accountsB.now;
    accountsB.now = () => Date.now() + 86_400_000;
    try {
      assert.equal((await userinfo(onB, t.accessToken)).status, 401);
      assert.equal((await introspect(onB, t.accessToken)).active, false, 'introspection at B: no longer active');
      assert.equal((await introspect(onB, t.refreshToken)).active, false);
      const r = await refresh(onB, t.refreshToken);
      assert.equal(r.body.error, 'invalid_grant');
      const events = await admin.audit.list({ accountId: minor.id });
      assert.ok(events.some((e) => e.type === 'guardian.refused' && e.detail?.actor === guardian.id));
    } finally {
      accountsB.now = realNow;
    }
  });

  it('a disabled guardian: everything issued while acting is revoked at once on both processes', async () => {
    const { guardian, minor } = await family();
    const browser = new Browser(idp.issuer);
    const { tokens } = await actFor(browser, guardian, minor);
    const t = await assertActEverywhere(tokens, guardian);
    const r = await setAccountDisabled(admin, guardian.id, true, 'test');
    assert.ok(r.grants >= 1, JSON.stringify(r));
    await assertNothing(t, 'guardian disabled');
    await assertNoSso(browser);
    // re-enabling the guardian does not bring the revoked grant back
    await setAccountDisabled(admin, guardian.id, false, 'test');
    await assertNothing(t, 'guardian re-enabled');
    const events = await admin.audit.list({ accountId: guardian.id });
    assert.ok(events.some((e) => e.type === 'guardian.revoked' && e.detail?.actor === guardian.id));
  });

  it('a minor who consented on his own before: the guardian gives his own consent, and act is on everything', async () => {
    const { guardian, minor } = await family();
    // the minor's own consent (no act)
    const own = await loginFlow(new Browser(idp.issuer), (await start({ prompt: '' })).url.href, minor);
    assert.ok(own.steps.includes('consent'));
    const s0 = await start({ prompt: '' });
    const minorBrowser = new Browser(idp.issuer);
    const mine = await loginFlow(minorBrowser, s0.url.href, minor);
    assert.deepEqual(mine.steps, ['login'], 'the minor\'s own consent is remembered');
    const t0 = await oc.authorizationCodeGrant(rp, new URL(mine.url), { pkceCodeVerifier: s0.verifier, expectedState: 'st' });
    assert.equal(t0.claims()!.act, undefined);
    // the guardian acting for him is asked for consent: the minor's is not borrowed
    const gb = new Browser(idp.issuer);
    const s = await start({ prompt: '' });
    let p = await gb.follow(s.url.href);
    let f = formOf(p.body, '/login');
    p = await gb.submit(f.action, { csrf: f.csrf, login: guardian.id, password: guardian.password });
    f = formOf(p.body, '/actor');
    p = await gb.submit(f.action, { csrf: f.csrf, for: minor.id });
    assert.match(p.body, /\/consent"/, 'the guardian consents himself');
    f = formOf(p.body, '/consent');
    p = await gb.submit(f.action, { csrf: f.csrf });
    const tokens = await oc.authorizationCodeGrant(rp, new URL(p.url), { pkceCodeVerifier: s.verifier, expectedState: 'st' });
    const t = await assertActEverywhere(tokens, guardian);
    // and the other way round: the minor logging in on his own is not given the guardian's grant
    const s2 = await start({ prompt: '' });
    const again = await loginFlow(new Browser(idp.issuer), s2.url.href, minor);
    const t2 = await oc.authorizationCodeGrant(rp, new URL(again.url), { pkceCodeVerifier: s2.verifier, expectedState: 'st' });
    assert.equal(t2.claims()!.act, undefined, 'the minor\'s own tokens never carry act');
    assert.equal((await userinfo(onB, t2.access_token)).body!.act, undefined);
    // the guardian's acting session reusing single sign-on still acts (act) and still needs the link
    const s3 = await start({ prompt: 'none' });
    const sso = await gb.follow(s3.url.href);
    const t3 = await oc.authorizationCodeGrant(rp, new URL(sso.url), { pkceCodeVerifier: s3.verifier, expectedState: 'st' });
    assert.ok(t3.claims()!.act, 'act on a token issued through SSO while acting');
    assert.ok((await admin.audit.list({ accountId: minor.id })).some((e) => e.type === 'guardian.acting' && e.detail?.where === 'sso' && e.detail?.actor === guardian.id));
    await endGuardianLink(admin, guardian.id, minor.id, 'test');
    await assertNothing(t, 'unlink');
    // the minor's own tokens are untouched by the end of the link
    assert.equal((await userinfo(onB, t2.access_token)).status, 200);
  });

  it('step-up while acting: the guardian logs in again with both factors and chooses again; level2 with act', async () => {
    const guardian = await newCitizen(idp.storage, { level: 2, birthdate: '1983-04-05', name: 'Phạm Văn Cha' });
    const minor = await newCitizen(idp.storage, { level: 1, birthdate: bornYearsAgo(9), name: 'Phạm Thị Út' });
    await admin.accounts.linkGuardian(guardian.id, minor.id, 'cha');
    const browser = new Browser(idp.issuer);
    const first = await actFor(browser, guardian, minor);
    assert.equal(first.tokens.claims()!.acr, 'level1');
    const s = await start({ prompt: '', acr_values: 'level2' });
    let p = await browser.follow(s.url.href);
    assert.match(p.body, /\/login"/, 'a full login, not a TOTP step on the minor\'s account');
    let f = formOf(p.body, '/login');
    p = await browser.submit(f.action, { csrf: f.csrf, login: guardian.id, password: guardian.password });
    f = formOf(p.body, '/totp');
    p = await browser.submit(f.action, { csrf: f.csrf, kind: 'totp', code: await guardian.code() });
    f = formOf(p.body, '/actor');
    p = await browser.submit(f.action, { csrf: f.csrf, for: minor.id });
    const tokens = await oc.authorizationCodeGrant(rp, new URL(p.url), { pkceCodeVerifier: s.verifier, expectedState: 'st' });
    assert.equal(tokens.claims()!.acr, 'level2');
    assert.equal(tokens.claims()!.sub, first.tokens.claims()!.sub, 'still the minor');
    assert.equal((tokens.claims()!.act as { personal_number?: string }).personal_number, guardian.id);
    // another person cannot use the acting session's step-up
    const other = await newCitizen(idp.storage, { level: 2 });
    const s2 = await start({ prompt: '', acr_values: 'level2', max_age: '0' });
    p = await browser.follow(s2.url.href);
    f = formOf(p.body, '/login');
    p = await browser.submit(f.action, { csrf: f.csrf, login: other.id, password: other.password });
    assert.ok(!p.url.includes('code='), 'no code for someone else in this session');
  });

  it('withdrawal from the guardian\'s account page: listed there, withdrawn, nothing more for the minor', async () => {
    const { guardian, minor } = await family();
    const { tokens } = await actFor(new Browser(idp.issuer), guardian, minor);
    const t = await assertActEverywhere(tokens, guardian);
    // the guardian, logged in as himself (on B this time)
    const own = new Browser(onB);
    const verifier = oc.randomPKCECodeVerifier();
    const url = new URL(oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid', state: 'st', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }).href.replace(idp.issuer, onB));
    let p = await own.follow(url.href);
    let f = formOf(p.body, '/login');
    p = await own.submit(f.action, { csrf: f.csrf, login: guardian.id, password: guardian.password });
    f = formOf(p.body, '/actor');
    p = await own.submit(f.action, { csrf: f.csrf, for: 'self' });
    const page = await own.follow('/account');
    assert.match(page.body, /Phạm Thị Út → /, 'consent given on the minor\'s behalf is listed');
    const rf = formOf(page.body, '/account/guardian-consents/revoke');
    const done = await own.submit(rf.action, { csrf: rf.csrf, minor_id: minor.id, client_id: 'rp1' });
    assert.match(done.body, /Consent withdrawn/);
    assert.doesNotMatch(done.body, /Phạm Thị Út → /);
    await assertNothing(t, 'withdrawal');
    const events = await admin.audit.list({ accountId: minor.id });
    assert.ok(events.some((e) => e.type === 'consent.revoked' && e.detail?.actor === guardian.id));
  });
});
