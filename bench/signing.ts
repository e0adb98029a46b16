/**
 * Remote signing benchmark (`npm run bench -- signing`): signatures/signHash throughput and p99 at 50
 * connections (autocannon) against the signing service with keys in SoftHSM2 (RSA-2048 and ECDSA P-256), SAD
 * checks (atomic single-use consumption), rate limit, idempotency-free path and the hash-chained audit append
 * included — beside the raw SoftHSM2 signing rate of the same key, measured in the same run with the same number
 * of PKCS#11 sessions. Store: the embedded memory store and Redis. Plus the cost of one whole remote PDF
 * signature (CSC client → authorize → signHash → PAdES B-B), the human approval excluded.
 * Bench shortcuts (see bench/signing-server.ts): fixed bearer token, automatic approval.
 * The service runs compiled (dist/, built first), as deployed; BENCH_SOURCE=1 runs the TypeScript sources.
 * Env: BENCH_SECONDS (default 5), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50), BENCH_SESSIONS (signing threads, one PKCS#11 session each: the number of CPUs, at least 2), BENCH_KEYS=ec,rsa, BENCH_PDF (0: skip the whole-PDF row), BENCH_PROF=dir (--cpu-prof of the service), BENCH_STORES=memory,redis
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startRedis, type RedisInstance } from '@kyso/fixtures';

interface AcResult { requests: { average: number; total: number }; latency: { p99: number; p50: number }; non2xx: number; errors: number; timeouts: number; '2xx': number }
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<AcResult>;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? Math.max(2, cpus().length));
const STORES = (process.env.BENCH_STORES ?? 'memory,redis').split(',');
const KEYS = (process.env.BENCH_KEYS ?? 'ec,rsa').split(',') as ('ec' | 'rsa')[];
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'kyso-bench';
const PIN = '123456';
const BEARER = 'bench-bearer-token-0123456789';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const ALGO = { rsa: '1.2.840.113549.1.1.1', ec: '1.2.840.10045.4.3.2' } as const;

const hsmDir = mkdtempSync(join(tmpdir(), 'kyso-bench-hsm-'));
mkdirSync(join(hsmDir, 'tokens'));
writeFileSync(join(hsmDir, 'softhsm2.conf'), `directories.tokendir = ${join(hsmDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
process.env.SOFTHSM2_CONF = join(hsmDir, 'softhsm2.conf');
execFileSync('softhsm2-util', ['--init-token', '--free', '--label', TOKEN, '--pin', PIN, '--so-pin', '87654321'], { stdio: 'ignore' });

// The service is measured as it is deployed: the compiled JavaScript of @kyso/service-signing and the packages it
// uses (dist/, brought up to date here), not the TypeScript sources through tsx (whose keepNames helpers alone cost
// the event loop ~3 % per request). BENCH_SOURCE=1 measures the sources instead.
const FROM_SOURCE = process.env.BENCH_SOURCE === '1';
if (!FROM_SOURCE) {
  process.stderr.write('building dist/ (scripts/build.mjs) ...\n');
  execFileSync(process.execPath, [join(import.meta.dirname, '../scripts/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
}
/** NODE_OPTIONS of the service's process: without the kyso-source condition, @kyso/* resolve to dist/. */
const childNodeOptions = FROM_SOURCE ? process.env.NODE_OPTIONS ?? '' : (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => o && o !== '--conditions=kyso-source').join(' ');

interface Child { child: ChildProcess; url: string; ceilingUrl: string; creds: Record<'rsa' | 'ec', { id: string; keyId: string; certificate: string }>; cpu(): Promise<{ cpuMicros: number; eluIdle: number; eluActive: number }> }

async function startChild(redisUrl?: string): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []), join(import.meta.dirname, 'signing-server.ts')], {
    env: { ...process.env, NODE_OPTIONS: childNodeOptions, BENCH_TOKEN: TOKEN, BENCH_PIN: PIN, BENCH_SESSIONS: String(SESSIONS), BENCH_CEILING: '1', ...(redisUrl ? { REDIS_URL: redisUrl } : { REDIS_URL: '' }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  rl.on('line', (l) => { lines.push(l); wake?.(); });
  const nextLine = async () => {
    while (!lines.length) await new Promise<void>((r) => { wake = r; });
    return lines.shift()!;
  };
  const exited = new Promise<never>((_, reject) => child.once('exit', (c) => reject(new Error(`signing server exited (${c})`))));
  exited.catch(() => {});
  const info = JSON.parse(await Promise.race([nextLine(), exited])) as { port: number; ceilingPort: number; creds: Child['creds'] };
  const cpu = async () => { child.kill('SIGUSR2'); return JSON.parse(await nextLine()) as { cpuMicros: number; eluIdle: number; eluActive: number }; };
  return { child, url: `http://127.0.0.1:${info.port}`, ceilingUrl: `http://127.0.0.1:${info.ceilingPort}`, creds: info.creds, cpu };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await res.json() as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(j)}`);
  return j;
}

/** Request bodies, each with its own pre-authorized hash (one SAD per 1000 hashes). */
async function bodies(c: Child, key: 'rsa' | 'ec', n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const hashes = Array.from({ length: Math.min(1000, n - i) }, () => randomBytes(32).toString('base64'));
    const { SAD } = await post(`${c.url}/csc/v2/credentials/authorize`, { credentialID: c.creds[key].id, numSignatures: hashes.length, hashes, hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '123456' }] });
    for (const h of hashes) out.push(JSON.stringify({ credentialID: c.creds[key].id, SAD, hashes: [h], hashAlgorithmOID: SHA256, signAlgo: ALGO[key] }));
  }
  return out;
}

/** Busy CPU time of the whole machine (all cores, ms) from /proc/stat. */
function machineBusy(): { busyMs: number; at: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return { busyMs: busy * 10, at: performance.now() };
  } catch { return { busyMs: NaN, at: performance.now() }; }
}

async function load(c: Child, key: 'rsa' | 'ec', seconds: number, expectRate: number, url = c.url) {
  const list = await bodies(c, key, Math.ceil(expectRate * seconds * 1.6) + 2000);
  let next = 0;
  let ranOut = 0;
  const cpu0 = await c.cpu();
  const machine0 = machineBusy();
  const self0 = process.cpuUsage();
  const r = await autocannon({
    url, connections: CONNECTIONS, duration: seconds,
    requests: [{
      method: 'POST', path: '/csc/v2/signatures/signHash', headers: { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' },
      setupRequest: (req: Record<string, unknown>) => { const b = list[next++]; if (!b) ranOut++; return { ...req, body: b ?? list[0] }; },
    }],
  });
  const machine1 = machineBusy();
  const selfUs = process.cpuUsage(self0);
  const cpu1 = await c.cpu();
  const cpuMs = (cpu1.cpuMicros - cpu0.cpuMicros) / 1000;
  const busy = (cpu1.eluActive - cpu0.eluActive) / (cpu1.eluActive - cpu0.eluActive + cpu1.eluIdle - cpu0.eluIdle);
  // what the rest of the machine used meanwhile (other users; with Redis, redis-server too), in cores
  const others = Math.max(0, (machine1.busyMs - machine0.busyMs) - cpuMs - (selfUs.user + selfUs.system) / 1000) / ((machine1.at - machine0.at));
  return { others, rps: r['2xx'] / seconds, p99: r.latency.p99, p50: r.latency.p50, errors: r.non2xx + r.errors + r.timeouts, ranOut, cpuPerOp: r['2xx'] ? cpuMs / r['2xx'] : NaN, busy };
}

/**
 * Raw SoftHSM2 rate of the same key, measured the way the service signs: the same signing-thread pool (same
 * number of threads, one session each, C_SignInit + C_Sign per signature), fed as fast as it takes digests —
 * no HTTP, no SAD, no audit. In this process, while the service is idle.
 */
async function raw(c: Child, key: 'rsa' | 'ec', seconds: number): Promise<{ rate: number; cpuPerOp: number }> {
  const { Pkcs11SigningPool } = await import('@kyso/service-signing');
  const pool = await Pkcs11SigningPool.open({ module: MODULE, token: TOKEN, pin: PIN, threads: SESSIONS });
  const mech = key === 'rsa' ? { scheme: 'RSA-PKCS1' as const, hash: 'SHA-256' as const } : { scheme: 'ECDSA' as const };
  const keyId = c.creds[key].keyId;
  let count = 0;
  const run = async (until: number, counting: boolean) => Promise.all(Array.from({ length: SESSIONS * 16 }, async () => {
    while (Date.now() < until) { await pool.sign(keyId, mech, randomBytes(32)); if (counting) count++; }
  }));
  await run(Date.now() + 300, false);
  const cpu0 = process.cpuUsage();
  await run(Date.now() + seconds * 1000, true);
  const used = process.cpuUsage(cpu0);
  await pool.close();
  return { rate: count / seconds, cpuPerOp: (used.user + used.system) / 1000 / count };
}

/** One whole remote PDF signature through the CSC client (authorize + signHash + PAdES B-B), mean of n. */
async function wholePdf(c: Child, n: number): Promise<number> {
  const { CscKeyBackend, signPdf } = await import('@kyso/signer');
  const { makeBasicPdf } = await import('../fixtures/pdf/samples.js');
  const dir = mkdtempSync(join(tmpdir(), 'kyso-bench-pdf-'));
  const input = join(dir, 'in.pdf');
  writeFileSync(input, await makeBasicPdf(1));
  const backend = await CscKeyBackend.open({ url: c.url, credentialId: c.creds.ec.id, token: BEARER, pin: '123456' });
  await signPdf(input, join(dir, 'w.pdf'), { backend });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await signPdf(input, join(dir, `o${i}.pdf`), { backend });
  const ms = (performance.now() - t0) / n;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const rows: string[][] = [];
let redis: RedisInstance | undefined;
try {
  for (const store of STORES) {
    if (store === 'redis') redis = await startRedis();
    const c = await startChild(store === 'redis' ? redis!.url : undefined);
    try {
      for (const key of KEYS) {
        await load(c, key, WARMUP, key === 'ec' ? 8000 : 2500);
        // the raw rate in two halves, before and after the service run: the machine's load drifts
        const rawSeconds = Math.max(1, Math.min(SECONDS, 4) / 2);
        const rw1 = await raw(c, key, rawSeconds);
        const svc = await load(c, key, SECONDS, key === 'ec' ? 8000 : 2500);
        // the ceiling: a bare node:http server on the same signing threads (see bench/signing-server.ts), same load
        const ceil = await load(c, key, SECONDS, key === 'ec' ? 8000 : 2500, c.ceilingUrl);
        const rw2 = await raw(c, key, rawSeconds);
        const rw = { rate: (rw1.rate + rw2.rate) / 2, cpuPerOp: (rw1.cpuPerOp + rw2.cpuPerOp) / 2 };
        const rawRate = rw.rate;
        const name = key === 'ec' ? 'P-256' : 'RSA-2048';
        const target = key === 'ec' ? 3000 : 1000;
        rows.push([`signHash ${name} (${store})`, svc.rps.toFixed(0), `${svc.p99} ms`, rawRate.toFixed(0), `${((svc.rps / rawRate) * 100).toFixed(0)} %`, `≥${target}/s, p99<100, ≥70 %`, `${svc.errors}${svc.ranOut ? ` (ran out: ${svc.ranOut})` : ''}`, `${svc.cpuPerOp.toFixed(2)} / ${rw.cpuPerOp.toFixed(2)} ms (${((rw.cpuPerOp / svc.cpuPerOp) * 100).toFixed(0)} %)`, `${(svc.busy * 100).toFixed(0)} %`, svc.others.toFixed(2)]);
        console.log(`  ${rows[rows.length - 1]!.join(' | ')}`);
        if (ceil) {
          rows.push([`  ceiling: bare node:http + same threads, ${name}${store === 'redis' ? ' + SREM/XADD' : ''}`, ceil.rps.toFixed(0), `${ceil.p99} ms`, rawRate.toFixed(0), `${((ceil.rps / rawRate) * 100).toFixed(0)} %`, 'not kyso: the limit', `${ceil.errors}`, `${ceil.cpuPerOp.toFixed(2)} / ${rw.cpuPerOp.toFixed(2)} ms (${((rw.cpuPerOp / ceil.cpuPerOp) * 100).toFixed(0)} %)`, `${(ceil.busy * 100).toFixed(0)} %`, ceil.others.toFixed(2)]);
          console.log(`  ${rows[rows.length - 1]!.join(' | ')}`);
        }
      }
      if (store === STORES[0] && process.env.BENCH_PDF !== '0') {
        const ms = await wholePdf(c, 20);
        rows.push([`whole remote PDF B-B (${store}, P-256)`, `${(1000 / ms).toFixed(1)}/s`, `${ms.toFixed(1)} ms mean`, '', '', 'human excluded', '0', '', '', '']);
      }
    } finally {
      c.child.kill('SIGTERM');
      await new Promise((r) => c.child.once('exit', r));
      await redis?.stop();
      redis = undefined;
    }
  }
} finally {
  rmSync(hsmDir, { recursive: true, force: true });
}
const head = ['case', 'kyso signHash/s', 'p99', 'raw SoftHSM2 sign/s (peer)', 'ratio', 'target', 'errors', 'CPU per signature: service / raw (raw÷service)', 'service main thread busy', 'others\' CPU (cores)'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`\n${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP} s warm-up, ${SESSIONS} signing threads with a PKCS#11 session each (service and raw alike), loopback, ${cpus().length} cores shared by autocannon, the service${STORES.includes('redis') ? ', redis-server' : ''} and other users of the machine.`);
console.log('CPU per signature = process CPU time (all threads) / signatures: a load-independent view of the overhead on this shared machine.');
console.log('Others\' CPU = machine CPU (from /proc/stat) used during the measured run by everything but this benchmark and the service (redis-server included): what the service could not use.');
console.log('Ceiling = a bare node:http server (no Koa, token, SAD, rate limit, idempotency or hash-chained audit; with Redis one SREM before and one XADD after each signature) that signs each request\'s hashes through the same signing threads, under the same load: the best ratio a Node.js HTTP front end reaches here.');
console.log('Service main thread busy = event-loop utilisation during the measured run (100 %: the JavaScript thread is the bottleneck; time it waited for a core counts as busy).');
console.log(fmt(head));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(fmt(r));
