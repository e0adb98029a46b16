/**
 * The installed `kyso` command's start-up (packages/cli/bin/kyso.cjs run through its shebang, compiled bundle):
 *  - NODE_EXTRA_CA_CERTS is deferred: Node does not read the file at start-up, and kyso's https clients still trust
 *    its CAs (a B-T signature through an https TSA whose TLS certificate only that file's CA vouches for);
 *  - the one-file bundle runs with its V8 code cache; a cache V8 refuses (damaged, other flags) changes nothing but
 *    speed.
 * The bundle is built first (scripts/build.mjs cli: esbuild and the cache's training run, a few seconds).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTestPki, type FixtureServers, type TestPki } from '@kyso/fixtures';
import { makeBasicPdf } from '../fixtures/pdf/samples.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/kyso.cjs');

/** The environment of a user's shell: no test-runner loader, compiled kyso. */
function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', KYSO_RUN: 'dist' };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.KYSO_DEFERRED_CA_CERTS;
  for (const [k, v] of Object.entries(extra)) { if (v === undefined) delete env[k]; else env[k] = v; }
  return env;
}

/** Runs a command; exit code, stdout and stderr. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('installed kyso start-up: deferred NODE_EXTRA_CA_CERTS, code cache', function () {
  this.timeout(300_000);
  let dir: string;
  let pki: TestPki & { servers: FixtureServers };
  let https: Server;
  let httpsUrl: string;
  let tsaRequests = 0;
  let pdf: string;
  let key: string[];

  before(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), 'cli'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: userEnv() });
    dir = mkdtempSync(join(tmpdir(), 'kyso-startup-'));
    pki = await getTestPki();
    // a TLS CA of its own (not the signing PKI) and a server certificate for 127.0.0.1
    const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls-ca.key', '-out', 'tls-ca.pem', '-subj', '/CN=kyso TLS test CA', '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'srv.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'tls-ca.pem', '-CAkey', 'tls-ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'srv.ext');
    // a CA bundle as distributions ship one: the TLS CA among other certificates
    writeFileSync(join(dir, 'bundle.pem'), `${pki.rootPem}\n${readFileSync(join(dir, 'tls-ca.pem'), 'utf8')}`);
    // an https front of the fixture TSA
    https = createServer({ key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        tsaRequests++;
        fetch(pki.servers.tsaUrl, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: Buffer.concat(chunks) })
          .then(async (r) => { res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? '' }); res.end(Buffer.from(await r.arrayBuffer())); })
          .catch(() => { res.writeHead(502); res.end(); });
      });
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}/tsa`;
    pdf = join(dir, 'in.pdf');
    writeFileSync(pdf, await makeBasicPdf(1));
    const id = pki.identities.citizen1;
    key = ['--p12', id.p12Path, '--password-env', 'KYSO_TEST_P12_PASSWORD'];
    process.env.KYSO_TEST_P12_PASSWORD = id.password;
  });
  after(async () => {
    delete process.env.KYSO_TEST_P12_PASSWORD;
    await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Node reads NODE_EXTRA_CA_CERTS at start-up, the installed kyso does not (no warning for an unreadable file)', async () => {
    const missing = join(dir, 'no-such-bundle.pem');
    const plain = await run(process.execPath, [BIN, 'verify', '--help'], userEnv({ NODE_EXTRA_CA_CERTS: missing }));
    assert.equal(plain.code, 0);
    assert.match(plain.stderr, /Ignoring extra certs from/, 'control: node itself reads the file at start-up');
    const installed = await run(BIN, ['verify', '--help'], userEnv({ NODE_EXTRA_CA_CERTS: missing }));
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /Usage: kyso verify/);
    assert.doesNotMatch(installed.stderr, /Ignoring extra certs/);
  });

  it('an https TSA trusted only through NODE_EXTRA_CA_CERTS: B-T signs with the bundle, is refused without it', async () => {
    const args = (out: string) => ['sign', pdf, '-o', join(dir, out), ...key, '--level', 'B-T', '--tsa', httpsUrl, '--offline'];
    const before = tsaRequests;
    const withCa = await run(BIN, args('with-ca.pdf'), userEnv({ NODE_EXTRA_CA_CERTS: join(dir, 'bundle.pem') }));
    assert.equal(withCa.code, 0, withCa.stderr);
    assert.equal(tsaRequests, before + 1, 'the timestamp came through the https front');
    const v = await run(BIN, ['verify', join(dir, 'with-ca.pdf'), '--trust', pki.rootPath, '--offline', '--no-revocation', '--json'], userEnv());
    assert.equal(JSON.parse(v.stdout).signatures[0].level, 'PAdES-BASELINE-T', v.stderr);

    const without = await run(BIN, args('without-ca.pdf'), userEnv());
    assert.equal(without.code, 4, without.stderr);
    assert.match(without.stderr, /TSA_UNREACHABLE/);
    const unreadable = await run(BIN, args('unreadable-ca.pdf'), userEnv({ NODE_EXTRA_CA_CERTS: join(dir, 'no-such-bundle.pem') }));
    assert.equal(unreadable.code, 4, unreadable.stderr);
    assert.match(unreadable.stderr, /Ignoring extra certs from `.*no-such-bundle\.pem`, load failed/);
  });

  it('the one-shot commands run the bundle with its code cache; a cache V8 refuses gives the same result', async () => {
    const signed = join(dir, 'cached.pdf');
    const s = await run(BIN, ['sign', pdf, '-o', signed, ...key, '--offline'], userEnv({ KYSO_CODE_CACHE_DEBUG: '1' }));
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /^kyso: code cache accepted$/m);
    const verifyArgs = ['verify', signed, '--trust', pki.rootPath, '--offline', '--no-revocation', '--json'];
    const a = await run(BIN, verifyArgs, userEnv({ KYSO_CODE_CACHE_DEBUG: '1' }));
    assert.match(a.stderr, /^kyso: code cache accepted$/m);
    // other V8 flags than the shebang's: V8 refuses the cache, the command works the same
    const flags = await run(process.execPath, [BIN, ...verifyArgs], userEnv({ KYSO_CODE_CACHE_DEBUG: '1' }));
    assert.match(flags.stderr, /^kyso: code cache rejected$/m);
    // a damaged cache (a copy of the command with its cache's bytes flipped)
    const copy = join(dir, 'cli-copy');
    for (const d of ['bin', 'bundle']) mkdirSync(join(copy, d), { recursive: true });
    for (const f of ['package.json', 'bin/kyso.cjs', 'bin/run-bundle.cjs', 'bin/kyso.mjs', 'bundle/cli.cjs']) copyFileSync(join(ROOT, 'packages/cli', f), join(copy, f));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules')); // the packages the bundle does not inline
    const cache = readFileSync(join(ROOT, 'packages/cli/bundle/cli.cjs.cache'));
    for (let i = 64; i < cache.length; i += 4096) cache[i] ^= 0xff;
    writeFileSync(join(copy, 'bundle/cli.cjs.cache'), cache);
    const damaged = await run(join(copy, 'bin/kyso.cjs'), verifyArgs, userEnv({ KYSO_CODE_CACHE_DEBUG: '1' }));
    assert.match(damaged.stderr, /^kyso: code cache damaged$/m);
    // the intact cache beside another bundle of the same length (one character changed): not given to V8 either
    copyFileSync(join(ROOT, 'packages/cli/bundle/cli.cjs.cache'), join(copy, 'bundle/cli.cjs.cache'));
    const src = readFileSync(join(copy, 'bundle/cli.cjs'), 'utf8');
    const at = src.indexOf('kyso');
    writeFileSync(join(copy, 'bundle/cli.cjs'), src.slice(0, at) + 'KYSO' + src.slice(at + 4));
    const other = await run(join(copy, 'bin/kyso.cjs'), verifyArgs, userEnv({ KYSO_CODE_CACHE_DEBUG: '1' }));
    assert.match(other.stderr, /^kyso: code cache damaged$/m);
    // the same verdict, signature by signature (the report's own times differ from run to run)
    const strip = (out: string) => JSON.stringify((JSON.parse(out) as { documentIndication: string; signatures: { indication: string; subIndication?: string; level: string; signer?: unknown }[] }),
      (k, v: unknown) => (/time|Time|At$|^at$/.test(k) ? undefined : v));
    assert.equal(a.code, 0, a.stderr);
    for (const r of [flags, damaged, other]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(strip(r.stdout), strip(a.stdout));
    }
  });
});
