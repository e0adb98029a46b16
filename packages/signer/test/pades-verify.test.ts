import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestPki } from '@kyso/fixtures';
import { loadPemFiles, loadPkcs12File, signPdf, type KeyBackend } from '@kyso/signer';
import { verifyPdf } from '@kyso/verifier';
import { makeEmptyFieldPdf } from '../../../fixtures/pdf/samples.js';

/** Journeys 1–3 end to end: kyso signs (citizen, then agency B-LTA), kyso's verifier judges every signature TOTAL_PASSED. */
describe('PAdES signed by kyso, validated by @kyso/verifier', function () {
  this.timeout(180_000);
  let dir: string;
  const open: KeyBackend[] = [];
  after(async () => {
    for (const b of open) await b.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('citizen B-T into the pre-created field, agency B-LTA: TOTAL_PASSED for each signature and the document timestamp', async () => {
    const pki = await getTestPki();
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-verify-'));
    const c = pki.identities.citizen1;
    const citizen = await loadPemFiles({ keyPath: c.keyPath, certPath: c.certPath, chainPath: c.chainPath, password: c.password });
    const agency = await loadPkcs12File(pki.identities.agency.p12Path, pki.identities.agency.password);
    open.push(citizen, agency);
    const input = join(dir, 'form.pdf');
    writeFileSync(input, await makeEmptyFieldPdf());
    const s1 = join(dir, 'citizen.pdf');
    const s2 = join(dir, 'agency.pdf');
    await signPdf(input, s1, { backend: citizen, level: 'B-T', tsa: { url: pki.servers.tsaUrl }, fieldName: 'Signature1', reason: 'Tôi đồng ý', checkRevocation: true });
    await signPdf(s1, s2, { backend: agency, level: 'B-LTA', tsa: { url: pki.servers.tsaUrl }, reason: 'Xác nhận', checkRevocation: true });
    const report = await verifyPdf(s2, { trustAnchors: [pki.rootPem] });
    const summary = report.signatures.map((s) => `${(s as { indication?: string }).indication}`).join(', ');
    assert.equal(report.signatures.length, 3, summary);
    assert.equal(report.documentIndication, 'TOTAL_PASSED', JSON.stringify(report.signatures.map((s) => [s.indication, s.subIndication]), null, 1));
  });
});
