/**
 * The portal's clear pages (issue 14, point 8): opened as `localhost` it moves to its one origin and the login
 * works; a login cancelled at the identity provider, a stale or forged callback, a refusal on the phone and a
 * cancelled signature each lead to a clear Vietnamese page, never a 500; dates are dd/mm/yyyy.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { Browser, loginFlow, type Citizen } from '../../../packages/idp/test/provider-helpers.js';
import { ScriptedApprover, startStack, type Stack } from '../../signing/test/helpers.js';
import { createPortalServer } from '../src/index.js';

const freePort = () => new Promise<number>((resolve, reject) => {
  const srv = createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => resolve(p)); });
});

/** Cookies per host name (like a browser), no automatic redirects. */
class Client {
  jars = new Map<string, Map<string, string>>();
  async req(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.jars.get(u.hostname) ?? new Map<string, string>();
    this.jars.set(u.hostname, jar);
    const headers: Record<string, string> = { host: u.host };
    new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    // node:http, so that the Host header says `localhost` while the connection goes to 127.0.0.1
    const res = await new Promise<Response>((resolve, reject) => {
      const body = typeof init.body === 'string' ? init.body : undefined;
      const rq = request({ host: '127.0.0.1', port: u.port, path: `${u.pathname}${u.search}`.replace(/^\/\/+/, (m) => m), method: init.method ?? 'GET', headers: body ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(r.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, x);
          resolve(new Response(r.statusCode === 204 || r.statusCode === 304 ? null : Buffer.concat(chunks), { status: r.statusCode!, headers: h }));
        });
      });
      rq.on('error', reject);
      rq.end(body);
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
    return res;
  }
  async follow(url: string, init: RequestInit = {}, stopAt = '/auth?'): Promise<{ url: string; status: number; body: string }> {
    let res = await this.req(url, init);
    let cur = url;
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location')!, cur).href;
      if (next.includes(stopAt)) return { url: next, status: res.status, body: '' };
      await res.arrayBuffer();
      cur = next;
      res = await this.req(cur, res.status === 307 ? init : {});
    }
    return { url: cur, status: res.status, body: await res.text() };
  }
  post(url: string, fields: Record<string, string>) {
    return this.follow(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

describe('portal: clear pages, one origin, plain Vietnamese', function () {
  this.timeout(120_000);
  let s: Stack;
  let port: number;
  let portal: { url: string; close(): Promise<void> };

  before(async () => {
    port = await freePort();
    s = await startStack({
      clients: [{
        client_id: 'portal-pages', client_secret: 'portal-pages-secret-0123456789abcdef', client_name: 'Cổng dịch vụ công',
        redirect_uris: [`http://127.0.0.1:${port}/callback`], post_logout_redirect_uris: [`http://127.0.0.1:${port}/`],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      }],
    });
    portal = await createPortalServer({
      port, baseUrl: `http://127.0.0.1:${port}`, issuer: s.idp.issuer, clientId: 'portal-pages', clientSecret: 'portal-pages-secret-0123456789abcdef',
      validationUrl: 'http://127.0.0.1:1', remoteSigningUrl: `${s.signing.url}/`,
      officers: { personalNumbers: [], sealCredentialId: 'none' },
      phoneHosts: ['127.0.0.1', 'localhost', 'portal.kyso.test'],
      signers: { citizen: async () => undefined, agency: async () => { throw new Error('not used'); }, agencyName: 'TEST', tsaUrl: s.tsaUrl },
    });
  });
  after(async () => {
    await portal?.close();
    await s?.close();
  });

  async function login(c: Client, start: string, who: Citizen, consent = true) {
    const first = await c.follow(start);
    assert.match(first.url, /\/auth\?/, `the login went to the identity provider (${first.url})`);
    const { url: back } = await loginFlow(new Browser(s.idp.issuer), first.url, who, { consent });
    return c.follow(back);
  }

  it('opened as localhost it moves to 127.0.0.1 (same path, no open redirect) and the login works', async () => {
    const c = new Client();
    const r = await c.req(`http://localhost:${port}/form?x=1`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), `http://127.0.0.1:${port}/form?x=1`);
    const p = await c.req(`http://localhost:${port}/confirm`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    assert.equal(p.status, 307, 'a form posted to localhost is re-posted to the one origin');
    const evil = await c.req(`http://localhost:${port}/x`.replace('/x', '//evil.example/x'));
    assert.ok(evil.headers.get('location')!.startsWith(`http://127.0.0.1:${port}/`), evil.headers.get('location')!);
    const citizen = await s.citizen(2);
    const form = await login(c, `http://localhost:${port}/login`, citizen);
    assert.equal(form.status, 200, form.body.slice(0, 300));
    assert.equal(form.url, `http://127.0.0.1:${port}/form`);
    assert.match(form.body, /Nguyễn Thị Minh Khai/);
    assert.match(form.body, /value="17\/05\/1990"/, 'birth date as dd/mm/yyyy');

  });

  it('the session identifier changes at login: one planted before the login is worth nothing (no fixation)', async () => {
    const c = new Client();
    await c.req(`${portal.url}/`);
    const planted = c.jars.get('127.0.0.1')!.get('portal_sid')!;
    assert.ok(planted);
    const form = await login(c, `${portal.url}/login`, await s.citizen(2));
    assert.equal(form.url, `${portal.url}/form`);
    const now = c.jars.get('127.0.0.1')!.get('portal_sid')!;
    assert.notEqual(now, planted);
    const attacker = new Client();
    attacker.jars.set('127.0.0.1', new Map([['portal_sid', planted]]));
    const r = await attacker.req(`${portal.url}/form`);
    assert.equal(r.status, 302);
    assert.match(r.headers.get('location') ?? '', /\/login$/);
  });

  it('a login cancelled at the identity provider gives a clear page (not a 500)', async () => {
    const c = new Client();
    const citizen = await s.citizen(2);
    const back = await login(c, `${portal.url}/login`, citizen, false);
    assert.equal(back.status, 200, back.body.slice(0, 400));
    assert.match(back.body, /Bạn đã hủy đăng nhập/);
    assert.match(back.body, /href="\/login"/);
  });

  it('a stale or forged callback gives a clear page (not a 500)', async () => {
    const c = new Client();
    const none = await c.follow(`${portal.url}/callback?code=abc&state=def`);
    assert.equal(none.status, 400);
    assert.match(none.body, /Phiên đăng nhập đã hết hạn hoặc không tồn tại/);
    await c.follow(`${portal.url}/login`);
    const forged = await c.follow(`${portal.url}/callback?code=forged&state=wrong`);
    assert.equal(forged.status, 400);
    assert.match(forged.body, /Không hoàn tất được việc đăng nhập/);
  });

  it('a refusal on the phone, a wrong PIN and a cancelled signature each give a clear page', async () => {
    const c = new Client();
    const citizen = await s.citizen(2);
    await s.enrol(citizen.id, { type: 'EC', curve: 'P-256' }, '246810');
    const form = await login(c, `${portal.url}/login`, citizen);
    const confirm = await c.post(`${portal.url}/form`, { csrf: csrfOf(form.body), address: '1 Tràng Tiền', phone: '0912345678', request: 'Đăng ký' });
    assert.equal(confirm.url, `${portal.url}/confirm`);
    // the QR code / phone link: under the host the portal was opened with when it is allowed, never another
    const phoneLink = async (host: string) => {
      const html = await new Promise<string>((resolve, reject) => {
        const u = new URL(`${portal.url}/confirm`);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { host, cookie: [...(c.jars.get('127.0.0.1') ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ') } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body));
        });
        req.on('error', reject).end();
      });
      return /id="phone-link">([^<]+)</.exec(html)?.[1];
    };
    const signingPort = new URL(s.signing.url).port;
    assert.match(await phoneLink(`127.0.0.1:${port}`) ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${signingPort}/approve/[A-Za-z0-9_-]+$`));
    assert.match(await phoneLink(`portal.kyso.test:${port}`) ?? '', new RegExp(`^http://portal\\.kyso\\.test:${signingPort}/approve/`));
    assert.match(await phoneLink(`evil.example:${port}`) ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${signingPort}/approve/`), 'an unknown Host is not trusted');
    (s.approver as ScriptedApprover).next.push({ result: 'refused', detail: 'the citizen refused the request' });
    const refused = await c.post(`${portal.url}/confirm`, { csrf: csrfOf(confirm.body), pin: '246810', decision: 'sign' });
    assert.equal(refused.status, 400);
    assert.match(refused.body, /Yêu cầu ký đã bị từ chối hoặc hết hạn trên điện thoại/);
    const wrong = await c.post(`${portal.url}/confirm`, { csrf: csrfOf(confirm.body), pin: '000000', decision: 'sign' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body, /Mã PIN không đúng/);
    const cancelled = await c.post(`${portal.url}/confirm`, { csrf: csrfOf(confirm.body), decision: 'cancel' });
    assert.equal(cancelled.status, 200);
    assert.match(cancelled.body, /Bạn đã hủy việc ký tờ khai/);
    const again = await c.follow(`${portal.url}/confirm`);
    assert.equal(again.url, `${portal.url}/form`, 'nothing left to sign after cancelling');
  });
});
