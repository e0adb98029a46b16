/**
 * The edXML profile check enforces the message structure (review 15, MEDIUM): content outside the signed envelope
 * that a consumer could read instead of, or besides, the signed content makes the edXML check fail and the
 * signature not TOTAL_PASSED, on the report-only path (bytes and file, the streaming edXML fast path) and the full
 * path alike; legitimate messages still pass on all of them. Each attack message is built with kyso's own builder
 * and signer, then modified as the reviewer's repro (f5_*.xml) does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEdxml, buildEdxmlStatus, loadPemFiles, signEdxml, type EdxmlAttachment, type KeyBackend } from '@kyso/signer';
import { verifyXml, verifyXmlSigned, type Policy, type ValidationReport } from '@kyso/verifier';
import { bytesSource, fastEdxml } from '../src/formats/xml/fast-path.js';
import { localPki } from '../../signer/test/crypto-testpki.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const KYSO = join(ROOT, 'packages/cli/bin/kyso.mjs');
function kyso(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [KYSO, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The three ways a caller verifies: verifyXml on bytes, verifyXml on a file path (streaming edXML path), verifyXmlSigned (full path). */
async function allPaths(text: string, policy: Policy, dir: string): Promise<{ bytes: ValidationReport; file: ValidationReport; full: ValidationReport; fast: boolean }> {
  const b = new Uint8Array(Buffer.from(text, 'utf8'));
  const f = join(dir, `m-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(f, b);
  return {
    bytes: await verifyXml(b, policy), file: await verifyXml(f, policy), full: (await verifyXmlSigned(b, policy)).report,
    fast: fastEdxml(bytesSource(b)) !== undefined,
  };
}

const edxmlCheck = (r: ValidationReport) => r.signatures[0]?.checks.filter((c) => c.check === 'edxml-profile') ?? [];

describe('edXML: the profile check enforces the message structure (second envelope, duplicate fields, unlisted or nested attachments, markup in base64)', function () {
  this.timeout(180_000);
  const pki = localPki();
  const policy: Policy = { trustAnchors: [pki.rootPem], revocationRequired: false };
  let dir: string;
  let rsa: KeyBackend;
  let signed: string; // the reviewer's message: two attachments, subject "Cong van"
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-edxml-structure-'));
    rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath });
    const att1 = new Uint8Array(1000).map((_, i) => (i * 131 + 7) & 0xff);
    signed = Buffer.from(await signEdxml(buildEdxml({
      from: { organId: 'ORG.A' }, to: [{ organId: 'ORG.B' }], subject: 'Cong van',
      attachments: [{ name: 'att1.bin', data: att1 }, { name: 'att2.txt', data: Buffer.from('second attachment\n'), contentType: 'text/plain' }],
    }), { backend: rsa })).toString();
    assert.ok(signed.includes('c2Vjb25kIGF0dGFjaG1lbnQK'), 'second attachment base64 as in the repro');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** An attack: every path says not TOTAL_PASSED, the edXML check failed with the expected message, and the paths agree. */
  async function refused(text: string, expect: RegExp): Promise<ValidationReport> {
    assert.notEqual(text, signed, 'the attack changed the message');
    const r = await allPaths(text, policy, dir);
    for (const [name, rep] of [['verifyXml(bytes)', r.bytes], ['verifyXml(file)', r.file], ['verifyXmlSigned', r.full]] as const) {
      assert.notEqual(rep.documentIndication, 'TOTAL_PASSED', `${name}: ${JSON.stringify(rep.signatures[0]?.checks)}`);
      assert.notEqual(rep.signatures[0]!.indication, 'TOTAL_PASSED', name);
      const checks = edxmlCheck(rep);
      assert.ok(checks.length > 0 && checks.every((c) => c.status === 'failed'), `${name}: the edXML check failed (${JSON.stringify(checks)})`);
      assert.ok(checks.some((c) => expect.test(c.message)), `${name}: ${checks.map((c) => c.message).join(' | ')}`);
      assert.ok(!checks.some((c) => /match the signed manifest/.test(c.message)), name);
    }
    const verdict = (rep: ValidationReport) => rep.signatures.map((s) => [s.indication, s.subIndication, edxmlCheck({ ...rep, signatures: [s] }).map((c) => c.message)]);
    assert.deepEqual(verdict(r.bytes), verdict(r.full), 'report-only (bytes) and full path agree');
    assert.deepEqual(verdict(r.file), verdict(r.full), 'report-only (file) and full path agree');
    return r.full;
  }

  it('legitimate message passes on every path (baseline for the attacks)', async () => {
    const r = await allPaths(signed, policy, dir);
    for (const rep of [r.bytes, r.file, r.full]) {
      assert.equal(rep.documentIndication, 'TOTAL_PASSED', rep.signatures[0]?.message);
      assert.ok(edxmlCheck(rep).some((c) => c.status === 'passed' && /2 attachment\(s\) match the signed manifest/.test(c.message)));
    }
    assert.ok(r.fast, 'the streaming edXML path answers for this message');
  });

  it('f5_second_envelope: a second, unsigned edXMLEnvelope with a fake Subject', async () => {
    const env = /<edXML:edXMLEnvelope.*<\/edXML:edXMLEnvelope>/s.exec(signed)![0];
    const fake = env.replace(/<ds:Signature.*<\/ds:Signature>/s, '').replace('Id="edXMLEnvelope"', '').replace('<edXML:Subject>Cong van</edXML:Subject>', '<edXML:Subject>FAKE SUBJECT</edXML:Subject>');
    assert.ok(fake.includes('FAKE SUBJECT'));
    const rep = await refused(signed.replace('</edXML:edXMLEnvelope>', '</edXML:edXMLEnvelope>' + fake), /2 edXML:edXMLEnvelope elements/);
    assert.equal(rep.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
  });

  it('f5_dup_cte: a second "evil payload" ContentTransferEncoded in attachment cid:1', async () => {
    const text = signed.replace('</ContentTransferEncoded></Attachment><Attachment><ContentId>cid:2', '</ContentTransferEncoded><ContentTransferEncoded>ZXZpbCBwYXlsb2Fk</ContentTransferEncoded></Attachment><Attachment><ContentId>cid:2');
    await refused(text, /Attachment 1 has 2 ContentTransferEncoded elements/);
  });

  it('f5_nested_unlisted_attachment: an unlisted attachment nested outside the manifest (and the CLI exits 1 with the finding in its JSON)', async () => {
    const text = signed.replace('</edXML>', '<Extra><AttachmentEncoded><Attachment><ContentId>cid:9</ContentId><ContentTransferEncoded>ZXZpbA==</ContentTransferEncoded></Attachment></AttachmentEncoded></Extra></edXML>');
    await refused(text, /unexpected element Extra in the edXML root/);
    const f = join(dir, 'f5_nested_unlisted_attachment.xml');
    writeFileSync(f, text);
    const r = await kyso(['verify', f, '--trust', pki.rootPath, '--no-revocation', '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const rep = JSON.parse(r.stdout) as ValidationReport;
    assert.equal(rep.documentIndication, 'INDETERMINATE');
    assert.equal(rep.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
    assert.ok(edxmlCheck(rep).some((c) => c.status === 'failed' && /unexpected element Extra/.test(c.message)));
    // the intact message through the CLI: exit 0
    const g = join(dir, 'intact.xml');
    writeFileSync(g, signed);
    assert.equal((await kyso(['verify', g, '--trust', pki.rootPath, '--no-revocation', '--json'])).code, 0);
  });

  it('f5_two_contentids: one attachment carrying both cid:1 and cid:2', async () => {
    await refused(signed.replace('<ContentId>cid:1</ContentId>', '<ContentId>cid:1</ContentId><ContentId>cid:2</ContentId>'), /Attachment 1 has 2 ContentId elements/);
  });

  it('f5_cte_child_element: base64 split by a child element inside ContentTransferEncoded', async () => {
    await refused(signed.replace('c2Vjb25kIGF0dGFjaG1lbnQK', 'c2Vjb25k<hidden>IGF0dGFjaG1lbnQK</hidden>'), /Attachment 2: ContentTransferEncoded holds markup/);
  });

  it('the whole class: namespace-qualified matching, nothing else outside the envelope structure, unsigned copies agree with the manifest', async () => {
    const cases: [string, string, RegExp][] = [
      ['AttachmentEncoded in no namespace, beside the real one', signed.replace('</edXML>', '<AttachmentEncoded xmlns=""><Attachment><ContentId>cid:9</ContentId><ContentTransferEncoded>ZXZpbA==</ContentTransferEncoded></Attachment></AttachmentEncoded></edXML>'), /unexpected element \{\}AttachmentEncoded/],
      ['a second AttachmentEncoded with an unlisted attachment', signed.replace('</edXML>', '<AttachmentEncoded><Attachment><ContentId>cid:9</ContentId><ContentTransferEncoded>ZXZpbA==</ContentTransferEncoded></Attachment></AttachmentEncoded></edXML>'), /2 AttachmentEncoded elements/],
      ['an edXMLEnvelope of another namespace first', signed.replace('<edXML:edXMLEnvelope Id', '<x:edXMLEnvelope xmlns:x="urn:evil"><x:Subject>FAKE</x:Subject></x:edXMLEnvelope><edXML:edXMLEnvelope Id'), /unexpected element \{urn:evil\}edXMLEnvelope/],
      ['text in the root', signed.replace('</edXML>', 'FAKE SUBJECT</edXML>'), /the edXML root holds text/],
      ['text in AttachmentEncoded', signed.replace('</AttachmentEncoded>', 'ZXZpbA==</AttachmentEncoded>'), /AttachmentEncoded holds text/],
      ['an element beside the Attachments', signed.replace('</AttachmentEncoded>', '<Note>evil</Note></AttachmentEncoded>'), /unexpected element Note in AttachmentEncoded/],
      ['an unknown field in an Attachment', signed.replace('<ContentId>cid:2</ContentId>', '<ContentId>cid:2</ContentId><Description>evil</Description>'), /unexpected element Description in Attachment 2/],
      ['an Attachment field in another namespace', signed.replace('<ContentId>cid:2</ContentId>', '<ContentId>cid:2</ContentId><x:ContentTransferEncoded xmlns:x="urn:evil">ZXZpbA==</x:ContentTransferEncoded>'), /unexpected element \{urn:evil\}ContentTransferEncoded in Attachment 2/],
      ['an Attachment with no ContentTransferEncoded', signed.replace(/<ContentTransferEncoded Id="attachment-2">[^<]*<\/ContentTransferEncoded>/, ''), /Attachment 2 has 0 ContentTransferEncoded elements/],
      ['a comment inside the base64', signed.replace('c2Vjb25kIGF0dGFjaG1lbnQK', 'c2Vjb25k<!-- x -->IGF0dGFjaG1lbnQK'), /ContentTransferEncoded holds markup, comments/],
      ['markup inside ContentId', signed.replace('<ContentId>cid:2</ContentId>', '<ContentId>cid:<b>2</b></ContentId>'), /ContentId holds markup/],
      ['an AttachmentName that differs from the signed manifest', signed.replace('<AttachmentName>att2.txt</AttachmentName>', '<AttachmentName>att2.exe</AttachmentName>'), /AttachmentName differs from the signed manifest/],
      ['a ContentType that differs from the signed manifest', signed.replace('<ContentType>text/plain</ContentType><ContentTransferEncoded', '<ContentType>application/x-msdownload</ContentType><ContentTransferEncoded'), /ContentType differs from the signed manifest/],
      ['a second envelope with a fake Subject in an unsigned ds:Object of the signature', signed.replace('</ds:Signature>', '<ds:Object><edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader><edXML:Subject>FAKE</edXML:Subject></edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></ds:Object></ds:Signature>'), /unexpected element edXMLEnvelope in a ds:Object of the signature/],
      ['an unlisted attachment in an unsigned ds:Object of the signature', signed.replace('</ds:Signature>', '<ds:Object><AttachmentEncoded><Attachment><ContentId>cid:9</ContentId><ContentTransferEncoded>ZXZpbA==</ContentTransferEncoded></Attachment></AttachmentEncoded></ds:Object></ds:Signature>'), /unexpected element AttachmentEncoded in a ds:Object/],
      ['an edXML Subject inside KeyInfo', signed.replace('</ds:KeyInfo>', '<edXML:Subject>FAKE</edXML:Subject></ds:KeyInfo>'), /edXML element Subject inside the signature/],
      ['an unsigned attribute on an Attachment', signed.replace('<Attachment><ContentId>cid:2', '<Attachment ContentId="cid:9"><ContentId>cid:2'), /Attachment 2 has an unexpected attribute ContentId/],
      ['an unsigned attribute on ContentTransferEncoded', signed.replace('<ContentTransferEncoded Id="attachment-2">', '<ContentTransferEncoded Id="attachment-2" Encoding="gzip">'), /ContentTransferEncoded has an unexpected attribute Encoding/],
      ['the AttachmentEncoded before the envelope', signed.replace(/(<edXML:edXMLEnvelope.*<\/edXML:edXMLEnvelope>)(<AttachmentEncoded>.*<\/AttachmentEncoded>)/s, '$2$1'), /not the first element/],
    ];
    for (const [name, text, re] of cases) {
      assert.notEqual(text, signed, name);
      try { await refused(text, re); } catch (e) { throw new Error(`${name}: ${(e as Error).message}`); }
    }
  });

  it('a signed envelope that says two things (two Subjects, a ContentId listed twice) fails as FORMAT_FAILURE', async () => {
    const base = buildEdxml({ from: { organId: 'ORG.A' }, to: [{ organId: 'ORG.B' }], subject: 'Cong van', attachments: [{ name: 'a.txt', data: Buffer.from('a') }] });
    const twoSubjects = Buffer.from(await signEdxml(base.replace('<edXML:Subject>Cong van</edXML:Subject>', '<edXML:Subject>Cong van</edXML:Subject><edXML:Subject>Other</edXML:Subject>'), { backend: rsa })).toString();
    let r = await allPaths(twoSubjects, policy, dir);
    for (const rep of [r.bytes, r.file, r.full]) {
      assert.equal(rep.signatures[0]!.indication, 'TOTAL_FAILED');
      assert.equal(rep.signatures[0]!.subIndication, 'FORMAT_FAILURE');
      assert.ok(edxmlCheck(rep).some((c) => /MessageHeader has 2 Subject elements/.test(c.message)));
    }
    const ref = /<edXML:Reference>.*?<\/edXML:Reference>/s.exec(base)![0];
    const twice = Buffer.from(await signEdxml(base.replace(ref, ref + ref), { backend: rsa })).toString();
    r = await allPaths(twice, policy, dir);
    for (const rep of [r.bytes, r.file, r.full]) assert.ok(edxmlCheck(rep).some((c) => /the manifest lists cid:1 twice/.test(c.message)), JSON.stringify(edxmlCheck(rep)));
  });

  it('legitimate messages: 0..n attachments, status message, co-signed, whitespace and comments between elements: TOTAL_PASSED on every path', async () => {
    const att = (n: number, seed: number): EdxmlAttachment => ({ name: `f${seed}.bin`, data: new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff), contentType: 'application/octet-stream' });
    const msg = (atts: EdxmlAttachment[]) => buildEdxml({ from: { organId: 'H01' }, to: [{ organId: 'H02' }, { organId: 'H03' }], subject: 'Về việc', attachments: atts });
    const sign = async (m: string, more = false) => Buffer.from(await signEdxml(m, { backend: rsa, ...(more ? { allowFurtherSignatures: true } : {}) })).toString();
    const status = buildEdxmlStatus({ from: { organId: 'H02' }, responseFor: { organId: 'H01', documentId: 'doc-1' }, statusCode: '01' });
    const pretty = msg([att(500, 1), att(70, 2)]).replace('<AttachmentEncoded>', '\n  <!-- attachments -->\n  <AttachmentEncoded>\n    ').replace(/<\/Attachment>/g, '</Attachment>\n  ').replace('</AttachmentEncoded>', '</AttachmentEncoded>\n');
    const cases: [string, string, number][] = [
      ['no attachment', await sign(msg([])), 0],
      ['one attachment', await sign(msg([att(10, 3)])), 1],
      ['five attachments', await sign(msg([1, 2, 3, 4, 5].map((i) => att(100 * i, i)))), 5],
      ['status message (no AttachmentEncoded)', await sign(status), 0],
      ['whitespace and comments between the attachments', await sign(pretty), 2],
    ];
    const co = await sign(msg([att(300, 9)]), true);
    const ec = await loadPemFiles({ keyPath: pki.leaves.ec256.keyPath, certPath: pki.leaves.ec256.certPath });
    cases.push(['co-signed by two agencies', Buffer.from(await signEdxml(co, { backend: ec, allowFurtherSignatures: true })).toString(), 1]);
    let sawFast = false;
    for (const [name, text, n] of cases) {
      const r = await allPaths(text, policy, dir);
      sawFast ||= r.fast;
      for (const rep of [r.bytes, r.file, r.full]) {
        assert.equal(rep.documentIndication, 'TOTAL_PASSED', `${name}: ${rep.signatures.map((s) => s.message).join(' | ')}`);
        for (const s of rep.signatures) {
          assert.equal(s.indication, 'TOTAL_PASSED', name);
          assert.ok(s.checks.some((c) => c.check === 'edxml-profile' && c.status === 'passed' && c.message.includes(`${n} attachment(s)`)), name);
        }
      }
    }
    assert.ok(sawFast, 'the streaming edXML path answered for the messages with attachments');
  });
});
