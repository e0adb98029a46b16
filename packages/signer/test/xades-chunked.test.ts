/**
 * The fast scanner fed in pieces (XmlChunkScanner: a file read chunk by chunk, never decoded whole) must report
 * exactly what the whole-string scan reports: same canonical form, same decision to decline, byte offsets that
 * point at the right bytes, whatever the piece boundaries (inside names, entities, multi-byte characters,
 * comments, CDATA, attribute values).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { C14N, C14nDocumentStream, c14nMethod, scanXml, XmlChunkScanner } from '@kyso/signer';
import { asciiPieceOk } from '../src/xades/core/parse.js';
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
          assert.equal(asciiPieceOk(piece), fastPieceOk(piece.toString('latin1')), `byte ${c} at ${at}, offset ${off}`);
        }
      }
    }
    // random mixes: text with tabs, line feeds, markup, and now and then a control character
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 127 }).map((c) => (c < 32 && c % 5 !== 0 ? 10 : c)), { maxLength: 300 }), fc.integer({ min: 0, max: 7 }), (codes, off) => {
      const buf = Buffer.alloc(off + codes.length);
      Buffer.from(codes).copy(buf, off);
      const piece = buf.subarray(off);
      assert.equal(asciiPieceOk(piece), fastPieceOk(piece.toString('latin1')));
    }), { numRuns: 2000 });
  });

  it('invalid UTF-8, a carriage return, UTF-16 and another declared encoding are declined', () => {
    for (const bad of [Buffer.from([0x3c, 0x72, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x72, 0x3e]), Buffer.from('<r>\r\n</r>'), Buffer.from(`<r>${'QUJD'.repeat(300)}\u0001</r>`), Buffer.from(`<r a="${'x'.repeat(70)}\u001f"/>`), Buffer.from([0xff, 0xfe, 0x3c, 0, 0x72, 0, 0x2f, 0, 0x3e, 0]), Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><r/>'), Buffer.from([0x3c, 0x72, 0x3e, 0xe1, 0xba])]) {
      for (const size of [1, 2, 3, 1000]) assert.equal(chunked(bad, [size]).ok, false, `${bad.toString('hex')} / ${size}`);
    }
  });
});
