/**
 * PdfHistory: the revision-aware, tolerant reader the verifier stands on — revision views through object
 * streams, findings instead of exceptions, invalid syntax never coerced, budgets checked before allocation,
 * and the one streamed ByteRange digest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSource, digestByteRange, PdfDict, PdfError, PdfHistory, PdfName, PdfString, readByteRange } from '@kyso/pdf';
import * as A from '../../../fixtures/attacks/index.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A one-revision file from object bodies (1 = catalog). */
function file(objects: Record<number, string>, trailerExtra = ''): Buffer {
  let body = '%PDF-1.7\n';
  const offs: Record<number, number> = {};
  const nums = Object.keys(objects).map(Number).sort((a, b) => a - b);
  for (const n of nums) {
    offs[n] = body.length;
    body += `${n} 0 obj\n${objects[n]}\nendobj\n`;
  }
  const max = Math.max(...nums);
  let xref = `xref\n0 ${max + 1}\n0000000000 65535 f \n`;
  for (let n = 1; n <= max; n++) xref += offs[n] === undefined ? '0000000000 00000 f \n' : `${String(offs[n]).padStart(10, '0')} 00000 n \n`;
  return latin1(`${body}${xref}trailer\n<</Size ${max + 1} /Root 1 0 R${trailerExtra}>>\nstartxref\n${body.length}\n%%EOF\n`);
}

describe('PdfHistory (pdf)', () => {
  it('resolves as viewers do: an object stream redefined later changes the objects it holds', () => {
    const base = A.buildOracleBaseObjStm();
    const h0 = PdfHistory.open(base);
    const e = h0.entry(A.RB.font)?.entry;
    assert.equal(e?.type, 'c');
    const stm = (e as { stm: number }).stm;
    const slots = [...h0.revisions[0]!.entries].filter(([, x]) => x.type === 'c' && x.stm === stm).sort((a, b) => (a[1] as { idx: number }).idx - (b[1] as { idx: number }).idx);
    const courier = new PdfDict({ Type: PdfName.of('Font'), Subtype: PdfName.of('Type1'), BaseFont: PdfName.of('Courier') });
    const upd = A.appendAuto(base, new Map(), { inObjStm: new Map(slots.map(([n]) => [n, n === A.RB.font ? courier : h0.get(n)!])), objStmNum: stm, objStmEntries: false });
    const h = PdfHistory.open(upd);
    assert.equal(h.revisions.length, 2);
    // The font's own xref entry did not change, but viewers resolve its object stream through the newest xref.
    assert.equal(h.entry(A.RB.font, 1)!.rev, 0);
    assert.equal((h.get(A.RB.font, 0) as PdfDict).getName('BaseFont'), 'Helvetica');
    assert.equal((h.get(A.RB.font, 1) as PdfDict).getName('BaseFont'), 'Courier');
    assert.equal((h.view(0).get(A.RB.font) as PdfDict).getName('BaseFont'), 'Helvetica');
    assert.equal((h.view(1).get(A.RB.font) as PdfDict).getName('BaseFont'), 'Courier');
    assert.notEqual(h.definitionKey(A.RB.font, 0), h.definitionKey(A.RB.font, 1));
    assert.ok(h.touchedBetween(0, 1).has(A.RB.font));
    // Objects of the redefined stream that did not change are still the same objects to the diff.
    assert.ok(!h.touchedBetween(0, 1).has(A.RB.box), 'a plain object outside the stream is untouched');
  });

  it('records duplicate keys and keys without value as findings (ambiguous), never throws', () => {
    const h = PdfHistory.open(file({ 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0 /Count 1>>', 3: '<</A 1 /B>>' }));
    const pages = h.get(2) as PdfDict;
    assert.deepEqual(pages.duplicates, ['Count']);
    assert.ok(h.findings.some((f) => f.code === 'DUPLICATE_KEY'));
    assert.equal(h.isAmbiguous(3), true);
    assert.equal(h.isAmbiguous(2), false);
    assert.ok(h.findings.some((f) => f.code === 'INVALID_TOKEN' && /no value/.test(f.message)));
  });

  it('invalid syntax is a finding and no value: 1.2.3, --5, bad hex, a name with a bad #-escape', () => {
    const h = PdfHistory.open(file({ 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0>>', 3: '<</Rotate 1.2.3>>', 4: '[--5]', 5: '<0g>', 6: '/Cour#zzier' }));
    for (const n of [3, 4, 5]) {
      assert.equal(h.get(n), undefined, `object ${n} is not coerced to a value`);
      assert.equal(h.isInvalid(n), true);
    }
    assert.ok(h.findings.some((f) => f.code === 'OBJECT_INVALID' && f.where === '3 0 R'));
    assert.equal(h.isAmbiguous(6), true);
    assert.equal(h.isInvalid(2), false);
  });

  it('never throws on garbage and reports why', () => {
    for (const junk of ['', 'hello', '%PDF-1.7\nstartxref\n999999\n%%EOF', '%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF']) {
      const h = PdfHistory.open(latin1(junk));
      assert.ok(h.findings.some((f) => f.severity === 'error'), `'${junk.slice(0, 20)}': ${JSON.stringify(h.findings)}`);
    }
  });

  it('budgets: a string beyond maxStringBytes is refused by size, an xref beyond maxObjects by count', () => {
    const hex = '30' + '00'.repeat(5000);
    const h = PdfHistory.open(file({ 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0>>', 3: `<</Contents <${hex}>>>` }), { maxStringBytes: 1024 });
    assert.equal(h.get(3), undefined);
    assert.ok(h.findings.some((f) => f.code === 'PDF_LIMIT_EXCEEDED' && f.where === '3 0 R'), JSON.stringify(h.findings));
    const ok = PdfHistory.open(file({ 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0>>', 3: `<</Contents <${hex}>>>` }));
    assert.equal(((ok.get(3) as PdfDict).get('Contents') as PdfString).bytes.length, 5001);
    const many = PdfHistory.open(file({ 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0>>', 50: 'null' }), { maxObjects: 10 });
    assert.ok(many.findings.some((f) => f.code === 'PDF_LIMIT_EXCEEDED'), JSON.stringify(many.findings));
  });

  it('streams with a wrong /Length are found by one memoised search', () => {
    const objs: Record<number, string> = { 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0>>' };
    for (let i = 3; i < 203; i++) objs[i] = `<</Length 9999999>>\nstream\nabc${i}\nendstream`;
    const h = PdfHistory.open(file(objs));
    for (let i = 3; i < 203; i++) assert.equal(Buffer.from(h.rawData(h.get(i) as never)).toString('latin1'), `abc${i}`);
  });

  it('an indirect /Length is resolved as of the revision viewed', () => {
    // Both lengths are plausible (endstream follows after white space), so each revision reads its own data.
    const base = file({ 1: '<</Type /Catalog /Pages 2 0 R>>', 2: '<</Type /Pages /Kids [] /Count 0>>', 3: '<</Length 4 0 R>>\nstream\nBT ET   \nendstream', 4: '9' });
    const upd = A.appendUpdate(base, new Map([[4, 5]]));
    const h = PdfHistory.open(upd);
    assert.equal(Buffer.from(h.rawData(h.get(3, 0) as never)).toString('latin1'), 'BT ET   \n');
    assert.equal(Buffer.from(h.rawData(h.get(3, 1) as never)).toString('latin1'), 'BT ET');
    assert.equal(Buffer.from(h.rawData(h.get(3, 0) as never)).toString('latin1'), 'BT ET   \n');
  });

  it('digestByteRange streams the same digest from bytes, a path and a ByteSource; readByteRange is capped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-hist-'));
    try {
      const bytes = Buffer.alloc(3_000_000, 7);
      bytes.write('hello', 100);
      const p = join(dir, 'f.bin');
      writeFileSync(p, bytes);
      const br = [0, 1000, 2000, 2_998_000];
      const want = createHash('sha256').update(bytes.subarray(0, 1000)).update(bytes.subarray(2000)).digest('hex');
      for (const input of [bytes, p, new BufferSource(bytes)]) assert.equal(Buffer.from(await digestByteRange(input, br, 'SHA-256')).toString('hex'), want);
      assert.equal((await readByteRange(p, br, 4_000_000)).length, 2_999_000);
      await assert.rejects(readByteRange(p, br, 1_000_000), (e: unknown) => e instanceof PdfError && e.code === 'PDF_LIMIT_EXCEEDED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
