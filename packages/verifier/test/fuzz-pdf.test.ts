/**
 * Hostile input for analyzePdf: a seeded mutation loop over real and generated signed PDFs (thousands of
 * cases) and hand-made pathological files. No exception may escape, no internal failure may be hit, and
 * no case may take more than 2 s.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzePdf, type PdfAnalysis } from '../src/pdf/index.js';
import * as A from '../../../fixtures/attacks/index.js';

const CORPUS = '/work/shared/corpus';
const SEEDS = [
  'node-signpdf/signed-once.pdf', 'pyhanko/minimal-two-fields-signed-twice.pdf', 'pyhanko/pades-lta-dss-indirect-arrs-test.pdf',
  'pyhanko/form-update-override-appearance-stream.pdf', 'dss-pades/siwa.pdf', 'dss-pades/dss-2236_replace.pdf', 'pyhanko/certified-with-indirect-refs-in-dir.pdf',
];

function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = ['[', ']', '<<', '>>', '(', ')', '<', '>', '/', ' R ', ' 0 obj ', 'endobj', 'stream\n', 'endstream', 'xref\n', 'trailer', 'startxref\n', '%%EOF', '/Prev 0', '/Length 99999999999', '/ByteRange [0 1 2 3]', '/Contents <3082ffff>', '/Kids [1 0 R]', '/Type /XRef', '/W [1 9 9]', '-1', '1e308', '99999999999999999999', '\\', '#', '\0'];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const b = Buffer.from(src);
  const pick = (n: number) => Math.floor(rnd() * n);
  const n = 1 + pick(4);
  let out: Buffer = b;
  for (let i = 0; i < n; i++) {
    const pos = pick(out.length);
    switch (pick(8)) {
      case 0: // flip bytes
        for (let k = 0; k < 1 + pick(8); k++) out[pick(out.length)] = pick(256);
        break;
      case 1: // truncate
        out = out.subarray(0, pos);
        break;
      case 2: // insert a token
        out = Buffer.concat([out.subarray(0, pos), Buffer.from(TOKENS[pick(TOKENS.length)]!, 'latin1'), out.subarray(pos)]);
        break;
      case 3: // delete a chunk
        out = Buffer.concat([out.subarray(0, pos), out.subarray(Math.min(out.length, pos + 1 + pick(200)))]);
        break;
      case 4: // duplicate a chunk
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + pick(500)), out.subarray(pos)]);
        break;
      case 5: { // change a number near the end (xref/startxref/ByteRange live there)
        const s = out.toString('latin1');
        const at = s.slice(Math.max(0, s.length - 3000)).search(/\d{2,}/);
        if (at >= 0) {
          const p = Math.max(0, s.length - 3000) + at;
          out = Buffer.from(s.slice(0, p) + String(pick(1e7)) + s.slice(p + 2), 'latin1');
        }
        break;
      }
      case 6: // digit soup
        for (let k = 0; k < 4; k++) out[pick(out.length)] = 0x30 + pick(10);
        break;
      default: // swap two chunks
        {
          const q = pick(out.length);
          const [x, y] = pos < q ? [pos, q] : [q, pos];
          out = Buffer.concat([out.subarray(0, x), out.subarray(y, y + 64), out.subarray(x + 64, y), out.subarray(x, x + 64), out.subarray(y + 64)]);
        }
    }
  }
  return out;
}

async function check(bytes: Uint8Array | string, label: string): Promise<PdfAnalysis> {
  const t = Date.now();
  let a: PdfAnalysis;
  try {
    a = await analyzePdf(bytes);
    for (const s of a.signatures) await s.digest('SHA-256');
  } catch (e) {
    assert.fail(`${label}: analyzePdf threw ${(e as Error).stack}`);
  }
  const ms = Date.now() - t;
  assert.ok(ms < 2000, `${label}: took ${ms} ms`);
  const internal = a.findings.filter((f) => f.code === 'PDF_ANALYSIS_FAILED' || f.code === 'MODIFICATION_ANALYSIS_FAILED');
  assert.deepEqual(internal, [], `${label}: internal failure ${JSON.stringify(internal)}`);
  assert.ok(Array.isArray(a.signatures) && Array.isArray(a.findings));
  return a;
}

const hasError = (a: PdfAnalysis): boolean => a.findings.some((f) => f.severity === 'error') || a.signatures.some((s) => s.formatFindings.some((f) => f.severity === 'error'));

describe('PDF fuzz (verifier/pdf)', function () {
  this.timeout(120000);
  const seeds: { name: string; bytes: Uint8Array }[] = [];
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-fuzz-'));
    for (const f of SEEDS) seeds.push({ name: f, bytes: readFileSync(join(CORPUS, f)) });
    const base = A.buildBaseDocument();
    const signedLike = A.appendSignatureLike(base, { fieldName: 'Approval', existingField: true });
    seeds.push({ name: 'generated/signed', bytes: signedLike });
    seeds.push({ name: 'generated/dss+ts', bytes: A.appendDocumentTimestampLike(A.appendDss(signedLike)) });
    seeds.push({ name: 'generated/isa', bytes: A.incrementalSavingAttack(signedLike) });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('seeded mutation loop: 8000 cases, no exception, none slower than 2 s', async () => {
    const rnd = mulberry32(0x6b79736f);
    const N = 8000;
    const t0 = Date.now();
    let slowest = 0;
    for (let i = 0; i < N; i++) {
      const seed = seeds[i % seeds.length]!;
      const m = mutate(seed.bytes, rnd);
      const t = Date.now();
      await check(m, `case ${i} (${seed.name})`);
      slowest = Math.max(slowest, Date.now() - t);
    }
    const total = Date.now() - t0;
    assert.ok(total < 90000, `8000 cases took ${total} ms`);
    console.log(`      fuzz: ${N} cases in ${total} ms, slowest ${slowest} ms`);
  });

  it('the same mutants read from a file path behave like bytes', async () => {
    const rnd = mulberry32(42);
    for (let i = 0; i < 100; i++) {
      const m = mutate(seeds[i % seeds.length]!.bytes, rnd);
      const p = join(dir, 'm.pdf');
      writeFileSync(p, m);
      const a = await check(p, `file case ${i}`);
      const b = await check(m, `bytes case ${i}`);
      assert.equal(a.signatures.length, b.signatures.length);
      assert.deepEqual(a.revisions, b.revisions);
    }
  });

  const hdr = '%PDF-1.7\n';
  const tail = (xrefAt: number, extra = '') => `xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 1 /Root 1 0 R${extra}>>\nstartxref\n${xrefAt}\n%%EOF\n`;

  it('empty, tiny and non-PDF input', async () => {
    for (const b of [new Uint8Array(0), Buffer.from('%PDF'), Buffer.from('hello world'), Buffer.alloc(10000, 0)]) {
      const a = await check(b, 'tiny');
      assert.ok(hasError(a) || a.signatures.length === 0);
    }
    const missing = await analyzePdf(join(dir, 'does-not-exist.pdf'));
    assert.equal(missing.findings[0]?.code, 'FILE_UNREADABLE');
    const directory = await analyzePdf(dir);
    assert.equal(directory.findings[0]?.code, 'FILE_UNREADABLE');
  });

  it('truncated signed file at every 97th byte', async () => {
    const s = seeds.find((x) => x.name === 'generated/signed')!.bytes;
    for (let n = 0; n < s.length; n += 97) await check(s.subarray(0, n), `truncated at ${n}`);
    const a = await check(s.subarray(0, s.length - 10), 'truncated tail');
    assert.ok(hasError(a));
  });

  it('/Prev cycles and xref loops', async () => {
    const body = `${hdr}1 0 obj\n<</Type /Catalog>>\nendobj\n`;
    const x = body.length;
    const self = body + tail(x, ` /Prev ${x}`);
    const a = await check(Buffer.from(self), 'self prev');
    assert.ok(a.findings.some((f) => f.code === 'XREF_PREV_CYCLE'));
    // two sections pointing at each other
    const x2 = self.length;
    const two = self + tail(x2, ` /Prev ${x}`).replace(`/Prev ${x}>>`, `/Prev ${x}>>`);
    await check(Buffer.from(two.replace(`/Prev ${x}>>\nstartxref\n${x}`, `/Prev ${x2}>>\nstartxref\n${x}`)), 'two-cycle');
    // xref stream whose /Prev is itself
    const xs = `${hdr}1 0 obj\n<</Type /Catalog>>\nendobj\n`;
    const xsAt = xs.length;
    const data = deflateSync(Buffer.from([0, 0, 0, 1, 0, 9]));
    const file = Buffer.concat([Buffer.from(`${xs}2 0 obj\n<</Type /XRef /Size 3 /W [1 1 1] /Index [0 2] /Root 1 0 R /Prev ${xsAt} /Filter /FlateDecode /Length ${data.length}>>\nstream\n`), data, Buffer.from(`\nendstream\nendobj\nstartxref\n${xsAt}\n%%EOF\n`)]);
    await check(file, 'xref stream self prev');
  });

  it('deep nesting: 10^5 [ and << in an object and in the trailer', async () => {
    for (const open of ['[', '<<']) {
      const deep = open.repeat(100000);
      const body = `${hdr}1 0 obj\n<</Type /Catalog /X ${deep}>>\nendobj\n`;
      await check(Buffer.from(body + tail(body.length)), `deep ${open}`);
      const t = `${hdr}xref\n0 1\n0000000000 65535 f \ntrailer\n<</Root ${deep}>>\nstartxref\n${hdr.length}\n%%EOF\n`;
      const a = await check(Buffer.from(t), `deep trailer ${open}`);
      assert.ok(hasError(a));
    }
  });

  it('huge declared /Length, huge xref subsection counts, huge /Size and /N', async () => {
    const body = `${hdr}1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n2 0 obj\n<</Length 99999999999999>>\nstream\nabc\nendstream\nendobj\n3 0 obj\n<</Type /ObjStm /N 999999999 /First 99999999 /Length 3>>\nstream\nabc\nendstream\nendobj\n`;
    await check(Buffer.from(body + tail(body.length)), 'huge length');
    const xr = `${hdr}xref\n0 999999999\n0000000000 65535 f \ntrailer\n<</Size 999999999 /Root 1 0 R>>\nstartxref\n${hdr.length}\n%%EOF\n`;
    await check(Buffer.from(xr), 'huge subsection');
    // an indirect /Length that refers to itself
    const loop = `${hdr}1 0 obj\n<</Length 1 0 R>>\nstream\nxx\nendstream\nendobj\n`;
    await check(Buffer.from(loop + `xref\n0 2\n0000000000 65535 f \n${String(hdr.length).padStart(10, '0')} 00000 n \ntrailer\n<</Size 2 /Root 1 0 R>>\nstartxref\n${loop.length}\n%%EOF\n`), 'length loop');
  });

  it('Flate bombs in an xref stream, an object stream and the DSS', async () => {
    const bomb = deflateSync(Buffer.alloc(96 * 1024 * 1024, 0), { level: 9 });
    const head = `${hdr}1 0 obj\n<</Type /Catalog /DSS 3 0 R>>\nendobj\n3 0 obj\n<</Certs [4 0 R]>>\nendobj\n4 0 obj\n<</Filter /FlateDecode /Length ${bomb.length}>>\nstream\n`;
    const mid = Buffer.concat([Buffer.from(head), bomb, Buffer.from('\nendstream\nendobj\n')]);
    const xAt = mid.length;
    const xref = `xref\n0 5\n0000000000 65535 f \n${String(hdr.length).padStart(10, '0')} 00000 n \n0000000000 65535 f \n${String(head.indexOf('3 0 obj')).padStart(10, '0')} 00000 n \n${String(head.indexOf('4 0 obj')).padStart(10, '0')} 00000 n \ntrailer\n<</Size 5 /Root 1 0 R>>\nstartxref\n${xAt}\n%%EOF\n`;
    const rss0 = process.memoryUsage().rss;
    const a = await check(Buffer.concat([mid, Buffer.from(xref)]), 'DSS bomb');
    assert.ok(a.findings.some((f) => f.code === 'STREAM_UNDECODABLE'), JSON.stringify(a.findings));
    // xref stream bomb
    const xsHead = `${hdr}1 0 obj\n<</Type /Catalog>>\nendobj\n`;
    const xsFile = Buffer.concat([Buffer.from(`${xsHead}2 0 obj\n<</Type /XRef /Size 3 /W [1 4 4] /Root 1 0 R /Filter /FlateDecode /Length ${bomb.length}>>\nstream\n`), bomb, Buffer.from(`\nendstream\nendobj\nstartxref\n${xsHead.length}\n%%EOF\n`)]);
    const b = await check(xsFile, 'xref stream bomb');
    assert.ok(hasError(b));
    assert.ok(process.memoryUsage().rss - rss0 < 256 * 1024 * 1024, 'memory stays bounded');
  });

  it('malformed DER and odd /Contents in a signature dictionary', async () => {
    const base = A.buildBaseDocument();
    for (const der of [Uint8Array.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Uint8Array.from([0x04, 0x01, 0x00]), Uint8Array.from([0x30, 0x82, 0x10, 0x00, 0x01])]) {
      const f = A.appendSignatureLike(base, { fieldName: 'Approval', existingField: true, contentsDer: der });
      const a = await check(f, 'bad der');
      assert.ok(a.signatures[0]!.formatFindings.some((x) => /^CONTENTS_(NOT_DER|EMPTY)$/.test(x.code)), JSON.stringify(a.signatures[0]!.formatFindings));
      assert.equal(a.signatures[0]!.contents.length, 0);
    }
  });

  it('page-tree and field-tree cycles', async () => {
    const objs = [
      '<</Type /Catalog /Pages 2 0 R /AcroForm <</Fields [3 0 R]>>>>',
      '<</Type /Pages /Kids [2 0 R 4 0 R] /Count 2>>',
      '<</T (a) /Kids [3 0 R 5 0 R]>>',
      '<</Type /Pages /Kids [2 0 R] /Parent 2 0 R>>',
      '<</T (b) /FT /Sig /Parent 3 0 R /Kids [3 0 R] /V 6 0 R>>',
      '<</Type /Sig /ByteRange 6 0 R /Contents 6 0 R>>',
    ];
    let body = hdr;
    const offs: number[] = [];
    objs.forEach((o, i) => {
      offs.push(body.length);
      body += `${i + 1} 0 obj\n${o}\nendobj\n`;
    });
    const xref = `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<</Size ${objs.length + 1} /Root 1 0 R>>\nstartxref\n${body.length}\n%%EOF\n`;
    await check(Buffer.from(body + xref), 'cycles');
  });

  it('many revisions (500 empty updates) stay fast', async () => {
    let f: Uint8Array = seeds.find((x) => x.name === 'generated/signed')!.bytes;
    for (let i = 0; i < 500; i++) f = A.appendUpdate(f, new Map());
    const a = await check(f, 'many revisions');
    assert.equal(a.revisions.length, 502);
    assert.equal(a.signatures[0]!.modificationLevel, 'NONE');
  });
});
