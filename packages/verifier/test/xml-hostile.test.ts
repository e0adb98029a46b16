import assert from 'node:assert/strict';
import fc from 'fast-check';
import { C14N, canonicalize, c14nMethod, loadPemFiles, parseXml, signXml, XmlError, type KeyBackend } from '@kyso/signer';
import { verifyXml, type Policy, type ValidationReport } from '@kyso/verifier';
import { localPki } from '../../signer/test/crypto-testpki.js';
import { xmlsecVerify } from '../../signer/test/xades-helpers.js';

async function timed(input: Uint8Array | string, policy: Policy = { offline: true }, limits?: { maxBytes?: number; maxDepth?: number }): Promise<{ r: ValidationReport; ms: number }> {
  const t = performance.now();
  const r = await verifyXml(typeof input === 'string' ? Buffer.from(input) : input, policy, limits ? { limits } : {});
  return { r, ms: performance.now() - t };
}

describe('hostile XML ends in a FORMAT_FAILURE report, never a crash or a hang', function () {
  this.timeout(60_000);
  const cases: [string, string | Uint8Array, string][] = [
    ['billion laughs (internal entity expansion)', '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>', 'XML_DTD_FORBIDDEN'],
    ['external entity (XXE file read)', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', 'XML_DTD_FORBIDDEN'],
    ['external DTD over the network', '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>', 'XML_DTD_FORBIDDEN'],
    ['parameter entity', '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]><r/>', 'XML_DTD_FORBIDDEN'],
    ['DOCTYPE after a comment', '<!-- x --><!DOCTYPE r><r/>', 'XML_DTD_FORBIDDEN'],
    ['100,000 nested elements', '<a>'.repeat(100_000) + '</a>'.repeat(100_000), 'XML_TOO_DEEP'],
    ['ISO-8859-1 declared', '<?xml version="1.0" encoding="ISO-8859-1"?><r>\u00e9</r>', 'XML_ENCODING'],
    ['UTF-16 byte order mark', new Uint8Array([0xff, 0xfe, 0x3c, 0x00, 0x72, 0x00, 0x2f, 0x00, 0x3e, 0x00]), 'XML_ENCODING'],
    ['invalid UTF-8', new Uint8Array([0x3c, 0x72, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x72, 0x3e]), 'XML_ENCODING'],
    ['two root elements (CVE-2022-39353 class)', '<r/><r/>', 'XML_MALFORMED'],
    ['unterminated element', '<r><a></r>', 'XML_MALFORMED'],
    ['undefined entity', '<r>&nope;</r>', 'XML_MALFORMED'],
    ['binary junk', new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), 'XML_'],
    ['empty input', '', 'XML_MALFORMED'],
    ['unterminated comment', '<r><!-- never ends', 'XML_MALFORMED'],
  ];
  for (const [name, input, code] of cases) {
    it(name, async () => {
      const { r, ms } = await timed(input);
      assert.equal(r.documentIndication, 'TOTAL_FAILED', JSON.stringify(r.findings));
      assert.equal(r.documentSubIndication, 'FORMAT_FAILURE');
      assert.ok(r.findings.some((f) => f.severity === 'error' && f.code.startsWith(code)), JSON.stringify(r.findings));
      assert.ok(ms < 2000, `${ms} ms`);
    });
  }

  it('size limit: a document over limits.maxBytes is refused before parsing', async () => {
    const { r } = await timed('<r>' + 'x'.repeat(10_000) + '</r>', { offline: true }, { maxBytes: 1000 });
    assert.ok(r.findings.some((f) => f.code === 'XML_TOO_LARGE'));
    assert.equal(r.documentSubIndication, 'FORMAT_FAILURE');
  });

  it('namespace-declaration bomb (256 levels x many xmlns) is refused by the parser limit, quickly', async () => {
    const decls = Array.from({ length: 60 }, (_, i) => ` xmlns:n${i}="urn:${i}"`).join('');
    const { r, ms } = await timed('<a' + decls + '>'.repeat(1) + Array.from({ length: 250 }, (_, d) => `<b${decls.replace(/urn:/g, `urn:${d}:`)}>`).join('') + '</b>'.repeat(250) + '</a>');
    assert.ok(r.findings.some((f) => f.code === 'XML_TOO_LARGE'), JSON.stringify(r.findings));
    assert.ok(ms < 2000, `${ms} ms`);
  });

  it('reference bomb (hundreds of whole-document references) stops at the processing budget: FORMAT_FAILURE within 2 s', async () => {
    const pki = localPki();
    const rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath });
    const body = Array.from({ length: 2000 }, (_, i) => `<item n="${i}">value ${i}</item>`).join('\n');
    const signed = Buffer.from(await signXml(`<r xmlns="urn:r">${body}</r>`, { backend: rsa, level: 'XMLDSIG' })).toString();
    const ref = /<ds:Reference[\s\S]*?<\/ds:Reference>/.exec(signed)![0];
    const bomb = signed.replace(ref, ref.repeat(400));
    const { r, ms } = await timed(bomb, { trustAnchors: [pki.rootPem], revocationRequired: false });
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    assert.ok(r.signatures[0]!.checks.some((c) => /budget/.test(c.message)), r.signatures[0]!.message);
    assert.ok(ms < 2000, `${ms} ms`);
  });

  describe('transforms outside the allow-list (XSLT, XPath 1.0, XPath Filter 2, unknown) are refused', () => {
    const pki = localPki();
    let rsa: KeyBackend;
    before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); });
    const transforms: [string, string][] = [
      ['XSLT', '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/"><xsl:value-of select="document(\'file:///etc/passwd\')"/></xsl:template></xsl:stylesheet></ds:Transform>'],
      ['XPath 1.0', '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>count(//. | //@* | //namespace::*) &gt; 0</ds:XPath></ds:Transform>'],
      ['XPath Filter 2', '<ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"><dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" Filter="subtract">//x</dsig-xpath:XPath></ds:Transform>'],
      ['unknown', '<ds:Transform Algorithm="urn:evil"/>'],
    ];
    for (const [name, t] of transforms) {
      it(name, async () => {
        const signed = Buffer.from(await signXml('<r xmlns="urn:r"><x>1</x></r>', { backend: rsa })).toString();
        const evil = signed.replace('<ds:Transforms>', `<ds:Transforms>${t}`);
        const { r, ms } = await timed(evil, { trustAnchors: [pki.rootPem], revocationRequired: false });
        assert.equal(r.documentIndication, 'TOTAL_FAILED');
        assert.equal(r.signatures[0]!.subIndication, 'FORMAT_FAILURE');
        assert.match(r.signatures[0]!.message, /not allowed/);
        assert.ok(ms < 2000);
      });
    }
  });
});

describe('fuzzing the XML parser, canonicalizer and verifier (fast-check): no crash, nothing slower than 2 s', function () {
  this.timeout(300_000);
  const pki = localPki();
  let rsa: KeyBackend;
  before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); });
  const methods = Object.values(C14N).map((u) => c14nMethod(u)!);

  // Random well-formed documents: namespaces (default, prefixed, undeclared again), attributes, text with
  // characters that need escaping, comments, processing instructions, CDATA, xml:* attributes.
  const name = fc.constantFrom('a', 'b', 'item', 'x1', 'ns-el');
  const text = fc.string({ unit: fc.constantFrom('a', ' ', '&', '<', '>', '"', "'", '\t', '\n', '\r', 'ệ', '😀', ']'), maxLength: 12 });
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
  const escA = (s: string) => esc(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
  const prefix = fc.constantFrom('', 'p', 'q');
  const uri = fc.constantFrom('urn:p', 'urn:q', 'urn:d', '');
  type Tree = { n: string; p: string; decl: [string, string][]; attrs: [string, string, string][]; kids: (Tree | { t: string } | { c: string } | { pi: string } | { cd: string })[] };
  const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
    t: fc.record({
      n: name, p: prefix,
      decl: fc.array(fc.tuple(prefix, uri), { maxLength: 2 }),
      attrs: fc.uniqueArray(fc.tuple(fc.constantFrom('', 'p', 'xml'), fc.constantFrom('id', 'lang', 'k', 'z'), text), { maxLength: 3, selector: (a) => `${a[0]}:${a[1]}` }),
      kids: fc.array(fc.oneof({ depthSize: 'small', withCrossShrink: true },
        fc.record({ t: text }), fc.record({ c: fc.constantFrom(' c ', 'x-y', '') }), fc.record({ pi: fc.constantFrom('pi', 'app x="1"') }), fc.record({ cd: fc.constantFrom('a<b', ']]', '&') }), tie('t')), { maxLength: 4 }),
    }),
  })).t;
  const render = (t: Tree, inScope: Set<string>): string => {
    const scope = new Set(inScope);
    let decls = '';
    const seen = new Set<string>();
    for (const [p, u] of t.decl) {
      if (seen.has(p) || (p && !u)) continue;
      seen.add(p); scope.add(p);
      decls += p ? ` xmlns:${p}="${u}"` : ` xmlns="${u}"`;
    }
    for (const need of [t.p, ...t.attrs.map((a) => a[0])]) if (need && need !== 'xml' && !scope.has(need)) { decls += ` xmlns:${need}="urn:${need}"`; scope.add(need); }
    const qn = t.p ? `${t.p}:${t.n}` : t.n;
    const attrs = t.attrs.filter((a) => !(a[0] === 'xml' && a[1] !== 'lang' && a[1] !== 'id')).map(([p, l, v]) => ` ${p ? `${p}:` : ''}${l}="${escA(v)}"`).join('');
    const kids = t.kids.map((k) => ('n' in k ? render(k, scope) : 't' in k ? esc(k.t) : 'c' in k ? `<!--${k.c}-->` : 'pi' in k ? `<?${k.pi}?>` : `<![CDATA[${k.cd.replace(']]', '] ]')}]]>`)).join('');
    return `<${qn}${decls}${attrs}>${kids}</${qn}>`;
  };

  it('canonicalization of random documents never throws and is idempotent (c14n(parse(c14n(d))) = c14n(d)) for every method', () => {
    fc.assert(fc.property(tree, (t) => {
      const xml = `<?xml version="1.0"?>\n<!--head-->${render(t, new Set())}<?tail?>`;
      const doc = parseXml(xml);
      for (const m of methods) {
        const t0 = performance.now();
        const once = canonicalize(doc, m);
        const twice = canonicalize(parseXml(once), m);
        assert.equal(twice, once, `${m.uri}\n${xml}`);
        // every element as an apex too (document subsets keep their inherited namespaces)
        const root = doc.documentElement!;
        canonicalize(root, m);
        assert.ok(performance.now() - t0 < 2000);
      }
    }), { numRuns: 300 });
  });

  it('differential: random documents signed by kyso with every canonicalization are accepted by xmlsec1', async () => {
    const samples = fc.sample(tree, { numRuns: 24, seed: 15 });
    const names = ['c14n', 'c14n-with-comments', 'c14n11', 'c14n11-with-comments', 'exc-c14n', 'exc-c14n-with-comments'];
    for (let i = 0; i < samples.length; i++) {
      const xml = `<?xml version="1.0"?>\n<!--head-->${render(samples[i]!, new Set())}`;
      const c14n = names[i % names.length]!;
      const out = await signXml(xml, { backend: rsa, c14n, level: 'XMLDSIG' });
      const x = xmlsecVerify(out, pki.rootPath);
      assert.ok(x.ok, `${c14n}: ${xml}\n${x.out}`);
    }
  });

  it('differential, document subsets: a random element signed by ID inside a context with inherited namespaces and xml:* attributes', async () => {
    const samples = fc.sample(tree, { numRuns: 18, seed: 1515 });
    const names = ['c14n', 'c14n-with-comments', 'c14n11', 'c14n11-with-comments', 'exc-c14n', 'exc-c14n-with-comments'];
    for (let i = 0; i < samples.length; i++) {
      const xml = `<?xml version="1.0"?>\n<outer xmlns="urn:outer" xmlns:z="urn:z" xmlns:p="urn:p-outer" xml:lang="vi" xml:space="preserve" z:a="1"><inner Id="t">${render(samples[i]!, new Set(['p']))}</inner><z:other/></outer>`;
      const c14n = names[i % names.length]!;
      const out = await signXml(xml, { backend: rsa, c14n, level: 'XMLDSIG', references: [{ id: 't' }] });
      const x = xmlsecVerify(out, pki.rootPath, { idAttrs: ['urn:outer:inner'] });
      assert.ok(x.ok, `${c14n}: ${xml}\n${x.out}`);
      const r = await verifyXml(out, { trustAnchors: [pki.rootPem], revocationRequired: false });
      assert.equal(r.documentIndication, 'TOTAL_PASSED', r.signatures[0]!.message);
    }
  });

  it('random bytes and XML-like strings: the verifier never throws and answers within 2 s', async () => {
    const xmlish = fc.string({ unit: fc.constantFrom('<', '>', '/', '!', '?', '-', '[', ']', '"', '=', 'a', 'ds:', ' ', '&', ';', '#', 'x', 'DOCTYPE', 'CDATA', 'Signature', 'xmlns'), maxLength: 200 });
    await fc.assert(fc.asyncProperty(fc.oneof(xmlish, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'))), async (s) => {
      const { r, ms } = await timed(s);
      assert.ok(['TOTAL_PASSED', 'INDETERMINATE', 'TOTAL_FAILED'].includes(r.documentIndication));
      assert.ok(ms < 2000, `${ms} ms`);
    }), { numRuns: 300 });
  });

  it('mutations of a signed document: never throws, within 2 s, and a changed signed text is never TOTAL_PASSED', async () => {
    const signed = Buffer.from(await signXml('<?xml version="1.0"?>\n<r xmlns="urn:r"><amount Id="a1">100</amount><to>Hà Nội</to></r>', { backend: rsa }));
    const policy: Policy = { trustAnchors: [pki.rootPem], revocationRequired: false };
    const bodyEnd = signed.indexOf(Buffer.from('<ds:Signature'));
    await fc.assert(fc.asyncProperty(fc.nat({ max: signed.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete'), async (pos, byte, op) => {
      const m = op === 'flip' ? Buffer.from(signed) : op === 'insert' ? Buffer.concat([signed.subarray(0, pos), Buffer.from([byte]), signed.subarray(pos)]) : Buffer.concat([signed.subarray(0, pos), signed.subarray(pos + 1)]);
      if (op === 'flip') m[pos] = byte;
      if (m.equals(signed)) return;
      const { r, ms } = await timed(m, policy);
      assert.ok(ms < 2000);
      const textChanged = pos > signed.indexOf(Buffer.from('>100<')) && pos < bodyEnd - 6 && op !== 'insert';
      if (textChanged && /[A-Za-zà-ỹ0-9]/.test(String.fromCharCode(signed[pos]!))) assert.notEqual(r.documentIndication, 'TOTAL_PASSED', `${op} at ${pos}`);
    }), { numRuns: 300 });
  });

  it('large base64 runs set aside by the parser come back exactly (line ends normalized, comments, CDATA, forged placeholders)', () => {
    const run = 'QUJD' .repeat(30_000) + '\r\n' + 'REVG'.repeat(20_000);
    const doc = parseXml(`<r><a>${run}</a><!--${run}--><b><![CDATA[${run}]]></b><c>kyso000000000000000000000000_0_</c><d>x>${run}<y/></d></r>`);
    const norm = run.replace('\r\n', '\n');
    const root = doc.documentElement!;
    const kids = Array.from({ length: root.childNodes.length }, (_, i) => root.childNodes.item(i)!);
    assert.equal(kids[0]!.textContent, norm);
    assert.equal((kids[1] as unknown as { data: string }).data, norm);
    assert.equal(kids[2]!.textContent, norm);
    assert.equal(kids[3]!.textContent, 'kyso000000000000000000000000_0_');
    assert.equal(kids[4]!.textContent, 'x>' + norm);
    assert.equal(canonicalize(doc, c14nMethod(C14N.c14n10Comments)!), `<r><a>${norm}</a><!--${norm}--><b>${norm}</b><c>kyso000000000000000000000000_0_</c><d>x&gt;${norm}<y></y></d></r>`);
    assert.throws(() => parseXml(`<r a="${run}<">x</r>`), (e: unknown) => e instanceof XmlError && e.code === 'XML_MALFORMED');
  });

  it('parse errors are typed XmlError with a code', () => {
    assert.throws(() => parseXml('<a>'), (e: unknown) => e instanceof XmlError && e.code === 'XML_MALFORMED');
  });
});
