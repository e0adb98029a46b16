import assert from 'node:assert/strict';
import { answerPrompt } from './pty.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSamples, makeEncrypted, type SampleClass } from '../../../fixtures/pdf/samples.js';
import { assertOpensslCmsVerifies, assertPdfsigValid, assertPrefix, kyso, pdfText } from './pades-helpers.js';
import { makeLocalPki, type LocalPki } from './pades-pki.js';

describe('kyso sign (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: LocalPki;
  let samples: Record<SampleClass, string>;
  const env = { KYSO_TEST_P12_PASS: '' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-sign-cli-'));
    pki = makeLocalPki(join(dir, 'pki'));
    env.KYSO_TEST_P12_PASS = pki.p12Password;
    samples = await writeSamples(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('signs with --p12 and --password-env, visible Vietnamese appearance, certification: exit 0 and one line', async () => {
    const out = join(dir, 'cli-1.pdf');
    const r = await kyso(['sign', samples.classic, '-o', out, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--reason', 'Phê duyệt', '--location', 'Hà Nội',
      '--visible', 'page=1;rect=300,60,250,70', '--certify', '2', '--field', 'KySo1', '--offline'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^signed .*cli-1\.pdf \(B-B, field KySo1, \d+ bytes\)\n$/);
    assertPrefix(samples.classic, out);
    assertPdfsigValid(out, 1);
    assertOpensslCmsVerifies(out, pki.rootPath, dir);
    assert.ok(pdfText(out).includes('Ký bởi: Nguyễn Văn An'));
  });

  it('prompts for the password on a terminal without echoing it (pty through script(1))', async () => {
    const out = join(dir, 'prompted.pdf');
    const argv = [process.execPath, resolve(import.meta.dirname, '../../cli/bin/kyso.mjs'), 'sign', samples.classic, '-o', out, '--p12', pki.p12, '--offline'];
    const { code, seen } = await answerPrompt(argv, 'Password: ', pki.p12Password);
    assert.equal(code, 0, seen);
    const afterPrompt = seen.slice(seen.indexOf('Password: ') + 'Password: '.length);
    assert.ok(!afterPrompt.includes(pki.p12Password), `password echoed: ${JSON.stringify(afterPrompt)}`);
    assert.match(afterPrompt, /signed .*prompted\.pdf/);
    assertPdfsigValid(out, 1);
  });

  it('signs with --key/--cert/--chain (second signature on the first one)', async () => {
    const out = join(dir, 'cli-2.pdf');
    const first = join(dir, 'cli-2a.pdf');
    assert.equal((await kyso(['sign', samples['object-streams'], '-o', first, '--key', pki.leafKey, '--cert', pki.leafCert, '--chain', pki.rootPath, '--offline'])).code, 0);
    const r = await kyso(['sign', first, '-o', out, '--key', pki.leaf2Key, '--cert', pki.leaf2Cert, '--chain', pki.rootPath, '--reason', 'counter-sign', '--offline']);
    assert.equal(r.code, 0, r.stderr);
    assertPdfsigValid(out, 2);
    assertPrefix(first, out);
  });

  it('usage errors exit 2: secrets on argv, missing -o, two keys, B-T without --tsa, bad --visible', async () => {
    const cases: string[][] = [
      ['sign', samples.classic, '-o', join(dir, 'u.pdf'), '--p12', pki.p12, '--password', 'Hunter2xyz'],
      ['sign', samples.classic, '--p12', pki.p12],
      ['sign', samples.classic, '-o', join(dir, 'u.pdf'), '--p12', pki.p12, '--key', pki.leafKey, '--cert', pki.leafCert],
      ['sign', samples.classic, '-o', join(dir, 'u.pdf'), '--p12', pki.p12, '--level', 'B-T'],
      ['sign', samples.classic, '-o', join(dir, 'u.pdf'), '--p12', pki.p12, '--visible', 'page=0;rect=1,2'],
      ['sign', samples.classic, '-o', join(dir, 'u.pdf'), '--p12', pki.p12, '--certify', '4'],
      ['sign', '--in-dir', dir, '--out-dir', dir + '/', '--p12', pki.p12],
    ];
    const rs = await Promise.all(cases.map((c) => kyso(c, env)));
    rs.forEach((r, i) => {
      assert.equal(r.code, 2, `case ${i}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one-line message');
    });
    assert.ok(!rs[0]!.stderr.includes('Hunter2xyz'), 'the secret is not echoed');
    assert.equal(existsSync(join(dir, 'u.pdf')), false);
  });

  it('failures exit 1 / 3 / 4 with a one-line typed reason and no output: wrong password (1), encrypted PDF (1), truncated PDF (3), unreachable TSA (4)', async () => {
    const enc = join(dir, 'enc.pdf');
    makeEncrypted(samples.classic, enc);
    const trunc = join(dir, 'trunc.pdf');
    const b = readFileSync(samples.classic);
    writeFileSync(trunc, b.subarray(0, b.length - 200));
    const out = join(dir, 'fail.pdf');
    const rs = await Promise.all([
      kyso(['sign', samples.classic, '-o', out, '--p12', pki.p12, '--password-env', 'WRONG_PASS', '--offline'], { WRONG_PASS: 'nope' }),
      kyso(['sign', enc, '-o', out, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline'], env),
      kyso(['sign', trunc, '-o', out, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline'], env),
      kyso(['sign', samples.classic, '-o', out, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--level', 'B-T', '--tsa', 'http://127.0.0.1:9/tsa', '--offline'], env),
    ]);
    const expected: [number, string][] = [[1, 'BAD_PASSWORD'], [1, 'PDF_ENCRYPTED'], [3, 'PDF_DAMAGED'], [4, 'TSA_UNREACHABLE']];
    rs.forEach((r, i) => {
      assert.equal(r.code, expected[i]![0], `case ${i}: ${r.stdout}${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.ok(lines[0]!.startsWith(`kyso sign: ${expected[i]![1]}: `), lines[0]);
      assert.ok(!r.stderr.includes('nope'));
    });
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.kyso-tmp')), []);
  });

  it('--repair signs a damaged PDF after rewriting it and says so; image and rectangle errors exit 3 with their codes', async () => {
    const b = readFileSync(samples.classic);
    const unfinished = join(dir, 'unfinished.pdf');
    writeFileSync(unfinished, Buffer.concat([b, Buffer.from('\n7 0 obj\n<< /Type /Annot >>\nendobj\n')]));
    const out = join(dir, 'repaired.pdf');
    const refused = await kyso(['sign', unfinished, '-o', out, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline'], env);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /^kyso sign: PDF_DAMAGED: .*unfinished revision.*--repair/);
    const r = await kyso(['sign', unfinished, '-o', out, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline', '--repair'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /after repair/);
    assert.match(r.stderr, /was damaged .*repaired \(rewritten\) before signing/);
    assertPdfsigValid(out, 1);
    const gif = join(dir, 'seal.gif');
    writeFileSync(gif, Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
    const img = await kyso(['sign', samples.classic, '-o', join(dir, 'img.pdf'), '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline', '--visible', 'page=1;rect=10,10,100,50', '--image', gif], env);
    assert.equal(img.code, 3, img.stderr);
    assert.match(img.stderr, /^kyso sign: IMAGE_UNSUPPORTED: .*GIF/);
    const rect = await kyso(['sign', samples.classic, '-o', join(dir, 'rect.pdf'), '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline', '--visible=page=1;rect=550,800,200,100'], env);
    assert.equal(rect.code, 3, rect.stderr);
    assert.match(rect.stderr, /^kyso sign: RECT_OUTSIDE_PAGE: .*does not fit on page 1/);
    assert.equal(existsSync(join(dir, 'img.pdf')) || existsSync(join(dir, 'rect.pdf')), false);
  });

  it('refuses an expired certificate by default and signs with --allow-invalid-cert', async () => {
    const out = join(dir, 'expired.pdf');
    const r1 = await kyso(['sign', samples.classic, '-o', out, '--key', pki.leafKey, '--cert', pki.expiredCert, '--offline']);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /CERT_EXPIRED/);
    assert.equal(existsSync(out), false);
    const r2 = await kyso(['sign', samples.classic, '-o', out, '--key', pki.leafKey, '--cert', pki.expiredCert, '--offline', '--allow-invalid-cert']);
    assert.equal(r2.code, 0, r2.stderr);
    assertPdfsigValid(out, 1);
  });

  it('--in-dir/--out-dir signs every PDF with a summary (no progress bar when stderr is not a terminal); a bad file fails alone (exit 1)', async () => {
    const inDir = join(dir, 'batch-in');
    const outDir = join(dir, 'batch-out');
    mkdirSync(inDir);
    for (const c of ['classic', 'xref-stream', 'hybrid', 'linearized'] as const) writeFileSync(join(inDir, `${c}.pdf`), readFileSync(samples[c]));
    const r = await kyso(['sign', '--in-dir', inDir, '--out-dir', outDir, '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Summary: 4 signed, 0 failed/);
    assert.doesNotMatch(r.stderr, /\[[#.]+\]/, 'no progress bar on a pipe');
    for (const f of readdirSync(inDir)) assertPdfsigValid(join(outDir, f), 1);
    writeFileSync(join(inDir, 'broken.pdf'), 'not a pdf');
    const r2 = await kyso(['sign', '--in-dir', inDir, '--out-dir', join(dir, 'batch-out2'), '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline'], env);
    assert.equal(r2.code, 1);
    assert.match(r2.stdout, /Summary: 4 signed, 1 failed/);
    assert.match(r2.stdout, /FAILED broken\.pdf: PDF_NOT_PDF/);
  });

  it('draws the progress bar when stderr is a terminal (pty through script(1))', async () => {
    const inDir = join(dir, 'tty-in');
    mkdirSync(inDir);
    for (const c of ['classic', 'hybrid'] as const) writeFileSync(join(inDir, `${c}.pdf`), readFileSync(samples[c]));
    const { spawnSync } = await import('node:child_process');
    const cmd = [process.execPath, resolve(import.meta.dirname, '../../cli/bin/kyso.mjs'), 'sign', '--in-dir', inDir, '--out-dir', join(dir, 'tty-out'), '--p12', pki.p12, '--password-env', 'KYSO_TEST_P12_PASS', '--offline'].map((x) => `'${x}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...env }, input: '' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\r\[#+\.*\] [12]\/2/, 'bar drawn in place on the terminal');
    assert.match(r.stdout, /Summary: 2 signed, 0 failed/);
  });

  it('signs any other file as a detached CAdES .p7s', async () => {
    const data = join(dir, 'data.xml');
    writeFileSync(data, '<doc>xin chào</doc>');
    const out = join(dir, 'data.xml.p7s');
    const r = await kyso(['sign', data, '-o', out, '--key', pki.leafKey, '--cert', pki.leafCert, '--chain', pki.rootPath, '--offline']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CAdES B-B, detached/);
    const { spawnSync } = await import('node:child_process');
    const v = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', out, '-content', data, '-CAfile', pki.rootPath, '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
  });
});
