/**
 * Level 2 means two factors in this authentication, on every path: the login journey, step-up, CIBA on the phone,
 * and the account pages (enrolling a second factor). For each path: one factor never yields acr=level2, and the
 * normal two-factor journey still does. acr comes from the factors used (amr), never from the path.
 */
import assert from 'node:assert/strict';
import * as oc from 'openid-client';
import { acrFromAmr, totpCode, totpSecretProblem, IdpError } from '@kyso/idp';
import { parseSeed } from '@kyso/service-idp';
import { Browser, RP_REDIRECT, SECRET, formOf, loginFlow, newCitizen, startTestIdp, type Citizen, type TestIdp } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };

describe('idp assurance: acr from the factors used', () => {
  it('acrFromAmr: level2 only with pwd + otp, a level-2 identity and an assured second factor', () => {
    const l2 = { level: 2 as const, totpEnabled: true, secondFactorAssured: true };
    assert.equal(acrFromAmr(['pwd', 'otp', 'mfa'], l2), 'level2');
    assert.equal(acrFromAmr(['otp'], l2), 'level1');
    assert.equal(acrFromAmr(['pwd'], l2), 'level1');
    assert.equal(acrFromAmr(['otp', 'mfa'], l2), 'level1');
    assert.equal(acrFromAmr(['pwd', 'otp', 'mfa'], { ...l2, secondFactorAssured: false }), 'level1', 'self-enrolled factor');
    assert.equal(acrFromAmr(['pwd', 'otp', 'mfa'], { ...l2, level: 1 }), 'level1', 'level-1 identity');
    assert.equal(acrFromAmr(['pwd', 'otp', 'mfa'], { ...l2, totpEnabled: false }), 'level1');
  });
});

describe('idp assurance: every path (service, memory store)', function () {
  this.timeout(90_000);
  let idp: TestIdp;
  let rp: oc.Configuration;

  before(async () => {
    idp = await startTestIdp();
    rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, insecure);
  });
  after(async () => { await idp?.close(); });

  async function start(extra: Record<string, string> = {}) {
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid profile', state: 'st', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
    return { url, verifier };
  }
  async function flow(b: Browser, c: Citizen, extra: Record<string, string> = {}) {
    const s = await start(extra);
    const r = await loginFlow(b, s.url.href, c);
    const err = new URL(r.url).searchParams.get('error');
    if (err) return { error: err, steps: r.steps };
    const tokens = await oc.authorizationCodeGrant(rp, new URL(r.url), { pkceCodeVerifier: s.verifier, expectedState: 'st' });
    return { tokens, steps: r.steps, acr: tokens.claims()!.acr, amr: tokens.claims()!.amr };
  }

  it('login journey: the password alone never gives level2; password + TOTP does', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    // level1 request: one factor, acr level1 even for a level-2 account
    const one = await flow(new Browser(idp.issuer), c, { acr_values: 'level1' });
    assert.equal(one.acr, 'level1');
    assert.deepEqual(one.amr, ['pwd']);
    // level2 request: after the password the interaction stays on the TOTP step, however it is resumed
    const b = new Browser(idp.issuer);
    const s = await start({ acr_values: 'level2' });
    let page = await b.follow(s.url.href);
    const f = formOf(page.body, '/login');
    page = await b.submit(f.action, { csrf: f.csrf, login: c.id, password: c.password });
    assert.match(page.body, /\/totp"/);
    const interaction = page.url.replace(/\/login$/, '');
    const again = await b.follow(interaction);
    assert.match(again.body, /\/totp"/, 'reloading the interaction does not skip the second factor');
    const resumed = await b.follow(interaction.replace('/interaction/', '/auth/'));
    assert.ok(!resumed.url.includes('code='), 'resuming the authorization without the second factor yields no code');
    // the full journey: level2 with pwd + otp
    const two = await flow(new Browser(idp.issuer), c, { acr_values: 'level2' });
    assert.deepEqual(two.steps, ['login', 'totp'], 'consent remembered from the first journey');
    assert.equal(two.acr, 'level2');
    assert.deepEqual(two.amr, ['pwd', 'otp', 'mfa']);
  });

  it('step-up: the session password + a fresh TOTP gives level2; a self-enrolled factor never does', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const b = new Browser(idp.issuer);
    assert.equal((await flow(b, c, { acr_values: 'level1' })).acr, 'level1');
    const up = await flow(b, c, { acr_values: 'level2' });
    assert.deepEqual(up.steps, ['totp']);
    assert.equal(up.acr, 'level2');
    assert.deepEqual(up.amr, ['pwd', 'otp', 'mfa']);

    // a level-2 account whose second factor was enrolled by whoever held the password (no enrolment code)
    const self = await newCitizen(idp.storage, { level: 2, totp: false });
    const e = await idp.storage.accounts.beginTotpEnrolment(self.id);
    const res = await idp.storage.accounts.confirmTotpEnrolment(self.id, await totpCode(e.secret));
    assert.equal(res?.assured, false);
    assert.equal((await idp.storage.accounts.get(self.id))!.secondFactorAssured, false);
    const b2 = new Browser(idp.issuer);
    assert.equal((await flow(b2, self, { acr_values: 'level1' })).acr, 'level1');
    const s = await start({ acr_values: 'level2' });
    const r = await b2.follow(s.url.href);
    assert.equal(new URL(r.url).searchParams.get('error'), 'unmet_authentication_requirements', 'no TOTP step offered, no level2');
    // the same at a fresh login
    const fresh = await flow(new Browser(idp.issuer), self, { acr_values: 'level2' });
    assert.equal(fresh.error, 'unmet_authentication_requirements');
  });

  it('account page: a level-2 account enrols only with the administrator\'s one-time code; then level2 works', async () => {
    const c = await newCitizen(idp.storage, { level: 2, totp: false });
    const b = new Browser(idp.issuer);
    const first = await flow(b, c, { acr_values: 'level1' });
    assert.equal(first.acr, 'level1');
    const enrol = async (fields: (secret: string) => Promise<Record<string, string>>) => {
      let p = await b.follow('/account');
      const begin = formOf(p.body, '/account/mfa/begin');
      p = await b.submit(begin.action, { csrf: begin.csrf });
      assert.match(p.body, /name="enrolment_code"/, 'the page asks for the enrolment code');
      const secret = /<code>([A-Z2-7]{32})<\/code>/.exec(p.body)![1]!;
      const confirm = formOf(p.body, '/account/mfa/confirm');
      return b.submit(confirm.action, { csrf: confirm.csrf, ...(await fields(secret)) });
    };
    // without a code: refused, nothing enrolled
    let r = await enrol(async (secret) => ({ code: await totpCode(secret) }));
    assert.equal(r.res.status, 400);
    assert.equal((await idp.storage.accounts.get(c.id))!.totpEnabled, false);
    // a made-up code: refused
    r = await enrol(async (secret) => ({ code: await totpCode(secret), enrolment_code: 'AAAAA-BBBBB-CCCCC' }));
    assert.equal(r.res.status, 400);
    assert.equal((await idp.storage.accounts.get(c.id))!.totpEnabled, false);
    // the administrator's code (kyso idp user reset-mfa prints it): enrolled, assured, single use
    const { enrolmentCode } = await idp.storage.accounts.resetMfa(c.id);
    let secret = '';
    r = await enrol(async (s) => { secret = s; return { code: await totpCode(s), enrolment_code: enrolmentCode }; });
    assert.equal(r.res.status, 200, r.body.slice(0, 400));
    const acct = (await idp.storage.accounts.get(c.id))!;
    assert.ok(acct.totpEnabled && acct.secondFactorAssured);
    await assert.rejects(idp.storage.accounts.confirmTotpEnrolment(c.id, '000000', enrolmentCode).catch((e: IdpError) => { throw e; }));
    // the session that enrolled is still level1, and the new factor cannot raise it: a level2 request asks for a
    // full login (password, then TOTP), never for the TOTP step alone
    const acctPage = await b.follow('/account');
    assert.match(acctPage.body, /<dd>level1<\/dd>/);
    const stepped = await flow(b, { ...c, code: () => totpCode(secret, Date.now() + 30_000) }, { acr_values: 'level2' });
    assert.deepEqual(stepped.steps, ['login', 'totp']);
    assert.equal(stepped.acr, 'level2');
    assert.deepEqual(stepped.amr, ['pwd', 'otp', 'mfa']);
  });

  it('CIBA poll: TOTP alone gives level1; a level2 request needs password + TOTP on the phone', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const ciba = await oc.discovery(new URL(idp.issuer), 'ciba', 'ciba-secret-0123456789abcdef', undefined, insecure);
    // level-2 request
    const req = await oc.initiateBackchannelAuthentication(ciba, { scope: 'openid profile', login_hint: c.id, binding_message: 'Ký hồ sơ – “khai sinh” #7', acr_values: 'level2' });
    const note = idp.ciba.filter((n) => n.accountId === c.id).at(-1)!;
    const phone = new Browser(idp.issuer);
    const page = await phone.follow(note.approvalUrl);
    assert.match(page.body, /name="password"/);
    assert.ok(page.body.includes('Ký hồ sơ – “khai sinh” #7'), 'en dash and quotes shown as given');
    const f = formOf(page.body);
    const code = await c.code();
    const bad = await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', code });
    assert.equal(bad.res.status, 400, 'TOTP alone refused for a level-2 request');
    const wrongPwd = await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', password: 'not the password', code });
    assert.equal(wrongPwd.res.status, 400);
    await assert.rejects(oc.pollBackchannelAuthenticationGrant(ciba, { ...req, interval: 0.05, expires_in: 0.2 } as never), 'still pending');
    const ok = await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', password: c.password, code });
    assert.equal(ok.res.status, 200);
    const t2 = await oc.pollBackchannelAuthenticationGrant(ciba, { ...req, interval: 0.05 } as never);
    assert.equal(t2.claims()!.acr, 'level2');
    assert.deepEqual(t2.claims()!.amr, ['pwd', 'otp', 'mfa']);
    // no acr asked: TOTP alone, level1
    const req1 = await oc.initiateBackchannelAuthentication(ciba, { scope: 'openid', login_hint: c.id, binding_message: 'Xác nhận' });
    const note1 = idp.ciba.filter((n) => n.accountId === c.id).at(-1)!;
    const p1 = await phone.follow(note1.approvalUrl);
    assert.doesNotMatch(p1.body, /name="password"/);
    const f1 = formOf(p1.body);
    await phone.submit(f1.action, { csrf: f1.csrf, decision: 'approve', code: await c.code() });
    const t1 = await oc.pollBackchannelAuthenticationGrant(ciba, { ...req1, interval: 0.05 } as never);
    assert.equal(t1.claims()!.acr, 'level1');
    assert.deepEqual(t1.claims()!.amr, ['otp']);
  });

  it('CIBA: a level2 request for an account without an assured factor is denied, never answered at level1', async () => {
    const c = await newCitizen(idp.storage, { level: 1, totp: true });
    const ciba = await oc.discovery(new URL(idp.issuer), 'ciba', 'ciba-secret-0123456789abcdef', undefined, insecure);
    const req = await oc.initiateBackchannelAuthentication(ciba, { scope: 'openid', login_hint: c.id, acr_values: 'level2' });
    const note = idp.ciba.filter((n) => n.accountId === c.id).at(-1)!;
    const phone = new Browser(idp.issuer);
    const page = await phone.follow(note.approvalUrl);
    const f = formOf(page.body);
    await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', password: c.password, code: await c.code() });
    await assert.rejects(oc.pollBackchannelAuthenticationGrant(ciba, { ...req, interval: 0.05 } as never), (e: Error & { error?: string }) => e.error === 'access_denied');
  });
});

describe('idp: TOTP secrets of at least 128 bits', () => {
  it('names the field and refuses short or malformed secrets; new secrets are 32 characters', async () => {
    assert.match(totpSecretProblem('JBSWY3DPEHPK3PXP')!, /80 bits.*at least 128 bits/);
    assert.match(totpSecretProblem('ABCDEFGHIJKLMNOPQRST')!, /impossible|bits/);
    assert.equal(totpSecretProblem('A'.repeat(26)), undefined);
    assert.equal(totpSecretProblem('a'.repeat(32)), undefined, 'lower case accepted');
    assert.ok(totpSecretProblem('A'.repeat(25) + 'B'), 'bits beyond the last byte');
    assert.ok(totpSecretProblem('0'.repeat(32)), 'not base32');
    assert.throws(() => parseSeed({ clients: [], users: [{ id: '001090000001', password: 'x'.repeat(12), name: 'A', birthdate: '1990-01-01', level: 2, totp_secret: 'JBSWY3DPEHPK3PXP' }] }),
      /users\[0\]\.totp_secret is 80 bits/);
    const idp = await startTestIdp();
    try {
      const c = await newCitizen(idp.storage, { level: 2 });
      assert.equal(c.totpSecret!.length, 32);
      await assert.rejects(idp.storage.accounts.setTotpSecret(c.id, 'JBSWY3DPEHPK3PXP', 'KYSO_IDP_TOTP_SECRET'), (e: IdpError) => e.code === 'TOTP_SECRET_INVALID' && /^KYSO_IDP_TOTP_SECRET is 80 bits/.test(e.message));
      await assert.rejects(idp.storage.accounts.create({ id: '001090000001', password: 'Mật-khẩu-dài-đủ', name: 'A', birthdate: '1990-01-01', gender: 'male', level: 2, totp_secret: 'JBSWY3DPEHPK3PXP' }),
        (e: IdpError) => e.code === 'ACCOUNT_INVALID' && /^totp_secret is 80 bits/.test(e.message));
    } finally { await idp.close(); }
  });
});
