import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { getTestPki, type TestIdentity } from '@kyso/fixtures';
import { addDss, defaultLtvProvider, loadPemBackend, signPdfBytes, type PadesLevel } from '@kyso/signer';
import { verifyCms, verifyPdf, type ValidationReport } from '@kyso/verifier';

type Pki = Awaited<ReturnType<typeof getTestPki>>;

async function onePage(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText(text, { x: 50, y: 780, size: 14, font });
  return doc.save({ useObjectStreams: false });
}

const why = (r: ValidationReport) => JSON.stringify(r.signatures.map((s) => `${s.field}: ${s.indication}/${s.subIndication} [${s.block}] ${s.message}`));
const sigOf = (r: ValidationReport) => r.signatures.find((s) => s.kind === 'signature')!;

describe('verify: files signed by kyso with the test PKI (@kyso/fixtures)', function () {
  this.timeout(240_000);
  let pki: Pki;

  async function sign(id: TestIdentity, level: PadesLevel, opts: { allowInvalidCert?: boolean; certify?: 1 | 2 | 3; visible?: { page: number; rect: [number, number, number, number] } } = {}): Promise<Uint8Array> {
    const backend = await loadPemBackend({ key: id.keyPem, cert: id.certPem, chain: id.chainPems.join('\n') });
    return signPdfBytes(await onePage(`${id.name} ${level}`), { backend, level, fieldName: 'Signature1', tsa: { url: pki.servers.tsaUrl }, ...opts });
  }

  before(async () => { pki = await getTestPki(); });

  const cases: [string, PadesLevel][] = [
    ['citizen1', 'B-B'], ['citizen1', 'B-T'], ['citizen1', 'B-LT'], ['citizen1', 'B-LTA'],
    ['citizen2', 'B-B'], ['citizen2', 'B-LTA'], ['agency', 'B-LT'], ['citizenPss', 'B-T'], ['citizenP384', 'B-LTA'],
  ];
  for (const [name, level] of cases) {
    it(`${name} (${level}): TOTAL_PASSED against the test root, INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND without it`, async () => {
      const id = pki.identities[name];
      assert.ok(id, `identity ${name} exists in the test PKI`);
      const pdf = await sign(id, level);
      const r = await verifyPdf(pdf, { trustAnchors: [pki.rootPem] });
      assert.equal(r.documentIndication, 'TOTAL_PASSED', why(r));
      assert.equal(sigOf(r).level, `PAdES-BASELINE-${level.slice(2)}`);
      assert.ok(sigOf(r).signer!.personalIdentifiers.length + sigOf(r).signer!.organizationIdentifiers.length > 0, 'identifiers reported');
      const r2 = await verifyPdf(pdf, { offline: true });
      assert.equal(sigOf(r2).indication, 'INDETERMINATE');
      assert.equal(sigOf(r2).subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
    });
  }

  it('a CMS carrying only the leaf: the intermediate is fetched from AIA caIssuers online; offline there is no chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-aia-'));
    const id = pki.identities.citizen1;
    const data = join(dir, 'data.txt');
    writeFileSync(data, 'Tờ khai');
    writeFileSync(join(dir, 'key.pem'), id.keyPem);
    writeFileSync(join(dir, 'cert.pem'), id.certPem);
    execFileSync('openssl', ['cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', data, '-signer', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'), '-outform', 'DER', '-out', join(dir, 'sig.p7s')]);
    const p7s = new Uint8Array(readFileSync(join(dir, 'sig.p7s')));
    const online = await verifyCms(p7s, data, { trustAnchors: [pki.rootPem] });
    assert.equal(online.documentIndication, 'TOTAL_PASSED', why(online));
    assert.equal(online.signatures[0]!.signer!.chain!.length, 3, 'leaf → intermediate (fetched) → root');
    const offline = await verifyCms(p7s, data, { trustAnchors: [pki.rootPem], offline: true });
    assert.equal(offline.signatures[0]!.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
  });

  it('other kinds: a visible Vietnamese signature and a certification signature (DocMDP P=2) are TOTAL_PASSED', async () => {
    const visible = await sign(pki.identities.citizen2, 'B-T', { visible: { page: 1, rect: [50, 50, 250, 80] } });
    const rv = await verifyPdf(visible, { trustAnchors: [pki.rootPem] });
    assert.equal(rv.documentIndication, 'TOTAL_PASSED', why(rv));
    const certified = await sign(pki.identities.agency, 'B-LTA', { certify: 2 });
    const rc = await verifyPdf(certified, { trustAnchors: [pki.rootPem] });
    assert.equal(rc.documentIndication, 'TOTAL_PASSED', why(rc));
    assert.equal(sigOf(rc).level, 'PAdES-BASELINE-LTA');
  });

  it('a counter-signature in its own field and a later DSS keep both signatures TOTAL_PASSED', async () => {
    const first = await sign(pki.identities.citizen1, 'B-T');
    const agency = pki.identities.agency;
    const backend = await loadPemBackend({ key: agency.keyPem, cert: agency.certPem, chain: agency.chainPems.join('\n') });
    const both = await signPdfBytes(first, { backend, level: 'B-T', fieldName: 'AgencySeal', tsa: { url: pki.servers.tsaUrl } });
    const dir = mkdtempSync(join(tmpdir(), 'kyso-dss-'));
    writeFileSync(join(dir, 'both.pdf'), both);
    await addDss(join(dir, 'both.pdf'), join(dir, 'both-lt.pdf'), { ltv: defaultLtvProvider });
    for (const file of [both, new Uint8Array(readFileSync(join(dir, 'both-lt.pdf')))]) {
      const r = await verifyPdf(file, { trustAnchors: [pki.rootPem] });
      assert.equal(r.signatures.filter((x) => x.kind === 'signature').length, 2);
      assert.equal(r.documentIndication, 'TOTAL_PASSED', why(r));
      assert.ok(r.signatures[0]!.modifications.length > 0, 'the later revisions are listed as allowed changes');
    }
  });

  it('end to end through the CLI: `kyso sign` (PAdES B-LTA and CAdES B-T) then `kyso verify` exits 0 with the root, 1 without', async () => {
    const root = new URL('..', import.meta.url).pathname;
    const kyso = (args: string[], env: Record<string, string> = {}) => new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'packages/cli/bin/kyso.mjs'), ...args], { cwd: root, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }));
    });
    const dir = mkdtempSync(join(tmpdir(), 'kyso-e2e-'));
    const id = pki.identities.citizen1;
    writeFileSync(join(dir, 'in.pdf'), await onePage('e2e'));
    writeFileSync(join(dir, 'contract.txt'), 'Hợp đồng');
    const env = { KYSO_TEST_P12_PASSWORD: id.password };
    const key = ['--p12', id.p12Path, '--password-env', 'KYSO_TEST_P12_PASSWORD', '--tsa', pki.servers.tsaUrl];
    const s1 = await kyso(['sign', join(dir, 'in.pdf'), '-o', join(dir, 'out.pdf'), ...key, '--level', 'B-LTA'], env);
    assert.equal(s1.code, 0, s1.out);
    const s2 = await kyso(['sign', join(dir, 'contract.txt'), '-o', join(dir, 'contract.txt.p7s'), ...key, '--level', 'B-T'], env);
    assert.equal(s2.code, 0, s2.out);
    const v1 = await kyso(['verify', join(dir, 'out.pdf'), join(dir, 'contract.txt.p7s'), '--trust', pki.rootPath, '--json']);
    assert.equal(v1.code, 0, v1.out);
    const reports = JSON.parse(v1.out) as ValidationReport[];
    assert.deepEqual(reports.map((r) => r.documentIndication), ['TOTAL_PASSED', 'TOTAL_PASSED']);
    assert.equal(sigOf(reports[0]!).level, 'PAdES-BASELINE-LTA');
    assert.equal(sigOf(reports[1]!).level, 'CAdES-BASELINE-T');
    const v2 = await kyso(['verify', join(dir, 'out.pdf'), '--offline']);
    assert.equal(v2.code, 1);
    assert.match(v2.out, /NO_CERTIFICATE_CHAIN_FOUND/);
  });

  it('revoked signer → TOTAL_FAILED / REVOKED', async () => {
    const r = await verifyPdf(await sign(pki.identities.revoked, 'B-B', { allowInvalidCert: true }), { trustAnchors: [pki.rootPem] });
    assert.equal(sigOf(r).indication, 'TOTAL_FAILED', why(r));
    assert.equal(sigOf(r).subIndication, 'REVOKED');
  });

  it('expired signer without timestamp → INDETERMINATE (OUT_OF_BOUNDS_NO_POE or EXPIRED)', async () => {
    const r = await verifyPdf(await sign(pki.identities.expired, 'B-B', { allowInvalidCert: true }), { trustAnchors: [pki.rootPem] });
    assert.equal(sigOf(r).indication, 'INDETERMINATE', why(r));
    assert.ok(['OUT_OF_BOUNDS_NO_POE', 'EXPIRED'].includes(sigOf(r).subIndication!), why(r));
  });

  it('shortlived signer: B-LT and B-LTA stay TOTAL_PASSED at now + 2 days (offline, from the DSS); B-B does not', async () => {
    const at = new Date(Date.now() + 2 * 86400_000);
    assert.ok(pki.identities.shortlived.certPem, 'shortlived identity exists');
    for (const level of ['B-LT', 'B-LTA'] as PadesLevel[]) {
      const pdf = await sign(pki.identities.shortlived, level);
      const r = await verifyPdf(pdf, { trustAnchors: [pki.rootPem], validationTime: at, offline: true });
      assert.equal(sigOf(r).indication, 'TOTAL_PASSED', `${level}: ${why(r)}`);
      assert.ok(sigOf(r).checks.some((c) => /expired .*accepted because/.test(c.message)), `${level}: past-signature validation used`);
    }
    const bb = await verifyPdf(await sign(pki.identities.shortlived, 'B-B'), { trustAnchors: [pki.rootPem], validationTime: at, offline: true });
    assert.equal(sigOf(bb).indication, 'INDETERMINATE', why(bb));
    assert.equal(sigOf(bb).subIndication, 'OUT_OF_BOUNDS_NO_POE');
  });
});
