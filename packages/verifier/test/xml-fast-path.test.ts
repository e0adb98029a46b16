/**
 * The report-only fast path of XML verification (verifyXml: one enveloped whole-document signature digested in one
 * streaming pass, no tree of the document) must give exactly the report of the full path (verifyXmlSigned), and
 * must step aside (fall back to the full path) whenever its preconditions do not hold: wrapping, duplicate IDs,
 * several signatures, hostile XML. Every case here runs the same bytes through both paths.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Base64Digester, buildEdxml, C14N, c14nMethod, c14nOctets, descendants, loadPemFiles, NS, parseXml, signEdxml, signXml, type KeyBackend } from '@kyso/signer';
import { verifyXml, verifyXmlSigned, type Policy } from '@kyso/verifier';
import { bytesSource, fastEdxml, fastWholeDocument } from '../src/formats/xml/fast-path.js';
import { localPki } from '../../signer/test/crypto-testpki.js';
import { xmlsecSign, xmlsecVerify } from '../../signer/test/xades-helpers.js';

const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Both paths on the same bytes: the reports must be identical. Returns the (fast) report and whether the fast path answered. */
async function bothPaths(bytes: Uint8Array, policy: Policy): Promise<{ report: Awaited<ReturnType<typeof verifyXml>>; fast: boolean }> {
  const fastReport = await verifyXml(bytes, policy);
  const full = await verifyXmlSigned(bytes, policy);
  assert.deepEqual(fastReport, full.report, 'the fast path and the full path disagree');
  // and from a file (read piece by piece, as `kyso verify FILE.xml` does)
  const dir = mkdtempSync(join(tmpdir(), 'kyso-fast-'));
  try {
    const f = join(dir, 'input.xml');
    writeFileSync(f, bytes);
    assert.deepEqual(await verifyXml(f, policy), full.report, 'the fast path on a file and the full path disagree');
  } finally { rmSync(dir, { recursive: true, force: true }); }
  return { report: fastReport, fast: fastWholeDocument(bytesSource(bytes)) !== undefined };
}

/** Documents with what canonicalization must get right. */
const DOCS: Record<string, string> = {
  'namespaces, prefixes, default namespace undeclared':
    '<?xml version="1.0" encoding="UTF-8"?>\n<r xmlns="urn:a" xmlns:b="urn:b" xmlns:unused="urn:u"><b:x b:attr="1" attr="2"><y xmlns=""><z xmlns="urn:c"/></y></b:x><b:q xmlns:b="urn:b2"/></r>\n',
  'comments, CDATA, text needing escapes, whitespace':
    '<!-- before -->\n<doc>\n  <!-- inside --><t>a &lt; b &amp;&amp; c &gt; d</t>\n\t<c><![CDATA[<not markup> & ]]></c>   \n  <e>&#x41;&#66;&quot;&apos;</e>\n</doc>\n<!-- after -->\n',
  'attributes needing c14n escaping and ordering':
    '<doc xmlns:p="urn:p" xmlns:a="urn:a"><e z="1" a="&quot;q&quot; &amp; &lt;" p:k="v&#9;tab&#10;nl" a:k="w" b="\'apos\'"/></doc>',
  'xml:* attributes inherited (c14n 1.0 / 1.1 differ)':
    '<doc xml:lang="vi" xml:space="preserve" xml:base="http://example.org/a/"><sec xml:id="s1" xml:lang="en"><p>Xin chào thế giới</p></sec></doc>',
  'non-ASCII text and names of every kind of content':
    '<hồ_sơ xmlns="urn:vn"><tên>Nguyễn Văn A</tên><địa_chỉ loại="nhà">Số 1 phố Huế, Hà Nội &amp; quận 2</địa_chỉ><e/><f></f></hồ_sơ>',
  'a self-closing document element':
    '<doc xmlns="urn:d" a="1"/>',
};
const METHODS = ['c14n', 'c14n11', 'exc-c14n', 'c14n-with-comments', 'exc-c14n-with-comments'];

describe('XML verification fast path (report only) = full path', function () {
  this.timeout(120_000);
  const pki = localPki();
  const at = new Date();
  const policy: Policy = { trustAnchors: [pki.rootPem], revocationRequired: false, offline: true, validationTime: at };
  let rsa: KeyBackend;
  before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); });

  for (const [name, doc] of Object.entries(DOCS)) {
    it(`${name}: kyso-signed with every canonicalization, fast = full, and the streamed digest is the tree's`, async () => {
      for (const c14n of METHODS) {
        for (const level of ['XMLDSIG', 'B-B'] as const) {
          const signed = await signXml(enc(doc), { backend: rsa, c14n, level });
          const fast = fastWholeDocument(bytesSource(signed));
          // names outside ASCII make the fast scanner step aside: then the fast path must not answer at all
          if (/<\/?[^\s>/]*[^\x00-\x7f]/.test(doc)) { assert.equal(fast, undefined); continue; }
          assert.ok(fast, `${c14n} ${level}: the fast path should take this document`);
          // the streamed whole-document digest is the digest of the tree's canonical form without the signature
          const tree = parseXml(signed);
          const sig = [...descendants(tree)].find((e) => e.namespaceURI === NS.ds && e.localName === 'Signature')!;
          const algs = [...descendants(fast.whole.ref)].filter((e) => e.localName === 'Transform').map((e) => e.getAttribute('Algorithm')!);
          assert.equal(algs[0], 'http://www.w3.org/2000/09/xmldsig#enveloped-signature');
          const m = c14nMethod(algs[1] ?? C14N.c14n10)!;
          const octets = c14nOctets(tree, m, { comments: false, exclude: sig });
          assert.equal(fast.whole.size, octets.length);
          assert.deepEqual(Buffer.from(fast.whole.digest), createHash('sha256').update(octets).digest());
          const { report } = await bothPaths(signed, policy);
          assert.equal(report.documentIndication, 'TOTAL_PASSED', report.signatures[0]?.message);
          // a changed content (an element added before the signature) fails the same way in both
          const text = Buffer.from(signed).toString('utf8');
          const bad = await bothPaths(enc(text.replace('<ds:Signature', '<X/><ds:Signature')), policy);
          assert.equal(bad.fast, true);
          assert.equal(bad.report.signatures[0]!.subIndication, 'HASH_FAILURE');
        }
      }
    });
  }

  it('a 3 MB document of 40,000 elements (read in 1 MiB pieces): fast = full, intact and tampered', async () => {
    const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<records xmlns="urn:kyso:bench" xmlns:v="urn:kyso:v">\n'];
    for (let i = 0; i < 25_000; i++) parts.push(`<rec n="${i}"><v:name>Nguyễn Văn ${i}</v:name><v:addr kind="home">Số ${i} phố Huế &amp; quận ${i % 12}</v:addr><!-- ${i} --><v:x/>😀</rec>\n`);
    parts.push('</records>\n');
    const signed = await signXml(enc(parts.join('')), { backend: rsa });
    assert.ok(signed.length > 2_000_000);
    assert.ok(fastWholeDocument(bytesSource(signed)));
    assert.equal((await bothPaths(signed, policy)).report.documentIndication, 'TOTAL_PASSED');
    const text = Buffer.from(signed).toString('utf8');
    const bad = enc(text.replace('Nguyễn Văn 7777<', 'Nguyễn Văn 7778<'));
    assert.equal((await bothPaths(bad, policy)).report.signatures[0]!.subIndication, 'HASH_FAILURE');
  });

  it('xmlsec1-made enveloped signatures (c14n, exc-c14n with comments): fast = full, and a tampered byte fails in both and in xmlsec1', async () => {
    for (const c of ['http://www.w3.org/TR/2001/REC-xml-c14n-20010315', 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments']) {
      const t = `<?xml version="1.0"?>\n<doc xmlns="urn:doc" xmlns:x="urn:x"><a x:n="1">Xin chào <!-- c --> &amp; thế giới</a>\n<b/><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="${c}"/>`
        + `<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="${c}"/></Transforms>`
        + `<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></doc>\n`;
      const signed = xmlsecSign(t, pki.leaves.rsa.keyPath, pki.leaves.rsa.certPath);
      const { report, fast } = await bothPaths(enc(signed), policy);
      assert.ok(fast);
      assert.equal(report.documentIndication, 'TOTAL_PASSED', report.signatures[0]?.message);
      const bad = signed.replace('<b/>', '<b></b><b/>');
      assert.equal(xmlsecVerify(bad, pki.rootPath).ok, false);
      assert.equal((await bothPaths(enc(bad), policy)).report.signatures[0]!.subIndication, 'HASH_FAILURE');
    }
  });

  it('edXML messages: the report-only check of the attachments (digests reused from the references) = the full path, on intact and tampered messages', async () => {
    const att = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) % 256));
    const msg = buildEdxml({ from: { organId: 'H01' }, to: [{ organId: 'H02' }], subject: 'fast path', attachments: [{ name: 'a.pdf', data: att(3000, 1), contentType: 'application/pdf' }, { name: 'b.txt', data: att(100, 2), contentType: 'text/plain' }] });
    const signed = Buffer.from(await signEdxml(msg, { backend: rsa })).toString();
    const b64 = /<ContentTransferEncoded[^>]*>([^<]*)</.exec(signed)!;
    const at = b64.index + b64[0].length - b64[1]!.length - 1;
    const end = signed.indexOf('</ContentTransferEncoded>', at);
    const wholeSigned = Buffer.from(await signXml(enc(msg), { backend: rsa })).toString();
    const variants: [string, string, string | null, boolean][] = [
      // [name, message, expected signature sub-indication (null: TOTAL_PASSED), edXML fast path answers]
      ['intact', signed, null, true],
      ['a changed attachment character', signed.slice(0, at + 10) + (signed[at + 10] === 'A' ? 'B' : 'A') + signed.slice(at + 11), 'HASH_FAILURE', true],
      // not strict base64: refused as xmlsec1 refuses it ("invalid data"), never decoded leniently
      ['a character outside base64 in an attachment (lenient decoders skip it)', signed.slice(0, at + 10) + '*' + signed.slice(at + 10), 'FORMAT_FAILURE', false],
      ['line breaks added inside an attachment (still strict base64)', signed.slice(0, at + 8) + '\n' + signed.slice(at + 8, at + 16) + '\n \t' + signed.slice(at + 16), null, true],
      // ContentTransferEncoded is text only (edXML profile: anything else is content beside the signed data)
      ['a comment inside an attachment', signed.slice(0, at + 8) + '<!-- x -->' + signed.slice(at + 8), 'SIGNED_DATA_NOT_FOUND', false],
      ['a CDATA section inside an attachment', signed.slice(0, at + 8) + '<![CDATA[' + signed.slice(at + 8, at + 12) + ']]>' + signed.slice(at + 12), null, false],
      ['padding in the middle of an attachment', signed.slice(0, at + 8) + '==' + signed.slice(at + 8), 'FORMAT_FAILURE', false],
      ['an empty element inside an attachment (the digests still match, but the element is not text)', signed.slice(0, end) + '<x/>' + signed.slice(end), 'SIGNED_DATA_NOT_FOUND', false],
      ['an attachment removed', signed.replace(/<Attachment>(?:(?!<\/Attachment>)[\s\S])*<\/Attachment>/, ''), 'SIGNED_DATA_NOT_FOUND', true],
      ['the message signed as a whole (URI="", not the edXML profile): the attachments are read through the document', wholeSigned, 'SIGNED_DATA_NOT_FOUND', false],
    ];
    for (const [name, text, expected, fastEdx] of variants) {
      assert.equal(fastEdxml(bytesSource(enc(text))) !== undefined, fastEdx, `${name}: edXML fast path`);
      const { report } = await bothPaths(enc(text), policy);
      if (expected === null) assert.equal(report.documentIndication, 'TOTAL_PASSED', `${name}: ${report.signatures[0]?.message}`);
      else assert.ok(report.signatures.some((x) => x.subIndication === expected), `${name}: ${JSON.stringify(report.signatures.map((x) => x.message))}`);
    }
  });

  it('Base64Digester (attachments digested piece by piece) = Node\'s decoder on the whole text, for strict base64 cut anywhere', () => {
    for (let n = 0; n < 300; n++) {
      const raw = Buffer.from(Array.from({ length: n * 7 % 200 }, (_, i) => (i * 131 + n) % 256));
      let b64 = raw.toString('base64');
      if (n % 3 === 0) b64 = b64.replace(/=+$/, ''); // unpadded
      if (n % 5 === 0) b64 = b64.replace(/(.{7})/g, '$1\n  ');
      const cut = [n % 11 + 1, n % 3 + 1];
      const d = new Base64Digester(['SHA-256']);
      for (let p = 0, k = 0; p < b64.length; p += cut[k++ % 2]!) assert.ok(d.push(b64.slice(p, p + cut[k % 2]!)) || true);
      const r = d.end()!;
      const whole = Buffer.from(b64, 'base64');
      assert.equal(r.size, whole.length, `${n}`);
      assert.deepEqual(Buffer.from(r.digests.get('SHA-256')!), createHash('sha256').update(whole).digest(), `${n}`);
    }
    const big = Buffer.alloc(300_000, 7).toString('base64');
    const d = new Base64Digester(['SHA-256', 'SHA-512']);
    for (let p = 0; p < big.length; p += 4097) assert.ok(d.push(big.slice(p, p + 4097)));
    assert.deepEqual(Buffer.from(d.end()!.digests.get('SHA-512')!), createHash('sha512').update(Buffer.from(big, 'base64')).digest());
    // refused by a push or at the end (a character outside the alphabet is found when its chunk is decoded), and
    // wherever it lies in a large text (the chunks decoded along the way)
    const filler = 'QUJD'.repeat(40_000);
    // (U+0141 and U+012B: Node's decoder reads a UTF-16 code unit by its low byte, 'A' and '+': a count of decoded
    // bytes would take 'QU\u0141D' for 'QUAD'; the re-encoding check does not)
    for (const bad of ['AB*C', 'AB=C', 'A===', 'QQ==QQ', 'AB-_', 'AB\rC', 'ABC\u00e9', 'AB\u0000C', 'QU\u0141D', `${'QUJD'.repeat(20_000)}QU\u012bD`, `${filler}AB*C`, `AB*C${filler}`, `${filler.slice(0, 70_001)}.${filler}`]) {
      for (const step of [1, 3, 4096]) {
        const x = new Base64Digester(['SHA-256']);
        let ok = true;
        for (let p = 0; p < bad.length; p += step) ok = x.push(bad.slice(p, p + step)) && ok;
        assert.equal(ok && x.end() !== undefined, false, `${bad.slice(0, 20)}… by ${step}`);
      }
    }
    // not canonical but strict (non-zero trailing bits, no padding): accepted, digests as Node decodes
    for (const lax of ['QR==', 'QUI', 'QUJDRA']) { const x = new Base64Digester(['SHA-256']); assert.ok(x.push(lax)); assert.deepEqual(Buffer.from(x.end()!.digests.get('SHA-256')!), createHash('sha256').update(Buffer.from(lax, 'base64')).digest(), lax); }
  });

  describe('attacks and hostile input: the fast path steps aside (or agrees), the verdict is the full path\'s', () => {
    const DOC = '<?xml version="1.0"?>\n<orders xmlns="urn:o"><order Id="o1"><amount>100</amount></order><note>hello</note></orders>\n';
    const sign = async (): Promise<string> => Buffer.from(await signXml(enc(DOC), { backend: rsa })).toString();
    const spId = (s: string): string => /<xades:SignedProperties Id="([^"]+)"/.exec(s)![1]!;
    const cases: [string, (s: string) => string, boolean, string | null][] = [
      // [name, attack, fast path may still answer, expected signature sub-indication (null: TOTAL_PASSED)]
      ['untouched', (s) => s, true, null],
      ['tampered content', (s) => s.replace('<amount>100', '<amount>999'), true, 'HASH_FAILURE'],
      ['duplicate ID: a forged SignedProperties Id outside the signature', (s) => s.replace('<note>', `<x Id="${spId(s)}"/><note>`), false, 'HASH_FAILURE'],
      ['duplicate ID: two elements outside with the same Id', (s) => s.replace('<note>', '<a Id="d"/><a Id="d"/><note>'), false, 'HASH_FAILURE'],
      ['a second signature (copy of the first) before it', (s) => { const sig = s.slice(s.indexOf('<ds:Signature'), s.indexOf('</ds:Signature>') + 15); return s.replace('<note>', sig + '<note>'); }, false, 'FORMAT_FAILURE'], // the same signature value twice
      ['the signature wrapped in another element', (s) => s.replace('<ds:Signature', '<w><ds:Signature').replace('</ds:Signature>', '</ds:Signature></w>'), false, 'HASH_FAILURE'],
      ['a fake signature end tag in a comment after it', (s) => s.replace('</orders>', '<!-- </ds:Signature> --></orders>'), false, null],
      ['a fake signature in a comment before it', (s) => s.replace('<note>', '<!-- <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"> --><note>'), true, null],
      ['an element named like the signature before it (path)', (s) => s.replace('<note>', '<ds:Signature xmlns:ds="urn:not-dsig"/><note>'), false, 'HASH_FAILURE'],
      ['signed properties moved out of the signature', (s) => {
        const a = s.indexOf('<ds:Object>'), b = s.indexOf('</ds:Object>') + 12;
        const moved = s.slice(a, b).replace('<ds:Object>', '<moved xmlns:ds="http://www.w3.org/2000/09/xmldsig#">').replace('</ds:Object>', '</moved>');
        return s.slice(0, a) + s.slice(b).replace('</orders>', moved + '</orders>');
      }, false, 'HASH_FAILURE'],
      ['signed properties moved out, a copy left inside (duplicate ID)', (s) => {
        const a = s.indexOf('<ds:Object>'), b = s.indexOf('</ds:Object>') + 12;
        return s.replace('<note>', s.slice(a, b).replace('<ds:Object>', '<moved xmlns:ds="http://www.w3.org/2000/09/xmldsig#">').replace('</ds:Object>', '</moved>') + '<note>');
      }, false, 'HASH_FAILURE'],
      ['a signature nested in the signature (reported on its own by the full path)', (s) => s.replace('</ds:Signature>', '<ds:Object><ds:Signature Id="nested"/></ds:Object></ds:Signature>'), false, null],
      ['a processing instruction (the strict parser decides)', (s) => s.replace('<note>', '<?pi data?><note>'), false, 'HASH_FAILURE'],
      ['carriage returns', (s) => s.replace('<note>', '\r\n<note>'), false, 'HASH_FAILURE'],
      ['a DOCTYPE with an entity', (s) => s.replace('<orders', '<!DOCTYPE orders [<!ENTITY e "x">]><orders'), false, 'DOC:XML_DTD_FORBIDDEN'],
      ['nesting deeper than the limit', (s) => s.replace('<note>', '<d>'.repeat(300) + '</d>'.repeat(300) + '<note>'), false, 'DOC:XML_TOO_DEEP'],
      ['two document elements', (s) => s + '<orders/>', false, 'DOC:XML_MALFORMED'],
      ['truncated', (s) => s.slice(0, s.length - 5), false, 'DOC:XML_MALFORMED'],
    ];
    it('a signed document that already had duplicate IDs: signature valid, duplicate-ID finding; the fast path steps aside', async () => {
      const signed = await signXml(enc('<r><a Id="d">1</a><a Id="d">2</a></r>'), { backend: rsa });
      const { report, fast } = await bothPaths(signed, policy);
      assert.equal(fast, false);
      assert.equal(report.signatures[0]!.indication, 'TOTAL_PASSED');
      assert.ok(report.findings.some((f) => f.code === 'XML_DUPLICATE_ID'));
    });

    it('an element outside the signature carries the SignedProperties ID: ambiguous → SIGNED_DATA_NOT_FOUND; the fast path steps aside', async () => {
      const signed = await signXml(enc('<r><x Id="S1-signedprops">forged</x></r>'), { backend: rsa, id: 'S1' });
      const { report, fast } = await bothPaths(signed, policy);
      assert.equal(fast, false);
      assert.equal(report.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
    });

    it('two signatures (a second signer signed the signed document): each reported on its own; the fast path steps aside', async () => {
      const once = await signXml(enc(DOC), { backend: rsa });
      const twice = await signXml(once, { backend: rsa });
      const { report, fast } = await bothPaths(twice, policy);
      assert.equal(fast, false);
      assert.equal(report.signatures.length, 2);
      assert.equal(report.signatures[0]!.subIndication, 'HASH_FAILURE');
      assert.equal(report.signatures[1]!.indication, 'TOTAL_PASSED');
    });

    for (const [name, attack, mayBeFast, expected] of cases) {
      it(name, async () => {
        const evil = enc(attack(await sign()));
        const { report, fast } = await bothPaths(evil, policy);
        if (!mayBeFast) assert.equal(fast, false, 'the fast path must step aside');
        if (expected === null) assert.equal(report.signatures[0]?.indication, 'TOTAL_PASSED', report.signatures[0]?.message);
        else if (expected.startsWith('DOC:')) {
          assert.equal(report.documentSubIndication, 'FORMAT_FAILURE');
          assert.ok(report.findings.some((f) => f.code === expected.slice(4)), JSON.stringify(report.findings));
        } else assert.ok(report.signatures.some((s) => s.subIndication === expected), JSON.stringify(report.signatures.map((s) => [s.indication, s.subIndication, s.message])));
      });
    }
  });
});
