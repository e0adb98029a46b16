/**
 * Unit tests of the verifier's PDF layer: ByteRange rules, /Contents trimming, dates, and the
 * revision-aware reader (classic tables, xref streams, object streams, hybrid files, linearized files).
 */
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { checkCoverage } from '../src/pdf/coverage.js';
import { derLength, parsePdfDate, trimContents } from '../src/pdf/contents.js';
import { PdfHistory, PdfArray as PArray, PdfDict as PDict, PdfName as PName, PdfString as PString, type PdfObject as PObj } from '@kyso/pdf';
import { analyzePdf, type Finding } from '../src/pdf/index.js';
import * as A from '../../../fixtures/attacks/index.js';

const arr = (...n: PObj[]) => new PArray(n, -1, -1);

describe('PDF structure (verifier/pdf)', () => {
  describe('ByteRange rules', () => {
    const base = { contents: { start: 100, end: 200 }, revisionEnds: [500, 800], fileSize: 800, where: '5 0 R' };
    const run = (br: PObj | undefined, over: Partial<typeof base> = {}) => {
      const f: Finding[] = [];
      const c = checkCoverage({ ...base, ...over, byteRange: br }, f);
      return { c, codes: f.map((x) => x.code) };
    };
    it('accepts the exact revision minus the /Contents string', () => {
      const { c, codes } = run(arr(0, 100, 200, 300));
      assert.deepEqual(codes, []);
      assert.equal(c?.coversWholeRevision, true);
      assert.equal(c?.coversWholeFile, false);
      assert.equal(c?.revisionEnd, 500);
      assert.equal(run(arr(0, 100, 200, 600)).c?.coversWholeFile, true);
    });
    it('rejects each anomaly with its own code', () => {
      assert.deepEqual(run(undefined).codes, ['BYTERANGE_MISSING']);
      assert.deepEqual(run(null).codes, ['BYTERANGE_MISSING']);
      assert.deepEqual(run(PName.of('x')).codes, ['BYTERANGE_MALFORMED']);
      assert.deepEqual(run(arr(0, 100, 200)).codes, ['BYTERANGE_MALFORMED']);
      assert.deepEqual(run(arr(0, 100, 200, 300, 0, 0)).codes, ['BYTERANGE_MALFORMED']);
      assert.deepEqual(run(arr(0, -1, 200, 300)).codes, ['BYTERANGE_MALFORMED']);
      assert.deepEqual(run(arr(0, 1.5, 200, 300)).codes, ['BYTERANGE_MALFORMED']);
      assert.ok(run(arr(1, 99, 200, 300)).codes.includes('BYTERANGE_NOT_FROM_ZERO'));
      assert.ok(run(arr(0, 100, 200, 250)).codes.includes('BYTERANGE_NOT_REVISION_END'));
      assert.ok(run(arr(0, 100, 200, 900)).codes.includes('BYTERANGE_BEYOND_FILE'));
      assert.ok(run(arr(0, 100, 190, 310)).codes.includes('CONTENTS_GAP_MISMATCH'));
      assert.ok(run(arr(0, 250, 200, 300)).codes.includes('BYTERANGE_OVERLAP'));
      assert.ok(run(arr(0, 100, 200, 300), { contents: undefined as never }).codes.includes('CONTENTS_GAP_MISMATCH'));
    });
  });

  describe('/Contents and dates', () => {
    it('trims zero padding with the DER length (definite and indefinite)', () => {
      const der = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x05]);
      const f: Finding[] = [];
      assert.deepEqual(trimContents(Uint8Array.from([...der, 0, 0, 0]), 'x', f), der);
      assert.deepEqual(f, []);
      const ber = Uint8Array.from([0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00]);
      assert.equal(derLength(Uint8Array.from([...ber, 0, 0])), ber.length);
      assert.equal(derLength(Uint8Array.from([0x30, 0x82, 0x01, 0x00, 1])), -1);
      assert.equal(derLength(Uint8Array.from([0x30, 0x85, 1, 1, 1, 1, 1])), -1);
      const g: Finding[] = [];
      trimContents(Uint8Array.from([...der, 0, 7]), 'x', g);
      assert.deepEqual(g.map((x) => x.code), ['CONTENTS_TRAILING_DATA']);
      const h: Finding[] = [];
      assert.equal(trimContents(new Uint8Array(8), 'x', h).length, 0);
      assert.deepEqual(h.map((x) => x.code), ['CONTENTS_EMPTY']);
    });
    it('parses PDF dates with offsets', () => {
      assert.equal(parsePdfDate("D:20261123091500+07'00'")?.toISOString(), '2026-11-23T02:15:00.000Z');
      assert.equal(parsePdfDate('D:20261123021500Z')?.toISOString(), '2026-11-23T02:15:00.000Z');
      assert.equal(parsePdfDate('D:2026')?.toISOString(), '2026-01-01T00:00:00.000Z');
      assert.equal(parsePdfDate('yesterday'), undefined);
    });
  });

  describe('reader', () => {
    function xrefStreamFile(objs: string[], opts: { objStm?: boolean } = {}): Buffer {
      // objects 1..n; with objStm, objects 2..n go into object stream n+1
      let body = '%PDF-1.7\n';
      const rows: [number, number, number][] = [[0, 0, 0xffff]];
      if (opts.objStm) {
        body += `1 0 obj\n${objs[0]}\nendobj\n`;
        rows.push([1, 9, 0]);
        let head = '';
        let data = '';
        objs.slice(1).forEach((o, i) => {
          head += `${i + 2} ${data.length} `;
          data += o + '\n';
          rows.push([2, objs.length + 1, i]);
        });
        const content = deflateSync(Buffer.from(head + data));
        const at = body.length;
        body += `${objs.length + 1} 0 obj\n<</Type /ObjStm /N ${objs.length - 1} /First ${head.length} /Filter /FlateDecode /Length ${content.length}>>\nstream\n`;
        const b = Buffer.concat([Buffer.from(body, 'latin1'), content, Buffer.from('\nendstream\nendobj\n')]);
        rows.push([1, at, 0]);
        return finish(b, rows);
      }
      const offs: number[] = [];
      objs.forEach((o, i) => {
        offs.push(body.length);
        body += `${i + 1} 0 obj\n${o}\nendobj\n`;
        rows.push([1, offs[i]!, 0]);
      });
      return finish(Buffer.from(body, 'latin1'), rows);
    }
    function finish(b: Buffer, rows: [number, number, number][]): Buffer {
      const n = rows.length;
      const raw = Buffer.concat(rows.map(([t, o, g]) => Buffer.from([0, t, (o >> 16) & 255, (o >> 8) & 255, o & 255, (g >> 8) & 255, g & 255])));
      // PNG Up predictor rows (type byte 2 with zero-diff for simplicity: use type 0)
      const data = deflateSync(raw);
      const at = b.length;
      const x = `${n} 0 obj\n<</Type /XRef /Size ${n + 1} /W [1 3 2] /Index [0 ${n + 1}] /Root 1 0 R /Filter /FlateDecode /DecodeParms <</Predictor 12 /Columns 6>> /Length ${data.length}>>\nstream\n`;
      // self entry
      const selfRow = Buffer.from([0, 1, (at >> 16) & 255, (at >> 8) & 255, at & 255, 0, 0]);
      const data2 = deflateSync(Buffer.concat([raw, selfRow]));
      return Buffer.concat([b, Buffer.from(x.replace(`/Length ${data.length}`, `/Length ${data2.length}`)), data2, Buffer.from(`\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`)]);
    }

    it('reads cross-reference streams with PNG predictors', () => {
      const f = xrefStreamFile(['<</Type /Catalog /Pages 2 0 R>>', '<</Type /Pages /Kids [] /Count 0>>']);
      const doc = PdfHistory.open((f));
      assert.deepEqual(doc.findings.filter((x) => x.severity === 'error'), []);
      assert.equal(doc.revisions.length, 1);
      assert.equal(doc.revisions[0]!.end, f.length);
      const pages = doc.dict(doc.catalog()?.get('Pages'));
      assert.ok(pages && (pages.get('Type') as PName).name === 'Pages');
    });
    it('reads objects from object streams', () => {
      const f = xrefStreamFile(['<</Type /Catalog /Pages 2 0 R /X 3 0 R>>', '<</Type /Pages /Kids [] /Count 0>>', '(hello)'], { objStm: true });
      const doc = PdfHistory.open((f));
      assert.deepEqual(doc.findings.filter((x) => x.severity === 'error'), []);
      assert.equal(doc.entry(3)?.entry.type, 'c');
      assert.equal((doc.resolve(doc.catalog()?.get('X')) as PString).text(), 'hello');
    });
    it('gives per-revision views and revision ends after %%EOF + EOL', () => {
      const base = A.buildBaseDocument();
      const upd = A.appendUpdate(base, new Map([[A.BASE.info, { dict: {}, data: 'x' }]]));
      const doc = PdfHistory.open((upd));
      assert.equal(doc.revisions.length, 2);
      assert.equal(doc.revisions[0]!.end, base.length);
      assert.equal(doc.revisions[1]!.end, upd.length);
      assert.ok(doc.get(A.BASE.info, 0) instanceof PDict);
      assert.ok(!(doc.get(A.BASE.info, 1) instanceof PDict));
      assert.equal(doc.revisionOf(base.length - 1), 0);
      assert.equal(doc.revisionOf(base.length), 1);
    });
    it('repairs a broken startxref by scanning, and says so', () => {
      const base = Buffer.from(A.buildBaseDocument());
      const s = base.toString('latin1').replace(/startxref\n\d+/, 'startxref\n9');
      const doc = PdfHistory.open((Buffer.from(s, 'latin1')));
      assert.equal(doc.repaired, true);
      assert.ok(doc.findings.some((f) => f.code === 'XREF_REPAIRED' && f.severity === 'error'));
      assert.ok(doc.catalog());
    });
    it('an xref section defining one object twice (benign copy first, evil second) is an error', async () => {
      const signed = A.appendSignatureLike(A.buildBaseDocument(), { fieldName: 'Approval', existingField: true });
      const evil = Buffer.from(A.incrementalSavingAttack(signed)).toString('latin1');
      const origOffset = A.openPdf(signed).entry(A.BASE.content)!.entry as { offset: number };
      const x = evil.lastIndexOf('xref\n0 1\n0000000000 65535 f \n') + 'xref\n0 1\n0000000000 65535 f \n'.length;
      const forged = evil.slice(0, x) + `${A.BASE.content} 1\n${String(origOffset.offset).padStart(10, '0')} 00000 n \n` + evil.slice(x);
      const a = await analyzePdf(Buffer.from(forged, 'latin1'));
      assert.ok(a.findings.some((f) => f.code === 'XREF_DUPLICATE_ENTRY' && f.severity === 'error'), JSON.stringify(a.findings));
    });
    it('wrong xref offsets are found by scanning and reported', () => {
      const base = Buffer.from(A.buildBaseDocument());
      const s = base.toString('latin1');
      const off = s.indexOf('3 0 obj');
      const bad = s.replace(String(off).padStart(10, '0') + ' 00000 n', String(off + 3).padStart(10, '0') + ' 00000 n');
      const doc = PdfHistory.open((Buffer.from(bad, 'latin1')));
      assert.ok(doc.get(3) instanceof PDict);
      assert.ok(doc.findings.some((f) => f.code === 'XREF_OFFSET_WRONG' && f.where === '3 0 R'));
    });
  });

  describe('signature dictionary checks', () => {
    it('duplicate keys in a signature dictionary are an error', async () => {
      const signed = Buffer.from(A.appendSignatureLike(A.buildBaseDocument(), { fieldName: 'Approval', existingField: true }));
      const s = signed.toString('latin1');
      const at = s.lastIndexOf('/Type /Sig');
      // same length: "/Type /Sig" -> "/M (dup)  " duplicates /M which follows
      const forged = s.slice(0, at) + '/M (D:1999)' + s.slice(at + 11);
      const a = await analyzePdf(Buffer.from(forged, 'latin1'));
      assert.ok(a.signatures[0]!.formatFindings.some((f) => f.code === 'SIGNATURE_DICTIONARY_AMBIGUOUS'), JSON.stringify(a.signatures[0]!.formatFindings));
    });
    it('a later revision adding /Encrypt is not allowed', async () => {
      const signed = A.appendSignatureLike(A.buildBaseDocument(), { fieldName: 'Approval', existingField: true });
      const n = 40;
      const enc = A.appendUpdate(signed, new Map([[n, A.dict({ Filter: A.name('Standard'), V: 1, R: 2 })]]), { trailer: { Encrypt: A.ref(n) } });
      const a = await analyzePdf(enc);
      assert.ok(a.signatures[0]!.modifications.some((m) => m.kind === 'encryption-changed' && !m.allowed));
    });
    it('structure-tree updates of a tagged document are allowed (FORM_FILLING), page content changes are not', async () => {
      const base = A.buildBaseDocument();
      const catalog = A.openPdf(base).catalog()!;
      const tagged = A.appendUpdate(base, new Map<number, never>([
        [30, A.dict({ Type: A.name('StructTreeRoot'), K: A.ref(31), ParentTree: A.ref(32) }) as never],
        [31, A.dict({ Type: A.name('StructElem'), S: A.name('Document'), P: A.ref(30) }) as never],
        [32, A.dict({ Nums: A.arr() }) as never],
        [1, A.withEntries(catalog, { StructTreeRoot: A.ref(30), MarkInfo: A.dict({ Marked: true }) }) as never],
      ]));
      const signed = A.appendSignatureLike(tagged, { fieldName: 'Approval', existingField: true });
      const upd = A.appendUpdate(signed, new Map<number, never>([[32, A.dict({ Nums: A.arr(0, A.ref(31)) }) as never], [31, A.dict({ Type: A.name('StructElem'), S: A.name('Form'), P: A.ref(30) }) as never]]));
      const a = await analyzePdf(upd);
      assert.deepEqual(a.signatures[0]!.modifications.filter((m) => !m.allowed), []);
      assert.ok(a.signatures[0]!.modifications.some((m) => m.kind === 'structure-tree-updated'));
      const bad = await analyzePdf(A.incrementalSavingAttack(upd));
      assert.ok(bad.signatures[0]!.modifications.some((m) => m.kind === 'page-content-changed' && !m.allowed));
    });
    it('a nested form XObject (resource of a resource) redefined after signing is resource-changed', async () => {
      const base = A.buildBaseDocument();
      const nested = A.appendUpdate(base, new Map<number, never>([
        [A.BASE.overlay, { dict: { Type: A.name('XObject'), Subtype: A.name('Form'), BBox: A.arr(0, 0, 1, 1), Resources: A.dict({ XObject: A.dict({ In: A.ref(40) }) }) }, data: '/In Do\n' } as never],
        [40, { dict: { Type: A.name('XObject'), Subtype: A.name('Form'), BBox: A.arr(0, 0, 1, 1), Resources: A.dict({ XObject: A.dict({ Deep: A.ref(41) }) }) }, data: '/Deep Do\n' } as never],
        [41, { dict: { Type: A.name('XObject'), Subtype: A.name('Form'), BBox: A.arr(0, 0, 1, 1) }, data: '1 g 0 0 1 1 re f\n' } as never],
      ]));
      const signed = A.appendSignatureLike(nested, { fieldName: 'Approval', existingField: true });
      const attacked = A.appendUpdate(signed, new Map<number, never>([[41, { dict: { Type: A.name('XObject'), Subtype: A.name('Form'), BBox: A.arr(0, 0, 1, 1) }, data: '' } as never]]));
      const a = await analyzePdf(attacked);
      const m = a.signatures[0]!.modifications.find((x) => !x.allowed);
      assert.equal(m?.kind, 'resource-changed', JSON.stringify(a.signatures[0]!.modifications));
      assert.equal(m?.object, '41 0 R');
    });
    it('orphan signature widgets (not in /Fields) are found and reported', async () => {
      const signed = A.appendSignatureLike(A.buildBaseDocument(), { fieldName: 'Approval', existingField: true });
      const s = Buffer.from(signed).toString('latin1');
      // drop the Approval field from /Fields in the base revision's AcroForm (same length)
      const i = s.indexOf(`/Fields [${A.BASE.amountField} 0 R ${A.BASE.approvalField} 0 R]`);
      assert.ok(i > 0);
      const t = s.slice(0, i) + `/Fields [${A.BASE.amountField} 0 R ${' '.repeat(String(A.BASE.approvalField).length + 4)}]` + s.slice(i + `/Fields [${A.BASE.amountField} 0 R ${A.BASE.approvalField} 0 R]`.length);
      const a = await analyzePdf(Buffer.from(t, 'latin1'));
      assert.equal(a.signatures.length, 1);
      assert.ok(a.findings.some((f) => f.code === 'SIGNATURE_FIELD_ORPHAN'));
    });
  });
});
