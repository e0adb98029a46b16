/** services/idp serves protocol endpoints outside koa: same request id, security headers and errors as the pages. */
import assert from 'node:assert/strict';
import { createIdpServer, type IdpServer } from '@kyso/service-idp';
import { createStorage, createLogger, type KysoIdpStorage } from '../src/index.js';

describe('identity provider service: protocol fast path', function () {
  this.timeout(30_000);
  let storage: KysoIdpStorage;
  let srv: IdpServer;
  before(async () => {
    storage = await createStorage({ secretKey: Buffer.alloc(32, 5) });
    srv = await createIdpServer({ port: 0, storage, logger: createLogger('silent'), seed: {
      clients: [{ client_id: 'svc', client_secret: 'svc-secret-0123456789abcdef', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }] as never,
      users: [],
    } });
  });
  after(async () => { await srv?.close(); await storage?.close(); });

  for (const [what, path, init] of [
    ['discovery', '/.well-known/openid-configuration', {}],
    ['token', '/token', { method: 'POST', body: 'grant_type=client_credentials', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('svc:svc-secret-0123456789abcdef').toString('base64')}` } }],
    ['userinfo with a bad token', '/me', { headers: { authorization: 'Bearer nope' } }],
  ] as const) {
    it(`${what}: security headers and a request id`, async () => {
      const r = await fetch(`${srv.url}${path}`, init as RequestInit);
      assert.ok(what.includes('bad') ? r.status === 401 : r.status === 200, `status ${r.status}`);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      await r.arrayBuffer();
    });
  }

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const ok = await fetch(`${srv.url}/jwks`, { headers: { 'x-request-id': 'abc.DEF_12-3' } });
    assert.equal(ok.headers.get('x-request-id'), 'abc.DEF_12-3');
    const bad = await fetch(`${srv.url}/jwks`, { headers: { 'x-request-id': 'a b<script>' } });
    assert.notEqual(bad.headers.get('x-request-id'), 'a b<script>');
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  });
});
