import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { C14N, C14nDocumentStream, c14nMethod, canonicalize, decodeXml, parseXml, scanXml, XmlError, type XmlDocument, type XmlNode } from '@kyso/signer';
import { fastParseXml } from '../src/xades/core/fastparse.js';
import { parseXmlStrict } from '../src/xades/core/parse.js';

const L = { maxBytes: 256 * 1024 * 1024, maxDepth: 256, maxElements: 5_000_000, maxAttributes: 1000, maxNamespaceDeclarations: 10_000 };

/** Everything the tree holds, as plain data. */
function dump(n: XmlNode): unknown {
  const kids: unknown[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) kids.push(dump(c));
  const o = n as unknown as Record<string, unknown> & { attributeArray?: readonly Record<string, unknown>[] };
  return {
    t: n.nodeType, name: o.tagName, prefix: o.prefix, local: o.localName, ns: o.namespaceURI, data: o.data, target: o.target,
    attrs: o.attributeArray?.map((a) => [a.name, a.prefix, a.localName, a.namespaceURI, a.value]), kids,
    root: n.nodeType === 9 ? (n as XmlDocument).documentElement?.tagName : undefined,
  };
}

/** The fast path either declines or builds exactly the tree the strict parser builds (which then must not fail). */
function agree(text: string): 'fast' | 'declined' {
  const fast = fastParseXml(text, L);
  if (!fast) return 'declined';
  let strict: XmlDocument;
  try { strict = parseXmlStrict(text, L); } catch (e) { assert.fail(`fast path accepted what the strict parser refuses (${(e as Error).message}): ${JSON.stringify(text.slice(0, 300))}`); }
  assert.deepEqual(dump(fast), dump(strict), JSON.stringify(text.slice(0, 300)));
  // The streamed canonical form (signing without a tree) equals the canonical form of the strict parser's tree.
  for (const uri of [C14N.exc, C14N.c14n10, C14N.c14n11]) {
    const m = c14nMethod(uri)!;
    let streamed = '';
    const c = new C14nDocumentStream(m, (chunk) => { streamed += chunk; });
    assert.equal(scanXml(text, c), true);
    c.end();
    assert.equal(streamed, canonicalize(strict, m, { comments: false }), `${uri}: ${JSON.stringify(text.slice(0, 300))}`);
  }
  return 'fast';
}

describe('XML parser fast path: same tree as the strict (saxes) parser, or it declines', function () {
  this.timeout(120_000);

  it('takes the fast path for plain documents, with the same tree', () => {
    const doc = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<r xmlns="urn:r" xmlns:p="urn:p" xml:lang="vi">\r\n<p:a p:k="1 &amp; 2&#10;" k='x\ty'>Văn &lt;bản&gt; &#x1F600;&#233;</p:a><b/><![CDATA[a<b&c]]><c xmlns=""><d/></c></r>\n<!--after-->\n`;
    assert.equal(agree(doc), 'fast');
    assert.equal(agree('<a/>'), 'fast');
    assert.equal(agree('<a><b x="&quot;&apos;">]</b></a>'), 'fast');
  });

  it('declines what it does not handle itself (DTD, PI, unknown entities, odd names, bad characters)', () => {
    for (const t of ['<!DOCTYPE a><a/>', '<?pi x?><a/>', '<a>&foo;</a>', '<a>&#0;</a>', '<é/>', '<a>\u0001</a>', '<a x="<"/>', '<a><b></a>',
      '<a/><b/>', 'x<a/>', '<a>]]></a>', '<a x="1" x="2"/>', '<a xmlns:p="urn:1" xmlns:q="urn:1" p:x="1" q:x="2"/>', '<p:a/>', '<a xmlns:p=""/>',
      '<a xmlns:xml="urn:x"/>', '<a x=1/>', '<a x="1"y="2"/>', '<a><!-- a -- b --></a>', '<a><!-- a ---></a>', '\ufeff<a/>', '<?xml version="1.1"?><a/>',
      '<a>\ud800</a>', '<a', '<a></a ', '<a><![CDATA[x]]', '<a xmlns=" urn:x "/>']) {
      assert.equal(agree(t), 'declined', t);
    }
  });

  it('parseXml still refuses hostile input with the strict parser\'s typed errors', () => {
    assert.throws(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'), (e: unknown) => e instanceof XmlError && e.code === 'XML_DTD_FORBIDDEN');
    assert.throws(() => parseXml('<a><b></a>'), (e: unknown) => e instanceof XmlError && e.code === 'XML_MALFORMED');
    assert.throws(() => parseXml('<a><a><a/></a></a>', { maxDepth: 2 }), (e: unknown) => e instanceof XmlError && e.code === 'XML_TOO_DEEP');
    assert.throws(() => parseXml('<a><b/><b/></a>', { maxElements: 2 }), (e: unknown) => e instanceof XmlError && e.code === 'XML_TOO_LARGE');
  });

  it('agrees with the strict parser on the XML of the shared corpus', () => {
    const root = '/work/shared/corpus';
    const files: string[] = [];
    const walk = (d: string) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else if (f.endsWith('.xml')) files.push(p); } };
    walk(root);
    assert.ok(files.length > 0, 'no corpus XML found');
    let fast = 0;
    for (const f of files) {
      let text: string;
      try { text = decodeXml(readFileSync(f)); } catch { continue; }
      if (agree(text) === 'fast') fast++;
    }
    assert.ok(fast > 0, 'the fast path never ran on the corpus');
  });

  it('agrees on random documents and on random mutations of them (fast-check)', () => {
    const name = fc.constantFrom('a', 'b', 'p:a', 'q:b', 'xml:lang', 'xmlns', 'xmlns:p', 'xmlns:q', 'x-1', '_y.z', 'é', 'a:b:c', 'xmlns:xml');
    const chars = fc.constantFrom('a', ' ', '\t', '\n', '\r', '&amp;', '&lt;', '&#10;', '&#xD;', '&#0;', '&bogus;', '&', '<', '>', '"', "'", ']]>', ']', 'ệ', '😀', '\u0001', '\ufffe', '--', '-');
    const txt = fc.array(chars, { maxLength: 6 }).map((a) => a.join(''));
    const uri = fc.constantFrom('urn:p', 'urn:q', '', ' urn:x', 'http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/');
    type T = { n: string; attrs: [string, string][]; kids: (T | string)[]; selfClose: boolean };
    const tree: fc.Arbitrary<T> = fc.letrec<{ t: T }>((tie) => ({
      t: fc.record({
        n: name,
        attrs: fc.array(fc.tuple(name, fc.oneof(txt, uri)), { maxLength: 4 }),
        kids: fc.array(fc.oneof({ depthSize: 'small' }, txt, txt.map((t) => `<!--${t}-->`), txt.map((t) => `<![CDATA[${t}]]>`), fc.constant('<?pi x?>'), tie('t')), { maxLength: 4 }),
        selfClose: fc.boolean(),
      }),
    })).t;
    const render = (t: T): string => {
      const a = t.attrs.map(([k, v], i) => (i % 2 ? ` ${k}='${v.replace(/'/g, '')}'` : ` ${k}="${v.replace(/"/g, '')}"`)).join('');
      return t.selfClose && !t.kids.length ? `<${t.n}${a}/>` : `<${t.n}${a}>${t.kids.map((k) => (typeof k === 'string' ? k : render(k))).join('')}</${t.n}>`;
    };
    const prolog = fc.constantFrom('', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', '<!-- c -->', ' ', '<?xml version=\'1.0\' ?>');
    const wrap = (t: T) => ({ ...t, n: 'r', attrs: [['xmlns:p', 'urn:p'], ['xmlns:q', 'urn:q'], ...t.attrs] as [string, string][] });
    let fast = 0;
    fc.assert(fc.property(prolog, tree, fc.array(fc.tuple(fc.nat(), fc.nat(3), chars), { maxLength: 3 }), (pro, t, muts) => {
      let text = pro + render(wrap(t));
      if (agree(text) === 'fast') fast++;
      for (const [pos, len, s] of muts) {
        const p = pos % (text.length + 1);
        text = text.slice(0, p) + s + text.slice(p + len);
        agree(text);
      }
    }), { numRuns: 3000 });
    assert.ok(fast > 100, `the fast path ran on only ${fast} generated documents`);
  });
});
