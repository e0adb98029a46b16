/**
 * Test-PKI fixture servers against their peer: kyso's OCSP responder (node:http, pkijs) vs the
 * `openssl ocsp` responder (OpenSSL 3, single process, same index of issued/revoked serials, same
 * delegated responder key), both answering the same OCSP request for the revoked identity, plus
 * the TSA (no OpenSSL TSA server exists: its peer is one `openssl ts -reply` run per token).
 *   node --import tsx bench/pki.ts
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createTestPki, freePort, type CaDatabase } from '@kyso/fixtures';
import { buildOcspRequest, buildTimestampRequest, parseCertificate, fetchOcsp } from '@kyso/pki';
import { createHash, randomBytes } from 'node:crypto';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 4);
const CONNECTIONS = 4;

function opensslTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/**
 * Closed-loop load: CONNECTIONS workers, each POSTing on a fresh connection (the openssl responder
 * speaks HTTP/1.0 and closes after every answer, so both sides pay the same connection cost).
 */
async function load(url: string, body: Buffer, type: string): Promise<{ rps: number; p99: number; errors: number }> {
  const u = new URL(url);
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + DURATION * 1000;
  const one = () => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': type, 'content-length': body.length, connection: 'close' } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => { if (res.statusCode === 200 && n > 5) lat.push(performance.now() - t0); else errors++; resolve(); });
      res.on('error', () => { errors++; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
  });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => { while (performance.now() < end) await one(); }));
  lat.sort((a, b) => a - b);
  return { rps: lat.length / DURATION, p99: Math.round(lat[Math.floor(lat.length * 0.99)] ?? NaN), errors };
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`peer exited ${child.exitCode}`);
    try { await fetch(url, { method: 'POST', body: new Uint8Array([0x30, 0]), headers: { 'content-type': 'application/ocsp-request' } }); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error('peer did not start');
}

const dir = mkdtempSync(join(tmpdir(), 'kyso-bench-pki-'));
const rows: [string, string, string, string][] = [];
let peer: ChildProcess | undefined;
let kysoServer: ChildProcess | undefined;
try {
  // kyso's servers run in their own process (`kyso pki serve`), like the openssl peer
  const kysoPort = await freePort();
  const pki = await createTestPki(dir, { baseUrl: `http://127.0.0.1:${kysoPort}` });
  kysoServer = spawn(process.execPath, [fileURLToPath(new URL('../packages/cli/bin/kyso.mjs', import.meta.url)), 'pki', 'serve', dir], { stdio: 'ignore' });
  const servers = { ocspUrl: `http://127.0.0.1:${kysoPort}/ocsp`, tsaUrl: `http://127.0.0.1:${kysoPort}/tsa` };
  await waitFor(servers.ocspUrl, kysoServer);

  // the peer: openssl ocsp with an index built from the same CA database
  const db = JSON.parse(readFileSync(join(dir, 'ca/database.json'), 'utf8')) as CaDatabase;
  const index = db.entries.filter((e) => e.issuer === 'intermediate').map((e) => [
    e.revokedAt ? 'R' : 'V', opensslTime(new Date(e.notAfter)), e.revokedAt ? `${opensslTime(new Date(e.revokedAt))},keyCompromise` : '',
    e.serialHex.toUpperCase(), 'unknown', `/CN=${e.name}`,
  ].join('\t')).join('\n') + '\n';
  writeFileSync(join(dir, 'index.txt'), index);
  writeFileSync(join(dir, 'ocsp.key'), createPrivateKey(pki.identities.ocsp.keyPem).export({ type: 'pkcs8', format: 'pem' }));
  const port = await freePort();
  peer = spawn('openssl', ['ocsp', '-index', join(dir, 'index.txt'), '-port', String(port), '-rsigner', pki.identities.ocsp.certPath,
    '-rkey', join(dir, 'ocsp.key'), '-CA', pki.intermediatePath, '-nmin', '60', '-ignore_err'], { stdio: 'ignore' });
  const peerUrl = `http://127.0.0.1:${port}`;
  await waitFor(peerUrl, peer);

  // both must give the same answer before we time them
  for (const url of [servers.ocspUrl, peerUrl]) {
    const r = await fetchOcsp(pki.identities.revoked.certDer, pki.intermediateDer, { url, cache: false });
    if (r.status !== 'revoked') throw new Error(`${url} says ${r.status} for the revoked identity`);
  }
  const req = Buffer.from(buildOcspRequest(parseCertificate(pki.identities.revoked.certDer), parseCertificate(pki.intermediateDer), new Uint8Array(randomBytes(16))));
  // two alternating rounds, best of each (the machine may be shared)
  const best = (a: Awaited<ReturnType<typeof load>>, b: Awaited<ReturnType<typeof load>>) => (a.rps >= b.rps ? a : b);
  let k = await load(servers.ocspUrl, req, 'application/ocsp-request');
  let o = await load(peerUrl + '/', req, 'application/ocsp-request');
  k = best(k, await load(servers.ocspUrl, req, 'application/ocsp-request'));
  o = best(o, await load(peerUrl + '/', req, 'application/ocsp-request'));
  rows.push(['OCSP responder, req/s (revoked, nonce, 4 clients)', k.rps.toFixed(0), o.rps.toFixed(0), (k.rps / o.rps).toFixed(2)]);
  rows.push(['OCSP responder, p99 latency ms', String(k.p99), String(o.p99), (k.p99 / Math.max(o.p99, 1)).toFixed(2)]);
  if (k.errors || o.errors) rows.push(['OCSP errors (must be 0)', String(k.errors), String(o.errors), '-']);

  // TSA: kyso server vs one `openssl ts -reply` per token (OpenSSL has no TSA server)
  const tsq = Buffer.from(buildTimestampRequest(new Uint8Array(createHash('sha256').update('bench').digest()), 'SHA-256', { certReq: true }));
  const t = await load(servers.tsaUrl, tsq, 'application/timestamp-query');
  writeFileSync(join(dir, 'q.tsq'), tsq);
  writeFileSync(join(dir, 'tsa.key'), createPrivateKey(pki.identities.tsa.keyPem).export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'ts.cnf'), `[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = ${join(dir, 'serial')}\ndefault_policy = ${pki.tsaPolicy}\ndigests = sha256\nsigner_digest = sha256\ness_cert_id_alg = sha256\naccuracy = secs:1\n`);
  writeFileSync(join(dir, 'serial'), '01\n');
  const n = 30;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    execFileSync('openssl', ['ts', '-reply', '-config', join(dir, 'ts.cnf'), '-queryfile', join(dir, 'q.tsq'), '-signer', pki.identities.tsa.certPath,
      '-inkey', join(dir, 'tsa.key'), '-chain', pki.intermediatePath, '-out', join(dir, 'r.tsr')], { stdio: 'ignore' });
  }
  const opensslTsaRps = n / ((performance.now() - t0) / 1000);
  rows.push(['TSA tokens/s (kyso server, 4 clients | openssl ts -reply CLI)', t.rps.toFixed(0), opensslTsaRps.toFixed(0), (t.rps / opensslTsaRps).toFixed(2)]);
  if (t.errors) rows.push(['TSA errors (must be 0)', String(t.errors), '-', '-']);

  // generating a test PKI (cached keys): kyso in-process
  const g0 = performance.now();
  for (let i = 0; i < 3; i++) await createTestPki(join(dir, `gen${i}`));
  rows.push(['createTestPki, ms (13 certs, 2 CRLs, 12 PKCS#12; peer: n/a)', ((performance.now() - g0) / 3).toFixed(0), '-', '-']);
} finally {
  peer?.kill();
  kysoServer?.kill();
  rmSync(dir, { recursive: true, force: true });
}

const w = [Math.max(...rows.map((r) => r[0].length), 4), 8, 8, 6];
const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(' | ');
console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
console.log(line(['case', 'kyso', 'peer', 'ratio']));
console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
for (const r of rows) console.log(line(r));
