import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { PdfError, PdfReader, PdfRef, pdfReadStats, resetPdfReadStats } from '@kyso/pdf';
import {
  finalizePdfSignature, loadPemFiles, preparePdfSignature, signPdf, signPdfBytes, PadesError, SignerError, type KeyBackend,
} from '@kyso/signer';
import { SAMPLE_CLASSES, type SampleClass, writeSamples, makeEncrypted } from '../../../fixtures/pdf/samples.js';
import { assertOpensslCmsVerifies, assertPdfsigValid, assertPrefix, assertQpdfCheck, pdfText, signaturesOf } from './pades-helpers.js';
import { makeLocalPki, type LocalPki } from './pades-pki.js';

const hasCode = (e: unknown, code: string): boolean => String((e as { code?: unknown }).code) === code;

describe('PAdES signing (B-B) of every input class', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: LocalPki;
  let samples: Record<SampleClass, string>;
  let a: KeyBackend;
  let b: KeyBackend;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-'));
    pki = makeLocalPki(join(dir, 'pki'));
    samples = await writeSamples(dir, async (i, o) => {
      // earlier revisions made by kyso itself: a signature each
      await signPdf(i, o, { backend: await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.leafCert }), reason: 'earlier revision' });
    });
    a = await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.leafCert, chainPath: pki.rootPath });
    b = await loadPemFiles({ keyPath: pki.leaf2Key, certPath: pki.leaf2Cert, chainPath: pki.rootPath });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const cls of SAMPLE_CLASSES) {
    it(`${cls}: once, twice, three times (certify first, then two approvals) — all valid, prefix kept`, async () => {
      const input = samples[cls];
      const earlier = signaturesOf(input).length;
      const certifiable = earlier === 0;
      const o1 = join(dir, `${cls}-1.pdf`);
      const o2 = join(dir, `${cls}-2.pdf`);
      const o3 = join(dir, `${cls}-3.pdf`);
      await signPdf(input, o1, { backend: a, ...(certifiable ? { certify: 2 as const } : {}), reason: 'Phê duyệt hồ sơ', location: 'Hà Nội', ...(cls === 'empty-field' ? { fieldName: 'Signature1' } : {}) });
      await signPdf(o1, o2, { backend: b, reason: 'second signer' });
      await signPdf(o2, o3, { backend: a, reason: 'third' });
      for (const [inp, out, n] of [[input, o1, earlier + 1], [o1, o2, earlier + 2], [o2, o3, earlier + 3]] as const) {
        assertPrefix(inp, out);
        assertPdfsigValid(out, n);
        assertQpdfCheck(out);
      }
      assertOpensslCmsVerifies(o3, pki.rootPath, dir);
      const sigs = signaturesOf(o3);
      for (const s of sigs) {
        assert.equal(s.subFilter, 'ETSI.CAdES.detached');
        assert.equal(s.dict.getName('Filter'), 'Adobe.PPKLite');
        assert.ok(s.dict.has('M'));
      }
      const r = PdfReader.open(o3);
      assert.equal(r.xrefKind, PdfReader.open(input).xrefKind, 'update sections are of the same kind as the original');
      if (certifiable) {
        const perms = r.dict(r.catalog.get('Perms'));
        assert.ok(perms?.get('DocMDP') instanceof PdfRef, 'catalog /Perms /DocMDP');
        const ref = r.dict((r.array(r.dict(perms.get('DocMDP'))!.get('Reference'))!.items[0]))!;
        assert.equal(ref.getName('TransformMethod'), 'DocMDP');
        assert.equal(r.dict(ref.get('TransformParams'))!.get('P'), 2);
      }
      // new fields are invisible widgets with /F 132 on page 1, listed in /Annots and /Fields, SigFlags 3
      const af = r.acroForm!;
      assert.equal(r.resolve(af.get('SigFlags')), 3);
      const fields = r.fields().filter((f) => f.fieldType === 'Sig');
      assert.equal(fields.length, earlier + 3 + (cls === 'empty-field' ? 0 : 0));
      for (const f of fields) {
        const wdg = r.dict(f.widgets[0] ?? f.ref)!;
        assert.equal(wdg.get('F'), 132);
        const page = r.dict(wdg.get('P'))!;
        const annots = r.array(page.get('Annots'))!.items.map((x) => (x as PdfRef).num);
        assert.ok(annots.includes((f.widgets[0] ?? f.ref).num), `widget of ${f.fullName} is in its page /Annots`);
      }
      r.close();
    });
  }

  it('keeps an indirect /Annots array indirect and the other annotation in it', async () => {
    const out = join(dir, 'annots.pdf');
    await signPdf(samples['indirect-annots'], out, { backend: a });
    const r = PdfReader.open(out);
    const page = r.getPage(0);
    assert.ok(page.dict.get('Annots') instanceof PdfRef);
    const items = r.array(page.dict.get('Annots'))!.items;
    assert.equal(items.length, 2);
    assert.equal(r.dict(items[0])!.getName('Subtype'), 'Link');
  });

  it('signs into the existing empty field and refuses to sign it twice', async () => {
    const out = join(dir, 'field.pdf');
    await signPdf(samples['empty-field'], out, { backend: a, fieldName: 'Signature1' });
    const sigs = signaturesOf(out);
    assert.deepEqual(sigs.map((s) => s.field), ['Signature1']);
    // the pre-created field has a rectangle: the signature shows there with the default Vietnamese text
    assert.ok(pdfText(out).includes('Ký bởi: Nguyễn Văn An'), pdfText(out));
    const quiet = join(dir, 'field-invisible.pdf');
    await signPdf(samples['empty-field'], quiet, { backend: a, fieldName: 'Signature1', invisible: true });
    assert.ok(!pdfText(quiet).includes('Ký bởi'));
    const out2 = join(dir, 'field2.pdf');
    await assert.rejects(signPdf(out, out2, { backend: a, fieldName: 'Signature1' }), (e: unknown) => e instanceof PadesError && hasCode(e, 'FIELD_ALREADY_SIGNED'));
    assert.equal(existsSync(out2), false);
  });

  it('refuses to certify an already signed PDF, and any signature on a P=1 certified PDF', async () => {
    const one = join(dir, 'once.pdf');
    await signPdf(samples.classic, one, { backend: a });
    await assert.rejects(signPdf(one, join(dir, 'x.pdf'), { backend: b, certify: 2 }), (e: unknown) => e instanceof PadesError && hasCode(e, 'CERTIFY_NOT_FIRST'));
    const locked = join(dir, 'p1.pdf');
    await signPdf(samples.classic, locked, { backend: a, certify: 1 });
    assertPdfsigValid(locked, 1);
    await assert.rejects(signPdf(locked, join(dir, 'y.pdf'), { backend: b }), (e: unknown) => e instanceof PadesError && hasCode(e, 'DOCMDP_FORBIDS'));
    assert.equal(existsSync(join(dir, 'y.pdf')), false);
    // P=2: approvals are fine, but not a new *visible* field (it could overlay the certified content)
    const p2 = join(dir, 'p2.pdf');
    await signPdf(samples['empty-field'], p2, { backend: a, certify: 2 });
    await assert.rejects(signPdf(p2, join(dir, 'z.pdf'), { backend: b, visible: { page: 1, rect: [10, 10, 100, 40] } }), (e: unknown) => e instanceof PadesError && hasCode(e, 'DOCMDP_FORBIDS'));
    assert.equal(existsSync(join(dir, 'z.pdf')), false);
    const p2b = join(dir, 'p2b.pdf');
    await signPdf(p2, p2b, { backend: b, fieldName: 'Signature1', visible: { page: 1, rect: [50, 50, 200, 70] } });
    assertPdfsigValid(p2b, 2);
  });

  it('writes a FieldMDP lock and its SigRef', async () => {
    const out = join(dir, 'lock.pdf');
    await signPdf(samples.classic, out, { backend: a, fieldName: 'Approval', lock: { action: 'Include', fields: ['Amount'] } });
    const r = PdfReader.open(out);
    const f = r.fields().find((x) => x.fullName === 'Approval')!;
    const lock = r.dict(f.dict.get('Lock'))!;
    assert.equal(lock.getName('Action'), 'Include');
    const sig = r.dict(f.dict.get('V'))!;
    const ref = r.dict(r.array(sig.get('Reference'))!.items[0])!;
    assert.equal(ref.getName('TransformMethod'), 'FieldMDP');
    assertPdfsigValid(out, 1);
  });

  it('draws a visible Vietnamese appearance with an embedded subset font and a PNG seal', async () => {
    const png = await QRCode.toBuffer('kyso seal', { type: 'png', margin: 1, width: 120 });
    const out = join(dir, 'visible.pdf');
    await signPdf(samples.classic, out, {
      backend: a, reason: 'Xác nhận hồ sơ', signingTime: new Date('2026-11-23T02:15:00Z'),
      visible: { page: 1, rect: [300, 60, 260, 80], image: new Uint8Array(png) },
    });
    assertPdfsigValid(out, 1);
    assertQpdfCheck(out);
    const text = pdfText(out).replace(/\s+/g, ' ');
    assert.ok(text.includes('Ký bởi: Nguyễn Văn An'), text);
    assert.ok(text.includes('Thời gian ký: 2026-11-23 09:15:00 +07:00'), text);
    assert.ok(text.includes('Lý do: Xác nhận hồ sơ'), text);
    // the font is an embedded subset TrueType
    const fonts = execFileSync('pdffonts', [out], { encoding: 'utf8' });
    assert.match(fonts, /[A-Z]{6}\+DejaVuSans\s+(CID )?TrueType.*yes\s+yes/);
    // rasterise: the signature rectangle is no longer blank
    const base = join(dir, 'ras');
    execFileSync('pdftoppm', ['-r', '36', '-f', '1', '-l', '1', '-gray', '-x', String(Math.round(300 / 2)), '-y', String(Math.round((842 - 140) / 2)), '-W', '130', '-H', '40', out, base]);
    const pgm = readdirSync(dir).find((f) => f.startsWith('ras') && f.endsWith('.pgm'))!;
    const img = readFileSync(join(dir, pgm));
    const pixels = img.subarray(img.length - 130 * 40);
    const dark = pixels.filter((p) => p < 128).length;
    assert.ok(dark > 50, `appearance rendered (${dark} dark pixels)`);
  });

  it('keeps the appearance upright on a rotated page (/Rotate 90: form /Matrix turns it back)', async () => {
    const { PDFDocument, degrees } = await import('pdf-lib');
    const doc = await PDFDocument.create();
    doc.addPage([400, 300]).setRotation(degrees(90));
    const input = join(dir, 'rot90.pdf');
    writeFileSync(input, await doc.save({ useObjectStreams: false }));
    const out = join(dir, 'rot90-signed.pdf');
    await signPdf(input, out, { backend: a, reason: 'xoay', visible: { page: 1, rect: [100, 50, 60, 220] } });
    assertPdfsigValid(out, 1);
    const r = PdfReader.open(out);
    const f = r.fields()[0]!;
    const ap = r.dict(r.dict(f.dict.get('AP'))!.get('N'))!;
    assert.deepEqual(r.array(ap.get('Matrix'))!.items, [0, 1, -1, 0, 0, 0]);
    assert.deepEqual(r.array(ap.get('BBox'))!.items, [0, 0, 220, 60], 'drawn in the on-screen orientation');
    r.close();
    // pdftotext reads the page as displayed: the lines come out horizontal and whole
    assert.ok(pdfText(out).includes('Ký bởi: Nguyễn Văn An'), pdfText(out));
  });

  it('two-step signing: prepare → external signature → finalize from JSON state', async () => {
    const out = join(dir, 'two-step.pdf');
    const prep = await preparePdfSignature(samples['xref-stream'], out, { certificate: a.certificate, chain: a.chain }, { reason: 'remote' });
    assert.equal(prep.digest.length, 32);
    const json = JSON.stringify(prep.state);
    assert.equal(existsSync(out), false, 'nothing at the output before finalize');
    const sig = await a.sign({ digest: prep.digest, data: prep.toBeSigned }, prep.signatureAlgorithm);
    await finalizePdfSignature(json, sig);
    assertPdfsigValid(out, 1);
    assertPrefix(samples['xref-stream'], out);
  });

  it('signPdfBytes: bytes in, signed bytes out (input bytes are a prefix)', async () => {
    const input = new Uint8Array(readFileSync(samples.hybrid));
    const signed = await signPdfBytes(input, { backend: a, reason: 'bytes', tmpDir: dir });
    assert.ok(Buffer.from(signed.subarray(0, input.length)).equals(Buffer.from(input)));
    const out = join(dir, 'bytes.pdf');
    writeFileSync(out, signed);
    assertPdfsigValid(out, 1);
  });

  it('two-step: a wrong signature value fails and leaves no file', async () => {
    const out = join(dir, 'two-step-bad.pdf');
    const prep = await preparePdfSignature(samples.classic, out, { certificate: a.certificate, chain: a.chain });
    const wrong = await b.sign({ digest: prep.digest, data: prep.toBeSigned }, prep.signatureAlgorithm);
    await assert.rejects(finalizePdfSignature(prep.state, wrong), (e: unknown) => e instanceof SignerError && e.code === 'SIGNATURE_INVALID');
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.kyso-tmp')), [], 'no temp file left');
  });

  it('two-step across two processes (finalize in a child process)', async function () {
    this.timeout(60_000);
    const out = join(dir, 'two-proc.pdf');
    const prep = await preparePdfSignature(samples.linearized, out, { certificate: a.certificate, chain: a.chain });
    const sig = await a.sign({ digest: prep.digest, data: prep.toBeSigned }, prep.signatureAlgorithm);
    const stateFile = join(dir, 'state.json');
    writeFileSync(stateFile, JSON.stringify({ state: prep.state, signature: Buffer.from(sig).toString('base64') }));
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'pades-finalize-child.ts'), stateFile], { encoding: 'utf8', cwd: process.cwd() });
    assert.equal(child.status, 0, child.stderr);
    assertPdfsigValid(out, 1);
  });

  it('too small a /Contents placeholder is a clear error and writes nothing', async () => {
    const out = join(dir, 'small.pdf');
    await assert.rejects(signPdf(samples.classic, out, { backend: a, contentsSize: 200 }), (e: unknown) => e instanceof PadesError && hasCode(e, 'CONTENTS_TOO_SMALL'));
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.kyso-tmp')), []);
  });

  it('bad input: encrypted, truncated, broken xref, not a PDF — typed errors, no output', async () => {
    const enc = join(dir, 'enc.pdf');
    makeEncrypted(samples.classic, enc);
    const out = join(dir, 'bad-out.pdf');
    await assert.rejects(signPdf(enc, out, { backend: a }), (e: unknown) => e instanceof PadesError && hasCode(e, 'PDF_ENCRYPTED'));
    const bytes = readFileSync(samples.classic);
    // damaged inputs are refused as PDF_DAMAGED (preflight), naming what is wrong
    await assert.rejects(signPdf(bytes.subarray(0, bytes.length - 300), out, { backend: a }), (e: unknown) => e instanceof PadesError && hasCode(e, 'PDF_DAMAGED') && /startxref|%%EOF/.test((e as Error).message));
    const broken = Buffer.from(bytes.toString('latin1').replace(/startxref\s+\d+/, 'startxref\n12345678'), 'latin1');
    await assert.rejects(signPdf(broken, out, { backend: a }), (e: unknown) => e instanceof PadesError && hasCode(e, 'PDF_DAMAGED') && /cross-reference|xref/.test((e as Error).message));
    await assert.rejects(signPdf(Buffer.from('not a pdf at all'), out, { backend: a }), (e: unknown) => e instanceof PdfError && e.code === 'PDF_NOT_PDF');
    await assert.rejects(signPdf(samples.classic, join(dir, 'no-such-dir', 'o.pdf'), { backend: a }), (e: unknown) => e instanceof PadesError && hasCode(e, 'OUTPUT_FAILED') && /ENOENT/.test((e as Error).message));
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.kyso-tmp')), []);
  });

  it('never loads the page tree beyond the page it needs (2,000 pages: same objects loaded as 3 pages)', async function () {
    this.timeout(60_000);
    const { makeBasicPdf } = await import('../../../fixtures/pdf/samples.js');
    const big = join(dir, 'big.pdf');
    writeFileSync(big, await makeBasicPdf(2000));
    const loaded = async (f: string, visible: boolean): Promise<number> => {
      resetPdfReadStats();
      await signPdf(f, join(dir, 'lazy-out.pdf'), { backend: a, ...(visible ? { visible: { page: 1, rect: [10, 10, 100, 30] as [number, number, number, number] } } : {}) });
      assertPdfsigValid(join(dir, 'lazy-out.pdf'), 1);
      return pdfReadStats().objectsLoaded;
    };
    const small = await loaded(samples.classic, false);
    const large = await loaded(big, false);
    assert.ok(large <= small + 2, `2,000 pages: ${large} objects loaded vs ${small} for 3 pages`);
    assert.ok(large < 30, `${large} objects loaded`);
    const largeVisible = await loaded(big, true);
    assert.ok(largeVisible < 60, `visible on page 1 of 2,000: ${largeVisible} objects loaded`);
  });
});

describe('PAdES streaming on a large file', function () {
  this.timeout(180_000);
  it('signs a 120 MB PDF with peak RSS growth under 64 MB (child process), output valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-pades-big-'));
    try {
      const pki = makeLocalPki(join(dir, 'pki'));
      const { writeHugePdf } = await import('../../../fixtures/pdf/large.js');
      const input = join(dir, 'huge.pdf');
      writeHugePdf(input, 120 * 1024 * 1024);
      const child = join(import.meta.dirname, 'pades-rss-child.ts');
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, input, join(dir, 'out.pdf'), pki.leafKey, pki.leafCert], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; growthMb: number };
      assert.ok(res.growthMb < 64, `RSS growth ${res.growthMb.toFixed(1)} MB`);
      assertPdfsigValid(join(dir, 'out.pdf'), 1);
      assertPrefix(input, join(dir, 'out.pdf'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
