/**
 * The fast scanner fed in pieces (XmlChunkScanner: a file read chunk by chunk, never decoded whole) must report
 * exactly what the whole-string scan reports: same canonical form, same decision to decline, byte offsets that
 * point at the right bytes, whatever the piece boundaries (inside names, entities, multi-byte characters,
 * comments, CDATA, attribute values).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { C14N, C14nDocumentStream, c14nMethod, scanXml, XmlChunkScanner } from '@kyso/signer';
import { asciiPieceOk, asciiPieceOkJs, SCAN_WASM } from '../src/xades/core/parse.js';
import { fastPieceOk } from '../src/xades/core/fastparse.js';

const DOCS = [
  '<?xml version="1.0" encoding="UTF-8"?>\n<r xmlns="urn:a" xmlns:b="urn:b"><b:x b:attr="1" attr="2 &amp; 3"><y xmlns=""><z xmlns="urn:c"/></y></b:x></r>\n',
  '<!-- before -->\n<doc>\n  <!-- inside --><t>a &lt; b &amp;&amp; c &gt; d &#x1F600; &#233;</t>\n\t<c><![CDATA[<not markup> & ]] ]]></c>   \n  <e>&#x41;&#66;&quot;&apos;</e>\n</doc>\n<!-- after -->\n',
  '<doc xml:lang="vi"><p q="Xin chào thế giới 😀">Nguyễn Văn A — ký số ✓ 𝄞</p><e a=\'"\' b="\'"/></doc>',
  '\uFEFF<r>bom</r>',
  // long qualified names and attribute lists: cut anywhere (after a prefix's ':', inside a value holding '>')
  '<averyveryverylongprefix:root xmlns:averyveryverylongprefix="urn:l"><averyveryverylongprefix:child averyveryverylongprefix:attribute="a &gt; b > c" other=\'x"y\'>t</averyveryverylongprefix:child></averyveryverylongprefix:root>',
  '<r>' + 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='.repeat(50) + '<i n="1"/>' + 'x]]y]'.repeat(10) + '</r>',
  // declined by the fast path (the strict parser decides): both ways must agree
  '<!DOCTYPE r><r/>',
  '<r><?pi x?></r>',
  '<r>&unknown;</r>',
  '<r><a></r>',
  '<r>]]></r>',
  '<r/><r/>',
];

function whole(doc: string): { ok: boolean; c14n: string } {
  let out = '';
  const c = new C14nDocumentStream(c14nMethod(C14N.exc)!, (s) => { out += s; });
  const text = doc.charCodeAt(0) === 0xfeff ? doc.slice(1) : doc;
  const ok = scanXml(text, c);
  c.end();
  return { ok, c14n: out };
}

function chunked(bytes: Buffer, sizes: number[]): { ok: boolean; c14n: string; offsetsOk: boolean } {
  let out = '';
  let offsetsOk = true;
  const c = new C14nDocumentStream(c14nMethod(C14N.exc)!, (s) => { out += s; });
  const sc: XmlChunkScanner = new XmlChunkScanner({
    open(el, selfClosing, offset, start) {
      const at = sc.byteOffset(start);
      if (bytes.toString('utf8', at, at + 1 + Buffer.byteLength(el.tagName)) !== '<' + el.tagName) offsetsOk = false;
      if (bytes[sc.byteOffset(offset)] !== (selfClosing ? 0x2f : 0x3e)) offsetsOk = false;
      c.open(el, selfClosing);
    },
    close(el, offset) {
      if (bytes.toString('utf8', sc.byteOffset(offset), sc.byteOffset(offset) + 2) !== '</') offsetsOk = false;
      c.close(el);
    },
    text(d) { c.text(d); },
    comment() {},
  });
  let pos = 0, k = 0, ok = true;
  while (pos < bytes.length && ok) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    ok = sc.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  ok = ok && sc.end();
  if (ok) c.end();
  return { ok, c14n: out, offsetsOk };
}

describe('XML fast scanner fed in pieces = the whole-string scan', () => {
  for (const [i, doc] of DOCS.entries()) {
    it(`document ${i + 1}: every piece size from 1 to 40 bytes, and 64 KiB`, () => {
      const w = whole(doc);
      const bytes = Buffer.from(doc, 'utf8');
      for (const size of [...Array.from({ length: 40 }, (_, k) => k + 1), 65536]) {
        const r = chunked(bytes, [size]);
        assert.equal(r.ok, w.ok, `piece size ${size}: decision`);
        if (w.ok) {
          assert.equal(r.c14n, w.c14n, `piece size ${size}: canonical form`);
          assert.ok(r.offsetsOk, `piece size ${size}: byte offsets`);
        }
      }
    });
  }

  it('random documents, random piece boundaries (fast-check)', () => {
    const textArb = fc.array(fc.constantFrom('a', ' ', '\n', '&amp;', '&#233;', 'é', '😀', ']', '>', '"', '\t', 'ký'), { maxLength: 12 }).map((a) => a.join(''));
    const elArb = fc.letrec((tie) => ({
      el: fc.tuple(fc.constantFrom('a', 'b:c', 'd'), fc.array(fc.tuple(fc.constantFrom('x', 'y', 'b:z'), textArb), { maxLength: 2 }), fc.array(fc.oneof(textArb, tie('el'), textArb.map((t: string) => `<!--${t.replace(/-/g, '')}-->`), textArb.map((t: string) => `<![CDATA[${t.replace(/]]>/g, '')}x]]>`)), { maxLength: 3 }))
        .map(([n, attrs, kids]) => {
          const seen = new Set<string>();
          const as = attrs.filter(([k]) => !seen.has(k) && seen.add(k)).map(([k, v]) => ` ${k}="${(v as string).replace(/["<]/g, '')}"`).join('');
          return `<${n}${as}>${(kids as string[]).join('')}</${n}>`;
        }),
    }));
    fc.assert(fc.property(elArb.el, fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), (el, sizes) => {
      const doc = `<root xmlns:b="urn:b">${el}</root>`;
      const w = whole(doc);
      const r = chunked(Buffer.from(doc, 'utf8'), sizes);
      assert.equal(r.ok, w.ok);
      if (w.ok) { assert.equal(r.c14n, w.c14n); assert.ok(r.offsetsOk); }
    }), { numRuns: 300 });
  });

  it('ASCII pieces checked on their bytes (four at a time) = the text check, at every alignment and position', () => {
    // every ASCII byte value, alone, at each position of a word and of the unaligned head and tail
    const base = Buffer.alloc(41, 0x41);
    for (let c = 0; c < 128; c++) {
      for (let at = 0; at < 41; at++) {
        for (const off of [0, 1, 2, 3]) {
          const buf = Buffer.alloc(off + 41);
          base.copy(buf, off);
          buf[off + at] = c;
          const piece = buf.subarray(off);
          const want = fastPieceOk(piece.toString('latin1'));
          assert.equal(asciiPieceOk(piece), want, `byte ${c} at ${at}, offset ${off}`);
          assert.equal(asciiPieceOkJs(piece), want, `(JavaScript) byte ${c} at ${at}, offset ${off}`);
        }
      }
    }
    // random mixes: text with tabs, line feeds, markup, and now and then a control character
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 127 }).map((c) => (c < 32 && c % 5 !== 0 ? 10 : c)), { maxLength: 300 }), fc.integer({ min: 0, max: 7 }), (codes, off) => {
      const buf = Buffer.alloc(off + codes.length);
      Buffer.from(codes).copy(buf, off);
      const piece = buf.subarray(off);
      const want = fastPieceOk(piece.toString('latin1'));
      assert.equal(asciiPieceOk(piece), want);
      assert.equal(asciiPieceOkJs(piece), want);
    }), { numRuns: 2000 });
    // longer than the WebAssembly memory (64 KiB windows), the bad byte in the last window, or in none
    const long = Buffer.alloc(200_000, 0x41);
    assert.equal(asciiPieceOk(long), true);
    for (const at of [0, 65_535, 65_536, 131_072, 199_999]) {
      const b = Buffer.from(long);
      b[at] = 0x1f;
      assert.equal(asciiPieceOk(b), false, `at ${at}`);
      b[at] = 0x09;
      assert.equal(asciiPieceOk(b), true, `tab at ${at}`);
    }
  });

  it('the WebAssembly scanner is the module its comment describes (assembled here from the instructions)', () => {
    const splat = (b: number): number[] => [0xfd, 0x0c, ...Array<number>(16).fill(b)];
    const [i, c, acc, v] = [1, 2, 3, 4]; // locals ($len is 0)
    const get = (l: number): number[] => [0x20, l];
    const set = (l: number): number[] => [0x21, l];
    const body = [
      0x02, 0x02, 0x7f, 0x02, 0x7b, // locals: $i $c i32, $acc $v v128
      0x02, 0x40, 0x03, 0x40, // block loop
      ...get(i), 0x41, 16, 0x6a, ...get(0), 0x4b, 0x0d, 1, // br_if 1 (i + 16 >u len)
      ...get(i), 0xfd, 0x00, 0x00, 0x00, ...set(v), // v = v128.load i
      ...get(acc), ...get(v), ...splat(0x20), 0xfd, 0x26, // i8x16.lt_u
      ...get(v), ...splat(0x09), 0xfd, 0x23, ...get(v), ...splat(0x0a), 0xfd, 0x23, 0xfd, 0x50, // eq 9 | eq 10
      0xfd, 0x4f, 0xfd, 0x50, ...set(acc), // acc |= lt andnot (tab|lf)
      ...get(i), 0x41, 16, 0x6a, ...set(i), 0x0c, 0, 0x0b, 0x0b, // i += 16; br 0; end end
      0x02, 0x40, 0x03, 0x40,
      ...get(i), ...get(0), 0x4f, 0x0d, 1, // br_if 1 (i >=u len)
      ...get(i), 0x2d, 0x00, 0x00, ...set(c), // c = i32.load8_u i
      ...get(c), 0x41, 0x20, 0x49, ...get(c), 0x41, 9, 0x47, 0x71, ...get(c), 0x41, 10, 0x47, 0x71, // c <u 0x20 & c != 9 & c != 10
      0x04, 0x40, 0x41, 1, 0x0f, 0x0b, // if: return 1
      ...get(i), 0x41, 1, 0x6a, ...set(i), 0x0c, 0, 0x0b, 0x0b,
      ...get(acc), 0xfd, 0x53, 0x0b, // v128.any_true acc; end
    ];
    const leb = (n: number): number[] => { const o: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
    const sec = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
    const name = (x: string): number[] => [x.length, ...Buffer.from(x)];
    const mod = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sec(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), ...sec(3, [1, 0]), ...sec(5, [1, 0, 1]),
      ...sec(7, [2, ...name('mem'), 0x02, 0, ...name('scan'), 0x00, 0]), ...sec(10, [1, ...leb(body.length), ...body])];
    assert.equal(Buffer.from(mod).toString('base64'), SCAN_WASM);
    assert.ok(WebAssembly.validate(Buffer.from(SCAN_WASM, 'base64')));
  });

  it('invalid UTF-8, a carriage return, UTF-16 and another declared encoding are declined', () => {
    for (const bad of [Buffer.from([0x3c, 0x72, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x72, 0x3e]), Buffer.from('<r>\r\n</r>'), Buffer.from(`<r>${'QUJD'.repeat(300)}\u0001</r>`), Buffer.from(`<r a="${'x'.repeat(70)}\u001f"/>`), Buffer.from([0xff, 0xfe, 0x3c, 0, 0x72, 0, 0x2f, 0, 0x3e, 0]), Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><r/>'), Buffer.from([0x3c, 0x72, 0x3e, 0xe1, 0xba])]) {
      for (const size of [1, 2, 3, 1000]) assert.equal(chunked(bad, [size]).ok, false, `${bad.toString('hex')} / ${size}`);
    }
  });
});
