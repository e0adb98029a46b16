import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { signPdfBytes, loadPemBackend } from '@kyso/signer';
import { REPORT_SCHEMA_PATH, verifyPdf, type ValidationReport } from '@kyso/verifier';
import { makeMiniPki, type MiniPki } from '../packages/verifier/test/helpers/openssl-pki.js';
import { schemaErrors } from '../packages/verifier/test/helpers/schema-check.js';

const ROOT = new URL('..', import.meta.url).pathname;
const KYSO = join(ROOT, 'packages/cli/bin/kyso.mjs');

function kyso(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KYSO, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function onePagePdf(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText(text, { x: 50, y: 780, size: 14, font });
  return doc.save({ useObjectStreams: false });
}

describe('kyso verify (CLI) and report outputs', function () {
  this.timeout(120_000);
  let pki: MiniPki;
  let dir: string;
  let signedPath: string;
  let policyPath: string;

  before(async () => {
    pki = makeMiniPki();
    dir = join(pki.dir, 'cli');
    mkdirSync(join(dir, 'batch'), { recursive: true });
    const backend = await loadPemBackend({ key: readFileSync(pki.leaf('good').key), cert: readFileSync(pki.leaf('good').cert), chain: pki.interPem });
    const signed = await signPdfBytes(await onePagePdf('Giay xac nhan <script>alert(1)</script>'), { backend, fieldName: 'Chữ ký <b>1</b>', reason: 'Tôi đồng ý <img src=x onerror=alert(1)>', tmpDir: pki.dir });
    signedPath = join(dir, 'signed.pdf');
    writeFileSync(signedPath, signed);
    writeFileSync(join(dir, 'batch', 'a.pdf'), signed);
    const tampered = Buffer.from(signed);
    const i = tampered.indexOf('kyso');
    tampered[i >= 0 ? i : 100] ^= 1;
    writeFileSync(join(dir, 'batch', 'b-tampered.pdf'), tampered);
    writeFileSync(join(pki.dir, 'root.crl.der'), pki.rootCrlDer);
    policyPath = join(dir, 'policy.json');
    writeFileSync(policyPath, JSON.stringify({ trustAnchors: [join(pki.dir, 'root.pem')], revocationRequired: false, offline: true }));
  });

  it('a kyso-signed PDF is TOTAL_PASSED against the root and INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND without it', async () => {
    const r = await verifyPdf(signedPath, { trustAnchors: [pki.rootPem], offline: true }, { validationData: { crls: [pki.crlDer, pki.rootCrlDer] } });
    assert.equal(r.documentIndication, 'TOTAL_PASSED', JSON.stringify(r.signatures.map((s) => s.message)));
    assert.equal(r.signatures[0]!.level, 'PAdES-BASELINE-B');
    assert.equal(r.signatures[0]!.field, 'Chữ ký <b>1</b>');
    const r2 = await verifyPdf(signedPath, { offline: true });
    assert.equal(r2.signatures[0]!.indication, 'INDETERMINATE');
    assert.equal(r2.signatures[0]!.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
  });

  it('the JSON report conforms to report.schema.json and keeps the contract fields', async () => {
    const schema = JSON.parse(readFileSync(REPORT_SCHEMA_PATH, 'utf8'));
    const res = await kyso(['verify', signedPath, '--trust', join(pki.dir, 'root.pem'), '--offline', '--no-revocation', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as ValidationReport;
    assert.deepEqual(schemaErrors(schema, r), []);
    for (const k of ['file', 'documentIndication', 'signatures']) assert.ok(k in r, k);
    for (const k of ['field', 'indication', 'subIndication', 'level', 'signer', 'signingTime', 'timestamp', 'coverage', 'modifications']) assert.ok(k in r.signatures[0]!, k);
    assert.equal(r.file, 'signed.pdf');
    assert.equal(r.documentIndication, 'TOTAL_PASSED');
    // The schema checker itself rejects a broken report.
    assert.notDeepEqual(schemaErrors(schema, { ...r, documentIndication: 'VALID' }), []);
  });

  it('exit codes: 1 without trust, 2 on usage errors, help prints usage', async () => {
    const noTrust = await kyso(['verify', signedPath, '--offline']);
    assert.equal(noTrust.code, 1);
    assert.match(noTrust.stdout, /NO_CERTIFICATE_CHAIN_FOUND/);
    assert.equal((await kyso(['verify'])).code, 2);
    assert.equal((await kyso(['verify', signedPath, '--bogus'])).code, 2);
    assert.equal((await kyso(['verify', join(dir, 'missing.pdf')])).code, 2);
    const help = await kyso(['verify', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--trust ROOT\.pem/);
  });

  it('a folder: summary table on stdout, no progress bar when stderr is not a terminal, exit 1 when one file fails; --policy and --html', async () => {
    const html = join(dir, 'report.html');
    const res = await kyso(['verify', join(dir, 'batch'), '--policy', policyPath, '--html', html]);
    assert.equal(res.code, 1);
    assert.doesNotMatch(res.stderr, /\[[#.]+\]/, 'the progress bar is drawn only on a terminal');
    assert.match(res.stdout, /a\.pdf\s+\| TOTAL_PASSED/);
    assert.match(res.stdout, /b-tampered\.pdf\s+\| TOTAL_FAILED/);
    assert.match(res.stdout, /2 file\(s\): 1 TOTAL_PASSED, 0 INDETERMINATE, 1 TOTAL_FAILED/);
    assert.ok(existsSync(html));
    const page = readFileSync(html, 'utf8');
    assert.match(page, /Hợp lệ/);
    assert.match(page, /Không hợp lệ/);
    assert.match(page, /Chữ ký &#60;b&#62;1&#60;\/b&#62;/);
    assert.doesNotMatch(page, /<img src=x/);
    assert.doesNotMatch(page, /<b>1<\/b>/);
    assert.doesNotMatch(page, /<script>alert/);
    assert.doesNotMatch(page, /(src|href)="https?:/, 'self-contained');
    const ok = await kyso(['verify', join(dir, 'batch', 'a.pdf'), '--policy', policyPath]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /a\.pdf: TOTAL_PASSED/);
  });

  it('--json on a folder prints an array of reports in file order', async () => {
    const res = await kyso(['verify', join(dir, 'batch'), '--policy', policyPath, '--json']);
    assert.equal(res.code, 1);
    const arr = JSON.parse(res.stdout) as ValidationReport[];
    assert.ok(Array.isArray(arr));
    assert.deepEqual(arr.map((r) => [r.file, r.documentIndication]), [['a.pdf', 'TOTAL_PASSED'], ['b-tampered.pdf', 'TOTAL_FAILED']]);
  });

  it('a .p7s with its data file next to it, and with --data', async () => {
    const data = join(dir, 'contract.txt');
    writeFileSync(data, 'Hợp đồng số 1');
    writeFileSync(`${data}.p7s`, pki.signCms('good', data));
    const a = await kyso(['verify', `${data}.p7s`, '--policy', policyPath, '--json']);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal((JSON.parse(a.stdout) as ValidationReport).signatures[0]!.level, 'CAdES-BASELINE-B');
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'Hợp đồng số 2');
    const b = await kyso(['verify', `${data}.p7s`, '--data', other, '--policy', policyPath, '--json']);
    assert.equal(b.code, 1);
    assert.equal((JSON.parse(b.stdout) as ValidationReport).signatures[0]!.subIndication, 'HASH_FAILURE');
  });
});
