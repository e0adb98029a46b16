/**
 * No per-request closure or WeakMap entry is hung off long-lived objects on the identity provider's hot path
 * (see scripts/patch-deps.mjs for why: it kept every request's objects alive through young-generation GCs).
 * The two dependency patches are installed, and behave like the code they replace.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { GrantActors } from '../src/provider/claims.js';
import { PATCHES, stockCopy } from '../../../scripts/patch-deps.mjs';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject).end();
  });
}

describe('idp: dependency patches for the hot path', function () {
  this.timeout(20_000);

  it('scripts/patch-deps.mjs --check finds every patch applied to the installed copies', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'patch-deps.mjs'), '--check'], { encoding: 'utf8' });
    assert.match(out, /oidc-provider-shared-oidc-getter already/);
    assert.match(out, /ioredis-pipeline-length-getter already/);
  });

  it('the benchmark peer can run the library as published: stockCopy takes the patches out of a copy only', () => {
    const dir = stockCopy('oidc-provider');
    const p = PATCHES.find((x) => x.pkg === 'oidc-provider')!;
    const stock = readFileSync(join(dir, p.file), 'utf8');
    assert.ok(stock.includes(p.find) && !stock.includes('kyso-patch:'), 'the copy has the published text');
    const installed = readFileSync(join(ROOT, 'node_modules', 'oidc-provider', p.file), 'utf8');
    assert.ok(installed.includes(`kyso-patch:${p.id}`), 'the installed library stays patched');
  });

  describe('oidc-provider: ctx.oidc', () => {
    let server: Server;
    let port: number;
    const seen: { getter: unknown; first: unknown; again: unknown; ctxOfOidc: unknown; ctx: object }[] = [];
    before(async () => {
      const provider = new Provider('http://127.0.0.1', { clients: [] });
      provider.use(async (ctx, next) => {
        await next();
        const d = Object.getOwnPropertyDescriptor(ctx, 'oidc');
        if (!d) return;
        const oidc = (ctx as unknown as { oidc: { ctx: unknown } }).oidc;
        seen.push({ getter: d.get, first: oidc, again: (ctx as unknown as { oidc: unknown }).oidc, ctxOfOidc: oidc.ctx, ctx });
      });
      server = createServer(provider.callback());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('is one shared getter across requests, not a new closure per request', async () => {
      assert.equal(await get(port, '/jwks'), 200);
      assert.equal(await get(port, '/.well-known/openid-configuration'), 200);
      assert.equal(seen.length, 2);
      assert.equal(typeof seen[0]!.getter, 'function');
      assert.equal(seen[0]!.getter, seen[1]!.getter, 'the same getter function for both requests');
    });

    it('still gives one OIDC context per request, bound to that request', () => {
      for (const s of seen) {
        assert.equal(s.first, s.again, 'created once, then reused');
        assert.equal(s.ctxOfOidc, s.ctx);
      }
      assert.notEqual(seen[0]!.first, seen[1]!.first, 'each request has its own');
    });
  });

  it('ioredis: a pipeline counts its commands through a prototype getter, not an own closure', () => {
    const client = new Redis({ lazyConnect: true, enableOfflineQueue: true });
    try {
      const p = client.pipeline();
      assert.equal(Object.getOwnPropertyDescriptor(p, 'length'), undefined, 'no own accessor per pipeline');
      assert.equal(p.length, 0);
      p.get('a');
      p.set('b', '1');
      assert.equal(p.length, 2);
    } finally {
      client.disconnect();
    }
  });

  it('guardian actors: read once per request, remembered on the request itself (no WeakMap keyed by it)', async () => {
    let reads = 0;
    const actors = new GrantActors({ getActor: async () => { reads++; return undefined; } } as never, (_c, g) => g);
    assert.ok(!Object.values(actors).some((v) => v instanceof WeakMap));
    const a = {};
    const b = {};
    const p1 = actors.actorOf(a, 'g1');
    assert.equal(actors.actorOf(a, 'g1'), p1, 'same request, same grant: one read');
    await actors.actorOf(a, 'g2');
    await actors.actorOf(b, 'g1');
    await p1;
    assert.equal(reads, 3);
    await actors.actorOf(undefined, 'g1');
    assert.equal(reads, 4, 'no request: read every time');
  });
});
