/**
 * Every service standalone (`kyso serve idp|verify|portal`, each in its own process): the same options, one health
 * answer (GET /healthz → {"status":"ok"}), JSON log lines on stderr and nothing else there, a graceful stop; a
 * service accepts connections only once it can answer them; `kyso demo` (npm start) prints only its service lines
 * and the demo accounts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getTestPki, startRedis } from '@kyso/fixtures';
import { createLogger, createStorage } from '@kyso/idp';
import { createIdpServer } from '@kyso/service-idp';
import { loadPkcs12File, signPdfBytes } from '@kyso/signer';
import { makeBasicPdf } from '../fixtures/pdf/samples.js';
import { listenWhenReady } from '../packages/cli/src/serve/options.js';

const KYSO = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'kyso.mjs');

interface Running { child: ChildProcess; url: string; stdout: () => string; stderr: () => string }

function start(args: string[], env: Record<string, string> = {}, ready = /listening on (\S+)/): Promise<Running> {
  const child = spawn(process.execPath, [KYSO, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kyso ${args.join(' ')} did not start:\n${out}\n${err}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = ready.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] ?? '', stdout: () => out, stderr: () => err }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`kyso ${args.join(' ')} exited ${code}:\n${out}\n${err}`)); });
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  return done;
}

function exitOf(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [KYSO, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((r) => child.once('exit', (code) => r({ code, stdout, stderr })));
}

/** Every stderr line is a JSON log line of the service (pino shape), none above `maxLevel`. */
function assertJsonLog(stderr: string, svc: string, maxLevel = 30): void {
  for (const line of stderr.split('\n').filter((l) => l.trim())) {
    let entry: { level?: number; time?: number; svc?: string; msg?: string };
    try { entry = JSON.parse(line); } catch { assert.fail(`not a JSON log line on stderr: ${line}`); }
    assert.equal(typeof entry.level, 'number', line);
    assert.equal(typeof entry.time, 'number', line);
    assert.equal(entry.svc, svc, line);
    assert.equal(typeof entry.msg, 'string', line);
    assert.ok(entry.level! <= maxLevel, `unexpected log line: ${line}`);
  }
}

async function health(url: string): Promise<void> {
  const r = await fetch(`${url}/healthz`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await r.json(), { status: 'ok' });
}

/** One GET over a fresh connection: the status, 'refused' when nobody listens, 'timeout' when nobody answers. */
function probe(port: number, timeoutMs: number): Promise<number | 'refused' | 'timeout'> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.setTimeout(timeoutMs, () => { req.destroy(); resolve('timeout'); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
    req.end();
  });
}

describe('kyso serve: every service standalone', function () {
  this.timeout(180_000);
  let dir: string;
  const procs: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-serve-'));
  });
  after(async () => {
    for (const p of procs) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same options and usage errors (exit 2) for every service', async () => {
    for (const svc of ['idp', 'verify', 'portal', 'signing']) {
      const help = await exitOf(['serve', svc, '--help']);
      assert.equal(help.code, 0, svc);
      for (const opt of ['--port N', '--host H', '--proxy', '/healthz']) assert.ok(help.stdout.includes(opt), `${svc} --help lacks ${opt}`);
      const noPort = await exitOf(['serve', svc]);
      assert.equal(noPort.code, 2, svc);
      assert.match(noPort.stderr, /--port is required/);
      const badPort = await exitOf(['serve', svc, '--port', '70000']);
      assert.equal(badPort.code, 2, svc);
      assert.match(badPort.stderr, /--port: must be a port number 0-65535, got '70000'/);
      const unknown = await exitOf(['serve', svc, '--port', '0', '--bogus']);
      assert.equal(unknown.code, 2, svc);
      assert.match(unknown.stderr, /--bogus/);
    }
    const noService = await exitOf(['serve', 'nope', '--port', '0']);
    assert.equal(noService.code, 2);
    assert.match(noService.stderr, /unknown service 'nope' \(available: idp, verify, portal, signing\)/);
    const badLevel = await exitOf(['serve', 'verify', '--port', '0'], { KYSO_LOG_LEVEL: 'loud' });
    assert.equal(badLevel.code, 2);
    assert.match(badLevel.stderr, /KYSO_LOG_LEVEL must be one of/);
    // the portal's secret is never an option
    const secret = await exitOf(['serve', 'portal', '--port', '0', '--issuer', 'http://127.0.0.1:1', '--client-id', 'p', '--validation-url', 'http://127.0.0.1:2', '--pki', dir], { KYSO_PORTAL_CLIENT_SECRET: '' });
    assert.equal(secret.code, 2);
    assert.match(secret.stderr, /KYSO_PORTAL_CLIENT_SECRET/);
  });

  it('idp, verify, portal and signing each run in their own process: /healthz, JSON logs on stderr, a working service, SIGTERM exits 0', async () => {
    const pki = await getTestPki();
    const clientSecret = 'portal-secret-for-the-serve-test-0123456789';
    const portalPort = await freePort();
    const seedPath = join(dir, 'seed.json');
    writeFileSync(seedPath, JSON.stringify({
      clients: [{ client_id: 'portal', client_secret: clientSecret, redirect_uris: [`http://127.0.0.1:${portalPort}/callback`], grant_types: ['authorization_code'], response_types: ['code'] },
        { client_id: 'kyso-signing', client_secret: clientSecret, redirect_uris: [], response_types: [], grant_types: ['urn:openid:params:grant-type:ciba', 'client_credentials'], backchannel_token_delivery_mode: 'poll' }],
      users: [],
    }));
    const idp = await start(['serve', 'idp', '--port', '0', '--seed', seedPath], { KYSO_IDP_SECRET_KEY: Buffer.alloc(32, 9).toString('base64') });
    procs.push(idp.child);
    const verify = await start(['serve', 'verify', '--port', '0', '--trust', pki.rootPath, '--offline']);
    procs.push(verify.child);
    const portal = await start(['serve', 'portal', '--port', String(portalPort), '--issuer', idp.url, '--client-id', 'portal', '--validation-url', verify.url, '--pki', pki.dir],
      { KYSO_PORTAL_CLIENT_SECRET: clientSecret });
    procs.push(portal.child);
    assert.equal(portal.url, `http://127.0.0.1:${portalPort}`);
    const signing = await start(['serve', 'signing', '--port', '0', '--issuer', idp.url, '--client-id', 'kyso-signing', '--tsa', pki.servers.tsaUrl],
      { KYSO_SIGNING_CLIENT_SECRET: clientSecret });
    procs.push(signing.child);
    assert.match(signing.stdout(), /kyso signing listening on http:\/\/127\.0\.0\.1:\d+ \(keys: encrypted software keystore/);

    for (const s of [idp, verify, portal, signing]) await health(s.url);
    const info = await (await fetch(`${signing.url}/csc/v2/info`)).json() as { methods: string[]; oauth2: string };
    assert.ok(info.methods.includes('signatures/signHash'), JSON.stringify(info));
    const noToken = await fetch(`${signing.url}/csc/v2/credentials/list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noToken.status, 401);
    // each does its job
    const disco = await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json() as { issuer: string };
    assert.equal(disco.issuer, idp.url);
    const id = pki.identities.citizen1;
    const backend = await loadPkcs12File(id.p12Path, id.password);
    const signed = await signPdfBytes(await makeBasicPdf(1), { backend });
    const report = await (await fetch(`${verify.url}/api/v1/validate`, { method: 'POST', body: Buffer.from(signed) })).json() as { signatures: { indication: string; subIndication: string | null }[] };
    assert.equal(report.signatures.length, 1);
    assert.notEqual(report.signatures[0]!.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND', 'the --trust anchor is used');
    const home = await fetch(`${portal.url}/`);
    assert.equal(home.status, 200);

    for (const [s, svc] of [[idp, 'kyso-idp'], [verify, 'kyso-verify'], [portal, 'kyso-portal'], [signing, 'kyso-signing']] as const) {
      assert.equal(await stop(s.child), 0, `${svc} exit code`);
      // the signing service warns (level 40) that it runs without an HSM: said at start, as it should be
      assertJsonLog(s.stderr(), svc, svc === 'kyso-signing' ? 40 : 30);
      assert.doesNotMatch(s.stderr(), /WARNING|Warning:/);
      assert.match(s.stderr(), /"msg":"listening"/);
      // stdout: the one listening line
      assert.deepEqual(s.stdout().trim().split('\n').length, 1, s.stdout());
    }
    // the verify service logs its requests (no secrets: method, path, status, time)
    assert.match(verify.stderr(), /"path":"\/api\/v1\/validate","status":200/);
  });

  it('the identity provider accepts connections only once it can answer them (fixed port: nothing hangs)', async () => {
    // on Redis, starting the provider waits on the network (key set, client records): the gap that used to exist
    // between listening and attaching the handler is wide enough to be hit
    const redis = await startRedis();
    const storage = await createStorage({ redis: redis.url, secretKey: Buffer.alloc(32, 3) });
    const port = await freePort();
    let srv: Awaited<ReturnType<typeof createIdpServer>> | undefined;
    const starting = createIdpServer({ port, storage, logger: createLogger('silent'), keyReloadMs: 0, keyPruneMs: 0 }).then((s) => { srv = s; });
    const seen: (number | 'refused' | 'timeout')[] = [];
    try {
      // connect over and over while the provider starts: each attempt is refused (not listening yet) or answered
      while (!srv || seen.at(-1) !== 200) {
        seen.push(await probe(port, 3000));
        if (seen.at(-1) === 'refused') await new Promise((r) => setTimeout(r, 2));
        if (seen.length > 20_000) break;
      }
      await starting;
      assert.ok(!seen.includes('timeout'), `a request hung: ${seen.filter((x) => x !== 'refused').join(', ')}`);
      assert.ok(seen.includes('refused'), 'the port was probed before the provider was ready');
      assert.equal(seen.at(-1), 200);
    } finally {
      await starting.catch(() => undefined);
      await srv?.close();
      await storage.close();
      await redis.stop();
    }
  });

  it('with port 0, requests that reach the port before the service is ready wait and are answered', async () => {
    let early: Promise<number | 'refused' | 'timeout'> | undefined;
    const srv = await listenWhenReady({ port: 0, host: '127.0.0.1', proxy: false }, async (url) => {
      early = probe(Number(new URL(url).port), 5000);       // arrives while the handler is still being built
      await new Promise((r) => setTimeout(r, 300));
      return (req, res) => { res.writeHead(204).end(); };
    });
    try {
      assert.equal(await early, 200, 'the early /healthz was answered once ready');
      assert.equal((await fetch(`${srv.url}/other`)).status, 204);
      await health(srv.url);
    } finally {
      await srv.close();
    }
  });

  it('kyso demo (npm start) prints only its service lines and the demo accounts', async () => {
    const demo = await start(['demo', '--port', '0', '--dir', join(dir, 'demo')], { KYSO_LOG_LEVEL: '' }, /Ctrl-C to stop\.()/);
    procs.push(demo.child);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await stop(demo.child, 'SIGINT'), 0);
    const lines = demo.stdout().trim().split('\n');
    assert.equal(lines[0], 'kyso demo ready (TEST data only)');
    assert.ok(lines.every((l) => !l.startsWith('{')), `JSON on stdout: ${demo.stdout()}`);
    assert.match(demo.stdout(), /001090000001 {2}Nguyễn Văn An {2}password demo-An-2026/);
    assert.equal(demo.stderr(), '', 'nothing else on the terminal (library warnings, info logs)');
    // one `<name>: URL` line per service (issue 14's contract), then indented details and the demo accounts
    for (const name of ['portal', 'idp', 'verify', 'signing', 'tsa', 'ocsp']) {
      assert.match(demo.stdout(), new RegExp(`^${name}: http://127\\.0\\.0\\.1:\\d+/\\S*$`, 'm'), `no ${name} line`);
    }
    for (const l of lines.slice(1, -1)) assert.match(l, /^( {2,}\S|(portal|idp|verify|signing|tsa|ocsp): http:\/\/127\.0\.0\.1:\d+\/)/, `unexpected line: ${l}`);
  });
});
