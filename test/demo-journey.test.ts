/**
 * `kyso demo` (what `npm start` runs) end to end, as a citizen would use it in headless Chromium:
 * portal → IdP login → consent → pre-filled form → citizen signs (B-T) + agency counter-signs (visible, B-LT)
 * → validation report; then the downloaded PDF is checked by pdfsig and qpdf independently.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

describe('npm start demo: the citizen journey in Chromium', function () {
  this.timeout(180_000);
  let child: ChildProcess;
  let out = '';
  let dir: string;
  let context: BrowserContext;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required`);
    dir = mkdtempSync(join(tmpdir(), 'kyso-demo-'));
    child = spawn(process.execPath, ['packages/cli/bin/kyso.mjs', 'demo', '--port', '0', '--dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    const deadline = Date.now() + 90_000;
    while (!out.includes('Ctrl-C to stop')) {
      if (child.exitCode !== null) throw new Error(`kyso demo exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`kyso demo did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    context = await chromium.launchPersistentContext(join(dir, 'chromium'), {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      acceptDownloads: true,
    });
  });
  after(async () => {
    await context?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints every service URL and the demo accounts', () => {
    for (const what of ['portal (public service)', 'identity provider', 'validation service', 'TSA / OCSP / CRL', 'store                    memory']) {
      assert.ok(out.includes(what), `missing "${what}" in:\n${out}`);
    }
  });

  it('log in, sign the pre-filled form, get a TOTAL_PASSED report, download a PDF that pdfsig and qpdf accept', async () => {
    const portal = /portal \(public service\)\s+(\S+)/.exec(out)![1]!;
    const user = /(\d{12})\s+Nguyễn Văn An\s+password (\S+)/.exec(out)!;
    const page = await context.newPage();
    await page.goto(portal);
    await page.getByRole('link', { name: /Đăng nhập/ }).click();
    await page.getByLabel('Số định danh cá nhân').fill(user[1]!);
    await page.getByLabel('Mật khẩu').fill(user[2]!);
    await page.getByRole('button', { name: /Đăng nhập/ }).click();
    await page.getByRole('button', { name: /Đồng ý/ }).click();
    await page.waitForURL(`${portal}form`);
    // Pre-filled from the verified claims.
    assert.equal(await page.inputValue('#name'), 'Nguyễn Văn An');
    assert.equal(await page.inputValue('#personalNumber'), user[1]);
    assert.match(await page.inputValue('#address'), /Hoàn Kiếm/);
    await page.getByRole('button', { name: /Ký số và nộp/ }).click();
    await page.waitForURL(`${portal}result`, { timeout: 60_000 });
    const text = (await page.textContent('main')) ?? '';
    // plain Vietnamese for the citizen: no ETSI codes, no raw distinguished names
    assert.match(text, /Kết luận \/ Verdict: Hợp lệ/);
    assert.equal((text.match(/Hợp lệ/g) ?? []).length, 3, 'document + two signatures passed');
    // The agency's B-LT update adds a DSS that covers the citizen's B-T signature too.
    assert.equal((text.match(/Có dấu thời gian và thông tin kiểm tra dài hạn/g) ?? []).length, 2, text);
    assert.match(text, /Nguyễn Văn An/);
    assert.doesNotMatch(text, /TOTAL_PASSED|INDETERMINATE|BASELINE|CN=|O=|serialNumber/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Tải tệp PDF/ }).click()]);
    const pdf = join(dir, 'to-khai.pdf');
    await download.saveAs(pdf);
    const sig = spawnSync('pdfsig', [pdf], { encoding: 'utf8' });
    assert.equal((sig.stdout.match(/Signature is Valid/g) ?? []).length, 2, sig.stdout + sig.stderr);
    const q = spawnSync('qpdf', ['--check', pdf], { encoding: 'utf8' });
    assert.equal(q.status, 0, q.stdout + q.stderr);
    const txt = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
    assert.match(txt.stdout, /TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ/);
    assert.match(txt.stdout, /Nguyễn Văn An/);
    writeFileSync(join(dir, 'ok'), '');
    await page.close();
  });

  it('a forged form post without the CSRF token is refused', async () => {
    const portal = /portal \(public service\)\s+(\S+)/.exec(out)![1]!;
    const page = await context.newPage();
    const r = await page.request.post(`${portal}form`, { form: { request: 'x', csrf: 'forged' } });
    assert.equal(r.status(), 403);
    await page.close();
  });
});
