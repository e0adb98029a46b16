/**
 * `kyso serve idp` as real processes: seed file, Redis via REDIS_URL, and two processes sharing one Redis
 * (log in on one, redeem / refresh / call userinfo on the other: no state in process memory).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oc from 'openid-client';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { totpCode } from '@kyso/idp';
import { Browser, loginFlow } from '../packages/idp/test/provider-helpers.js';

const KYSO = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'kyso.mjs');
const insecure = { execute: [oc.allowInsecureRequests] };
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

function serve(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; issuer: string; output: () => string }> {
  const child = spawn(process.execPath, [KYSO, 'serve', 'idp', ...args], { env: { ...process.env, KYSO_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kyso serve idp did not start: ${out}`)), 20_000);
    const check = () => {
      const m = /kyso idp listening on (\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, issuer: m[1]!, output: () => out }); }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out}`)); });
  });
}

/** Pids of the children of `pid`, from /proc (no procps needed). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split after the last ')'
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
  }
  return out;
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return done;
}

describe('kyso serve idp (processes, Redis)', function () {
  this.timeout(90_000);
  let redis: RedisInstance;
  let dir: string;
  let seedPath: string;
  const procs: ChildProcess[] = [];

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'kyso-idp-serve-'));
    seedPath = join(dir, 'seed.json');
    writeFileSync(seedPath, JSON.stringify({
      clients: [
        { client_id: 'portal', client_secret: 'portal-secret-0123456789', redirect_uris: ['http://127.0.0.1:1/cb'], post_logout_redirect_uris: ['http://127.0.0.1:1/bye'] },
        { client_id: 'svc', client_secret: 'svc-secret-0123456789abc', grant_types: ['client_credentials'], redirect_uris: [] },
      ],
      users: [
        { id: '001090012345', password: 'mật khẩu rất dài 1', name: 'Trần Văn An', birthdate: '1990-01-01', gender: 'male', level: 1 },
        { id: '079191000123', password: 'mật khẩu rất dài 2', name: 'Phạm Thị Bình', birthdate: '1991-02-03', gender: 'female', level: 2, totp_secret: TOTP_SECRET, email: 'binh@example.vn' },
      ],
    }));
  });
  after(async () => {
    for (const p of procs) await stop(p);
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('usage errors exit 2', async () => {
    const child = spawn(process.execPath, [KYSO, 'serve', 'idp'], { stdio: 'pipe' });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, /--port is required/);
  });

  it('the server runs in a child node with 32 MB semi-spaces and no allocation-site pretenuring; SIGTERM to the launcher stops both, exit 0', async () => {
    const s = await serve(['--port', '0'], {});
    const kids = childrenOf(s.child.pid!);
    assert.equal(kids.length, 1, 'one server process');
    const cmdline = readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--max-semi-space-size=32'), cmdline.join(' '));
    assert.ok(cmdline.includes('--no-allocation-site-pretenuring'), cmdline.join(' '));
    assert.equal((await fetch(`${s.issuer}/.well-known/openid-configuration`)).status, 200);
    assert.equal(await stop(s.child), 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.throws(() => process.kill(kids[0]!, 0), 'the server process is gone');
  });

  it('the server stops by itself when its launcher is killed outright (SIGKILL)', async () => {
    const s = await serve(['--port', '0'], {});
    const kid = childrenOf(s.child.pid!)[0]!;
    assert.ok(kid > 0);
    s.child.kill('SIGKILL');
    let alive = true;
    for (let i = 0; i < 60 && alive; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try { process.kill(kid, 0); } catch { alive = false; }
    }
    assert.equal(alive, false, 'the server process exited');
  });

  it('Ctrl-C in a terminal (SIGINT to the whole foreground group) stops the server gracefully, exit 0', async () => {
    // the launcher leads its own process group here, as a shell's foreground job does
    const child = spawn(process.execPath, [KYSO, 'serve', 'idp', '--port', '0'], { env: { ...process.env, KYSO_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    for (let i = 0; i < 200 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /kyso idp listening/);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    process.kill(-child.pid!, 'SIGINT');
    assert.equal(await exited, 0);
  });

  it('KYSO_OUTBOUND_CA must name a readable PEM bundle (exit 2, says which)', async () => {
    for (const [path, why] of [['/nonexistent/ca.pem', /cannot read \/nonexistent\/ca\.pem: ENOENT/], [KYSO, /holds no PEM certificate/]] as const) {
      const child = spawn(process.execPath, [KYSO, 'serve', 'idp', '--port', '0'], { stdio: 'pipe', env: { ...process.env, KYSO_OUTBOUND_CA: path } });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 2);
      assert.match(err, why);
    }
  });

  it('two processes sharing Redis: log in on A, redeem and refresh on B, userinfo on A; SIGTERM exits 0', async () => {
    const env = { REDIS_URL: redis.url, KYSO_IDP_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') };
    const a = await serve(['--port', '0', '--seed', seedPath], env);
    procs.push(a.child);
    const b = await serve(['--port', '0', '--seed', seedPath], env);
    procs.push(b.child);
    assert.notEqual(a.issuer, b.issuer);
    // both publish the same signing keys (shared key set in Redis)
    const ka = await (await fetch(`${a.issuer}/jwks`)).json() as { keys: { kid: string }[] };
    const kb = await (await fetch(`${b.issuer}/jwks`)).json() as { keys: { kid: string }[] };
    assert.deepEqual(ka.keys.map((k) => k.kid).sort(), kb.keys.map((k) => k.kid).sort());

    const rpA = await oc.discovery(new URL(a.issuer), 'portal', 'portal-secret-0123456789', undefined, insecure);
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(rpA, { redirect_uri: 'http://127.0.0.1:1/cb', scope: 'openid profile email', state: 's', acr_values: 'level2', code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const citizen = { id: '079191000123', password: 'mật khẩu rất dài 2', code: () => totpCode(TOTP_SECRET) } as never;
    const { url: back, steps } = await loginFlow(new Browser(a.issuer), url.href, citizen);
    assert.deepEqual(steps, ['login', 'totp', 'consent']);
    // token endpoint of process B (issuer of A is the same Redis-backed state, but a different URL: use raw HTTP)
    const code = new URL(back).searchParams.get('code')!;
    const auth = `Basic ${Buffer.from('portal:portal-secret-0123456789').toString('base64')}`;
    // the issuer differs per process here, so B redeems through its own endpoint with A's code
    const res = await fetch(`${b.issuer}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:1/cb', code_verifier: verifier }) });
    const tokens = await res.json() as { access_token: string; refresh_token: string; id_token: string };
    assert.equal(res.status, 200, JSON.stringify(tokens));
    const refreshed = await fetch(`${b.issuer}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }) });
    assert.equal(refreshed.status, 200);
    const info = await oc.fetchUserInfo(rpA, tokens.access_token, oc.skipSubjectCheck);
    assert.equal(info.name, 'Phạm Thị Bình');
    assert.equal(info.email, 'binh@example.vn');
    const svc = await oc.discovery(new URL(b.issuer), 'svc', 'svc-secret-0123456789abc', undefined, insecure);
    assert.ok((await oc.clientCredentialsGrant(svc)).access_token);
    assert.equal(await stop(a.child), 0);
    assert.equal(await stop(b.child), 0);
    assert.doesNotMatch(a.output() + b.output(), /mật khẩu|portal-secret|JBSWY3DP/, 'no secrets in the logs');
  });
});
