import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { loadPemBackend, signPdfBytes, type PadesLevel } from '@kyso/signer';
import { verifyPdf, type Fetcher, type Policy } from '@kyso/verifier';
// The signer's openssl-backed TSA / OCSP / CRL / AIA services (used until @kyso/fixtures exports getTestPki).
import { startOpensslServices, type OpensslServices } from '../packages/signer/test/crypto-testpki.js';

async function onePage(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText(text, { x: 50, y: 780, size: 14, font });
  return doc.save({ useObjectStreams: false });
}

describe('verify: kyso-signed PDFs at every PAdES level (TSA / OCSP / CRL services)', function () {
  this.timeout(180_000);
  let svc: OpensslServices;
  let root: string;
  const files: Partial<Record<PadesLevel | 'revoked', Uint8Array>> = {};

  before(async () => {
    svc = await startOpensslServices();
    root = readFileSync(svc.rootPath, 'latin1');
    const good = await loadPemBackend({ key: readFileSync(svc.good.keyPath), cert: readFileSync(svc.good.certPath), chain: root });
    const revoked = await loadPemBackend({ key: readFileSync(svc.revoked.keyPath), cert: readFileSync(svc.revoked.certPath), chain: root });
    for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as PadesLevel[]) {
      files[level] = await signPdfBytes(await onePage(`level ${level}`), { backend: good, level, fieldName: 'Signature1', tsa: { url: svc.tsaUrl } });
    }
    files.revoked = await signPdfBytes(await onePage('revoked'), { backend: revoked, fieldName: 'Signature1', allowInvalidCert: true });
  });
  after(async () => { await svc?.close(); });

  const expectedLevel: Record<PadesLevel, string> = { 'B-B': 'PAdES-BASELINE-B', 'B-T': 'PAdES-BASELINE-T', 'B-LT': 'PAdES-BASELINE-LT', 'B-LTA': 'PAdES-BASELINE-LTA' };
  for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as PadesLevel[]) {
    it(`${level}: TOTAL_PASSED against the root (online revocation), detected as ${expectedLevel[level]}`, async () => {
      const r = await verifyPdf(files[level]!, { trustAnchors: [root] });
      const sig = r.signatures.find((s) => s.kind === 'signature')!;
      assert.equal(r.documentIndication, 'TOTAL_PASSED', JSON.stringify(r.signatures.map((s) => `${s.field}: ${s.indication}/${s.subIndication} ${s.message}`)));
      assert.equal(sig.level, expectedLevel[level]);
      assert.ok(sig.revocation.length > 0 && sig.revocation.every((x) => x.status === 'good'));
      if (level !== 'B-B') assert.ok(sig.timestamp, 'trusted time from the signature timestamp');
      if (level === 'B-LTA') assert.ok(r.signatures.some((s) => s.kind === 'document-timestamp' && s.indication === 'TOTAL_PASSED'));
    });
    it(`${level}: INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND without the root`, async () => {
      const r = await verifyPdf(files[level]!, { offline: true });
      const sig = r.signatures.find((s) => s.kind === 'signature')!;
      assert.equal(sig.indication, 'INDETERMINATE');
      assert.equal(sig.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
      assert.equal(sig.intact, true);
    });
  }

  it('B-LT / B-LTA validate offline from the DSS alone; B-B offline cannot establish revocation (TRY_LATER)', async () => {
    let calls = 0;
    const counting: Fetcher = { async fetch() { calls++; return undefined; } };
    for (const level of ['B-LT', 'B-LTA'] as PadesLevel[]) {
      const r = await verifyPdf(files[level]!, { trustAnchors: [root], offline: true }, { fetcher: counting });
      const sig = r.signatures.find((s) => s.kind === 'signature')!;
      assert.equal(sig.indication, 'TOTAL_PASSED', `${level}: ${sig.message}`);
      assert.ok(sig.revocation.every((x) => x.source.startsWith('embedded')), JSON.stringify(sig.revocation));
    }
    const bb = await verifyPdf(files['B-B']!, { trustAnchors: [root], offline: true }, { fetcher: counting });
    assert.equal(bb.signatures[0]!.subIndication, 'TRY_LATER');
    assert.equal(calls, 0, 'offline never calls the network');
  });

  it('online revocation goes to the responder in the certificate (and is cached)', async () => {
    const before = svc.hits['/ocsp'] ?? 0;
    const r = await verifyPdf(files['B-B']!, { trustAnchors: [root] });
    assert.equal(r.documentIndication, 'TOTAL_PASSED');
    assert.match(r.signatures[0]!.revocation[0]!.source, /online OCSP/);
    assert.ok((svc.hits['/ocsp'] ?? 0) >= before);
  });

  it('a revoked signer → TOTAL_FAILED / REVOKED (online OCSP)', async () => {
    const r = await verifyPdf(files.revoked!, { trustAnchors: [root] });
    const s = r.signatures[0]!;
    assert.equal(s.indication, 'TOTAL_FAILED', s.message);
    assert.equal(s.subIndication, 'REVOKED');
    assert.match(s.message, /revoked/);
  });

  it('an OCSP answer signed by the wrong key is ignored (no false "good")', async () => {
    svc.mode.ocsp = 'wrong-signer';
    try {
      const policy: Policy = { trustAnchors: [root], revocationRequired: true };
      const r = await verifyPdf(files['B-T']!, policy, { fetcher: { fetch: (url, body) => fetch(url, { method: body ? 'POST' : 'GET', ...(body ? { body: Buffer.from(body.data), headers: { 'content-type': body.contentType } } : {}) }).then(async (x) => (x.ok ? new Uint8Array(await x.arrayBuffer()) : undefined)).catch(() => undefined) } });
      const s = r.signatures.find((x) => x.kind === 'signature')!;
      // The CRL distribution point still answers: status must come from the CRL, never from the forged OCSP.
      assert.ok(s.revocation.every((x) => !/OCSP/.test(x.source) || x.status !== 'good'), JSON.stringify(s.revocation));
    } finally {
      svc.mode.ocsp = 'normal';
    }
  });
});
