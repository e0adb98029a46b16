/**
 * Real kyso signer outputs through the PDF layer: visible second signatures, kyso's own DSS update,
 * certification levels with LTV updates, and the sneaky-signature case produced by a real signer.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDss, loadPemFiles, signPdfBytes, SignerError } from '@kyso/signer';
import { analyzePdf, type PdfSignatureInfo } from '../src/pdf/index.js';
import * as A from '../../../fixtures/attacks/index.js';

const bad = (s: PdfSignatureInfo) => s.modifications.filter((m) => !m.allowed);
const errs = (s: PdfSignatureInfo) => s.formatFindings.filter((f) => f.severity === 'error');

describe('PDF layer on kyso signer outputs (verifier/pdf)', function () {
  this.timeout(60000);
  let dir: string;
  let backend: Awaited<ReturnType<typeof loadPemFiles>>;
  let certDer: Uint8Array;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-attacks-kyso-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '30', '-subj', '/CN=kyso layer test', '-addext', 'keyUsage=critical,digitalSignature,nonRepudiation'], { cwd: dir, stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-in', 'c.pem', '-outform', 'DER', '-out', 'c.der'], { cwd: dir, stdio: 'ignore' });
    certDer = readFileSync(join(dir, 'c.der'));
    backend = await loadPemFiles({ keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('visible second signature in a new field on an approval document: allowed (FORM_FILLING)', async () => {
    const one = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'First' });
    const two = await signPdfBytes(one, { backend, tmpDir: dir, fieldName: 'Second', visible: { page: 1, rect: [300, 100, 200, 60] } });
    const a = await analyzePdf(two);
    assert.equal(a.signatures.length, 2);
    assert.deepEqual(bad(a.signatures[0]!), []);
    assert.deepEqual(errs(a.signatures[1]!), []);
    assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING');
    assert.ok(a.signatures[0]!.modifications.some((m) => m.kind === 'signature-added' && /visible/.test(m.description)));
  });

  it('the appearance of a signed visible signature replaced afterwards is appearance-overridden', async () => {
    const one = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Visible', visible: { page: 1, rect: [300, 100, 200, 60] } });
    const a = await analyzePdf(A.overrideSignatureAppearance(one));
    assert.ok(bad(a.signatures[0]!).some((m) => m.kind === 'appearance-overridden'), JSON.stringify(a.signatures[0]!.modifications));
  });

  it("kyso's DSS update (with a VRI entry) is an allowed LTA update and is read back", async () => {
    const one = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'First' });
    const a0 = await analyzePdf(one);
    const inP = join(dir, 'in.pdf');
    const outP = join(dir, 'dss.pdf');
    writeFileSync(inP, one);
    // the VRI key is computed by the signer from the raw /Contents value
    const raw = Buffer.from(one).toString('latin1');
    const c = a0.signatures[0]!.coverage!;
    const contentsHex = raw.slice(c.contentsStart + 1, c.contentsEnd - 1);
    await addDss(inP, outP, { content: { certs: [certDer], vri: [{ contents: Buffer.from(contentsHex, 'hex'), certs: [certDer] }] } });
    const a = await analyzePdf(outP);
    assert.deepEqual(bad(a.signatures[0]!), []);
    assert.equal(a.signatures[0]!.modificationLevel, 'LTA_UPDATES');
    assert.ok(a.dss && a.dss.certs.some((x) => Buffer.from(x).equals(certDer)));
    assert.equal(Object.keys(a.dss!.vri).length, 1);
    assert.match(Object.keys(a.dss!.vri)[0]!, /^[0-9A-F]{40}$/);
    assert.equal(a.signatures[0]!.vriKey, Object.keys(a.dss!.vri)[0]);
  });

  it('certified P=1: DSS and document timestamp stay allowed, a form fill does not', async () => {
    const p1 = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Cert', certify: 1 });
    const lta = A.appendDocumentTimestampLike(A.appendDss(p1));
    const a = await analyzePdf(lta);
    assert.deepEqual(bad(a.signatures[0]!), []);
    assert.equal(a.signatures[0]!.modificationLevel, 'LTA_UPDATES');
    const f = await analyzePdf(A.fillField(p1));
    const m = f.signatures[0]!.modifications.find((x) => x.kind === 'field-filled');
    assert.ok(m && !m.allowed && /DocMDP P=1/.test(m.description));
  });

  it('certified P=3: annotations allowed; a new visible signature field is still the sneaky signature', async () => {
    const p3 = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Cert', certify: 3 });
    const a = await analyzePdf(A.evilAnnotationAttack(p3));
    assert.deepEqual(bad(a.signatures[0]!), []);
    assert.equal(a.signatures[0]!.modificationLevel, 'ANNOTATIONS');
    const s = await analyzePdf(A.sneakySignatureAttack(p3));
    assert.ok(bad(s.signatures[0]!).some((x) => x.kind === 'new-signature-field-after-certification'));
  });

  it('a visible kyso signature in a NEW field after certification is reported (SSA shape), in the pre-created field it is not', async () => {
    const p2 = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Cert', certify: 2 });
    let sneaky: Uint8Array | undefined;
    try {
      sneaky = await signPdfBytes(p2, { backend, tmpDir: dir, fieldName: 'NewVisible', visible: { page: 1, rect: [300, 100, 200, 60] } });
    } catch (e) {
      // A signer that refuses to create the sneaky shape must say so with its typed error.
      assert.ok(e instanceof SignerError, String(e));
      sneaky = undefined;
    }
    if (sneaky) {
      const a = await analyzePdf(sneaky);
      assert.ok(bad(a.signatures[0]!).some((x) => x.kind === 'new-signature-field-after-certification'), JSON.stringify(a.signatures[0]!.modifications));
    }
    const ok = await signPdfBytes(p2, { backend, tmpDir: dir, fieldName: 'Approval' });
    const b = await analyzePdf(ok);
    assert.deepEqual(bad(b.signatures[0]!), []);
  });
});
