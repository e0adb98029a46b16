/**
 * Every demo account printed by `kyso demo` (what `npm start` runs) works end to end at its level, in headless
 * Chromium through the demo portal: the level-1 citizen with her password; the level-2 citizen with her password,
 * then a step-up to level 2 with a TOTP code from the printed secret, and directly at level 2 (password + TOTP).
 * With REDIS_URL, a second start on the same store prints the secret actually stored (reset and said so).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { totpCode } from '@kyso/idp';
import { startRedis, type RedisInstance } from '@kyso/fixtures';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Demo { child: ChildProcess; out: string; portal: string; idp: string; users: { id: string; name: string; password: string; level: number; totp?: string }[] }

async function startDemo(dir: string, env: Record<string, string> = {}): Promise<Demo> {
  const child = spawn(process.execPath, ['packages/cli/bin/kyso.mjs', 'demo', '--port', '0', '--dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const deadline = Date.now() + 120_000;
  while (!out.includes('Ctrl-C to stop')) {
    if (child.exitCode !== null) throw new Error(`kyso demo exited early:\n${out}`);
    if (Date.now() > deadline) { child.kill('SIGTERM'); throw new Error(`kyso demo did not start:\n${out}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  const users = [...out.matchAll(/^\s+(\d{12})\s+(.+?)\s+password (\S+)\s+level (\d)(?:\s+TOTP secret ([A-Z2-7]+))?$/gm)]
    .map((m) => ({ id: m[1]!, name: m[2]!, password: m[3]!, level: Number(m[4]), ...(m[5] ? { totp: m[5] } : {}) }));
  return {
    child, out, users,
    portal: /portal \(public service\)\s+(\S+)/.exec(out)![1]!.replace(/\/$/, ''),
    idp: /identity provider\s+(\S+)\/\.well-known/.exec(out)![1]!,
  };
}

async function stopDemo(d: Demo | undefined): Promise<void> {
  if (!d || d.child.exitCode !== null) return;
  d.child.kill('SIGTERM');
  await new Promise((r) => d.child.once('exit', r));
}

/** The TOTP step: a code from the printed secret at `offsetSteps` time steps from now (each code is usable once). */
async function enterTotp(page: Page, secret: string, offsetSteps: number): Promise<void> {
  await page.locator('#code').first().fill(await totpCode(secret, Date.now() + offsetSteps * 30_000));
  await page.locator('#code').first().press('Enter');
}

async function login(page: Page, d: Demo, u: Demo['users'][number]): Promise<void> {
  await page.getByLabel('Số định danh cá nhân').fill(u.id);
  await page.getByLabel('Mật khẩu').fill(u.password);
  await page.getByRole('button', { name: /Đăng nhập/ }).click();
}

/** The IdP's account page in this browser: the session's acr and amr. */
async function sessionAssurance(page: Page, d: Demo): Promise<{ acr: string; amr: string }> {
  await page.goto(`${d.idp}/account`);
  const text = (await page.textContent('main')) ?? '';
  return { acr: /acr\s*(level\d)/.exec(text)?.[1] ?? '', amr: /amr\s*([a-z, ]+?)\s*(?:Thời điểm|Logged)/.exec(text)?.[1]?.trim() ?? '' };
}

describe('kyso demo: every demo account at its level (Chromium, through the portal)', function () {
  this.timeout(300_000);
  let dir: string;
  let browser: Browser;
  let demo: Demo | undefined;
  let redis: RedisInstance | undefined;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required`);
    dir = mkdtempSync(join(tmpdir(), 'kyso-demo-accounts-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  after(async () => {
    await stopDemo(demo);
    await browser?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints every demo account (two citizens and the officer); the level-2 secret is 160 bits (32 base32 characters)', async () => {
    demo = await startDemo(dir);
    assert.equal(demo.users.length, 3, demo.out);
    const l2 = demo.users.find((u) => u.level === 2)!;
    assert.equal(l2.totp?.length, 32);
    assert.ok(demo.users.some((u) => u.level === 1 && !u.totp));
  });

  it('level 1: password through the portal, the form is pre-filled, the session is level1', async () => {
    const u = demo!.users.find((x) => x.level === 1)!;
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${demo!.portal}/login`);
      await login(page, demo!, u);
      await page.getByRole('button', { name: /Đồng ý/ }).click();
      await page.waitForURL(`${demo!.portal}/form`);
      assert.equal(await page.inputValue('#name'), u.name);
      assert.equal(await page.inputValue('#personalNumber'), u.id);
      assert.deepEqual(await sessionAssurance(page, demo!), { acr: 'level1', amr: 'pwd' });
      // a level-1 account asking for level 2 does not get it
      await page.goto(`${demo!.portal}/login?acr=level2`);
      await page.waitForLoadState();
      assert.notEqual(new URL(page.url()).pathname, '/form', 'no level-2 login for a level-1 account');
    } finally { await ctx.close(); }
  });

  it('level 2: password (level1), then a step-up with a TOTP code from the printed secret (level2)', async () => {
    const u = demo!.users.find((x) => x.level === 2)!;
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${demo!.portal}/login`);
      await login(page, demo!, u);
      await page.getByRole('button', { name: /Đồng ý/ }).click();
      await page.waitForURL(`${demo!.portal}/form`);
      assert.equal(await page.inputValue('#name'), u.name);
      assert.deepEqual(await sessionAssurance(page, demo!), { acr: 'level1', amr: 'pwd' });
      // step-up: the portal asks for level 2; only the TOTP step is shown
      await page.goto(`${demo!.portal}/login?acr=level2`);
      await page.locator('#code').first().waitFor();
      assert.equal(await page.getByLabel('Mật khẩu').count(), 0, 'no password again');
      await enterTotp(page, u.totp!, 0);
      await page.waitForURL(`${demo!.portal}/form`);
      assert.equal(await page.inputValue('#personalNumber'), u.id);
      assert.deepEqual(await sessionAssurance(page, demo!), { acr: 'level2', amr: 'pwd, otp, mfa' });
    } finally { await ctx.close(); }
  });

  it('level 2 directly: password + TOTP through the portal', async () => {
    const u = demo!.users.find((x) => x.level === 2)!;
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${demo!.portal}/login?acr=level2`);
      await login(page, demo!, u);
      await enterTotp(page, u.totp!, 1);
      await page.waitForURL(/\/form$|\/interaction\//);
      if (new URL(page.url()).pathname.startsWith('/interaction/')) await page.getByRole('button', { name: /Đồng ý/ }).click();
      await page.waitForURL(`${demo!.portal}/form`);
      assert.equal(await page.inputValue('#name'), u.name);
      assert.deepEqual(await sessionAssurance(page, demo!), { acr: 'level2', amr: 'pwd, otp, mfa' });
    } finally { await ctx.close(); }
    await stopDemo(demo);
    demo = undefined;
  });

  it('REDIS_URL: a second start on the same store prints the secret actually stored, and it works', async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url };
    const first = await startDemo(dir, env);
    const s1 = first.users.find((u) => u.level === 2)!.totp!;
    await stopDemo(first);
    demo = await startDemo(dir, env);
    const u = demo.users.find((x) => x.level === 2)!;
    assert.notEqual(u.totp, s1, 'a new secret');
    assert.match(demo.out, new RegExp(`the store already had [0-9, ]*${u.id}[0-9, ]*: TOTP secret reset to the one printed above`));
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${demo.portal}/login?acr=level2`);
      await login(page, demo, u);
      await enterTotp(page, u.totp!, 0);
      await page.waitForURL(/\/form$|\/interaction\//);
      if (new URL(page.url()).pathname.startsWith('/interaction/')) await page.getByRole('button', { name: /Đồng ý/ }).click();
      await page.waitForURL(`${demo.portal}/form`);
      assert.deepEqual(await sessionAssurance(page, demo), { acr: 'level2', amr: 'pwd, otp, mfa' });
    } finally { await ctx.close(); }
  });
});
