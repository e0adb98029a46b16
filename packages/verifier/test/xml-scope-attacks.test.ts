/**
 * What an XML signature covers, under attack (cases from an outside review): the scope is FULL only when every
 * ds:Object of an enveloping signature is signed as a whole; a signed ds:Manifest does not cover the data it names;
 * unsigned ds:Object content is flagged whatever the scope; a signature (or a replayed copy) placed inside text is
 * refused; the base64 transform is strict (xmlsec1 rejects what kyso rejects). Each attack is built on a real signature
 * (xmlsec1's or kyso's) and compared with xmlsec1 where that says something.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadPemFiles, signXml, type KeyBackend } from '@kyso/signer';
import { verifyXml, verifyXmlSigned, type Policy } from '@kyso/verifier';
import { localPki } from '../../signer/test/crypto-testpki.js';
import { xmlsecSign, xmlsecVerify } from '../../signer/test/xades-helpers.js';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SI = '<SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>';
const T = '<Transforms><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/>';
const T64 = '<Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/>';
const enc = (s: string) => new TextEncoder().encode(s);

describe('XML signatures: what is covered, under attack', function () {
  this.timeout(60_000);
  const pki = localPki();
  const policy: Policy = { trustAnchors: [readFileSync(pki.rootPath, 'latin1')], revocationRequired: false };
  let rsa: KeyBackend;
  before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); });
  const sign = (tmpl: string, ids: string[]) => xmlsecSign(tmpl, pki.leaves.rsa.keyPath, pki.leaves.rsa.certPath, ids);
  const warnings = (r: Awaited<ReturnType<typeof verifyXml>>) => r.signatures.flatMap((s) => s.checks.filter((c) => c.status === 'warning').map((c) => c.message ?? '')).join(' | ');

  it('enveloping, a signed element inside ds:Object: FULL when it is all the Object holds; PARTIAL and a warning once unsigned content sits beside it', async () => {
    const signed = sign(`<Signature xmlns="${DS}">${SI}<Reference URI="#d">${T}</Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo><Object><order xmlns="urn:o" Id="d"><amount>100</amount></order></Object></Signature>`, ['order']);
    const ok = await verifyXml(enc(signed), policy);
    assert.equal(ok.documentIndication, 'TOTAL_PASSED', ok.signatures[0]?.message);
    assert.equal(ok.signatures[0]!.coverage.xml!.scope, 'FULL');
    const attacked = signed.replace('</order></Object>', '</order><order xmlns="urn:o"><amount>999999</amount></order></Object>');
    assert.ok(xmlsecVerify(attacked, pki.rootPath, { idAttrs: ['order'] }).ok, 'xmlsec1 accepts it too (the unsigned order is outside the reference)');
    const r = await verifyXml(enc(attacked), policy);
    assert.equal(r.signatures[0]!.coverage.xml!.scope, 'PARTIAL', 'not FULL: the Object holds unsigned content');
    assert.match(warnings(r), /not signed as a whole/);
  });

  it('a signed ds:Manifest: its data changed → not FULL, and a warning that the Manifest\'s references are not checked', async () => {
    const signed = sign(`<Signature xmlns="${DS}">${SI}<Reference URI="#m" Type="${DS}Manifest">${T}</Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo><Object><Manifest Id="m"><Reference URI="#d">${T}</Reference></Manifest><order xmlns="urn:o" Id="d"><amount>100</amount></order></Object></Signature>`, ['order', 'Manifest']);
    const tampered = signed.replace('<amount>100</amount>', '<amount>999999</amount>');
    for (const doc of [signed, tampered]) {
      const r = await verifyXml(enc(doc), policy);
      assert.equal(r.signatures[0]!.coverage.xml!.scope, 'PARTIAL');
      assert.match(warnings(r), /Manifest/);
    }
  });

  it('an unsigned ds:Object added to an enveloped signature (scope FULL) is flagged', async () => {
    const signed = Buffer.from(await signXml(enc('<doc xmlns="urn:x"><a>hello</a></doc>'), { backend: rsa })).toString();
    const attacked = signed.replace(/<\/ds:Signature>/, '<ds:Object><b>EVIL</b></ds:Object></ds:Signature>');
    const r = await verifyXml(enc(attacked), policy);
    assert.equal(r.signatures[0]!.coverage.xml!.scope, 'FULL');
    assert.match(warnings(r), /not signed as a whole/);
  });

  it('a signature inside text (mixed content), or a replayed copy of a co-signature there, is refused', async () => {
    const order = '<order xmlns="urn:o"><item>book</item><amount>100</amount></order>';
    const co = Buffer.from(await signXml(enc(order), { backend: rsa, level: 'XMLDSIG', allowFurtherSignatures: true })).toString();
    const ok = await verifyXml(enc(co), policy);
    assert.equal(ok.documentIndication, 'TOTAL_PASSED', ok.signatures[0]?.message);
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(co)![0];
    // a replayed copy with unsigned content, inside the amount's text
    const replay = co.replace('<amount>100</amount>', `<amount>1${sig.replace('</ds:Signature>', '<ds:Object><item xmlns="urn:o">EVIL-ITEM</item></ds:Object></ds:Signature>')}00</amount>`);
    const r1 = await verifyXml(enc(replay), policy);
    assert.notEqual(r1.documentIndication, 'TOTAL_PASSED');
    assert.ok(r1.signatures.every((s) => s.indication !== 'TOTAL_PASSED'), r1.signatures.map((s) => `${s.indication}/${s.subIndication}`).join(', '));
    assert.ok(r1.signatures.some((s) => /mixed content|same signature value/.test(s.message)), r1.signatures.map((s) => s.message).join(' | '));
    // the one signature moved inside the text (its removal leaves the digest unchanged)
    const moved = co.replace(sig, '').replace('<amount>100</amount>', `<amount>1${sig}00</amount>`);
    const r2 = await verifyXml(enc(moved), policy);
    assert.notEqual(r2.documentIndication, 'TOTAL_PASSED');
    assert.match(r2.signatures[0]!.message, /mixed content/);
    // the same for a plain enveloped signature
    const env = Buffer.from(await signXml(enc(order), { backend: rsa, level: 'XMLDSIG' })).toString();
    const esig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(env)![0];
    const r3 = await verifyXml(enc(env.replace(esig, '').replace('<amount>100</amount>', `<amount>1${esig}00</amount>`)), policy);
    assert.notEqual(r3.documentIndication, 'TOTAL_PASSED');
  });

  it('a signature appended to a root that holds text (where signers put it) verifies, on the streaming and the full path alike', async () => {
    for (const d of ['<doc>hello</doc>', '<doc xmlns="urn:x">text <b>x</b> more</doc>']) {
      const s = enc(Buffer.from(await signXml(enc(d), { backend: rsa })).toString());
      assert.equal((await verifyXml(s, policy)).documentIndication, 'TOTAL_PASSED', d);
      const full = await verifyXmlSigned(s, policy);
      assert.equal(full.report.documentIndication, 'TOTAL_PASSED', `${d}: ${full.report.signatures[0]?.message}`);
    }
  });

  it('two signatures with the same signature value (a replayed copy as a "second signer") are refused', async () => {
    const co = Buffer.from(await signXml(enc('<order xmlns="urn:o"><item>book</item><amount>100</amount></order>'), { backend: rsa, level: 'XMLDSIG', allowFurtherSignatures: true })).toString();
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(co)![0];
    const twice = co.replace('</order>', `${sig.replace(/ Id="[^"]*"/g, '')}</order>`);
    const r = await verifyXml(enc(twice), policy);
    assert.equal(r.signatures.length, 2);
    assert.notEqual(r.documentIndication, 'TOTAL_PASSED');
    assert.ok(r.signatures.every((s) => s.indication === 'TOTAL_FAILED' && s.subIndication === 'FORMAT_FAILURE'), r.signatures.map((s) => `${s.indication}/${s.subIndication}: ${s.message}`).join(' | '));
  });

  it('base64 transform: data after the padding or outside the alphabet is refused, as xmlsec1 refuses it; line breaks are fine', async () => {
    const signed = sign(`<Signature xmlns="${DS}">${SI}<Reference URI="#b">${T64}</Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo><Object><data xmlns="urn:d" Id="b">aGVsbG8gd29ybGQ=</data></Object></Signature>`, ['data']);
    const ok = await verifyXml(enc(signed), policy);
    assert.equal(ok.documentIndication, 'TOTAL_PASSED', ok.signatures[0]?.message);
    const wrapped = signed.replace('aGVsbG8gd29ybGQ=', 'aGVs\nbG8g\r\n d29y bGQ=');
    assert.ok(xmlsecVerify(wrapped, pki.rootPath, { idAttrs: ['data'] }).ok);
    assert.equal((await verifyXml(enc(wrapped), policy)).documentIndication, 'TOTAL_PASSED');
    for (const evil of ['aGVsbG8gd29ybGQ=ZXZpbCBleHRyYQ==', 'aGVsbG8g!!d29ybGQ=', 'aGVsbG8gd29ybGQ']) {
      const doc = signed.replace('aGVsbG8gd29ybGQ=', evil);
      assert.equal(xmlsecVerify(doc, pki.rootPath, { idAttrs: ['data'] }).ok, false, `xmlsec1 rejects ${evil}`);
      const r = await verifyXml(enc(doc), policy);
      assert.notEqual(r.documentIndication, 'TOTAL_PASSED', evil);
      assert.equal(r.signatures[0]!.subIndication, 'FORMAT_FAILURE', `${evil}: ${r.signatures[0]!.message}`);
    }
  });
});
