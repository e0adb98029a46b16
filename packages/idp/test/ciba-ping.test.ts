/**
 * CIBA ping mode against the running service with Redis, openid-client as the relying party: the phone approves,
 * the identity provider pings the service's HTTPS notification endpoint (a certificate from a private CA, trusted
 * through `outboundCa`), the service then fetches the tokens. Plus the outbound-request rules (special-use
 * addresses refused, extra trust anchors) on their own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oc from 'openid-client';
import { outboundFetch, refusedAddress } from '../src/provider/outbound.js';
import { Browser, baseSeed, formOf, newCitizen, startTestIdp, type TestIdp } from './provider-helpers.js';

const insecure = { execute: [oc.allowInsecureRequests] };
const PING_SECRET = 'ping-secret-0123456789abcdef';

interface Ping { authorization?: string; body: string }

/** A self-signed certificate for 127.0.0.1 made with openssl (the service's private CA, in effect). */
function selfSigned(dir: string): { key: string; cert: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'),
    '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=kyso test relying party', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
}

describe('idp: CIBA ping over HTTPS (openid-client, Redis)', function () {
  this.timeout(60000);
  let dir: string;
  let tls: { key: string; cert: string };
  let rpServer: Server;
  let rpUrl: string;
  const pings: Ping[] = [];
  let idp: TestIdp;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-ping-'));
    tls = selfSigned(dir);
    rpServer = createServer(tls, (req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        pings.push({ authorization: req.headers.authorization, body });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', () => r()));
    rpUrl = `https://127.0.0.1:${(rpServer.address() as AddressInfo).port}`;
    const seed = baseSeed();
    seed.clients.push({
      client_id: 'ciba-ping', client_secret: PING_SECRET, grant_types: ['urn:openid:params:grant-type:ciba'], redirect_uris: [], response_types: [],
      backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: `${rpUrl}/ciba/notify`,
    } as never);
    idp = await startTestIdp({ redis: true, seed, outboundCa: [tls.cert] });
  });
  after(async () => {
    await idp?.close();
    await new Promise((r) => rpServer?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the phone approves, the service is pinged with its notification token, then gets the tokens', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const rp = await oc.discovery(new URL(idp.issuer), 'ciba-ping', PING_SECRET, undefined, insecure);
    assert.ok(rp.serverMetadata().backchannel_token_delivery_modes_supported?.includes('ping'));
    const notificationToken = 'nt-' + Math.random().toString(36).slice(2) + '-0123456789';
    const message = 'Phê duyệt hồ sơ cấp giấy phép lái xe #B7';
    const req = await oc.initiateBackchannelAuthentication(rp, { scope: 'openid profile', login_hint: c.id, binding_message: message, client_notification_token: notificationToken, acr_values: 'level2' });
    // before approval: no ping, and the token endpoint says authorization_pending
    await assert.rejects(oc.pollBackchannelAuthenticationGrant(rp, { ...req, interval: 0.05, expires_in: 0.2 } as never));
    assert.equal(pings.length, 0);
    const note = idp.ciba.find((n) => n.accountId === c.id)!;
    assert.equal(note.bindingMessage, message);
    const phone = new Browser(idp.issuer);
    const page = await phone.follow(note.approvalUrl);
    assert.ok(page.body.includes(message));
    const f = formOf(page.body);
    // level 2 asked: the phone page wants the password as well as the code; the code alone is refused
    assert.match(page.body, /name="password"/);
    const oneFactor = await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', code: await c.code() });
    assert.equal(oneFactor.res.status, 400);
    assert.equal(pings.length, 0, 'no ping after a one-factor approval attempt');
    const ok = await phone.submit(f.action, { csrf: f.csrf, decision: 'approve', password: c.password, code: await c.code() });
    assert.equal(ok.res.status, 200);
    for (let i = 0; i < 300 && pings.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pings.length, 1, 'the service was pinged once');
    assert.equal(pings[0]!.authorization, `Bearer ${notificationToken}`);
    assert.deepEqual(JSON.parse(pings[0]!.body), { auth_req_id: req.auth_req_id });
    const tokens = await oc.pollBackchannelAuthenticationGrant(rp, { ...req, interval: 0.05 } as never);
    assert.equal(tokens.claims()!.acr, 'level2');
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
    const info = await oc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.name, (await idp.storage.accounts.get(c.id))!.name);
  });

  it('outbound requests: the extra trust anchor is needed, special-use addresses are refused unless loopback is allowed', async () => {
    const url = `${rpUrl}/ciba/notify`;
    const post = { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } };
    const trusted = await outboundFetch({ ca: [tls.cert], allowLoopback: true })(url, { ...post });
    assert.equal(trusted.status, 204);
    await assert.rejects(outboundFetch({ allowLoopback: true })(url, { ...post }), 'without the CA the certificate is not trusted');
    await assert.rejects(outboundFetch({ ca: [tls.cert] })(url, { ...post }), /special-use/);
    await assert.rejects(outboundFetch({ ca: [tls.cert] })(url.replace('127.0.0.1', 'localhost'), { ...post }), /special-use/, 'a name resolving to loopback');
    await assert.rejects(outboundFetch({ ca: [tls.cert] })('file:///etc/passwd', {}), /file:/);
    for (const a of ['10.1.2.3', '192.168.0.1', '172.20.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a00:1', '127.0.0.1']) {
      assert.ok(refusedAddress(a, false), `${a} refused`);
    }
    assert.equal(refusedAddress('127.0.0.1', true), undefined);
    assert.equal(refusedAddress('::1', true), undefined);
    assert.ok(refusedAddress('10.0.0.1', true), 'private ranges stay refused when loopback is allowed');
    assert.equal(refusedAddress('203.162.4.191', false), undefined);
    assert.equal(refusedAddress('2001:4860:4860::8888', false), undefined);
  });
});
