/**
 * `kyso idp client|user|seed|audit` against a real redis-server; records are read back through createStorage,
 * i.e. where the running identity provider reads them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { createStorage, createLogger, makePersonalNumber, type KysoIdpStorage } from '../src/index.js';
import { createIdpServer } from '@kyso/service-idp';

const BIN = fileURLToPath(new URL('../../cli/bin/kyso.mjs', import.meta.url));
const KEY = Buffer.alloc(32, 11).toString('base64');

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `kyso ARGS` in this process (environment and stdout/stderr are process-wide, so calls are serialised).
 * Used for most cases: a child process per call costs seconds on a loaded 2-core machine. Exit codes, output and
 * environment handling are the same code paths as the binary; `kysoBin` covers the real executable and stdin.
 */
function kyso(args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (stdin !== undefined) return kysoBin(args, env, stdin);
  const run = queue.then(async () => {
    const { main } = await import('@kyso/cli');
    const full: Record<string, string | undefined> = { KYSO_IDP_PASSWORD: undefined, KYSO_IDP_CLIENT_SECRET: undefined, KYSO_IDP_TOTP_SECRET: undefined, REDIS_URL: undefined, KYSO_IDP_REDIS_PREFIX: undefined, ...env };
    const saved = Object.fromEntries(Object.keys(full).map((k) => [k, process.env[k]]));
    const set = (vals: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(vals)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    };
    let stdout = '', stderr = '';
    const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
    set(full);
    process.stdout.write = ((c: string | Uint8Array) => { stdout += String(c); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) => { stderr += String(c); return true; }) as typeof process.stderr.write;
    try {
      const code = await main(args);
      return { code, stdout, stderr };
    } finally {
      process.stdout.write = ow;
      process.stderr.write = ew;
      set(saved);
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

/** Runs the real `kyso` executable in a child process. */
function kysoBin(args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, KYSO_IDP_PASSWORD: undefined, KYSO_IDP_CLIENT_SECRET: undefined, REDIS_URL: undefined, ...env } as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('kyso idp (CLI) against Redis', function () {
  this.timeout(60000);
  let redis: RedisInstance;
  let env: Record<string, string>;
  let s: KysoIdpStorage;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    env = { REDIS_URL: redis.url, KYSO_IDP_SECRET_KEY: KEY, KYSO_IDP_REDIS_PREFIX: 'cli:' };
    s = await createStorage({ redis: { url: redis.url, keyPrefix: 'cli:' }, secretKey: KEY });
    dir = await mkdtemp(join(tmpdir(), 'kyso-idp-cli-'));
  });
  after(async () => {
    await s?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('needs REDIS_URL and says so (exit 2)', async () => {
    const r = await kysoBin(['idp', 'user', 'list'], { KYSO_IDP_SECRET_KEY: KEY });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /REDIS_URL is not set/);
  });

  it('refuses passwords and client secrets on the command line', async () => {
    const [r, c] = await Promise.all([
      kyso(['idp', 'user', 'add', '--id', '001190000001', '--name', 'X', '--birthdate', '1990-01-01', '--password', 'hunter2hunter2'], env),
      kyso(['idp', 'client', 'add', '--id', 'x', '--redirect-uri', 'https://x.example/cb', '--secret', 'abcdefabcdefabcdef'], env),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /never put a password on the command line/);
    assert.equal(c.code, 2);
    assert.equal(await s.accounts.get('001190000001'), undefined);
  });

  it('user add (password from env and from stdin), list, disable, enable, reset-mfa', async () => {
    const lan = makePersonalNumber({ birthdate: '1990-05-01', gender: 'female', serial: 1 });
    const binh = makePersonalNumber({ birthdate: '1985-01-01', gender: 'male', serial: 2 });
    const [r1, r2] = await Promise.all([
      kyso(['idp', 'user', 'add', '--id', lan, '--name', 'Nguyễn Thị Lan', '--birthdate', '1990-05-01', '--gender', 'female', '--level', '2', '--email', 'lan@example.vn'],
        { ...env, KYSO_IDP_PASSWORD: 'correct horse battery', KYSO_IDP_TOTP_SECRET: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }),
      kyso(['idp', 'user', 'add', '--id', binh, '--name', 'Trần Văn Bình', '--birthdate', '1985-01-01'], env, 'piped passphrase\n'),
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, new RegExp(`user ${lan} created \\(level 2, TOTP enrolled\\)`));
    assert.equal(r2.code, 0, r2.stderr);
    let r = r2;
    assert.equal((await s.accounts.verifyPassword(lan, 'correct horse battery')).ok, true);
    assert.equal((await s.accounts.verifyPassword(binh, 'piped passphrase')).ok, true);
    assert.equal((await s.accounts.get(lan))!.totpEnabled, true);
    const [dup, listed] = await Promise.all([
      kyso(['idp', 'user', 'add', '--id', binh, '--name', 'Again', '--birthdate', '1985-01-01'], { ...env, KYSO_IDP_PASSWORD: 'another password' }),
      kyso(['idp', 'user', 'list', '--json'], env),
    ]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /ACCOUNT_EXISTS/);
    r = listed;
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { id: string; name: string }[];
    assert.deepEqual(list.map((a) => a.id), [lan, binh].sort());
    assert.ok(!r.stdout.includes('argon2') && !r.stdout.includes('JBSWY3DP'), 'no secrets listed');
    r = await kyso(['idp', 'user', 'disable', lan], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await s.accounts.verifyPassword(lan, 'correct horse battery')).reason, 'disabled');
    r = await kyso(['idp', 'user', 'enable', lan], env);
    assert.equal((await s.accounts.verifyPassword(lan, 'correct horse battery')).ok, true);
    const [reset, unknown] = await Promise.all([kyso(['idp', 'user', 'reset-mfa', lan], env), kyso(['idp', 'user', 'disable', '001190999999'], env)]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await s.accounts.get(lan))!.totpEnabled, false);
    r = unknown;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ACCOUNT_NOT_FOUND/);
    const [pw, show] = await Promise.all([
      kyso(['idp', 'user', 'set-password', binh], { ...env, KYSO_IDP_PASSWORD: 'a brand new passphrase' }),
      kyso(['idp', 'user', 'show', lan], env),
    ]);
    assert.equal(pw.code, 0, pw.stderr);
    assert.equal((await s.accounts.verifyPassword(binh, 'a brand new passphrase')).ok, true);
    assert.equal((await s.accounts.verifyPassword(binh, 'piped passphrase')).ok, false);
    assert.equal(show.code, 0, show.stderr);
    assert.equal((JSON.parse(show.stdout) as { name: string }).name, 'Nguyễn Thị Lan');
    const types = (await s.audit.list()).map((e) => e.type);
    assert.deepEqual(types, ['account.created', 'account.created', 'account.disabled', 'account.enabled', 'mfa.reset', 'password.changed']);
    assert.equal(await s.audit.verifyChain(), true);
  });

  it('TOTP secrets under 128 bits refused naming KYSO_IDP_TOTP_SECRET; reset-mfa prints a one-time enrolment code that makes the factor count for level 2', async () => {
    const id = makePersonalNumber({ birthdate: '1991-02-03', gender: 'female', serial: 7 });
    const short = await kyso(['idp', 'user', 'add', '--id', id, '--name', 'Võ Thị Sáu', '--birthdate', '1991-02-03', '--gender', 'female', '--level', '2'],
      { ...env, KYSO_IDP_PASSWORD: 'correct horse battery', KYSO_IDP_TOTP_SECRET: 'JBSWY3DPEHPK3PXP' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /KYSO_IDP_TOTP_SECRET is 80 bits .*at least 128 bits/);
    assert.equal(await s.accounts.get(id), undefined, 'nothing created');
    const add = await kyso(['idp', 'user', 'add', '--id', id, '--name', 'Võ Thị Sáu', '--birthdate', '1991-02-03', '--gender', 'female', '--level', '2'], { ...env, KYSO_IDP_PASSWORD: 'correct horse battery' });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /enrolment code .*: [A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}/);
    const reset = await kyso(['idp', 'user', 'reset-mfa', id], env);
    assert.equal(reset.code, 0, reset.stderr);
    const code = /enrolment code .*: ([A-Z0-9-]{17})/.exec(reset.stdout)![1]!;
    const e = await s.accounts.beginTotpEnrolment(id);
    const { totpCode } = await import('@kyso/idp');
    const done = await s.accounts.confirmTotpEnrolment(id, await totpCode(e.secret), code);
    assert.equal(done?.assured, true);
    assert.equal((await s.accounts.get(id))!.secondFactorAssured, true);
  });

  it('link-guardian and unlink-guardian (the link ends on both accounts, audited with the guardian)', async () => {
    const g = makePersonalNumber({ birthdate: '1980-03-04', gender: 'male', serial: 11 });
    const m = makePersonalNumber({ birthdate: '2018-06-07', gender: 'female', serial: 12 });
    await s.accounts.create({ id: g, name: 'Đỗ Văn Bố', birthdate: '1980-03-04', gender: 'male', level: 1, password: 'correct horse battery' });
    await s.accounts.create({ id: m, name: 'Đỗ Thị Bé', birthdate: '2018-06-07', gender: 'female', level: 1, password: 'correct horse battery' });
    const link = await kyso(['idp', 'user', 'link-guardian', g, m, 'cha'], env);
    assert.equal(link.code, 0, link.stderr);
    assert.deepEqual((await s.accounts.get(m))!.guardians, [{ id: g, relationship: 'cha' }]);
    const unlink = await kyso(['idp', 'user', 'unlink-guardian', g, m], env);
    assert.equal(unlink.code, 0, unlink.stderr);
    assert.match(unlink.stdout, new RegExp(`${g} is no longer guardian of ${m}`));
    assert.match(unlink.stdout, /revoked: \d+ grant\(s\), \d+ session\(s\), \d+ consent\(s\)/);
    assert.deepEqual((await s.accounts.get(m))!.guardians, []);
    assert.deepEqual((await s.accounts.get(g))!.wards, []);
    const usage = await kyso(['idp', 'user', 'unlink-guardian', g], env);
    assert.equal(usage.code, 2);
    const events = await s.audit.list({ accountId: m });
    assert.ok(events.some((e) => e.type === 'guardian.linked' && e.detail?.actor === g));
    assert.ok(events.some((e) => e.type === 'guardian.unlinked' && e.detail?.actor === g));
  });

  it('client add|list|remove store clients where oidc-provider reads them (Adapter "Client")', async () => {
    const [a1, a2, a3] = await Promise.all([
      kyso(['idp', 'client', 'add', '--id', 'portal', '--redirect-uri', 'https://portal.example/cb', '--post-logout-redirect-uri', 'https://portal.example/'], { ...env, KYSO_IDP_CLIENT_SECRET: 'portal-secret-0123456789' }),
      kyso(['idp', 'client', 'add', '--id', 'app', '--public', '--redirect-uri', 'http://127.0.0.1:7000/cb'], env),
      kyso(['idp', 'client', 'add', '--id', 'nosecret', '--redirect-uri', 'https://x.example/cb'], env),
    ]);
    assert.equal(a1.code, 0, a1.stderr);
    assert.equal(a2.code, 0, a2.stderr);
    assert.equal(a3.code, 2, 'confidential client without a secret');
    let r = a3;
    const portal = await new s.Adapter('Client').find('portal');
    assert.equal(portal!.client_secret, 'portal-secret-0123456789');
    assert.ok(portal!.id_token_signed_response_alg, 'service defaults applied (normalizeClient)');
    assert.deepEqual(portal!.redirect_uris, ['https://portal.example/cb']);
    assert.equal((await new s.Adapter('Client').find('app'))!.token_endpoint_auth_method, 'none');
    r = await kyso(['idp', 'client', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^app\tpublic\thttp:\/\/127\.0\.0\.1:7000\/cb$/m);
    assert.match(r.stdout, /^portal\tconfidential\thttps:\/\/portal\.example\/cb$/m);
    assert.ok(!r.stdout.includes('portal-secret'), 'secrets are not listed');
    r = await kyso(['idp', 'client', 'remove', 'app'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await new s.Adapter('Client').find('app'), undefined);
    r = await kyso(['idp', 'client', 'remove', 'app'], env);
    assert.equal(r.code, 1);
  });

  it('keys rotate: new keys published, then active; a running identity provider serves them at once', async () => {
    const srv = await createIdpServer({ port: 0, storage: s, logger: createLogger('silent'), keyReloadMs: 0 });
    try {
      const before = await kyso(['idp', 'keys', '--json'], env);
      assert.equal(before.code, 0, before.stderr);
      const k0 = JSON.parse(before.stdout) as { active: string[]; pending: string[]; retiring: string[] };
      assert.ok(k0.active.length >= 1);
      const r = await kyso(['idp', 'keys', 'rotate', '--publish-delay', '0'], env);
      assert.equal(r.code, 0, r.stderr);
      const published = /published \(not yet used\): (.+)/.exec(r.stdout)?.[1]?.split(' ') ?? [];
      assert.ok(published.length >= 1, r.stdout);
      assert.match(r.stdout, new RegExp(`active\t${published.join(' ')}`));
      assert.match(r.stdout, new RegExp(`retiring\t${k0.active.join(' ')}`), 'old keys stay published');
      // the running service (no polling) publishes the new keys and signs with them
      for (let i = 0; i < 50 && JSON.stringify(srv.idp.keys.kids().active) !== JSON.stringify(published); i++) await new Promise((res) => setTimeout(res, 20));
      assert.deepEqual(srv.idp.keys.kids().active, published, 'the service signs with the new keys within a second');
      const served = ((await (await fetch(`${srv.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      for (const kid of [...published, ...k0.active]) assert.ok(served.includes(kid), `${kid} in the service's JWKS`);
      const bad = await kyso(['idp', 'keys', 'rotate', '--publish-delay', 'soon'], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--publish-delay takes whole seconds/);
    } finally { await srv.close(); }
  });

  it('seed loads clients and users; audit --verify checks the chain', async () => {
    const minor = makePersonalNumber({ birthdate: '2018-02-03', gender: 'male', serial: 3 });
    const mum = makePersonalNumber({ birthdate: '1988-07-07', gender: 'female', serial: 4 });
    const file = join(dir, 'seed.json');
    await writeFile(file, JSON.stringify({
      clients: [{ client_id: 'seeded', client_secret: 'seeded-secret-0123456789', redirect_uris: ['https://s.example/cb'] }],
      users: [
        { id: mum, password: 'mum password', name: 'Lê Thị Mẹ', birthdate: '1988-07-07', gender: 'female', level: 2 },
        { id: minor, password: 'child password', name: 'Lê Văn Con', birthdate: '2018-02-03', gender: 'male', level: 1, guardians: [{ id: mum, relationship: 'mẹ' }] },
      ],
    }));
    let r = await kyso(['idp', 'seed', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 clients saved, 2 users created, 0 already existed/);
    assert.deepEqual((await s.accounts.get(minor))!.guardians, [{ id: mum, relationship: 'mẹ' }]);
    assert.ok(await new s.Adapter('Client').find('seeded'));
    r = await kyso(['idp', 'audit', '--head'], env);
    assert.equal(r.code, 0, r.stderr);
    const anchor = r.stdout.trim();
    assert.match(anchor, /^\d+:[0-9a-f]{64}$/);
    const [v1, v2] = await Promise.all([
      kyso(['idp', 'audit', '--verify', '--anchor', anchor], env),
      kyso(['idp', 'audit', '--verify', '--anchor', `1:${'0'.repeat(64)}`], env),
    ]);
    assert.equal(v1.code, 0, v1.stderr);
    assert.match(v1.stdout, /audit chain: intact \(anchor \d+ matches\)/);
    assert.equal(v2.code, 1);
    assert.match(v2.stdout, /BROKEN/);
  });
});
