/**
 * No state in process memory (issue 14, point 6): two portal instances share one real Redis. A citizen logs in
 * through instance A and instance B honours her session; she submits a remotely signed application on A; the
 * officer, logged in (level 2) on B, sees it in his list and opens its PDF there; the citizen logs out on B and A
 * forgets her too. Two officers counter-signing the same application at once (one on A, one on B): one claims it
 * in the shared store and seals it, the other is told another officer is at it — the seal signs once.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { getTestPki, startRedis, type RedisInstance } from '@kyso/fixtures';
import { createValidationServer, type ValidationServer } from '@kyso/service-validation';
import { Browser, loginFlow, type Citizen } from '../../../packages/idp/test/provider-helpers.js';
import { startStack, type Stack } from '../../signing/test/helpers.js';
import { createPortalServer } from '../src/index.js';

const freePort = () => new Promise<number>((resolve, reject) => {
  const srv = createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => resolve(p)); });
});

/** Cookies per host (like a browser: not per port), no automatic redirects. */
class Client {
  jar = new Map<string, string>();
  async req(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.jar.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
    return res;
  }
  async follow(url: string, init: RequestInit = {}): Promise<{ url: string; status: number; body: string }> {
    let res = await this.req(url, init);
    let cur = url;
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location')!, cur).href;
      if (!next.startsWith('http://127.0.0.1') || next.includes('/auth?')) return { url: next, status: res.status, body: '' };
      await res.arrayBuffer();
      cur = next;
      res = await this.req(cur);
    }
    return { url: cur, status: res.status, body: await res.text() };
  }
  post(url: string, fields: Record<string, string>) {
    return this.follow(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

describe('portal: two instances share sessions and applications through one Redis', function () {
  this.timeout(180_000);
  let redis: RedisInstance;
  let s: Stack;
  let ports: number[];
  const portals: { url: string; close(): Promise<void> }[] = [];
  let validation: ValidationServer;
  /** Shared by the two tests: the application the citizen submitted, the officers and the seal. */
  const shared: { appId?: string; officer?: Citizen; officer2?: Citizen; sealId?: string } = {};

  before(async () => {
    redis = await startRedis();
    validation = await createValidationServer({ policy: { trustAnchors: [(await getTestPki()).rootPem] }, size: 1 });
    ports = [await freePort(), await freePort()];
    s = await startStack({
      clients: [{
        client_id: 'portal-2x', client_secret: 'portal-2x-secret-0123456789abcdef', client_name: 'Cổng dịch vụ công',
        redirect_uris: ports.map((p) => `http://127.0.0.1:${p}/callback`), post_logout_redirect_uris: ports.map((p) => `http://127.0.0.1:${p}/`),
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      }],
    });
  });
  after(async () => {
    for (const p of portals) await p.close();
    await validation?.close();
    await s?.close();
    await redis?.stop();
  });

  async function login(c: Client, portal: string, who: Citizen, path = '/login') {
    const start = await c.follow(`${portal}${path}`);
    assert.match(start.url, /\/auth\?/);
    const { url: back } = await loginFlow(new Browser(s.idp.issuer), start.url, who);
    return c.follow(back);
  }

  it('a login on A is honoured by B; an application submitted on A is seen by the officer on B', async () => {
    const citizen = await s.citizen(2);
    const officer = await s.citizen(2);
    const officer2 = await s.citizen(2);
    await s.enrol(citizen.id, { type: 'EC', curve: 'P-256' }, '246810');
    const seal = await s.enrol('agency:test', { type: 'EC', curve: 'P-256' }, '135790', { kind: 'seal', users: [officer.id, officer2.id] });
    Object.assign(shared, { officer, officer2, sealId: seal.id });
    for (const port of ports) {
      portals.push(await createPortalServer({
        port, baseUrl: `http://127.0.0.1:${port}`, issuer: s.idp.issuer, clientId: 'portal-2x', clientSecret: 'portal-2x-secret-0123456789abcdef',
        validationUrl: validation.url, remoteSigningUrl: `${s.signing.url}/`, redis: redis.url,
        officers: { personalNumbers: [officer.id, officer2.id], sealCredentialId: seal.id },
        signers: { citizen: async () => undefined, agency: async () => { throw new Error('not used'); }, agencyName: 'Sở Tư pháp (TEST)', tsaUrl: s.tsaUrl },
      }));
    }
    const [A, B] = portals.map((p) => p.url) as [string, string];

    const c = new Client();
    const form = await login(c, A, citizen);
    assert.equal(form.url, `${A}/form`);
    assert.match(form.body, /Nguyễn Thị Minh Khai/);
    // the same browser on instance B: logged in, same session (same CSRF token)
    const onB = await c.follow(`${B}/form`);
    assert.equal(onB.status, 200);
    assert.equal(onB.url, `${B}/form`, 'B does not send her to log in again');
    assert.equal(csrfOf(onB.body), csrfOf(form.body));

    // the draft made on B is signed on A (the approval is scripted in this stack)
    const confirm = await c.post(`${B}/form`, { csrf: csrfOf(onB.body), address: '12 Phố Huế, Hà Nội', phone: '0912345678', request: 'Đăng ký thường trú' });
    assert.equal(confirm.url, `${B}/confirm`, confirm.body.slice(0, 300));
    const pdf = await c.req(`${A}/draft.pdf`);
    assert.equal(pdf.status, 200);
    assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    const done = await c.post(`${A}/confirm`, { csrf: csrfOf(confirm.body), pin: '246810', decision: 'sign' });
    assert.match(done.body, /chờ cán bộ tiếp nhận ký xác nhận/, done.body.slice(0, 500));
    const appId = /Mã hồ sơ \/ Application: <strong>([A-Za-z0-9_-]{12})<\/strong>/.exec(done.body)![1]!;
    shared.appId = appId;

    // the officer on B sees it and opens the citizen-signed PDF there
    const o = new Client();
    const list = await login(o, B, officer, '/login?role=officer');
    assert.equal(list.url, `${B}/officer`, list.body.slice(0, 300));
    assert.ok(list.body.includes(appId), 'the application submitted on A is listed on B');
    assert.match(list.body, /Chờ ký xác nhận/);
    assert.match(list.body, /\d{2}\/\d{2}\/\d{4}/);
    const signed = await o.req(`${B}/officer/${appId}.pdf`);
    assert.equal(signed.status, 200);
    const bytes = Buffer.from(await signed.arrayBuffer());
    assert.ok(bytes.includes(Buffer.from('/ByteRange')), 'the citizen-signed PDF');
    // and on A as well, same session
    assert.ok((await o.follow(`${A}/officer`)).body.includes(appId));

    // logging out on B ends the session on A too
    await c.follow(`${B}/logout`);
    const after = await c.req(`${A}/form`);
    assert.equal(after.status, 302);
    assert.match(after.headers.get('location') ?? '', /\/login$/);
  });

  it('two officers counter-sign the same application at once (on A and on B): one seals it, the other is told; the seal signs once', async () => {
    const { appId, officer, officer2, sealId } = shared;
    assert.ok(appId && officer && officer2 && sealId, 'the application of the first test');
    const [A, B] = portals.map((p) => p.url) as [string, string];
    const o1 = new Client();
    const o2 = new Client();
    await login(o1, A, officer, '/login?role=officer');
    await login(o2, B, officer2, '/login?role=officer');
    const r1 = await o1.follow(`${A}/officer/${appId}`);
    const r2 = await o2.follow(`${B}/officer/${appId}`);
    assert.match(r1.body, /Ký xác nhận bằng con dấu cơ quan/);
    assert.match(r2.body, /Ký xác nhận bằng con dấu cơ quan/);
    const before = (await s.signing.store.auditRead(0, 100_000)).length;
    const [x, y] = await Promise.all([
      o1.post(`${A}/officer/${appId}`, { csrf: csrfOf(r1.body), pin: '135790' }),
      o2.post(`${B}/officer/${appId}`, { csrf: csrfOf(r2.body), pin: '135790' }),
    ]);
    const told = [x, y].filter((r) => r.status === 409);
    const sealed = [x, y].filter((r) => r.status === 200 && /Hồ sơ đã được ký xác nhận/.test(r.body));
    assert.equal(told.length, 1, `one officer is told another is at it: ${x.status} ${y.status}`);
    assert.match(told[0]!.body, /Một cán bộ khác đang ký xác nhận hồ sơ này/);
    assert.equal(sealed.length, 1, `the other sealed it: ${[x, y].map((r) => r.body.slice(0, 200)).join(' | ')}`);
    // the seal signed once; the application is done, with two signatures
    const records = (await s.signing.store.auditRead(before, 100_000)).map((r) => JSON.parse(r.entry) as { type: string; credentialId?: string });
    assert.equal(records.filter((e) => e.type === 'signature.created' && e.credentialId === sealId).length, 1);
    const pdf = Buffer.from(await (await o1.req(`${A}/officer/${appId}.pdf`)).arrayBuffer());
    assert.equal(pdf.toString('latin1').match(/\/ByteRange/g)?.length, 2);
    // the claim is released: a later attempt is not blocked, it just finds the application done
    const again = await o2.post(`${B}/officer/${appId}`, { csrf: csrfOf(r2.body), pin: '135790' });
    assert.equal(again.status, 200);
    assert.match(again.body, /Hồ sơ đã được ký xác nhận/);
  });
});
