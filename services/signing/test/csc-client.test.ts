/**
 * The SDK's CSC client against kyso's own signing service: @kyso/signer's CscKeyBackend signs PDFs (pdfsig
 * accepts them), reports typed errors, and `kyso sign --csc URL --credential ID` waits for the real approval on
 * the phone (CIBA through the identity provider) with a visible status.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CscKeyBackend, SignerError, signPdf } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { Browser, formOf } from '../../../packages/idp/test/provider-helpers.js';
import { startStack, type Stack } from './helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const KYSO = join(ROOT, 'packages/cli/bin/kyso.mjs');

function pdfsigValid(path: string): void {
  const r = spawnSync('pdfsig', [path], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'pdfsig must be installed');
  assert.match(r.stdout, /Signature is Valid/, r.stdout);
}

describe('CSC client (SDK backend) against kyso\'s signing service', function () {
  this.timeout(120_000);
  let s: Stack;
  const dir = mkdtempSync(join(tmpdir(), 'kyso-csc-client-'));
  before(async () => { s = await startStack(); });
  after(async () => { await s?.close(); });

  it('signs PDFs at B-T with a remote RSA and a remote P-256 key; status lines are reported', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(1, { text: 'Don dang ky' }));
    for (const key of [{ type: 'RSA', bits: 2048 }, { type: 'EC', curve: 'P-256' }] as const) {
      const cred = await s.enrol(c.id, key, '424242');
      const status: string[] = [];
      const backend = await CscKeyBackend.open({ url: s.signing.url, credentialId: cred.id, token, pin: '424242', documentName: 'in.pdf', onStatus: (m) => status.push(m) });
      assert.deepEqual(Buffer.from(backend.certificate), Buffer.from(cred.certificates[0]!, 'base64'));
      assert.equal(backend.chain.length, 2);
      const out = join(dir, `out-${key.type}.pdf`);
      await signPdf(input, out, { backend, level: 'B-T', tsa: { url: s.tsaUrl } });
      pdfsigValid(out);
      assert.match(status[0]!, /chờ phê duyệt/);
      // the status names the service's phone page for this authorization, which shows the document
      const page = /chi tiết \/ details: (http\S+\/approve\/[A-Za-z0-9_-]{32})$/.exec(status[0]!)?.[1];
      assert.ok(page, status[0]);
      assert.match(await (await fetch(page!)).text(), /in\.pdf/);
      assert.ok(status.some((m) => /approved/.test(m)));
    }
  });

  it('a wrong PIN, an unknown credential and a bad URL are typed errors', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '424242');
    const b = await CscKeyBackend.open({ url: `${s.signing.url}/csc/v2`, credentialId: cred.id, token, pin: '000000' });
    const input = join(dir, 'in2.pdf');
    writeFileSync(input, await makeBasicPdf(1));
    await assert.rejects(signPdf(input, join(dir, 'x.pdf'), { backend: b }), (e: unknown) => e instanceof SignerError && e.code === 'BAD_PIN');
    await assert.rejects(CscKeyBackend.open({ url: s.signing.url, credentialId: 'nope', token, pin: '1' }), (e: unknown) => e instanceof SignerError && e.code === 'KEY_NOT_FOUND');
    await assert.rejects(CscKeyBackend.open({ url: 'file:///etc/passwd', credentialId: 'x', token, pin: '1' }), (e: unknown) => e instanceof SignerError);
    // the token and PIN never go out in clear: plain http only to this machine, no credentials in the URL
    let fetched = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (...a: Parameters<typeof fetch>) => { fetched++; return realFetch(...a); }) as typeof fetch;
    try {
      for (const url of ['http://signing.example.gov.vn/csc/v2', 'http://10.0.0.5:8443/', 'http://[2001:db8::1]/']) {
        await assert.rejects(CscKeyBackend.open({ url, credentialId: cred.id, token, pin: '1' }), (e: unknown) => e instanceof SignerError && /https/.test(e.message) && !e.message.includes(token), url);
      }
      await assert.rejects(CscKeyBackend.open({ url: s.signing.url.replace('http://', 'http://u:secret@'), credentialId: cred.id, token, pin: '1' }), (e: unknown) => e instanceof SignerError && !e.message.includes('secret'));
      assert.equal(fetched, 0, 'nothing was sent');
    } finally { globalThis.fetch = realFetch; }
    // loopback names and addresses are this machine
    const viaLocalhost = await CscKeyBackend.open({ url: s.signing.url.replace('127.0.0.1', 'localhost'), credentialId: cred.id, token, pin: '000000' });
    await viaLocalhost.close?.();
  });
});

describe('kyso sign --csc URL --credential ID (approval on the phone through CIBA)', function () {
  this.timeout(180_000);
  let s: Stack;
  const dir = mkdtempSync(join(tmpdir(), 'kyso-csc-cli-'));
  before(async () => { s = await startStack({ ciba: true }); });
  after(async () => { await s?.close(); });

  it('waits for the approval with a visible status, then writes a PDF that pdfsig accepts', async () => {
    const c = await s.citizen(2);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '314159');
    const input = join(dir, 'to-khai.pdf');
    const output = join(dir, 'to-khai-signed.pdf');
    writeFileSync(input, await makeBasicPdf(1, { text: 'To khai' }));
    const run = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [KYSO, 'sign', input, '-o', output, '--csc', s.signing.url, '--credential', cred.id, '--pin-env', 'CSC_PIN', '--offline', '--level', 'B-T', '--tsa', s.tsaUrl],
        { cwd: ROOT, env: { ...process.env, KYSO_CSC_TOKEN: token, CSC_PIN: '314159' } }, (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
    });
    let note;
    for (let i = 0; i < 600 && !note; i++) {
      note = s.idp.ciba.find((n) => n.accountId === c.id);
      if (!note) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(note, 'the approval reached the phone');
    assert.match(note.bindingMessage ?? '', /to-khai\.pdf/);
    const b = new Browser(s.idp.issuer);
    const page = await b.follow(note.approvalUrl);
    const f = formOf(page.body);
    await b.submit(f.action, { csrf: f.csrf, decision: 'approve', password: c.password, code: await c.code() });
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /waiting for approval on the phone/);
    // the status printed the service's phone page of this authorization
    const details = /chi tiết \/ details: (http\S+\/approve\/[A-Za-z0-9_-]{32})/.exec(r.stderr)?.[1];
    assert.ok(details, r.stderr);
    const shown = await (await fetch(details!)).text();
    assert.match(shown, /to-khai\.pdf/);
    assert.match(shown, /Đã phê duyệt/);
    assert.match(r.stderr, /approved/);
    assert.doesNotMatch(r.stderr + r.stdout, /314159/, 'the PIN is never printed');
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(token.slice(0, 12)), 'the token is never printed');
    pdfsigValid(output);
    assert.ok(readFileSync(output).length > readFileSync(input).length);
  });

  it('--csc without --credential is a usage error', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [KYSO, 'sign', 'a.pdf', '-o', 'b.pdf', '--csc', 'http://127.0.0.1:1/'], { cwd: ROOT }, (err, _o, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr }));
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--csc and --credential go together/);
  });
});
