import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { getTestPki } from '@kyso/fixtures';
import { PdfReader } from '@kyso/pdf';
import { loadPemFiles, loadPkcs12File, signPdf, vriKey, SignerError, type KeyBackend } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { assertOpensslCmsVerifies, assertPdfsigValid, assertPrefix, assertQpdfCheck, pdfText, signaturesOf } from './pades-helpers.js';

const hasCode = (e: unknown, code: string): boolean => String((e as { code?: unknown }).code) === code;

/** Journeys 1 and 2 of DESIGN.md on the project's test PKI (root → intermediate → identities, TSA/OCSP/CRL servers). */
describe('PAdES on the project test PKI (getTestPki)', function () {
  this.timeout(180_000);
  let dir: string;
  let pki: Awaited<ReturnType<typeof getTestPki>>;
  const open: KeyBackend[] = [];
  const backend = async (name: 'citizen1' | 'citizen2' | 'agency' | 'revoked' | 'expired'): Promise<KeyBackend> => {
    const id = pki.identities[name];
    const b = name === 'agency' ? await loadPkcs12File(id.p12Path, id.password) : await loadPemFiles({ keyPath: id.keyPath, certPath: id.certPath, chainPath: id.chainPath, password: id.password });
    open.push(b);
    return b;
  };

  before(async () => {
    pki = await getTestPki();
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-tp-'));
  });
  after(async () => {
    for (const b of open) await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('citizen signs (B-T), agency counter-signs visibly with a seal (B-LTA): both valid, DSS + document timestamp', async () => {
    const input = join(dir, 'form.pdf');
    writeFileSync(input, await makeBasicPdf(1, { text: 'Don dang ky' }));
    const citizen = join(dir, 'form-citizen.pdf');
    const agency = join(dir, 'form-agency.pdf');
    await signPdf(input, citizen, { backend: await backend('citizen1'), level: 'B-T', tsa: { url: pki.servers.tsaUrl }, reason: 'Tôi xác nhận', checkRevocation: true });
    const seal = new Uint8Array(await QRCode.toBuffer('Cơ quan', { type: 'png', width: 96 }));
    await signPdf(citizen, agency, {
      backend: await backend('agency'), level: 'B-LTA', tsa: { url: pki.servers.tsaUrl }, reason: 'Phê duyệt', location: 'Hà Nội', checkRevocation: true,
      visible: { page: 1, rect: [320, 40, 240, 70], image: seal },
    });
    assertPrefix(input, citizen);
    assertPrefix(citizen, agency);
    assertQpdfCheck(agency);
    assertOpensslCmsVerifies(agency, pki.rootPath, dir);
    const sigs = signaturesOf(agency);
    assert.deepEqual(sigs.map((s) => s.subFilter), ['ETSI.CAdES.detached', 'ETSI.CAdES.detached', 'ETSI.RFC3161']);
    const r = PdfReader.open(agency);
    const dss = r.dict(r.catalog.get('DSS'))!;
    const vri = r.dict(dss.get('VRI'))!;
    for (const s of sigs.slice(0, 2)) assert.ok(vri.has(vriKey(s.contents)), `VRI for ${s.field}`);
    assert.ok((r.array(dss.get('OCSPs'))?.length ?? 0) + (r.array(dss.get('CRLs'))?.length ?? 0) > 0);
    r.close();
    assert.ok(pdfText(agency).includes('Ký bởi:'));
    // pdfsig: the two CAdES signatures are valid (document timestamps are not judged by pdfsig 22.12)
    const { pdfsigStatuses } = await import('./pades-helpers.js');
    const st = pdfsigStatuses(agency);
    assert.equal(st[0], 'Signature is Valid.');
    assert.equal(st[1], 'Signature is Valid.');
  });

  it('ECDSA P-256 citizen, certification then two approvals', async () => {
    const input = join(dir, 'ec.pdf');
    writeFileSync(input, await makeBasicPdf(2));
    const o1 = join(dir, 'ec1.pdf');
    const o2 = join(dir, 'ec2.pdf');
    const o3 = join(dir, 'ec3.pdf');
    await signPdf(input, o1, { backend: await backend('agency'), certify: 2 });
    await signPdf(o1, o2, { backend: await backend('citizen2') });
    await signPdf(o2, o3, { backend: await backend('citizen1') });
    assertPdfsigValid(o3, 3);
    assertOpensslCmsVerifies(o3, pki.rootPath, dir);
  });

  it('refuses the revoked and the expired identities by default', async () => {
    const input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(1));
    const out = join(dir, 'refused.pdf');
    await assert.rejects(signPdf(input, out, { backend: await backend('revoked'), checkRevocation: true }), (e: unknown) => e instanceof SignerError && hasCode(e, 'CERT_REVOKED'));
    await assert.rejects(signPdf(input, out, { backend: await backend('expired') }), (e: unknown) => e instanceof SignerError && hasCode(e, 'CERT_EXPIRED'));
    assert.equal(existsSync(out), false);
    void readFileSync;
  });
});
