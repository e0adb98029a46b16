/**
 * Identity-provider benchmark: vanilla oidc-provider (in-memory adapter, one process, opaque tokens) against
 * kyso's identity provider backed by Redis, in one process and in two processes sharing Redis (and kyso on its
 * in-memory store, to separate the cost of kyso's layer from the cost of Redis).
 * Cases: client_credentials, refresh-token grants (rotation on: each connection follows its own token chain),
 * introspection, userinfo — at 50 and 100 connections; plus password logins/s with the chosen argon2id
 * parameters. Loopback only, bounded duration (BENCH_SECONDS, default 5 per run).
 *   cd /work/main && node --import tsx bench/idp.ts
 * Every server is warmed up (BENCH_WARMUP_SECONDS, default 2, at 50 connections; refresh_token at 20) before the
 * measured runs.
 * Each configuration is measured BENCH_REPEAT times (default 3, fresh servers each time); the median run is reported.
 * Env: BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_REPEAT, BENCH_CASES=client_credentials,refresh_token,introspection,userinfo,logins, BENCH_CONNECTIONS=50,100
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { startRedis } from '@kyso/fixtures';
import { createStorage, DEFAULT_ARGON2 } from '@kyso/idp';
import { serverNodeFlags } from '../packages/cli/bin/server-flags.mjs';
import { stockCopy } from '../scripts/patch-deps.mjs';

/** The peer runs oidc-provider as published, without kyso's dependency patches (scripts/patch-deps.mjs). */
let stockDir: string | undefined;
const stockOidcProvider = () => (stockDir ??= stockCopy('oidc-provider'));

interface AcResult { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number; timeouts: number }
type AcRequest = Record<string, unknown>;
interface AcOptions { url: string; connections: number; duration: number; requests: AcRequest[] }
const autocannon = createRequire(import.meta.url)('autocannon') as (o: AcOptions) => Promise<AcResult>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));

/** Median run of several (by throughput; its p99 is reported with it; errors are summed over all runs). */
function median(rs: Result[]): Result {
  const sorted = [...rs].sort((a, b) => a.rps - b.rps);
  const m = sorted[Math.floor(sorted.length / 2)]!;
  return { ...m, errors: rs.reduce((a, r) => a + r.errors, 0) };
}
const HERE = import.meta.dirname;
const SVC_AUTH = `Basic ${Buffer.from('bench-svc:bench-svc-secret-0123456789').toString('base64')}`;
const RP_AUTH = `Basic ${Buffer.from('bench-rp:bench-rp-secret-01234567890').toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

interface Server { child: ChildProcess; port: number; refreshTokens: string[]; accessToken: string }

async function startServer(mode: 'vanilla' | 'kyso' | 'kyso-memory', redisUrl?: string): Promise<Server> {
  const port = await freePort();
  // kyso's servers run with the Node flags `kyso serve idp` starts them with; vanilla with Node's defaults
  const flags = mode === 'vanilla' ? [] : serverNodeFlags(process.env, []);
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', join(HERE, 'idp-server.ts'), mode, String(port), redisUrl ?? '', '200'], {
    cwd: join(HERE, '..'), stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KYSO_IDP_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'), ...(mode === 'vanilla' ? { KYSO_BENCH_STOCK_OIDC_PROVIDER: stockOidcProvider() } : {}) },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  child.stdout!.on('data', (d) => { out += d; });
  const jsonLine = () => out.split('\n').find((l) => l.startsWith('{"port"') && l.endsWith('}'));
  for (let i = 0; i < 300 && !jsonLine(); i++) await new Promise((r) => setTimeout(r, 100));
  const line = jsonLine();
  if (!line) { child.kill('SIGKILL'); throw new Error(`${mode} server did not start: ${err.slice(-500)}`); }
  return { child, ...(JSON.parse(line) as Omit<Server, 'child'>) };
}

type Case = 'client_credentials' | 'refresh_token' | 'introspection' | 'userinfo';

function requestsFor(c: Case, s: Server, connections: number): AcRequest[] {
  switch (c) {
    case 'client_credentials':
      return [{ method: 'POST', path: '/token', headers: { authorization: SVC_AUTH, 'content-type': FORM }, body: 'grant_type=client_credentials' }];
    case 'introspection':
      return [{ method: 'POST', path: '/token/introspection', headers: { authorization: RP_AUTH, 'content-type': FORM }, body: `token=${s.accessToken}` }];
    case 'userinfo':
      return [{ method: 'GET', path: '/me', headers: { authorization: `Bearer ${s.accessToken}` } }];
    case 'refresh_token': {
      // rotation is on, so every refresh token is single-use: requests take a token from the pool and put
      // the rotated one back (autocannon resets per-request context, so the pool is shared). The pool is kept
      // small (200) because vanilla's in-memory adapter is an LRU of 1,000 entries that would evict waiting tokens.
      const pool = s.refreshTokens;
      if (pool.length < connections) throw new Error('not enough refresh tokens for the connections');
      return [{
        method: 'POST', path: '/token', headers: { authorization: RP_AUTH, 'content-type': FORM },
        setupRequest(req: Record<string, unknown>) {
          return { ...req, body: `grant_type=refresh_token&refresh_token=${pool.shift() ?? 'exhausted'}` };
        },
        onResponse(status: number, body: string) {
          if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        },
      }];
    }
  }
}

interface Result { rps: number; p99: number; errors: number }

async function run(c: Case, servers: Server[], connections: number, seconds = SECONDS): Promise<Result> {
  const per = Math.floor(connections / servers.length);
  const results = await Promise.all(servers.map((s) => autocannon({
    url: `http://127.0.0.1:${s.port}`, connections: per, duration: seconds, requests: requestsFor(c, s, per),
  })));
  return {
    rps: results.reduce((a, r) => a + r.requests.average, 0),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0),
  };
}

async function passwordLogins(): Promise<number> {
  const storage = await createStorage({ secretKey: Buffer.alloc(32, 1) });
  const id = '001090012345';
  await storage.accounts.create({ id, password: 'bench password 123', name: 'A', birthdate: '1990-01-01', gender: 'male', level: 1 });
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  const worker = async () => { while (Date.now() < end) { const r = await storage.accounts.verifyPassword(id, 'bench password 123'); if (r.ok) n++; } };
  const start = Date.now();
  await Promise.all(Array.from({ length: cpus().length }, worker));
  const rate = n / ((Date.now() - start) / 1000);
  await storage.close();
  return rate;
}

const fmt = (r: Result) => `${Math.round(r.rps)}/s p99 ${r.p99} ms${r.errors ? ` (${r.errors} err)` : ''}`;

async function main() {
  const redis = await startRedis();
  const rows: string[][] = [];
  try {
    const only = process.env.BENCH_CASES?.split(',');
    const connList = (process.env.BENCH_CONNECTIONS ?? '50,100').split(',').map(Number);
    for (const c of (['client_credentials', 'refresh_token', 'introspection', 'userinfo'] as Case[]).filter((x) => !only || only.includes(x))) {
      const got = new Map<number, { v: Result[]; k: Result[]; k2: Result[]; km: Result[] }>(connList.map((n) => [n, { v: [], k: [], k2: [], km: [] }]));
      for (let rep = 0; rep < REPEAT; rep++) {
        // fresh servers per case and repeat: vanilla's in-memory adapter is a bounded LRU that would evict the
        // minted tokens after grant-heavy runs, and each run loses the refresh tokens in flight when it stops
        const vanilla = await startServer('vanilla');
        const kyso1 = await startServer('kyso', redis.url);
        const kysoMem = await startServer('kyso-memory');
        const kyso2 = [await startServer('kyso', redis.url), await startServer('kyso', redis.url)];
        try {
          // warm-up, not measured: every server gets the same load first, so JIT compilation and heap growth
          // happen before the measured runs (each process warms up on its own). refresh_token warms up with 20
          // connections: every run loses the tokens still in flight when it stops (up to one per connection), and
          // the pool of 200 must still hold 100 for the @100 run
          if (WARMUP > 0) for (const group of [[vanilla], [kyso1], kyso2, [kysoMem]]) await run(c, group, c === 'refresh_token' ? 20 : 50, WARMUP);
          for (const conns of connList) {
            const g = got.get(conns)!;
            g.v.push(await run(c, [vanilla], conns));
            g.k.push(await run(c, [kyso1], conns));
            g.k2.push(await run(c, kyso2, conns));
            g.km.push(await run(c, [kysoMem], conns));
            process.stderr.write(`done ${c} @${conns} (${rep + 1}/${REPEAT})\n`);
          }
        } finally {
          for (const s of [vanilla, kyso1, kysoMem, ...kyso2]) { s.child.kill('SIGTERM'); await once(s.child, 'exit').catch(() => {}); }
        }
      }
      for (const conns of connList) {
        const g = got.get(conns)!;
        const [v, k, k2, km] = [median(g.v), median(g.k), median(g.k2), median(g.km)];
        rows.push([`${c} @${conns}`, fmt(k), fmt(v), (k.rps / v.rps).toFixed(2), fmt(k2), (k2.rps / v.rps).toFixed(2), fmt(km), (km.rps / v.rps).toFixed(2)]);
      }
    }
    const logins = process.env.BENCH_CASES && !only!.includes('logins') ? NaN : await passwordLogins();
    if (!Number.isNaN(logins)) rows.push([`password logins (argon2id m=${DEFAULT_ARGON2.memoryCost}KiB t=${DEFAULT_ARGON2.timeCost} p=${DEFAULT_ARGON2.parallelism}, ${cpus().length} workers)`, `${logins.toFixed(1)}/s`, 'Keycloak anchor: 15/vCPU-s', '', '', '', '', '']);
  } finally {
    await redis.stop();
  }
  const header = ['case', 'kyso (Redis, 1 proc)', 'peer (vanilla oidc-provider, memory)', 'ratio', 'kyso (Redis, 2 procs)', 'ratio 2p', 'kyso (memory, 1 proc)', 'ratio mem'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
  console.log(`\nmedian of ${REPEAT} runs of ${SECONDS} s, each after a ${WARMUP} s warm-up of every server, loopback, ${cpus().length} cores shared by autocannon, the servers and redis-server.`);
  console.log(`kyso servers started with the flags of \`kyso serve idp\`: ${serverNodeFlags(process.env, []).join(' ') || '(none)'}; vanilla with Node's defaults`);
  console.log('and oidc-provider as published (kyso runs it with the patches of scripts/patch-deps.mjs).');
}

await main();
