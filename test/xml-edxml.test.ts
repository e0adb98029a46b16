import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEdxml, buildEdxmlStatus, edxmlSignOptions, finalizeXml, loadPemFiles, parseXml, prepareXml, signEdxml, signEdxmlFile, EDXML_NS, type KeyBackend } from '@kyso/signer';
import { verifyXml, verifyXmlSigned, type ValidationReport } from '@kyso/verifier';
import { localPki } from '../packages/signer/test/crypto-testpki.js';
import { xmlsecVerify } from '../packages/signer/test/xades-helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KYSO = join(ROOT, 'packages/cli/bin/kyso.mjs');
function kyso(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [KYSO, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
const EDXML_IDS = [`${EDXML_NS}:edXMLEnvelope`, `${EDXML_NS}:ContentTransferEncoded`];

describe('edXML (QCVN 102:2016): build, sign, verify; kyso xml CLI and kyso verify FILE.xml', function () {
  this.timeout(120_000);
  const pki = localPki();
  let dir: string;
  let rsa: KeyBackend;
  const policy = () => ({ trustAnchors: [pki.rootPem], revocationRequired: false });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-edxml-'));
    rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const message = () => buildEdxml({
    from: { organId: '000.00.00.H01', organName: 'UBND tỉnh A' }, to: [{ organId: '000.00.00.H02', organName: 'Sở Nội vụ' }],
    subject: 'Về việc triển khai chữ ký số', code: { number: '123', notation: 'UBND-VP' }, documentId: 'doc-1',
    attachments: [{ name: 'quyet-dinh.pdf', data: Buffer.from('%PDF-1.7 test\n'.repeat(50)), contentType: 'application/pdf' }, { name: 'phu-luc.txt', data: Buffer.from('phụ lục') }],
  });

  it('the message has the explicit edXML: prefix inside the envelope and unprefixed AttachmentEncoded outside it', () => {
    const m = message();
    const doc = parseXml(m);
    const root = doc.documentElement!;
    assert.equal(root.localName, 'edXML');
    const kids = [...Array.from({ length: root.childNodes.length }, (_, i) => root.childNodes.item(i))].filter((n) => n!.nodeType === 1).map((n) => (n as unknown as { tagName: string }).tagName);
    assert.deepEqual(kids, ['edXML:edXMLEnvelope', 'AttachmentEncoded']);
    for (const tag of ['edXMLHeader', 'MessageHeader', 'From', 'To', 'Code', 'PromulgationInfo', 'DocumentType', 'Subject', 'SignerInfo', 'DocumentId', 'TraceHeaderList', 'edXMLBody', 'edXMLManifest']) assert.ok(m.includes(`<edXML:${tag}`), tag);
    assert.ok(!/<(?!edXML:|\/|\?|edXML |AttachmentEncoded|Attachment|ContentId|AttachmentName|ContentType|ContentTransferEncoded)[A-Za-z]/.test(m.slice(m.indexOf('<edXML:edXMLEnvelope'), m.indexOf('</edXML:edXMLEnvelope>'))), 'every element in the envelope is edXML:-prefixed');
  });

  it('signEdxml: xmlsec1 and kyso accept; the report lists the envelope and each attachment; the signed envelope is handed back', async () => {
    const signed = await signEdxml(message(), { backend: rsa });
    const text = Buffer.from(signed).toString();
    assert.ok(/<edXML:TraceHeaderList>.*<ds:Signature/s.test(text) && text.indexOf('<ds:Signature') < text.indexOf('</edXML:edXMLHeader>'), 'signature in the header');
    const x = xmlsecVerify(signed, pki.rootPath, { idAttrs: EDXML_IDS });
    assert.ok(x.ok, x.out);
    const v = await verifyXmlSigned(signed, policy());
    const s = v.report.signatures[0]!;
    assert.equal(v.report.documentIndication, 'TOTAL_PASSED', s.message);
    assert.equal(s.coverage.xml!.references.filter((r) => r.target === 'element').length, 3);
    assert.ok(s.checks.some((c) => c.check === 'edxml-profile' && c.status === 'passed'));
    assert.equal(v.edxml![0]!.subject, 'Về việc triển khai chữ ký số');
    assert.deepEqual(v.edxml![0]!.attachments.map((a) => a.digestOk), [true, true]);
  });

  it('tampering: a changed attachment fails (both), an added unsigned attachment is SIGNED_DATA_NOT_FOUND, a changed header fails', async () => {
    const text = Buffer.from(await signEdxml(message(), { backend: rsa })).toString();
    const att = text.replace(/(<ContentTransferEncoded Id="attachment-1">)(....)/, (_m, a: string, b: string) => a + (b === 'JVBE' ? 'JVBF' : 'JVBE'));
    assert.equal(xmlsecVerify(att, pki.rootPath, { idAttrs: EDXML_IDS }).ok, false);
    assert.equal((await verifyXml(Buffer.from(att), policy())).signatures[0]!.subIndication, 'HASH_FAILURE');
    const extra = text.replace('</AttachmentEncoded>', `<Attachment><ContentId>cid:99</ContentId><ContentTransferEncoded>${Buffer.from('evil').toString('base64')}</ContentTransferEncoded></Attachment></AttachmentEncoded>`);
    const r = await verifyXml(Buffer.from(extra), policy());
    assert.equal(r.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
    const subj = text.replace('triển khai', 'huỷ bỏ');
    assert.equal((await verifyXml(Buffer.from(subj), policy())).signatures[0]!.subIndication, 'HASH_FAILURE');
    // a second envelope with the same Id placed first (wrapping) → refused
    const dup = text.replace('<edXML:edXMLEnvelope Id="edXMLEnvelope">', '<edXML:edXMLEnvelope Id="edXMLEnvelope"></edXML:edXMLEnvelope><edXML:edXMLEnvelope Id="edXMLEnvelope">');
    assert.notEqual((await verifyXml(Buffer.from(dup), policy())).documentIndication, 'TOTAL_PASSED');
  });

  it('the signer refuses a message whose structure the verifier would refuse (nothing signed that kyso then reports invalid)', async () => {
    const m = Buffer.from(message()).toString();
    const bad: [string, string][] = [
      ['a second AttachmentEncoded', m.replace(/<\/edXML>\s*$/, '<AttachmentEncoded xmlns="' + EDXML_NS + '"/></edXML>\n')],
      ['an unexpected element in the root', m.replace(/<\/edXML>\s*$/, '<Extra xmlns="urn:x"/></edXML>\n')],
      ['two ContentTransferEncoded in one Attachment', m.replace('</Attachment>', '<ContentTransferEncoded Id="evil">ZXZpbA==</ContentTransferEncoded></Attachment>')],
      ['an unknown Attachment field', m.replace('</Attachment>', '<Description>x</Description></Attachment>')],
      ['markup inside ContentTransferEncoded', m.replace('</ContentTransferEncoded>', '<b/></ContentTransferEncoded>')],
    ];
    for (const [name, text] of bad) {
      assert.notEqual(text, m, name);
      await assert.rejects(signEdxml(text, { backend: rsa }), (e: { code?: string; message?: string }) => e.code === 'XML_INPUT' && /edXML/.test(e.message ?? ''), name);
      const f = join(dir, 'bad.xml');
      writeFileSync(f, text);
      await assert.rejects(signEdxmlFile(f, join(dir, 'bad-signed.xml'), { backend: rsa }), (e: { code?: string }) => e.code === 'XML_INPUT', `${name} (file)`);
    }
    // the well-formed message still signs and verifies
    const ok = await verifyXml(await signEdxml(m, { backend: rsa }), policy());
    assert.equal(ok.documentIndication, 'TOTAL_PASSED');
  });

  it('two-step edXML (remote / HSM): prepareXml with edxmlSignOptions, digest signed elsewhere, finalizeXml', async () => {
    const m = message();
    const prepared = prepareXml(m, { certificate: rsa.certificate, ...edxmlSignOptions(m) });
    const value = await rsa.sign({ digest: prepared.digestToSign }, prepared.signatureAlgorithm);
    const out = await finalizeXml(JSON.stringify(prepared.state), value);
    assert.ok(xmlsecVerify(out, pki.rootPath, { idAttrs: EDXML_IDS }).ok);
    const r = await verifyXml(out, policy());
    assert.equal(r.documentIndication, 'TOTAL_PASSED', r.signatures[0]!.message);
    assert.ok(r.signatures[0]!.checks.some((c) => c.check === 'edxml-profile' && c.status === 'passed'));
  });

  it('status message: built, signed, verified', async () => {
    const st = buildEdxmlStatus({ from: { organId: '000.00.00.H02' }, responseFor: { organId: '000.00.00.H01', documentId: 'doc-1' }, statusCode: '03', description: 'Đã tiếp nhận' });
    assert.match(st, /<edXML:Status>.*<edXML:StatusCode>03<\/edXML:StatusCode>/s);
    const signed = await signEdxml(st, { backend: rsa });
    assert.ok(xmlsecVerify(signed, pki.rootPath, { idAttrs: EDXML_IDS }).ok);
    assert.equal((await verifyXml(signed, policy())).documentIndication, 'TOTAL_PASSED');
  });

  it('CLI: kyso xml edxml → kyso xml sign → kyso verify MSG.xml --json (same JSON shape as PDFs); usage errors exit 2', async () => {
    const a1 = join(dir, 'to-trinh.pdf');
    writeFileSync(a1, Buffer.from('%PDF-1.4 attachment\n'.repeat(100)));
    const msg = join(dir, 'msg.xml');
    const signed = join(dir, 'msg.signed.xml');
    let r = await kyso(['xml', 'edxml', '--from', 'H01', '--to', 'H02', '--subject', 'Tờ trình', '--attach', a1, '-o', msg]);
    assert.equal(r.code, 0, r.stderr);
    r = await kyso(['xml', 'sign', msg, '-o', signed, '--key', pki.leaves.ec256.keyPath, '--cert', pki.leaves.ec256.certPath]);
    assert.equal(r.code, 0, r.stderr);
    r = await kyso(['verify', signed, '--trust', pki.rootPath, '--no-revocation', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rep = JSON.parse(r.stdout) as ValidationReport;
    assert.equal(rep.format, 'XML');
    assert.equal(rep.documentIndication, 'TOTAL_PASSED');
    assert.equal(rep.signatures[0]!.level, 'XAdES-BASELINE-B');
    // plain XML, enveloping and detached through the CLI
    const plain = join(dir, 'plain.xml');
    writeFileSync(plain, '<?xml version="1.0"?>\n<a xmlns="urn:a"><b>1</b></a>\n');
    for (const extra of [[], ['--enveloping'], ['--detached', a1]]) {
      const out = join(dir, `plain-${extra.length}.xml`);
      r = await kyso(['xml', 'sign', extra[0] === '--detached' ? '-' : plain, '-o', out, '--p12', pki.leaves.rsa.p12Path, '--password-env', 'KYSO_TEST_P12', '--level', 'XMLDSIG', ...extra], { KYSO_TEST_P12: pki.password });
      assert.equal(r.code, 0, r.stderr);
      r = await kyso(['verify', out, '--trust', pki.rootPath, '--no-revocation', ...(extra[0] === '--detached' ? ['--data', a1] : [])]);
      assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.ok(xmlsecVerify(readFileSync(out), pki.rootPath, { detached: extra[0] === '--detached' ? { 'to-trinh.pdf': readFileSync(a1) } : {} }).ok);
    }
    // co-signing through the CLI: two agencies, both signatures valid
    const co1 = join(dir, 'co1.xml'), co2 = join(dir, 'co2.xml');
    r = await kyso(['xml', 'sign', plain, '-o', co1, '--key', pki.leaves.rsa.keyPath, '--cert', pki.leaves.rsa.certPath, '--allow-further-signatures']);
    assert.equal(r.code, 0, r.stderr);
    r = await kyso(['xml', 'sign', co1, '-o', co2, '--key', pki.leaves.ec256.keyPath, '--cert', pki.leaves.ec256.certPath, '--allow-further-signatures']);
    assert.equal(r.code, 0, r.stderr);
    r = await kyso(['verify', co2, '--trust', pki.rootPath, '--no-revocation', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as ValidationReport).signatures.length, 2);
    r = await kyso(['xml', 'sign', plain, '-o', join(dir, 'x.xml'), '--key', pki.leaves.rsa.keyPath, '--cert', pki.leaves.rsa.certPath, '--level', 'B-T']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --tsa/);
    r = await kyso(['xml', 'sign', plain, '-o', join(dir, 'x.xml'), '--password', 'x']);
    assert.equal(r.code, 2);
    r = await kyso(['xml', 'edxml', '--from', 'H01', '--subject', 's', '-o', join(dir, 'y.xml')]);
    assert.equal(r.code, 2);
    // a hostile XML file is a FORMAT_FAILURE report, exit 1
    const evil = join(dir, 'evil.xml');
    writeFileSync(evil, '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>');
    r = await kyso(['verify', evil, '--json']);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as ValidationReport).documentSubIndication, 'FORMAT_FAILURE');
  });
});
