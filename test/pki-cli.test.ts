import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type TestPkiManifest } from '@kyso/fixtures';
import { fetchOcsp } from '@kyso/pki';

const KYSO = fileURLToPath(new URL('../packages/cli/bin/kyso.mjs', import.meta.url));

function kyso(args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KYSO, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kyso ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

/** Start `kyso pki serve ...`, wait for its banner line; returns the URL and a stop function. */
function serve(args: string[]): Promise<{ url: string; stdout: () => string; stop: () => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KYSO, 'pki', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kyso pki serve did not start: ${out}${err}`)); }, 30_000);
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /servers on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ url: m[1]!, stdout: () => out, stop: async () => { child.kill('SIGTERM'); return exited; } });
      }
    });
    void exited.then((code) => { clearTimeout(t); if (!/servers on/.test(out)) reject(new Error(`kyso pki serve exited ${code}: ${err}`)); });
  });
}

describe('kyso pki (CLI)', function () {
  this.timeout(120_000);
  let work: string;
  before(() => { work = mkdtempSync(join(tmpdir(), 'kyso-pki-cli-')); });
  after(() => { rmSync(work, { recursive: true, force: true }); });

  it('kyso pki --help prints usage (exit 0); bad usage exits 2', async () => {
    const h = await kyso(['pki', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /kyso pki init DIR/);
    assert.match(h.stdout, /kyso pki serve DIR/);
    const spawned = await kyso(['pki', 'frobnicate']);
    assert.equal(spawned.code, 2);
    assert.match(spawned.stderr, /^kyso pki: unknown sub-command/);
    // the rest in-process (each spawn costs a tsx start-up)
    const { command } = await import('../packages/cli/src/commands/pki.js');
    const { UsageError } = await import('../packages/cli/src/command.js');
    for (const bad of [['init'], ['init', 'a', 'b'], ['init', join(work, 'x'), '--base-url', 'nope'], ['init', join(work, 'x'), '--base-url', 'ftp://x'],
      ['serve', join(work, 'x'), '--port', '99999'], ['serve', join(work, 'x'), '--port', '-1'], ['init', join(work, 'x'), '--port', '1'], ['serve'], ['init', '--bogus', 'x']]) {
      await assert.rejects(command.run(bad), UsageError, bad.join(' '));
    }
    assert.ok(!existsSync(join(work, 'x')), 'nothing written on usage errors');
  });

  it('kyso pki init DIR writes manifest.json naming every file, all present', async () => {
    const dir = join(work, 'pki');
    const r = await kyso(['pki', 'init', dir, '--base-url', 'http://127.0.0.1:18990']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /test PKI written to/);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TestPkiManifest;
    assert.equal(m.baseUrl, 'http://127.0.0.1:18990');
    for (const n of ['citizen1', 'citizen2', 'agency', 'tsa', 'ocsp', 'revoked', 'expired', 'citizenPss', 'citizenP384', 'shortlived']) {
      const id = m.identities[n];
      assert.ok(id, n);
      for (const f of [id.cert, id.key, id.p12, id.chain!]) assert.ok(existsSync(join(dir, f)), `${n}: ${f}`);
      assert.equal(typeof id.password, 'string');
    }
    assert.equal(m.identities.citizen1.algorithm, 'RSA-2048');
    for (const f of [m.root.cert, m.intermediate.cert, m.crl]) assert.ok(existsSync(join(dir, f)), f);
    const cert = readFileSync(join(dir, m.identities.citizen1.cert), 'utf8');
    assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
    assert.match(readFileSync(join(dir, m.identities.citizen1.key), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  });

  it('kyso pki init refuses a non-empty directory without a PKI (exit 2) and leaves it untouched', async () => {
    const dir = join(work, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const r = await kyso(['pki', 'init', dir]);
    assert.equal(r.code, 2);
    assert.equal(readFileSync(join(dir, 'precious.txt'), 'utf8'), 'keep me');
    assert.ok(!existsSync(join(dir, 'manifest.json')));
  });

  it('kyso pki serve DIR listens on the manifest port by default and answers OCSP; stops on SIGTERM', async () => {
    const port = await freePort();
    const dir = join(work, 'served');
    const init = await kyso(['pki', 'init', dir, '--base-url', `http://127.0.0.1:${port}`]);
    assert.equal(init.code, 0, init.stderr);
    const s = await serve([dir]);
    try {
      assert.equal(s.url, `http://127.0.0.1:${port}`);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TestPkiManifest;
      const certPem = readFileSync(join(dir, m.identities.revoked.cert), 'utf8');
      const interPem = readFileSync(join(dir, m.intermediate.cert), 'utf8');
      const der = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
      // the URL comes from the certificate's AIA
      const r = await fetchOcsp(der(certPem), der(interPem), { cache: false });
      assert.equal(r.status, 'revoked');
      const crl = await fetch(`${s.url}/crl/intermediate.crl`);
      assert.equal(crl.status, 200);
    } finally {
      assert.equal(await s.stop(), 0);
    }
    assert.match(s.stdout(), /POST \/ocsp 200 revoked/);
  });

  it('two `kyso pki init` generate different CA keys (fresh keys by default, even when KYSO_PKI_KEY_CACHE is set); --reuse-cached-keys is the explicit opt-in', async () => {
    const { X509Certificate } = await import('node:crypto');
    const spki = (dir: string, which: 'root' | 'intermediate'): string => {
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TestPkiManifest;
      return new X509Certificate(readFileSync(join(dir, m[which].cert))).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    };
    const cache = join(work, 'key-cache');
    const env = { KYSO_PKI_KEY_CACHE: cache };
    const [a, b] = await Promise.all([kyso(['pki', 'init', join(work, 'fresh-a')], 120_000, env), kyso(['pki', 'init', join(work, 'fresh-b')], 120_000, env)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(a.stdout, /keys\s+freshly generated/);
    assert.notEqual(spki(join(work, 'fresh-a'), 'root'), spki(join(work, 'fresh-b'), 'root'), 'two PKIs are not the same root CA');
    assert.notEqual(spki(join(work, 'fresh-a'), 'intermediate'), spki(join(work, 'fresh-b'), 'intermediate'));
    assert.ok(!existsSync(cache), 'fresh keys are not written to the cache');
    const c = await kyso(['pki', 'init', join(work, 'cached-c'), '--reuse-cached-keys'], 120_000, env);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /keys\s+REUSED from the test key cache/);
    const d = await kyso(['pki', 'init', join(work, 'cached-d'), '--reuse-cached-keys'], 120_000, env);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(spki(join(work, 'cached-c'), 'root'), spki(join(work, 'cached-d'), 'root'), 'opted in: the cached keys are shared');
    assert.notEqual(spki(join(work, 'cached-c'), 'root'), spki(join(work, 'fresh-a'), 'root'));
  });

  it('kyso pki serve on a missing directory fails with exit 1 and a one-line reason', async () => {
    const r = await kyso(['pki', 'serve', join(work, 'does-not-exist')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PKI_MANIFEST/);
  });
});
