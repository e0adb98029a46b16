/**
 * The approval page on the phone (issue 14, point 7), in headless Chromium at 360×740 with JavaScript off: the
 * signing service's own `/approve/<ref>` page shows the requesting service, the credential, each document's name,
 * the service's summary of what is signed and the full hash (hex, grouped); "Phê duyệt" opens the identity
 * provider's CIBA page, which still asks the password and a TOTP code (level 2); "Từ chối" refuses at once.
 * Nothing overflows 360 px; the page is `lang="vi"`, its controls are reachable in a sensible focus order.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { groupedHex } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const SCREENSHOT = process.env.KYSO_PHONE_SCREENSHOT ?? '/tmp/kyso-phone-approval.png';

describe('signing service: the approval page on the phone (360 px, no script)', function () {
  this.timeout(180_000);
  let s: Stack;
  let browser: Browser;
  let delivered = 0;
  let pump: NodeJS.Timeout;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required`);
    s = await startStack({ ciba: true });
    // the identity provider's "push notification" reaches the signing service (as `kyso demo` wires it)
    pump = setInterval(() => {
      while (delivered < s.idp.ciba.length) void s.signing.service.phone.cibaDelivered(s.idp.ciba[delivered++]!);
    }, 50);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    clearInterval(pump);
    await browser?.close();
    await s?.close();
  });

  const phone = (): Promise<BrowserContext> => browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN', javaScriptEnabled: false });
  const width = (p: Page) => p.evaluate(() => document.scrollingElement!.scrollWidth);

  async function request(summary: string) {
    const c = await s.citizen(2);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '112233');
    const h = createHash('sha256').update(randomBytes(64)).digest('base64');
    const ref = randomBytes(24).toString('base64url');
    const pending = s.call('credentials/authorize', token, {
      credentialID: cred.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '112233' }],
      documentNames: ['Tờ khai thay đổi thông tin cư trú (bản ký số) của công dân Nguyễn Thị Minh Khai.pdf'], documentSummaries: [summary], clientData: ref,
    });
    return { c, token, cred, h, ref, pending };
  }

  it('shows service, credential, document, summary and the full grouped hash; approving needs password + TOTP at the IdP', async () => {
    const summary = 'Họ và tên: Nguyễn Thị Minh Khai\nSố định danh cá nhân: 001190012345\nNơi thường trú: Số 12 ngõ 34 phố Huế, phường Phố Huế, quận Hai Bà Trưng, thành phố Hà Nội\nNội dung đề nghị: Đăng ký thay đổi nơi thường trú <b>không in đậm</b>';
    const ctx = await phone();
    const p = await ctx.newPage();
    const r = await request(summary);
    await p.goto(`${s.signing.url}/approve/${r.ref}`);
    await p.waitForSelector('a.approve', { timeout: 30_000 });
    assert.equal(await p.getAttribute('html', 'lang'), 'vi');
    const text = (await p.textContent('body')) ?? '';
    assert.match(text, /Yêu cầu ký số/);
    assert.match(text, /Cổng dịch vụ công/, 'the requesting service');
    assert.match(text, /Chữ ký số của Nguyễn Thị Minh Khai/, 'the credential');
    assert.match(text, /Tờ khai thay đổi thông tin cư trú \(bản ký số\)/, 'the document name');
    assert.match(text, /Nơi thường trú: Số 12 ngõ 34 phố Huế/, 'the summary of what is signed');
    assert.match(text, /<b>không in đậm<\/b>/, 'the summary is text, never markup');
    assert.equal(await p.locator('.summary b').count(), 0);
    const lines = groupedHex(r.h);
    assert.equal(lines.length, 4);
    for (const l of lines) assert.ok(text.includes(l), `hash line ${l} shown in full`);
    assert.equal(lines.join('').replace(/ /g, ''), Buffer.from(r.h, 'base64').toString('hex').toUpperCase());
    assert.match(text, /\d{2}\/\d{2}\/\d{4}/, 'date dd/mm/yyyy');
    assert.ok(await width(p) <= 360, `the approval page fits 360 px (scrollWidth ${await width(p)})`);
    // focus order: the approve link, then the refuse button
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement?.className), 'button approve');
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement?.textContent?.trim().startsWith('Từ chối')), true);
    await p.screenshot({ path: SCREENSHOT, fullPage: true });

    // approving: the identity provider's page asks the password and the TOTP code (level 2), also at 360 px
    await p.click('a.approve');
    await p.waitForSelector('#code', { timeout: 10_000 }).catch(async (e) => { throw new Error(`${p.url()}\n${(await p.textContent('body'))?.slice(0, 500)}`, { cause: e }); });
    assert.ok(p.url().startsWith(`${s.idp.issuer}/ciba/`), p.url());
    assert.equal(await p.locator('#password').count(), 1, 'level 2: the password is asked on the phone');
    // and the CIBA page links back to this page with the details
    assert.equal(await p.getAttribute('a[href*="/approve/"]', 'href'), `${s.signing.url}/approve/${r.ref}`);
    assert.ok(await width(p) <= 360, `the IdP approval page fits 360 px (scrollWidth ${await width(p)})`);
    // the code alone is not enough
    await p.fill('#code', await r.c.code());
    await p.fill('#password', 'not-the-password-123');
    await p.getByRole('button', { name: /Phê duyệt/ }).click();
    assert.match((await p.textContent('body')) ?? '', /Mật khẩu hoặc mã không đúng/);
    await p.fill('#password', r.c.password);
    await p.fill('#code', await r.c.code());
    await p.getByRole('button', { name: /Phê duyệt/ }).click();
    assert.match((await p.textContent('body')) ?? '', /Đã phê duyệt/);
    const res = await r.pending;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const sig = await s.call('signatures/signHash', r.token, { credentialID: r.cred.id, SAD: res.body.SAD, hashes: [r.h], signAlgo: '1.2.840.10045.4.3.2' });
    assert.equal(sig.status, 200, JSON.stringify(sig.body));
    await p.goto(`${s.signing.url}/approve/${r.ref}`);
    assert.match((await p.textContent('body')) ?? '', /Bạn đã phê duyệt yêu cầu ký này/);
    assert.equal(await p.locator('a.approve, button.refuse').count(), 0, 'no more buttons once decided');
    await ctx.close();
  });

  it('refusing on the phone page ends the authorization with access_denied and no SAD', async () => {
    const ctx = await phone();
    const p = await ctx.newPage();
    const r = await request('Nội dung đề nghị: Đăng ký tạm trú');
    await p.goto(`${s.signing.url}/approve/${r.ref}`);
    await p.waitForSelector('button.refuse', { timeout: 30_000 });
    assert.ok(await width(p) <= 360);
    await p.click('button.refuse');
    await p.waitForSelector('text=Đã từ chối');
    assert.match((await p.textContent('body')) ?? '', /không có chữ ký nào được tạo/);
    const res = await r.pending;
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.error, 'access_denied');
    assert.equal(res.body.SAD, undefined);
    assert.ok(await width(p) <= 360);
    await ctx.close();
  });

  it('an unknown or malformed reference gets a clear waiting page, never an error or another citizen\'s request', async () => {
    const ctx = await phone();
    const p = await ctx.newPage();
    for (const ref of [randomBytes(24).toString('base64url'), 'short', '..%2F..%2Fetc', 'x'.repeat(90)]) {
      const resp = await p.goto(`${s.signing.url}/approve/${ref}`);
      assert.equal(resp?.status(), 200, ref);
      assert.match((await p.textContent('body')) ?? '', /Chưa có yêu cầu ký nào cho mã này/);
      assert.ok(await width(p) <= 360);
    }
    await ctx.close();
  });

  it('/approve without a reference sends the citizen to her account page at the identity provider (where pending requests are listed)', async () => {
    const ctx = await phone();
    const p = await ctx.newPage();
    const resp = await p.goto(`${s.signing.url}/approve`);
    assert.equal(resp?.status(), 200);
    assert.equal(await p.getAttribute('a.approve', 'href'), `${s.idp.issuer}/account`);
    assert.ok(await width(p) <= 360);
    await ctx.close();
  });

  it('a reference already held by another citizen is not taken over (a fresh one is used)', async () => {
    const a = await request('A');
    await new Promise((res) => setTimeout(res, 300));
    const before = await s.signing.service.phone.get(a.ref);
    assert.ok(before, 'the first request holds the reference');
    const c2 = await s.citizen(2);
    const token2 = await s.tokenFor(c2);
    const cred2 = await s.enrol(c2.id, { type: 'EC', curve: 'P-256' }, '112233');
    const h2 = createHash('sha256').update(randomBytes(64)).digest('base64');
    const p2 = s.call('credentials/authorize', token2, { credentialID: cred2.id, numSignatures: 1, hashes: [h2], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '112233' }], documentSummaries: ['B'], clientData: a.ref });
    await new Promise((res) => setTimeout(res, 300));
    const after = await s.signing.service.phone.get(a.ref);
    assert.equal(after?.subject, a.c.id);
    assert.equal(after?.documents[0]?.summary, 'A');
    // end both requests: refuse them on their pages
    await s.signing.service.phone.refuse(a.ref);
    assert.equal((await a.pending).status, 403);
    const b = await fetch(`${s.signing.url}/approve/${a.ref}`).then((x) => x.text());
    assert.match(b, /Đã từ chối/);
    // the second request ended too once refused through its own (random) page
    for (let i = 0; i < 100; i++) {
      const note = s.idp.ciba.find((n) => n.accountId === c2.id);
      if (note) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const note = s.idp.ciba.find((n) => n.accountId === c2.id)!;
    const { Browser: B, formOf } = await import('../../../packages/idp/test/provider-helpers.js');
    const br = new B(s.idp.issuer);
    const pg = await br.follow(note.approvalUrl);
    const f = formOf(pg.body);
    await br.submit(f.action, { csrf: f.csrf, decision: 'deny' });
    assert.equal((await p2).status, 403);
  });
});
