/**
 * Headless Chromium (playwright-core, /usr/bin/chromium) drives the real pages: login → TOTP → consent →
 * redirect, and step-up from level1 to level2. No JavaScript is needed by the pages.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oc from 'openid-client';
import { chromium, type BrowserContext } from 'playwright-core';
import { RP_REDIRECT, SECRET, newCitizen, startTestIdp, type TestIdp } from './provider-helpers.js';

const CHROMIUM = '/usr/bin/chromium';

describe('idp: browser journeys (headless Chromium)', function () {
  this.timeout(90_000);
  let idp: TestIdp;
  let rp: oc.Configuration;
  let context: BrowserContext;
  let userDataDir: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required for the browser tests`);
    idp = await startTestIdp({ redis: true });
    rp = await oc.discovery(new URL(idp.issuer), 'rp1', SECRET, undefined, { execute: [oc.allowInsecureRequests] });
    userDataDir = mkdtempSync(join(tmpdir(), 'kyso-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      javaScriptEnabled: false,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // the relying party's callback: answer in place of a real RP
    await context.route(`${new URL(RP_REDIRECT).origin}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'rp callback' }));
  });
  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await idp?.close();
  });

  async function authorize(extra: Record<string, string>) {
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const url = oc.buildAuthorizationUrl(rp, { redirect_uri: RP_REDIRECT, scope: 'openid profile citizen', state, code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
    return { url, verifier, state };
  }

  async function redeem(callbackUrl: string, a: Awaited<ReturnType<typeof authorize>>) {
    return oc.authorizationCodeGrant(rp, new URL(callbackUrl), { pkceCodeVerifier: a.verifier, expectedState: a.state });
  }

  it('login → TOTP → consent → redirect back to the service (level2)', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const page = await context.newPage();
    const a = await authorize({ acr_values: 'level2' });
    await page.goto(a.url.href);
    assert.equal(await page.getAttribute('html', 'lang'), 'vi');
    await page.getByLabel('Số định danh cá nhân').fill(c.id);
    await page.getByLabel('Mật khẩu').fill(c.password);
    await page.getByRole('button', { name: /Đăng nhập/ }).click();
    await page.getByLabel('Mã 6 chữ số').first().fill(await c.code());
    await page.getByRole('button', { name: /Xác nhận/ }).first().click();
    assert.match(await page.textContent('h1') ?? '', /Chia sẻ thông tin/);
    await page.getByRole('button', { name: /Đồng ý/ }).click();
    await page.waitForURL(`${RP_REDIRECT}?**`);
    const tokens = await redeem(page.url(), a);
    assert.equal(tokens.claims()!.acr, 'level2');
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
    await page.close();
    await context.clearCookies();
  });

  it('step-up: level1 session, then a level2 request asks only for TOTP', async () => {
    const c = await newCitizen(idp.storage, { level: 2 });
    const page = await context.newPage();
    const a1 = await authorize({ acr_values: 'level1' });
    await page.goto(a1.url.href);
    await page.getByLabel('Số định danh cá nhân').fill(c.id);
    await page.getByLabel('Mật khẩu').fill(c.password);
    await page.getByRole('button', { name: /Đăng nhập/ }).click();
    await page.getByRole('button', { name: /Đồng ý/ }).click();
    await page.waitForURL(`${RP_REDIRECT}?**`);
    assert.equal((await redeem(page.url(), a1)).claims()!.acr, 'level1');

    const a2 = await authorize({ acr_values: 'level2' });
    await page.goto(a2.url.href);
    assert.match(await page.textContent('h1') ?? '', /Xác thực hai lớp/, 'straight to the second factor');
    assert.match(await page.textContent('main') ?? '', /level 2/);
    await page.getByLabel('Mã 6 chữ số').first().fill(await c.code());
    await page.getByRole('button', { name: /Xác nhận/ }).first().click();
    await page.waitForURL(`${RP_REDIRECT}?**`);
    const t2 = await redeem(page.url(), a2);
    assert.equal(t2.claims()!.acr, 'level2');
    await page.close();
  });
});
