/**
 * Rate limits that cannot lock a citizen out (device cookies, OWASP), and proxy trust: the client address comes
 * from X-Forwarded-For only as far as the configured trusted hops go.
 */
import assert from 'node:assert/strict';
import * as oc from 'openid-client';
import { clientAddress, createLogger, createStorage, DeviceCookies, MemoryRateLimiter, proxyHopsFromEnv, type KysoIdpStorage } from '@kyso/idp';
import { createIdpServer, type IdpServer } from '@kyso/service-idp';
import { Browser, RP_REDIRECT, SECRET, baseSeed, formOf, newCitizen } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };

describe('idp proxy trust: client address', () => {
  const req = (xff: string | undefined, peer = '10.0.0.9') => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });

  it('without trusted hops X-Forwarded-For is ignored', () => {
    assert.equal(clientAddress(req('203.0.113.7'), 0), '10.0.0.9');
    assert.equal(clientAddress(req(undefined, '::ffff:192.0.2.1'), 0), '192.0.2.1');
  });
  it('with N trusted hops the N-th entry from the right is the client; entries further left are ignored', () => {
    assert.equal(clientAddress(req('1.1.1.1, 203.0.113.7'), 1), '203.0.113.7', 'a client-written first entry is ignored');
    assert.equal(clientAddress(req('1.1.1.1, 203.0.113.7, 10.1.1.1'), 2), '203.0.113.7');
    assert.equal(clientAddress(req('203.0.113.7'), 3), '203.0.113.7', 'fewer entries than hops: the leftmost');
    assert.equal(clientAddress(req(''), 1), '10.0.0.9', 'no header: the peer');
    assert.equal(clientAddress(req('1.1.1.1, not-an-ip'), 1), '10.0.0.9', 'a non-address is not believed');
    assert.equal(clientAddress(req('1.1.1.1, 203.0.113.7:51234'), 1), '203.0.113.7', 'a port written by the proxy is dropped');
    assert.equal(clientAddress(req('[2001:db8::7]:443'), 1), '2001:db8::7');
    assert.equal(clientAddress({ socket: { remoteAddress: '10.0.0.9' }, headers: { 'x-forwarded-for': ['1.1.1.1', '2001:db8::1'] } }, 1), '2001:db8::1');
  });
  it('KYSO_IDP_PROXY_HOPS: a whole number 0-10, else a clear error', () => {
    assert.equal(proxyHopsFromEnv({}), undefined);
    assert.equal(proxyHopsFromEnv({ KYSO_IDP_PROXY_HOPS: '2' }), 2);
    assert.throws(() => proxyHopsFromEnv({ KYSO_IDP_PROXY_HOPS: 'yes' }), /KYSO_IDP_PROXY_HOPS must be a whole number/);
    assert.throws(() => proxyHopsFromEnv({ KYSO_IDP_PROXY_HOPS: '-1' }), /KYSO_IDP_PROXY_HOPS/);
  });
});

describe('idp device cookies', () => {
  /** A koa-like context with a cookie jar. */
  const jar = () => {
    const c = new Map<string, string>();
    return { cookies: { get: (n: string) => c.get(n), set: (n: string, v: string) => { c.set(n, v); } }, c } as unknown as import('koa').Context & { c: Map<string, string> };
  };
  it('signed per account, verified under older cookie keys, refused when altered, expired or for another account', () => {
    let now = Date.now();
    let keys = ['k1-0123456789abcdef0123456789abcdef'];
    const d = new DeviceCookies(() => keys, false, () => now);
    const ctx = jar();
    assert.equal(d.deviceFor(ctx, '001090000001'), undefined);
    d.remember(ctx, '001090000001');
    const dev = d.deviceFor(ctx, '001090000001');
    assert.ok(dev);
    assert.equal(d.deviceFor(ctx, '079190000002'), undefined, 'not for another account');
    d.remember(ctx, '079190000002');
    assert.equal(d.deviceFor(ctx, '001090000001'), dev, 'several accounts per browser, device id kept');
    keys = ['k2-0123456789abcdef0123456789abcdef', keys[0]!];
    assert.equal(d.deviceFor(ctx, '001090000001'), dev, 'still valid after a cookie-key rotation');
    const raw = ctx.c.get('kyso.device')!;
    ctx.c.set('kyso.device', raw.replace(/_(\d+)_/, (_m, t: string) => `_${Number(t) + 1}_`));
    assert.equal(d.deviceFor(ctx, '001090000001'), undefined, 'an altered entry is refused');
    ctx.c.set('kyso.device', raw);
    now += 181 * 86_400_000;
    assert.equal(d.deviceFor(ctx, '001090000001'), undefined, 'expired after 180 days');
    keys = ['k3-0123456789abcdef0123456789abcdef'];
    now = Date.now();
    assert.equal(d.deviceFor(ctx, '001090000001'), undefined, 'a retired key no longer vouches');
  });
});

describe('idp lockout and proxy trust (service)', function () {
  this.timeout(90_000);

  async function start(trustedProxyHops: number | undefined, storage: KysoIdpStorage): Promise<{ server: IdpServer; rp: oc.Configuration }> {
    // per-address limit lenient (many citizens behind one address), per-account strict: the storage default
    const server = await createIdpServer({
      port: 0, storage, seed: baseSeed(), logger: createLogger('silent'), ipRateLimiter: new MemoryRateLimiter({ threshold: 1000, baseDelayMs: 1000, maxDelayMs: 60_000, windowMs: 60_000 }),
      ...(trustedProxyHops !== undefined ? { trustedProxyHops } : {}),
    });
    const rp = await oc.discovery(new URL(server.issuer), 'rp1', SECRET, undefined, insecure);
    return { server, rp };
  }
  async function loginPage(b: Browser, rp: oc.Configuration, headers: Record<string, string> = {}) {
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid', state: 'st', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', prompt: 'login' });
    const p = await b.follow(url.href, { headers });
    return formOf(p.body, '/login');
  }
  async function tryLogin(b: Browser, f: { action: string; csrf: string }, login: string, password: string, xff?: string) {
    return b.follow(f.action, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(xff ? { 'x-forwarded-for': xff } : {}) },
      body: new URLSearchParams({ csrf: f.csrf, login, password }).toString(),
    });
  }

  it('an attacker spreading wrong passwords over many addresses cannot stop the citizen at her known browser', async () => {
    const storage = await createStorage({ argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    const { server, rp } = await start(1, storage);
    try {
      const c = await newCitizen(storage, { level: 1 });
      // the citizen logged in from her browser before: it holds a device cookie for her account
      const home = new Browser(server.issuer);
      let f = await loginPage(home, rp);
      let r = await tryLogin(home, f, c.id, c.password, '198.51.100.10');
      assert.ok(r.res.status === 200 || !r.url.startsWith(server.issuer), `first login: ${r.res.status}`);
      assert.match(home.cookieHeader(), /kyso\.device=/);
      // the attacker: 30 wrong passwords, each from another address (behind the trusted proxy)
      const attacker = new Browser(server.issuer);
      const af = await loginPage(attacker, rp);
      let limited = 0;
      for (let i = 0; i < 30; i++) {
        const a = await tryLogin(attacker, af, c.id, 'wrong password!', `203.0.113.${i + 1}`);
        if (a.res.status === 429) limited++;
      }
      assert.ok(limited > 0, 'the per-account limit for unknown browsers still applies');
      // an unknown browser, even with the right password, shares that limit
      const stranger = new Browser(server.issuer);
      const sf = await loginPage(stranger, rp);
      assert.equal((await tryLogin(stranger, sf, c.id, c.password, '192.0.2.50')).res.status, 429);
      // a forged device cookie is an unknown browser
      const forger = new Browser(server.issuer);
      const ff = await loginPage(forger, rp);
      forger.setCookie('kyso.device', `${c.id}_${'A'.repeat(22)}_${Math.floor(Date.now() / 1000)}_${'B'.repeat(32)}`);
      const forged = await tryLogin(forger, ff, c.id, c.password, '192.0.2.51');
      assert.equal(forged.res.status, 429);
      // the citizen at her own browser logs in
      f = await loginPage(home, rp);
      r = await tryLogin(home, f, c.id, c.password, '198.51.100.10');
      assert.notEqual(r.res.status, 429, 'the known browser keeps its own allowance');
      assert.ok(!r.body.includes('/login"'), 'logged in');
      // her success reset the account's counters: an unknown browser with the right password gets in again
      const other = new Browser(server.issuer);
      const of = await loginPage(other, rp);
      const o = await tryLogin(other, of, c.id, c.password, '192.0.2.60');
      assert.notEqual(o.res.status, 429);
      const events = await storage.audit.list({ accountId: c.id });
      assert.ok(events.some((e) => e.type === 'login.success' && e.detail?.knownDevice === true));
    } finally {
      await server.close();
      await storage.close();
    }
  });

  it('a stolen device cookie only gets that device\'s own allowance', async () => {
    const storage = await createStorage({ argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    const { server, rp } = await start(0, storage);
    try {
      const c = await newCitizen(storage, { level: 1 });
      const home = new Browser(server.issuer);
      await tryLogin(home, await loginPage(home, rp), c.id, c.password);
      const f = await loginPage(home, rp);
      let limited = false;
      for (let i = 0; i < 12 && !limited; i++) limited = (await tryLogin(home, f, c.id, 'wrong password!')).res.status === 429;
      assert.ok(limited, 'guessing from a known browser is throttled under its device key');
      // the account key was not touched: an unknown browser logs in
      const other = new Browser(server.issuer);
      assert.notEqual((await tryLogin(other, await loginPage(other, rp), c.id, c.password)).res.status, 429);
    } finally {
      await server.close();
      await storage.close();
    }
  });

  for (const hops of [0, 1, 2]) {
    it(`audit and per-address buckets use the address the ${hops} trusted hop(s) vouch for`, async () => {
      const storage = await createStorage({ argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
      const { server, rp } = await start(hops, storage);
      try {
        const c = await newCitizen(storage, { level: 1 });
        const b = new Browser(server.issuer);
        await tryLogin(b, await loginPage(b, rp), c.id, 'wrong password!', '6.6.6.6, 203.0.113.9, 10.9.9.9');
        const ev = (await storage.audit.list({ accountId: c.id })).find((e) => e.type === 'login.failure')!;
        assert.equal(ev.ip, hops === 0 ? '127.0.0.1' : hops === 1 ? '10.9.9.9' : '203.0.113.9');
        assert.notEqual(ev.ip, '6.6.6.6', 'the client-written entry is never believed');
      } finally {
        await server.close();
        await storage.close();
      }
    });
  }
});
