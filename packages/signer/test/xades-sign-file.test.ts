/**
 * signXmlFile (what `kyso xml sign` runs): a whole-document enveloped signature made while the file streams by,
 * the output written as the input's own bytes around the signature. It must produce exactly the bytes signXml
 * produces for the same input and options (RSA PKCS#1 v1.5 is deterministic), on every kind of document, and fall
 * back to signXml whenever the streaming path does not apply; errors must be the same, and no partial output left.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEdxml, loadPemFiles, signEdxml, signEdxmlFile, signXml, signXmlFile, type KeyBackend, type SignXmlOptions } from '@kyso/signer';
import { localPki } from './crypto-testpki.js';
import { xmlsecVerify } from './xades-helpers.js';

const DOCS: Record<string, string | Buffer> = {
  'declaration, namespaces, comments after the root': '<?xml version="1.0" encoding="UTF-8"?>\n<r xmlns="urn:a" xmlns:b="urn:b"><b:x b:k="1">t &amp; u</b:x><!-- c --></r>\n<!-- after -->\n',
  'a byte order mark': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<r><a>bom</a></r>')]),
  'a self-closing document element': '<doc xmlns="urn:d" a="1"/>',
  'self-closing with whitespace and trailing text': '<doc   a="1"   />\n\n',
  'non-ASCII content and names in text': '<hs xmlns="urn:vn"><t>Nguyễn Văn A — ký số ✓ 😀</t><a k="nhà">Số 1 &#233;</a></hs>',
  'CDATA and xml:* attributes': '<doc xml:lang="vi"><c><![CDATA[<x> & ]]></c><p xml:space="preserve">  a  </p></doc>',
  // the streaming path declines these: the in-memory path signs them
  'carriage returns (in-memory path)': '<r>\r\n<a>1</a>\r\n</r>\r\n',
  'a processing instruction (in-memory path)': '<r><?pi data?><a/></r>',
  'non-ASCII element names (in-memory path)': '<hồ_sơ><tên>A</tên></hồ_sơ>',
};

describe('signXmlFile: streamed whole-document signing = signXml, byte for byte', function () {
  this.timeout(60_000);
  const pki = localPki();
  let rsa: KeyBackend;
  let dir: string;
  before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); dir = mkdtempSync(join(tmpdir(), 'kyso-signfile-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const signingTime = new Date('2026-01-02T03:04:05Z');

  async function same(input: string | Buffer, extra: Partial<SignXmlOptions> = {}): Promise<Buffer> {
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
    const opts: SignXmlOptions = { backend: rsa, id: 'S1', signingTime, ...extra };
    const expected = Buffer.from(await signXml(new Uint8Array(bytes), opts));
    const inPath = join(dir, 'in.xml'), outPath = join(dir, 'out.xml');
    writeFileSync(inPath, bytes);
    await signXmlFile(inPath, outPath, opts);
    const got = readFileSync(outPath);
    assert.ok(got.equals(expected), `streamed output differs:\n${got.toString().slice(0, 400)}\n---\n${expected.toString().slice(0, 400)}`);
    // in place (the output replaces the input)
    await signXmlFile(inPath, inPath, opts);
    assert.ok(readFileSync(inPath).equals(expected), 'in-place output differs');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    return got;
  }

  for (const [name, doc] of Object.entries(DOCS)) {
    it(name, async () => {
      for (const level of ['XMLDSIG', 'B-B'] as const) for (const c14n of ['exc-c14n', 'c14n', 'c14n11-with-comments']) await same(doc, { level, c14n });
    });
  }

  it('a 3 MB document (several 1 MiB pieces) is the same, and xmlsec1 accepts it', async () => {
    const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<records xmlns="urn:kyso:bench" xmlns:v="urn:kyso:v">\n'];
    for (let i = 0; i < 25_000; i++) parts.push(`<rec n="${i}"><v:name>Nguyễn Văn ${i}</v:name><v:addr kind="home">Số ${i} phố Huế &amp; quận ${i % 12}</v:addr><!-- ${i} --></rec>\n`);
    parts.push('</records>\n');
    const out = await same(parts.join(''));
    assert.ok(out.length > 2_000_000);
    assert.equal(xmlsecVerify(out, pki.rootPath).ok, true);
  });

  it('other modes and references by ID take the in-memory path, same bytes', async () => {
    await same('<r><a Id="x">1</a></r>', { references: [{ id: 'x' }] });
    await same('<r><a>1</a></r>', { mode: 'enveloping' });
    await same('<r><a>1</a></r>', { allowFurtherSignatures: true });
  });

  it('edXML messages: signEdxmlFile (attachments digested as they stream by) = signEdxml, byte for byte', async () => {
    const att = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) % 256));
    const msg = Buffer.from(buildEdxml({ from: { organId: 'H01' }, to: [{ organId: 'H02' }], subject: 'Văn bản ký số', attachments: [{ name: 'a.pdf', data: att(200_000, 1), contentType: 'application/pdf' }, { name: 'b.txt', data: att(10, 2), contentType: 'text/plain' }, { name: 'c.bin', data: att(1, 3), contentType: 'application/octet-stream' }] }));
    const text = msg.toString('utf8');
    const b64at = text.indexOf('>', text.indexOf('<ContentTransferEncoded')) + 1;
    const variants: [string, Buffer][] = [
      ['as built', msg],
      ['line breaks in an attachment', Buffer.from(text.slice(0, b64at + 8) + '\n  ' + text.slice(b64at + 8, b64at + 80) + '\n' + text.slice(b64at + 80))],
      ['a character outside base64 in an attachment (in-memory path)', Buffer.from(text.slice(0, b64at + 8) + '*' + text.slice(b64at + 8))],
    ];
    for (const [name, m] of variants) {
      for (const extra of [{}, { allowFurtherSignatures: true }, { level: 'XMLDSIG' as const, c14n: 'c14n11' }]) {
        const opts = { backend: rsa, id: 'S1', signingTime, ...extra };
        const expected = Buffer.from(await signEdxml(new Uint8Array(m), opts));
        const inPath = join(dir, 'msg.xml'), outPath = join(dir, 'msg-signed.xml');
        writeFileSync(inPath, m);
        await signEdxmlFile(inPath, outPath, opts);
        assert.ok(readFileSync(outPath).equals(expected), `${name} ${JSON.stringify(extra)}: streamed output differs`);
        await signEdxmlFile(inPath, inPath, opts);
        assert.ok(readFileSync(inPath).equals(expected), `${name}: in place`);
      }
    }
  });

  it('errors are those of signXml, and nothing is written', async () => {
    for (const [doc, extra] of [['<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', {}], ['<r><a Id="S1"/></r>', {}], ['<r><a></r>', {}], ['<r/>', { limits: { maxBytes: 3 } }]] as const) {
      const inPath = join(dir, 'bad.xml'), outPath = join(dir, 'bad-out.xml');
      writeFileSync(inPath, doc);
      const opts: SignXmlOptions = { backend: rsa, id: 'S1', signingTime, ...extra };
      const expected = await signXml(Buffer.from(doc), opts).then(() => 'ok', (e: Error & { code?: string }) => e.code);
      const got = await signXmlFile(inPath, outPath, opts).then(() => 'ok', (e: Error & { code?: string }) => e.code);
      assert.notEqual(expected, 'ok', doc);
      assert.equal(got, expected, doc);
      assert.equal(existsSync(outPath), false);
      assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    }
  });
});
