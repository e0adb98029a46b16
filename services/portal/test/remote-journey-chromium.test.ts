/**
 * `npm start` demo in headless Chromium, the real journeys with remote signing: the citizen (level 2) logs in,
 * checks her pre-filled form and the PDF, confirms with her signing PIN and approves on her phone (the identity
 * provider's CIBA page at 360 px, TOTP); the officer logs in at level 2, reviews the application and counter-signs
 * with the agency seal, approving on his phone. The PDF has two signatures that pdfsig reports valid and that
 * `kyso verify` reports TOTAL_PASSED at B-T or better.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { totpCode } from '@kyso/idp';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../../../', import.meta.url).pathname;

describe('npm start demo in Chromium: citizen signs on her phone, officer counter-signs with the agency seal', function () {
  this.timeout(300_000);
  let child: ChildProcess;
  let out = '';
  let dir: string;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required`);
    dir = mkdtempSync(join(tmpdir(), 'kyso-remote-chromium-'));
    child = spawn(process.execPath, ['packages/cli/bin/kyso.mjs', 'demo', '--port', '0', '--dir', join(dir, 'state')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', () => {});
    const deadline = Date.now() + 120_000;
    while (!out.includes('Ctrl-C to stop')) {
      if (child.exitCode !== null) throw new Error(`kyso demo exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`kyso demo did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function phoneUrl(account: string, from: number): Promise<string> {
    for (let i = 0; i < 900; i++) {
      const m = new RegExp(`^phone: approval for ${account} \\((.*)\\): (http\\S+)$`, 'm').exec(out.slice(from));
      if (m) return m[2]!;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no approval reached the phone of ${account}`);
  }

  /** The phone: a 360 px wide page, Vietnamese, approve with a TOTP code. */
  async function approveOnPhone(url: string, secret: string, expect: RegExp, password: string) {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
    const phone = await ctx.newPage();
    await phone.goto(url);
    const text = (await phone.textContent('body')) ?? '';
    assert.match(text, expect);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the phone page fits 360 px (scrollWidth ${width})`);
    await phone.locator('#password').fill(password);
    await phone.locator('#code').fill(await totpCode(secret, Date.now() + 30_000));
    await phone.getByRole('button', { name: /Phê duyệt/ }).click();
    await phone.waitForLoadState();
    await ctx.close();
  }

  async function login(page: Page, url: string, id: string, password: string, secret: string) {
    await page.goto(url);
    await page.getByLabel('Số định danh cá nhân').fill(id);
    await page.getByLabel('Mật khẩu').fill(password);
    await page.getByRole('button', { name: /Đăng nhập/ }).click();
    // the second factor is asked when the service wants level 2 (the officer pages)
    await page.waitForSelector('#code, button:has-text("Đồng ý")');
    if (await page.locator('#code').count()) {
      await page.locator('#code').fill(await totpCode(secret));
      await page.getByRole('button', { name: /Xác nhận/ }).click();
    }
    await page.getByRole('button', { name: /Đồng ý/ }).click();
  }

  it('the whole citizen and officer journey', async () => {
    const portal = /portal \(public service\)\s+(\S+)/.exec(out)![1]!;
    const secret = /079190000002 .* TOTP secret ([A-Z2-7]+)/.exec(out)![1]!;
    const root = /test root: ([^)]+)\)/.exec(out)![1]!;

    // citizen
    const cctx = await browser.newContext({ acceptDownloads: true });
    const page = await cctx.newPage();
    await login(page, `${portal}login`, '079190000002', 'demo-Binh-2026', secret);
    await page.waitForURL(`${portal}form`);
    assert.equal(await page.inputValue('#name'), 'Trần Thị Bình');
    await page.getByRole('button', { name: /Ký số và nộp/ }).click();
    await page.waitForURL(`${portal}confirm`);
    assert.match((await page.textContent('body')) ?? '', /Xem tờ khai/);
    // the QR code opens the signing service's phone page (its link is printed beside it)
    assert.equal(await page.locator('figure.qr svg').count(), 1, 'a QR code on the desktop page');
    const qrLink = (await page.getAttribute('#phone-link', 'href'))!;
    assert.match(qrLink, /\/approve\/[A-Za-z0-9_-]{32}$/);
    await page.locator('#pin').fill('123456');
    const submitted = page.getByRole('button', { name: /^Ký số/ }).click({ noWaitAfter: true });
    // the phone (360 px, no script): the details, then the identity provider's page (password + TOTP)
    const pctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN', javaScriptEnabled: false });
    const phone = await pctx.newPage();
    await phone.goto(qrLink);
    await phone.waitForSelector('a.approve', { timeout: 60_000 });
    const details = (await phone.textContent('body')) ?? '';
    assert.match(details, /Cổng dịch vụ công \(demo\)/);
    assert.match(details, /Tờ khai cư trú\.pdf/);
    assert.match(details, /Họ, chữ đệm và tên: Trần Thị Bình/);
    assert.match(details, /([0-9A-F]{4} ){3}[0-9A-F]{4}/);
    assert.ok(await phone.evaluate(() => document.scrollingElement!.scrollWidth) <= 360);
    await phone.click('a.approve');
    await phone.locator('#password').fill('demo-Binh-2026');
    await phone.locator('#code').fill(await totpCode(secret, Date.now() + 30_000));
    await phone.getByRole('button', { name: /Phê duyệt/ }).click();
    assert.match((await phone.textContent('body')) ?? '', /Đã phê duyệt/);
    await pctx.close();
    await submitted;
    await page.waitForSelector('text=chờ cán bộ tiếp nhận ký xác nhận', { timeout: 120_000 });
    const appId = /Mã hồ sơ \/ Application:\s*([A-Za-z0-9_-]{12})/.exec((await page.textContent('body')) ?? '')![1]!;
    await cctx.close();

    // officer
    const octx = await browser.newContext({ acceptDownloads: true });
    const op = await octx.newPage();
    await login(op, `${portal}login?role=officer`, '001085000003', 'demo-CanBo-2026', secret);
    await op.waitForURL(`${portal}officer`);
    const list = (await op.textContent('body')) ?? '';
    assert.match(list, /Trần Thị Bình/);
    assert.match(list, /\d{2}\/\d{2}\/\d{4}/);
    await op.getByRole('link', { name: appId }).click();
    await op.locator('#pin').fill('123456');
    const mark2 = out.length;
    const countersigned = op.getByRole('button', { name: /Ký xác nhận/ }).click({ noWaitAfter: true });
    const officerPhone = await phoneUrl('001085000003', mark2);
    // the identity provider's approval page links to the signing service's page with the details
    const ciba = await (await fetch(officerPhone)).text();
    const detailsLink = /<a href="([^"]+\/approve\/[A-Za-z0-9_-]{22,64})"[^>]*>(?:<[^>]+>)*Xem chi tiết tài liệu cần ký/.exec(ciba)?.[1];
    assert.ok(detailsLink, 'a details link on the CIBA page');
    const officerShown = await (await fetch(detailsLink!.replace(/&amp;/g, '&'))).text();
    assert.match(officerShown, /Hồ sơ [A-Za-z0-9_-]{12}\.pdf/);
    assert.match(officerShown, /([0-9A-F]{4} ){3}[0-9A-F]{4}/);
    await approveOnPhone(officerPhone, secret, /Hồ sơ/, 'demo-CanBo-2026');
    await countersigned;
    await op.waitForSelector('text=Hồ sơ đã được ký xác nhận', { timeout: 120_000 });
    assert.match((await op.textContent('body')) ?? '', /TOTAL_PASSED/);
    const [download] = await Promise.all([op.waitForEvent('download'), op.getByRole('link', { name: /Tải tệp/ }).click()]);
    const pdf = join(dir, 'ho-so.pdf');
    await download.saveAs(pdf);
    await octx.close();

    const sig = spawnSync('pdfsig', [pdf], { encoding: 'utf8' });
    assert.equal((sig.stdout.match(/Signature is Valid/g) ?? []).length, 2, sig.stdout + sig.stderr);
    const report = JSON.parse(execFileSync(process.execPath, ['packages/cli/bin/kyso.mjs', 'verify', pdf, '--trust', root, '--json'], { cwd: ROOT, encoding: 'utf8' })) as { documentIndication: string; signatures: { indication: string; level?: string }[] };
    assert.equal(report.documentIndication, 'TOTAL_PASSED', JSON.stringify(report.signatures));
    assert.equal(report.signatures.length, 2);
    for (const s of report.signatures) {
      assert.equal(s.indication, 'TOTAL_PASSED');
      assert.match(String(s.level), /BASELINE-(T|LT|LTA)$/, `B-T or better: ${JSON.stringify(s).slice(0, 300)}`);
    }
  });
});
