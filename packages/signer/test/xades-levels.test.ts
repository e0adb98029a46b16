import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEdxml, loadPemFiles, signEdxmlFile, signXml, signXmlFile, type KeyBackend, type XadesLevel } from '@kyso/signer';
import { verifyXml, type Fetcher } from '@kyso/verifier';
import { startOpensslServices, type OpensslServices } from './crypto-testpki.js';
import { tamper, xmlsecVerify } from './xades-helpers.js';

const DOC = '<?xml version="1.0" encoding="UTF-8"?>\n<hoSo xmlns="urn:vn:gov:test"><muc Id="m1">Nội dung</muc></hoSo>\n';

describe('XAdES B-T, B-LT, B-LTA (openssl-backed TSA / OCSP / CRL)', function () {
  this.timeout(180_000);
  let svc: OpensslServices;
  let good: KeyBackend;
  let revoked: KeyBackend;
  let root: string;
  const files: Partial<Record<XadesLevel, Uint8Array>> = {};

  before(async () => {
    svc = await startOpensslServices();
    root = readFileSync(svc.rootPath, 'latin1');
    good = await loadPemFiles({ keyPath: svc.good.keyPath, certPath: svc.good.certPath, chainPath: svc.rootPath });
    revoked = await loadPemFiles({ keyPath: svc.revoked.keyPath, certPath: svc.revoked.certPath, chainPath: svc.rootPath });
    for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as XadesLevel[]) files[level] = await signXml(DOC, { backend: good, level, tsa: { url: svc.tsaUrl } });
  });
  after(async () => { await svc?.close(); });

  const expected: Record<string, string> = { 'B-B': 'XAdES-BASELINE-B', 'B-T': 'XAdES-BASELINE-T', 'B-LT': 'XAdES-BASELINE-LT', 'B-LTA': 'XAdES-BASELINE-LTA' };
  for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as XadesLevel[]) {
    it(`${level}: xmlsec1 verifies, kyso TOTAL_PASSED (online revocation) at ${expected[level]}`, async () => {
      const x = xmlsecVerify(files[level]!, svc.rootPath);
      assert.ok(x.ok, x.out);
      const r = await verifyXml(files[level]!, { trustAnchors: [root] });
      const s = r.signatures[0]!;
      assert.equal(r.documentIndication, 'TOTAL_PASSED', s.message);
      assert.equal(s.level, expected[level]);
      assert.ok(s.revocation.length > 0 && s.revocation.every((v) => v.status === 'good'));
      if (level !== 'B-B') {
        assert.ok(s.timestamp, 'trusted time from the SignatureTimeStamp');
        assert.ok(s.timestamps.every((t) => t.valid));
      }
      if (level === 'B-LTA') assert.ok(s.checks.some((c) => c.check === 'archive-timestamp' && c.status === 'passed'), JSON.stringify(s.checks));
    });
  }

  it('signXmlFile / signEdxmlFile (the file streams by; B-LTA reads it whole) at every level: xmlsec1 and kyso accept, at the level asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-levels-file-'));
    try {
      const msg = buildEdxml({ from: { organId: 'H01' }, to: [{ organId: 'H02' }], subject: 'mức', attachments: [{ name: 'a.pdf', data: Buffer.alloc(5000, 7), contentType: 'application/pdf' }] });
      writeFileSync(join(dir, 'doc.xml'), DOC);
      writeFileSync(join(dir, 'msg.xml'), msg);
      for (const level of ['B-T', 'B-LT', 'B-LTA'] as XadesLevel[]) {
        await signXmlFile(join(dir, 'doc.xml'), join(dir, `doc-${level}.xml`), { backend: good, level, tsa: { url: svc.tsaUrl } });
        await signEdxmlFile(join(dir, 'msg.xml'), join(dir, `msg-${level}.xml`), { backend: good, level, tsa: { url: svc.tsaUrl } });
        for (const f of [`doc-${level}.xml`, `msg-${level}.xml`]) {
          const out = readFileSync(join(dir, f));
          const x = xmlsecVerify(out, svc.rootPath, f.startsWith('msg') ? { idAttrs: ['http://www.mic.gov.vn/TBT/QCVN_102_2016:edXMLEnvelope', 'http://www.mic.gov.vn/TBT/QCVN_102_2016:ContentTransferEncoded'] } : {});
          assert.ok(x.ok, `${f}: ${x.out}`);
          const r = await verifyXml(join(dir, f), { trustAnchors: [root] });
          assert.equal(r.documentIndication, 'TOTAL_PASSED', `${f}: ${r.signatures[0]?.message}`);
          assert.equal(r.signatures[0]!.level, expected[level]);
        }
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('B-LT and B-LTA validate offline from the embedded values alone; B-T offline cannot (TRY_LATER)', async () => {
    let calls = 0;
    const counting: Fetcher = { async fetch() { calls++; return undefined; } };
    for (const level of ['B-LT', 'B-LTA'] as XadesLevel[]) {
      const r = await verifyXml(files[level]!, { trustAnchors: [root], offline: true }, { fetcher: counting });
      assert.equal(r.documentIndication, 'TOTAL_PASSED', `${level}: ${r.signatures[0]!.message}`);
    }
    const t = await verifyXml(files['B-T']!, { trustAnchors: [root], offline: true }, { fetcher: counting });
    assert.equal(t.signatures[0]!.subIndication, 'TRY_LATER');
    assert.equal(calls, 0);
    const text = Buffer.from(files['B-LTA']!).toString();
    assert.match(text, /<xadesv141:TimeStampValidationData [^>]*>.*<xades:CertificateValues>/s);
    assert.ok(text.indexOf('TimeStampValidationData') < text.indexOf('ArchiveTimeStamp'));
  });

  it('a tampered archive-timestamped signature is rejected; values changed after the archive timestamp are not covered by it', async () => {
    const text = Buffer.from(files['B-LTA']!).toString();
    const r = await verifyXml(Buffer.from(tamper(text, '<muc Id="m1">')), { trustAnchors: [root] });
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    // Change a certificate in CertificateValues after the archive timestamp: the ATS no longer matches.
    const changed = text.replace('<xades:CertificateValues>', '<xades:CertificateValues><xades:EncapsulatedX509Certificate>' + Buffer.from(good.certificate).toString('base64') + '</xades:EncapsulatedX509Certificate>');
    const r2 = await verifyXml(Buffer.from(changed), { trustAnchors: [root] });
    const ats = r2.signatures[0]!.checks.find((c) => c.check === 'archive-timestamp')!;
    assert.equal(ats.status, 'warning', 'the archive timestamp does not cover the changed values');
  });

  it('a revoked signer is TOTAL_FAILED / REVOKED', async () => {
    const out = await signXml(DOC, { backend: revoked, level: 'B-B' });
    const r = await verifyXml(out, { trustAnchors: [root] });
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    assert.equal(r.signatures[0]!.subIndication, 'REVOKED');
  });

  it('B-T without a TSA URL is a typed error; an unreachable TSA is TSA_FAILED', async () => {
    await assert.rejects(signXml(DOC, { backend: good, level: 'B-T' }), (e: unknown) => (e as { code?: string }).code === 'TSA_FAILED');
    await assert.rejects(signXml(DOC, { backend: good, level: 'B-T', tsa: { url: 'http://127.0.0.1:9/tsa', timeoutMs: 2000 } }), (e: unknown) => (e as { code?: string }).code === 'TSA_FAILED');
  });
});
