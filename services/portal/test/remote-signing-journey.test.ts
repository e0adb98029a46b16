/**
 * `npm start` demo, the citizen journey with remote signing (HTTP level): the level-2 demo citizen logs in
 * (password + TOTP), her form is pre-filled, she checks the generated PDF, confirms with her signing PIN, approves
 * on her phone (the identity provider's CIBA page, with a fresh TOTP) and gets back the PDF signed by her (remote
 * key) and counter-signed by the agency; pdfsig accepts both signatures. Cancel and a wrong PIN lead to clear pages.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { totpCode } from '@kyso/idp';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** A cookie jar per origin, no automatic redirects. */
class Client {
  jars = new Map<string, Map<string, string>>();
  async req(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.jars.get(u.origin) ?? new Map<string, string>();
    this.jars.set(u.origin, jar);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(u, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const k = pair!.slice(0, i).trim(); const v = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || !v) jar.delete(k); else jar.set(k, v);
    }
    return res;
  }
  async follow(url: string, init: RequestInit = {}): Promise<{ url: string; res: Response; body: string }> {
    let res = await this.req(url, init);
    let cur = url;
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
      cur = new URL(res.headers.get('location')!, cur).href;
      await res.arrayBuffer();
      res = await this.req(cur);
    }
    return { url: cur, res, body: await res.text() };
  }
  submit(action: string, fields: Record<string, string>) {
    return this.follow(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}

function form(html: string, base: string, actionEnds?: string): { action: string; csrf: string } {
  for (const m of html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const action = m[1]!.replace(/&amp;/g, '&');
    if (actionEnds && !action.endsWith(actionEnds)) continue;
    const csrf = /name="csrf" value="([^"]+)"/.exec(m[2]!)?.[1];
    if (csrf) return { action: new URL(action, base).href, csrf };
  }
  throw new Error(`no form in ${html.slice(0, 400)}`);
}

describe('npm start demo: the citizen signs remotely and approves on her phone', function () {
  this.timeout(240_000);
  let child: ChildProcess;
  let out = '';
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-remote-journey-'));
    child = spawn(process.execPath, ['packages/cli/bin/kyso.mjs', 'demo', '--port', '0', '--dir', join(dir, 'state')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', () => {});
    const deadline = Date.now() + 120_000;
    while (!out.includes('Ctrl-C to stop')) {
      if (child.exitCode !== null) throw new Error(`kyso demo exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`kyso demo did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function login(c: Client, portal: string, id: string, password: string, secret: string, role = '') {
    let p = await c.follow(`${portal}/login${role ? `?role=${role}` : ''}`);
    for (let i = 0; i < 6 && !p.url.startsWith(portal); i++) {
      if (p.body.includes('/login"')) { const f = form(p.body, p.url, '/login'); p = await c.submit(f.action, { csrf: f.csrf, login: id, password }); }
      else if (p.body.includes('/totp"')) { const f = form(p.body, p.url, '/totp'); p = await c.submit(f.action, { csrf: f.csrf, kind: 'totp', code: await totpCode(secret) }); }
      else if (p.body.includes('/consent"')) { const f = form(p.body, p.url, '/consent'); p = await c.submit(f.action, { csrf: f.csrf }); }
      else throw new Error(`unexpected page ${p.url}: ${p.body.slice(0, 300)}`);
    }
    assert.ok(p.url.startsWith(`${portal}/${role ? 'officer' : 'form'}`), p.url);
    return p;
  }

  it('prints the signing service line', () => {
    assert.match(out, /^signing: http:\/\/127\.0\.0\.1:\d+\/$/m);
  });

  /** Waits for the demo's phone notification for an account (after position `from` of the output). */
  async function phoneUrl(account: string, from: number): Promise<string> {
    for (let i = 0; i < 600; i++) {
      const url = new RegExp(`^phone: approval for ${account} \\((.*)\\): (http\\S+)$`, 'm').exec(out.slice(from))?.[2];
      if (url) return url;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no approval reached the phone of ${account}`);
  }

  it('citizen: login → pre-filled form → check the PDF → PIN → approve on the phone; officer: review → seal PIN → approve → two valid signatures', async () => {
    const portal = /portal \(public service\)\s+(http:\/\/[^\s]+?)\/\s/.exec(out)![1]!;
    const secret = /079190000002 .* TOTP secret ([A-Z2-7]+)/.exec(out)![1]!;
    const c = new Client();
    const formPage = await login(c, portal, '079190000002', 'demo-Binh-2026', secret);
    assert.match(formPage.body, /Trần Thị Bình/);
    const f = form(formPage.body, formPage.url);
    const confirm = await c.submit(f.action, { csrf: f.csrf, address: '12 Lê Lợi, Quận 1, TP Hồ Chí Minh', phone: '+84907654321', request: 'Đăng ký thay đổi nơi thường trú' });
    assert.ok(confirm.url.endsWith('/confirm'), `${confirm.url}: ${confirm.body.slice(0, 300)}`);
    assert.match(confirm.body, /Mã PIN/);
    const draft = await c.req(`${portal}/draft.pdf`);
    assert.equal(draft.status, 200);
    assert.equal(Buffer.from(await draft.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    const cf = form(confirm.body, confirm.url);
    // a wrong PIN gives a clear page, not a 500
    const bad = await c.submit(cf.action, { csrf: cf.csrf, pin: '000000', decision: 'sign' });
    assert.equal(bad.res.status, 400);
    assert.match(bad.body, /Mã PIN không đúng/);
    const before = out.length;
    const signing = c.submit(cf.action, { csrf: cf.csrf, pin: '123456', decision: 'sign' });
    let url: string | undefined;
    for (let i = 0; i < 600 && !url; i++) {
      url = /^phone: approval for 079190000002 \((.*)\): (http\S+)$/m.exec(out.slice(before))?.[2];
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(url, 'the approval reached the phone');
    assert.match(out.slice(before), /Cổng dịch vụ công \(demo\): ký Tờ khai cư trú\.pdf #[0-9A-F]{8}/);
    const phone = new Client();
    const pg = await phone.follow(url!);
    const pf = form(pg.body, pg.url);
    const ok = await phone.submit(pf.action, { csrf: pf.csrf, decision: 'approve', password: 'demo-Binh-2026', code: await totpCode(secret, Date.now() + 30_000) });
    assert.equal(ok.res.status, 200, ok.body.slice(0, 300));
    const submitted = await signing;
    assert.equal(submitted.res.status, 200, submitted.body.slice(0, 400));
    assert.match(submitted.body, /chờ cán bộ tiếp nhận ký xác nhận/);
    const appId = /Mã hồ sơ \/ Application: <strong>([A-Za-z0-9_-]+)</.exec(submitted.body)![1]!;
    const citizenOnly = await c.req(`${portal}/document.pdf`);
    writeFileSync(join(dir, 'citizen.pdf'), Buffer.from(await citizenOnly.arrayBuffer()));
    assert.equal((spawnSync('pdfsig', [join(dir, 'citizen.pdf')], { encoding: 'utf8' }).stdout.match(/Signature is Valid/g) ?? []).length, 1);

    // a citizen is not an officer
    assert.equal((await c.follow(`${portal}/officer`)).res.status, 403);

    // the officer logs in at level 2, reviews the pending application and counter-signs with the agency seal
    const o = new Client();
    const list = await login(o, portal, '001085000003', 'demo-CanBo-2026', secret, 'officer');
    assert.match(list.body, new RegExp(appId));
    assert.match(list.body, /Trần Thị Bình/);
    assert.match(list.body, /\d{2}\/\d{2}\/\d{4}/, 'dates dd/mm/yyyy');
    const review = await o.follow(`${portal}/officer/${appId}`);
    const rf = form(review.body, review.url);
    const mark = out.length;
    const countersigning = o.submit(rf.action, { csrf: rf.csrf, pin: '123456' });
    const ophone = new Client();
    const opg = await ophone.follow(await phoneUrl('001085000003', mark));
    const opf = form(opg.body, opg.url);
    assert.equal((await ophone.submit(opf.action, { csrf: opf.csrf, decision: 'approve', password: 'demo-CanBo-2026', code: await totpCode(secret, Date.now() + 30_000) })).res.status, 200);
    const result = await countersigning;
    assert.equal(result.res.status, 200, result.body.slice(0, 400));
    assert.match(result.body, /Hồ sơ đã được ký xác nhận\. Kết luận: <strong>Hợp lệ<\/strong> <span class="en">\(TOTAL_PASSED\)/, result.body.slice(0, 1500));
    const pdf = await o.req(`${portal}/officer/${appId}.pdf`);
    const file = join(dir, 'signed.pdf');
    writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
    const sig = spawnSync('pdfsig', [file], { encoding: 'utf8' });
    assert.equal((sig.stdout.match(/Signature is Valid/g) ?? []).length, 2, sig.stdout + sig.stderr);
    assert.match(sig.stdout, /Trần Thị Bình/);
    assert.match(sig.stdout, /Sở Tư pháp Thành phố Hà Nội/);
  });

  it('cancel leads to a clear page', async () => {
    const portal = /portal \(public service\)\s+(http:\/\/[^\s]+?)\/\s/.exec(out)![1]!;
    const secret = /079190000002 .* TOTP secret ([A-Z2-7]+)/.exec(out)![1]!;
    const c = new Client();
    await new Promise((r) => setTimeout(r, 31_000)); // a fresh TOTP step for this login
    const formPage = await login(c, portal, '079190000002', 'demo-Binh-2026', secret);
    const f = form(formPage.body, formPage.url);
    const confirm = await c.submit(f.action, { csrf: f.csrf, address: 'x', phone: '1', request: 'y' });
    const cf = form(confirm.body, confirm.url);
    const cancelled = await c.submit(cf.action, { csrf: cf.csrf, decision: 'cancel' });
    assert.equal(cancelled.res.status, 200);
    assert.match(cancelled.body, /Bạn đã hủy/);
  });
});
