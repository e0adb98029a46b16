import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyPdf, type PdfAnalysis, type PdfSignatureInfo, type Modification, type Finding } from '@kyso/verifier';
import { makeMiniPki, addSignatureTimestamp, type MiniPki } from './helpers/openssl-pki.js';

/** The validation core against a stub PDF layer: what the core does with each kind of PdfAnalysis fact. */
describe('verifier: validation core over the PdfAnalysis contract (stub PDF layer)', function () {
  this.timeout(60_000);
  let pki: MiniPki;
  const signed = new TextEncoder().encode('%PDF-1.7 ... the signed revision bytes ...');
  let cms: Uint8Array;
  let policy: { trustAnchors: string[]; offline: boolean };
  let vd: { validationData: { crls: Uint8Array[] } };

  function sigInfo(over: Partial<PdfSignatureInfo> = {}, bytes = signed): PdfSignatureInfo {
    return {
      index: 0, fieldName: 'Signature1', kind: 'signature', filter: 'Adobe.PPKLite', subFilter: 'ETSI.CAdES.detached',
      claimedTime: new Date('2026-01-01T00:00:00Z'), contents: cms, revision: 0, isCertification: false,
      coverage: { byteRange: [0, 10, 20, bytes.length - 10], contentsStart: 10, contentsEnd: 20, revisionEnd: bytes.length + 10, fileSize: bytes.length + 10, coversWholeRevision: true, coversWholeFile: true },
      formatFindings: [], modifications: [], modificationLevel: 'NONE',
      digest: async (alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(bytes).digest()),
      ...over,
    };
  }
  function analysis(sigs: PdfSignatureInfo[], findings: Finding[] = []): PdfAnalysis {
    return { fileSize: 1000, revisions: [{ startxref: 900, end: 1000 }], signatures: sigs, findings };
  }
  const run = (a: PdfAnalysis, extra: Record<string, unknown> = {}) => verifyPdf(new Uint8Array(0), { ...policy, ...extra }, { ...vd, analyze: async () => a, name: 'stub.pdf' });

  before(() => {
    pki = makeMiniPki();
    const f = join(pki.dir, 'rev0.bin');
    writeFileSync(f, signed);
    cms = pki.signCms('good', f);
    policy = { trustAnchors: [pki.rootPem], offline: true };
    vd = { validationData: { crls: [pki.crlDer, pki.rootCrlDer] } };
  });

  it('an intact PAdES signature with no later change is TOTAL_PASSED, with coverage and claimed time', async () => {
    const r = await run(analysis([sigInfo()]));
    assert.equal(r.file, 'stub.pdf');
    assert.equal(r.format, 'PDF');
    assert.equal(r.documentIndication, 'TOTAL_PASSED');
    const s = r.signatures[0]!;
    assert.equal(s.field, 'Signature1');
    assert.equal(s.level, 'PAdES-BASELINE-B');
    assert.equal(s.signingTime, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(s.coverage.byteRange, [0, 10, 20, signed.length - 10]);
    assert.equal(s.coverage.coversWholeFile, true);
  });

  it('adbe.pkcs7.detached is reported as not-PAdES level', async () => {
    const r = await run(analysis([sigInfo({ subFilter: 'adbe.pkcs7.detached' })]));
    assert.equal(r.signatures[0]!.level, 'adbe.pkcs7.detached');
    assert.equal(r.signatures[0]!.indication, 'TOTAL_PASSED');
  });

  it('a disallowed modification turns TOTAL_PASSED into TOTAL_FAILED and names it; policy can make it INDETERMINATE', async () => {
    const mod: Modification = { revision: 1, kind: 'page-content-changed', object: '5 0 R', allowed: false, rule: 'page-content-rule', description: 'content stream of page 1 replaced' };
    const r = await run(analysis([sigInfo({ modifications: [mod], modificationLevel: 'OTHER' })]));
    const s = r.signatures[0]!;
    assert.equal(s.indication, 'TOTAL_FAILED');
    assert.equal(s.subIndication, 'FORMAT_FAILURE');
    assert.equal(s.block, 'MA');
    assert.match(s.message, /page-content-changed 5 0 R in revision 1/);
    assert.equal(s.intact, true, 'the CMS itself is intact');
    assert.deepEqual(s.modifications.map((m) => m.kind), ['page-content-changed']);
    const r2 = await run(analysis([sigInfo({ modifications: [mod] })]), { disallowedModifications: 'indeterminate' });
    assert.equal(r2.signatures[0]!.indication, 'INDETERMINATE');
  });

  it('allowed modifications (DSS, later signature) keep TOTAL_PASSED and are listed', async () => {
    const mods: Modification[] = [
      { revision: 1, kind: 'dss-added', allowed: true, rule: 'dss-rule', description: 'DSS added' },
      { revision: 2, kind: 'signature-added', object: '30 0 R', allowed: true, rule: 'signature-rule', description: 'second signature into its own field' },
    ];
    const r = await run(analysis([sigInfo({ modifications: mods, modificationLevel: 'FORM_FILLING', coverage: { ...sigInfo().coverage!, coversWholeFile: false } })]));
    assert.equal(r.signatures[0]!.indication, 'TOTAL_PASSED');
    assert.equal(r.signatures[0]!.modifications.length, 2);
  });

  it('format findings of the PDF layer → TOTAL_FAILED / FORMAT_FAILURE (FC) with the finding code', async () => {
    const r = await run(analysis([sigInfo({ formatFindings: [{ code: 'BYTERANGE_NOT_FROM_ZERO', severity: 'error', message: 'ByteRange starts at 5', where: '12 0 R' }] })]));
    const s = r.signatures[0]!;
    assert.equal(s.indication, 'TOTAL_FAILED');
    assert.equal(s.subIndication, 'FORMAT_FAILURE');
    assert.equal(s.block, 'FC');
    assert.match(s.message, /BYTERANGE_NOT_FROM_ZERO/);
  });

  it('missing coverage, partial revision coverage and unknown SubFilter → FORMAT_FAILURE', async () => {
    for (const over of [{ coverage: null }, { coverage: { ...sigInfo().coverage!, coversWholeRevision: false } }, { subFilter: 'x.evil' }, { contents: new Uint8Array(0) }]) {
      const r = await run(analysis([sigInfo(over as Partial<PdfSignatureInfo>)]));
      assert.equal(r.signatures[0]!.subIndication, 'FORMAT_FAILURE', JSON.stringify(Object.keys(over)));
    }
  });

  it('bytes that differ from the signed ones → HASH_FAILURE', async () => {
    const r = await run(analysis([sigInfo({}, new TextEncoder().encode('tampered'))]));
    assert.equal(r.signatures[0]!.subIndication, 'HASH_FAILURE');
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
  });

  it('document-level structural errors make a passing signature INDETERMINATE', async () => {
    const r = await run(analysis([sigInfo()], [{ code: 'XREF_REPAIRED', severity: 'error', message: 'xref rebuilt by scanning' }]));
    assert.equal(r.signatures[0]!.indication, 'INDETERMINATE');
    assert.match(r.signatures[0]!.message, /XREF_REPAIRED/);
    assert.equal(r.findings[0]!.code, 'XREF_REPAIRED');
  });

  it('no signature → INDETERMINATE / NO_SIGNATURE_FOUND; analyzer crash → TOTAL_FAILED report, no throw', async () => {
    const r = await run(analysis([]));
    assert.equal(r.documentIndication, 'INDETERMINATE');
    assert.equal(r.documentSubIndication, 'NO_SIGNATURE_FOUND');
    const r2 = await verifyPdf(new Uint8Array(0), policy, { analyze: async () => { throw new RangeError('boom'); } });
    assert.equal(r2.documentIndication, 'TOTAL_FAILED');
    assert.equal(r2.findings[0]!.code, 'PDF_UNREADABLE');
  });

  it('a document timestamp is validated over its ByteRange and gives proof of existence to earlier signatures', async () => {
    const docBytes = new TextEncoder().encode('%PDF revision 1 with the signature and DSS');
    const token = pki.timestamp(createHash('sha256').update(docBytes).digest());
    const ts = sigInfo({ index: 1, fieldName: 'DocTS', kind: 'document-timestamp', subFilter: 'ETSI.RFC3161', contents: token, revision: 1,
      coverage: { byteRange: [0, 1, 2, 3], contentsStart: 1, contentsEnd: 2, revisionEnd: 5000, fileSize: 5000, coversWholeRevision: true, coversWholeFile: true } }, docBytes);
    const sig = sigInfo({ coverage: { ...sigInfo().coverage!, revisionEnd: 100, coversWholeFile: false } });
    // Validate 400 days from now: the signer certificate (365 days) has expired; the TSA's (2900 days) has not.
    const future = new Date(Date.now() + 400 * 86400_000);
    // Revocation data collected after the timestamp (as B-LT does) proves the status at the signature time.
    const after = { validationData: { crls: pki.freshCrls() } };
    const runAfter = (a: PdfAnalysis, extra: Record<string, unknown> = {}) => verifyPdf(new Uint8Array(0), { ...policy, ...extra }, { ...after, analyze: async () => a });
    const r = await runAfter(analysis([sig, ts]), { validationTime: future });
    assert.equal(r.signatures[1]!.kind, 'document-timestamp');
    assert.equal(r.signatures[1]!.indication, 'TOTAL_PASSED', r.signatures[1]!.message);
    assert.equal(r.signatures[1]!.level, 'PDF-DOC-TIMESTAMP');
    assert.equal(r.signatures[0]!.indication, 'TOTAL_PASSED', r.signatures[0]!.message);
    assert.ok(r.signatures[0]!.checks.some((c) => /expired .*accepted because/.test(c.message)));
    // Without the document timestamp the same signature has no proof of existence.
    const r2 = await runAfter(analysis([sig]), { validationTime: future });
    assert.equal(r2.signatures[0]!.subIndication, 'OUT_OF_BOUNDS_NO_POE');
    // A document timestamp over other bytes fails with HASH_FAILURE.
    const badTs = sigInfo({ ...ts, digest: async () => new Uint8Array(32) });
    const r3 = await run(analysis([badTs]));
    assert.equal(r3.signatures[0]!.subIndication, 'HASH_FAILURE');
  });

  it('a signature timestamp made after the certificate expired → TOTAL_FAILED / EXPIRED', async () => {
    const f = join(pki.dir, 'rev0-exp.bin');
    writeFileSync(f, signed);
    const expiredCms = await addSignatureTimestamp(pki.signCms('expired', f), (v) => pki.timestamp(createHash('sha256').update(v).digest()));
    const r = await run(analysis([sigInfo({ contents: expiredCms })]));
    assert.equal(r.signatures[0]!.indication, 'TOTAL_FAILED');
    assert.equal(r.signatures[0]!.subIndication, 'EXPIRED');
    assert.equal(r.signatures[0]!.level, 'PAdES-BASELINE-T');
  });

  it('a signature timestamp keeps a B-T signature valid after its certificate expired', async () => {
    const f = join(pki.dir, 'rev0-t.bin');
    writeFileSync(f, signed);
    const tCms = await addSignatureTimestamp(pki.signCms('good', f), (v) => pki.timestamp(createHash('sha256').update(v).digest()));
    const r = await verifyPdf(new Uint8Array(0), { ...policy, validationTime: new Date(Date.now() + 400 * 86400_000) },
      { validationData: { crls: pki.freshCrls() }, analyze: async () => analysis([sigInfo({ contents: tCms })]) });
    const s = r.signatures[0]!;
    assert.equal(s.indication, 'TOTAL_PASSED', s.message);
    assert.ok(s.timestamp);
    assert.equal(s.bestSignatureTime, s.timestamp);
  });
});
