import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PdfReader, PdfString } from '@kyso/pdf';
import { loadPemFiles, signPdf, PadesError, type KeyBackend } from '@kyso/signer';
import { makeBasicPdf, makeEncrypted, type EncryptionKind } from '../../../fixtures/pdf/samples.js';
import { assertOpensslCmsVerifies, assertPrefix, kyso } from './pades-helpers.js';
import { makeLocalPki, type LocalPki } from './pades-pki.js';

const hasCode = (e: unknown, code: string): boolean => String((e as { code?: unknown }).code) === code;

function pdfsigWithPassword(path: string, pw: string): string[] {
  const r = spawnSync('pdfsig', ['-upw', pw, path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return [...r.stdout.matchAll(/Signature Validation: (.*)/g)].map((m) => m[1]!.trim());
}

describe('PAdES on encrypted PDFs (Standard security handler)', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: LocalPki;
  let a: KeyBackend;
  let plain: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-enc-'));
    pki = makeLocalPki(join(dir, 'pki'));
    a = await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.leafCert, chainPath: pki.rootPath });
    plain = join(dir, 'plain.pdf');
    writeFileSync(plain, await makeBasicPdf(2));
  });
  after(async () => {
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kinds: [EncryptionKind, string, string[]][] = [
    ['aes256', 'user', []],
    ['aes256', '', []],
    ['aes256', 'user', ['--object-streams=generate']],
    ['aes128', 'user', []],
    ['rc4-128', 'user', []],
    ['rc4-40', 'user', []],
  ];
  for (const [kind, pw, extra] of kinds) {
    it(`${kind}${pw ? '' : ' (empty user password)'}${extra.length ? ' + object streams' : ''}: signs twice with the password, strings and streams encrypted, valid`, async () => {
      const enc = join(dir, `${kind}-${pw || 'empty'}-${extra.length}.pdf`);
      makeEncrypted(plain, enc, kind, pw, extra);
      const o1 = `${enc}.s1.pdf`;
      const o2 = `${enc}.s2.pdf`;
      await signPdf(enc, o1, { backend: a, reason: 'Hồ sơ mật', ...(pw ? { pdfPassword: pw } : {}), visible: { page: 1, rect: [300, 40, 220, 60] } });
      await signPdf(o1, o2, { backend: a, reason: 'second', ...(pw ? { pdfPassword: pw } : {}) });
      assertPrefix(enc, o1);
      assertPrefix(o1, o2);
      assert.deepEqual(pdfsigWithPassword(o2, pw), ['Signature is Valid.', 'Signature is Valid.']);
      const qc = spawnSync('qpdf', ['--check', `--password=${pw}`, o2], { encoding: 'utf8' });
      assert.equal(qc.status, 0, qc.stdout + qc.stderr);
      const text = spawnSync('pdftotext', ['-upw', pw, o2, '-'], { encoding: 'utf8' }).stdout;
      assert.ok(text.includes('Ký bởi: Nguyễn Văn An'), text);
      assertOpensslCmsVerifies(o2, pki.rootPath, dir);
      // the new strings are stored encrypted: /Reason does not appear in clear in the file
      const raw = (await import('node:fs')).readFileSync(o2).toString('latin1');
      assert.ok(!raw.includes('(second)'), '/Reason is encrypted');
      const r = PdfReader.open(o2, { password: pw });
      const reasons = r.fields().filter((f) => f.fieldType === "Sig").map((f) => (r.dict(f.dict.get("V"))!.get("Reason") as PdfString).text());
      assert.deepEqual(reasons, ['Hồ sơ mật', 'second']);
      r.close();
    });
  }

  it('wrong or missing password: PDF_ENCRYPTED, no output', async () => {
    const enc = join(dir, 'locked.pdf');
    makeEncrypted(plain, enc, 'aes256', 'secret-user');
    const out = join(dir, 'locked-out.pdf');
    await assert.rejects(signPdf(enc, out, { backend: a }), (e: unknown) => e instanceof PadesError && hasCode(e, 'PDF_ENCRYPTED'));
    await assert.rejects(signPdf(enc, out, { backend: a, pdfPassword: 'nope' }), (e: unknown) => e instanceof PadesError && hasCode(e, 'PDF_ENCRYPTED') && !(e as Error).message.includes('nope'));
    assert.equal(existsSync(out), false);
    // the owner password works too
    await signPdf(enc, out, { backend: a, pdfPassword: 'owner' });
    assert.deepEqual(pdfsigWithPassword(out, 'secret-user'), ['Signature is Valid.']);
  });

  it('kyso sign --pdf-password-env', async () => {
    const enc = join(dir, 'cli-enc.pdf');
    makeEncrypted(plain, enc, 'aes128', 'pw-cli');
    const out = join(dir, 'cli-enc-out.pdf');
    const r = await kyso(['sign', enc, '-o', out, '--key', pki.leafKey, '--cert', pki.leafCert, '--pdf-password-env', 'DOC_PW', '--offline'], { DOC_PW: 'pw-cli' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(pdfsigWithPassword(out, 'pw-cli'), ['Signature is Valid.']);
    const bad = await kyso(['sign', enc, '-o', join(dir, 'x.pdf'), '--key', pki.leafKey, '--cert', pki.leafCert, '--offline']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /PDF_ENCRYPTED/);
  });
});
