import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { IncrementalWriter, PdfArray, PdfDict, PdfError, PdfName, PdfReader, PdfRef, PdfStream, PdfString } from '@kyso/pdf';
import { SAMPLE_CLASSES, type SampleClass, writeSamples } from '../../../fixtures/pdf/samples.js';

function addRevision(input: string, output: string): Promise<void> {
  const r = PdfReader.open(input);
  try {
    const w = new IncrementalWriter(r);
    const info = w.add(new PdfDict({ Producer: PdfString.fromText('kyso revision') }));
    const cat = r.catalog.clone();
    cat.set('KysoTest', info);
    w.set(r.catalogRef, cat);
    const u = w.build();
    copyFileSync(input, output);
    appendFileSync(output, u.bytes);
  } finally {
    r.close();
  }
  return Promise.resolve();
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof PdfError && e.code === code, `expected PdfError ${code}`);
}

describe('@kyso/pdf reader and incremental writer', function () {
  this.timeout(60_000);
  let dir: string;
  let samples: Record<SampleClass, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-pdf-'));
    samples = await writeSamples(dir, addRevision);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const cls of SAMPLE_CLASSES) {
    it(`reads and updates the ${cls} sample (prefix kept, qpdf --check passes)`, async () => {
      const input = samples[cls];
      const r = PdfReader.open(input);
      const pages = [...r.pages()];
      assert.equal(pages.length, r.pageCount);
      assert.ok(pages.length >= 1);
      assert.equal(r.getPage(pages.length - 1).ref.num, pages[pages.length - 1]!.ref.num);
      assert.ok(r.revisions().length >= 1);
      assert.equal(r.revisions().at(-1)!.startxref, r.startxref);
      r.close();
      const out = join(dir, `${cls}-upd.pdf`);
      await addRevision(input, out);
      const orig = readFileSync(input);
      const upd = readFileSync(out);
      assert.ok(upd.subarray(0, orig.length).equals(orig), 'original bytes are a prefix');
      execFileSync('qpdf', ['--check', out]);
      const r2 = PdfReader.open(out);
      assert.equal(r2.sections.length, PdfReader.open(input).sections.length + 1);
      assert.ok(r2.catalog.get('KysoTest') instanceof PdfRef);
      assert.equal(r2.xrefKind, PdfReader.open(input).xrefKind, 'same kind of xref section');
      const id0 = (PdfReader.open(input).trailer.get('ID') as PdfArray | undefined)?.items[0] as PdfString | undefined;
      if (id0) assert.deepEqual(((r2.trailer.get('ID') as PdfArray).items[0] as PdfString).bytes, id0.bytes, 'first /ID kept');
      r2.close();
    });
  }

  it('reads the hybrid file object that only the /XRefStm knows', () => {
    const r = PdfReader.open(samples.hybrid);
    const page = r.getPage(0);
    const font = r.dict(r.dict(page.resources!.get('Font'))!.get('F1'));
    assert.equal(font?.getName('BaseFont'), 'Helvetica');
    assert.equal(r.sections[0]!.xrefStm! > 0, true);
  });

  it('lists fields and gives exact offsets of string values', () => {
    const r = PdfReader.open(readFileSync(samples['empty-field']));
    const f = r.fields();
    assert.equal(f.length, 1);
    assert.equal(f[0]!.fullName, 'Signature1');
    assert.equal(f[0]!.fieldType, 'Sig');
    const t = f[0]!.dict.get('T') as PdfString;
    const bytes = readFileSync(samples['empty-field']);
    assert.equal(bytes.subarray(t.start, t.end).toString('latin1'), '(Signature1)');
  });

  it('decodes Flate streams with PNG predictors (xref streams) and caps decompression bombs', () => {
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024));
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n'),
      Buffer.from(`3 0 obj\n<< /Length ${bomb.length} /Filter /FlateDecode >>\nstream\n`),
      bomb,
      Buffer.from('\nendstream\nendobj\n'),
    ]);
    const xo = pdf.length;
    const offs = [9, pdf.indexOf('2 0 obj'), pdf.indexOf('3 0 obj')];
    const tail = `xref\n0 4\n0000000000 65535 f\r\n${offs.map((o) => String(o).padStart(10, '0') + ' 00000 n\r\n').join('')}trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n${xo}\n%%EOF\n`;
    const r = PdfReader.open(Buffer.concat([pdf, Buffer.from(tail)]), { maxDecodedBytes: 1024 * 1024 });
    const s = r.getObject(3) as PdfStream;
    assert.ok(s instanceof PdfStream);
    expectCode(() => s.decode(), 'PDF_LIMIT_EXCEEDED');
  });

  it('rejects hostile input with typed errors', () => {
    expectCode(() => PdfReader.open(Buffer.from('hello world')), 'PDF_NOT_PDF');
    const classic = readFileSync(samples.classic);
    expectCode(() => PdfReader.open(classic.subarray(0, Math.floor(classic.length / 2))), 'PDF_TRUNCATED');
    // startxref pointing in the middle of nowhere
    const broken = Buffer.from(classic.toString('latin1').replace(/startxref\s+\d+/, 'startxref\n17'), 'latin1');
    assert.throws(() => PdfReader.open(broken), (e: unknown) => e instanceof PdfError && ['PDF_XREF_BROKEN', 'PDF_SYNTAX'].includes(e.code));
    // /Prev loop
    const loop = `%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<< /Size 2 /Root 1 0 R /Prev 44 >>\nstartxref\n44\n%%EOF\n`;
    expectCode(() => PdfReader.open(Buffer.from(loop)), 'PDF_XREF_LOOP');
    // deep nesting
    const body = `%PDF-1.4\n1 0 obj\n${'['.repeat(5000)}\nendobj\n`;
    const deep = `${body}xref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n${body.length}\n%%EOF\n`;
    const r = PdfReader.open(Buffer.from(deep));
    expectCode(() => r.getObject(1), 'PDF_TOO_DEEP');
  });

  it('repairs a broken xref only when asked, and says so', () => {
    const classic = readFileSync(samples.classic);
    const broken = Buffer.from(classic.toString('latin1').replace(/startxref\s+\d+/, 'startxref\n999999'), 'latin1');
    expectCode(() => PdfReader.open(broken), 'PDF_XREF_BROKEN');
    const r = PdfReader.open(broken, { repair: true });
    assert.equal(r.repairs.length, 1);
    assert.equal([...r.pages()].length, 3);
    expectCode(() => new IncrementalWriter(r), 'PDF_XREF_BROKEN');
  });

  it('reads classic xref entries of every end-of-line form, fast 20-byte form and token by token alike', () => {
    // objects 1-4 and an xref table whose entries are written by `entry`; then each object must resolve
    const build = (entry: (off: number, gen: number, kind: 'n' | 'f') => string): Uint8Array => {
      const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>', '(four)'];
      let text = '%PDF-1.7\n';
      const offs: number[] = [];
      objs.forEach((o, i) => { offs.push(text.length); text += `${i + 1} 0 obj\n${o}\nendobj\n`; });
      const xref = text.length;
      text += `xref\n0 ${objs.length + 1}\n${entry(0, 65535, 'f')}${offs.map((o) => entry(o, 0, 'n')).join('')}`;
      text += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
      return new TextEncoder().encode(text);
    };
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const forms: Record<string, (o: number, g: number, k: string) => string> = {
      'SP LF': (o, g, k) => `${pad(o, 10)} ${pad(g, 5)} ${k} \n`,
      'SP CR': (o, g, k) => `${pad(o, 10)} ${pad(g, 5)} ${k} \r`,
      'CR LF': (o, g, k) => `${pad(o, 10)} ${pad(g, 5)} ${k}\r\n`,
      'LF only (19 bytes, token path)': (o, g, k) => `${pad(o, 10)} ${pad(g, 5)} ${k}\n`,
      'short numbers (token path)': (o, g, k) => `${o} ${g} ${k}\n`,
    };
    for (const [name, form] of Object.entries(forms)) {
      const r = PdfReader.open(build(form as (o: number, g: number, k: 'n' | 'f') => string));
      try {
        assert.equal(r.pageCount, 1, name);
        assert.equal(r.getPage(0).mediaBox[2], 10, name);
        const four = r.getObject(4);
        assert.ok(four instanceof PdfString && new TextDecoder().decode(four.bytes) === 'four', name);
      } finally { r.close(); }
    }
    // a letter inside an offset is refused on either path
    expectCode(() => PdfReader.open(build((o, g, k) => `${pad(o, 10).replace(/^0/, 'x')} ${pad(g, 5)} ${k} \n`)), 'PDF_XREF_BROKEN');
  });

  it('serialises names, strings and numbers that read back the same', () => {
    const r = PdfReader.open(samples.classic);
    const w = new IncrementalWriter(r);
    const d = new PdfDict({ 'A B': PdfName.of('x#y'), S: PdfString.fromText('Nguyễn (Văn) An\\'), N: 1.5, M: -0.25, Arr: new PdfArray([1, true, null]) });
    const ref = w.add(d);
    const u = w.build();
    const out = join(dir, 'ser.pdf');
    writeFileSync(out, Buffer.concat([readFileSync(samples.classic), u.bytes]));
    const back = PdfReader.open(out).getObject(ref) as PdfDict;
    assert.equal(back.getName('A B'), 'x#y');
    assert.equal((back.get('S') as PdfString).text(), 'Nguyễn (Văn) An\\');
    assert.equal(back.get('N'), 1.5);
    assert.equal(back.get('M'), -0.25);
    assert.deepEqual((back.get('Arr') as PdfArray).items, [1, true, null]);
  });
});
