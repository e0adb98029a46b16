import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ExternalKeyBackend, finalizeXml, loadPemFiles, prepareXml, signXml, SignerError, XmlError, type KeyBackend, type XadesLevel, type XmlSignatureMode } from '@kyso/signer';
import { verifyXml } from '@kyso/verifier';
import { localPki, type LeafName } from './crypto-testpki.js';
import { tamper, xmlsecVerify } from './xades-helpers.js';

const DOC = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- prolog comment -->\n<doc xmlns="urn:example" xmlns:p="urn:p" xml:lang="vi"><p:item Id="item-1" p:n="1">Văn bản ký số &amp; &lt;test&gt;</p:item>\n  <empty/>\n  <text>line\r\nbreak&#xD;</text></doc>\n`;
const C14NS = ['c14n', 'c14n-with-comments', 'c14n11', 'c14n11-with-comments', 'exc-c14n', 'exc-c14n-with-comments'];

describe('XML signing (XMLDSig / XAdES B-B): kyso signs, xmlsec1 and kyso verify', function () {
  this.timeout(120_000);
  const pki = localPki();
  const backends = {} as Record<LeafName, KeyBackend>;
  before(async () => {
    for (const n of ['rsa', 'pss', 'ec256', 'ec384'] as LeafName[]) backends[n] = await loadPemFiles({ keyPath: pki.leaves[n].keyPath, certPath: pki.leaves[n].certPath });
  });
  const policy = () => ({ trustAnchors: [pki.rootPem], revocationRequired: false });
  const detachedData = Buffer.from('detached payload\n'.repeat(10));

  for (const leaf of ['rsa', 'ec256', 'ec384'] as LeafName[]) {
    for (const mode of ['enveloped', 'enveloping', 'detached'] as XmlSignatureMode[]) {
      it(`${leaf} ${mode}: every canonicalization, XMLDSig and XAdES B-B, accepted by xmlsec1 and TOTAL_PASSED in kyso`, async () => {
        for (const c14n of C14NS) for (const level of ['XMLDSIG', 'B-B'] as XadesLevel[]) {
          const out = await signXml(DOC, { backend: backends[leaf], mode, level, c14n, ...(mode === 'detached' ? { detached: { data: detachedData, uri: 'payload.txt' } } : {}) });
          const x = xmlsecVerify(out, pki.rootPath, { detached: { 'payload.txt': detachedData } });
          assert.ok(x.ok, `xmlsec1 rejects ${leaf}/${mode}/${c14n}/${level}: ${x.out}`);
          const r = await verifyXml(out, policy(), { detached: { 'payload.txt': detachedData } });
          const s = r.signatures[0]!;
          assert.equal(r.documentIndication, 'TOTAL_PASSED', `${c14n}/${level}: ${s.message}`);
          assert.equal(s.level, level === 'XMLDSIG' ? 'XMLDSIG' : 'XAdES-BASELINE-B');
          assert.equal(s.coverage.xml!.scope, mode === 'detached' ? 'DETACHED' : 'FULL');
          assert.match(s.signer!.subject, new RegExp(`kyso ${leaf} signer`));
        }
      });
    }
  }

  for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
    it(`RSA PKCS#1 v1.5 and ECDSA with ${hash}: xmlsec1 and kyso accept`, async () => {
      for (const leaf of ['rsa', 'ec256'] as LeafName[]) {
        const out = await signXml(DOC, { backend: backends[leaf], hash });
        assert.ok(xmlsecVerify(out, pki.rootPath).ok, `${leaf}/${hash}`);
        const r = await verifyXml(out, policy());
        assert.equal(r.documentIndication, 'TOTAL_PASSED');
        assert.ok(r.signatures[0]!.signatureAlgorithm!.endsWith(hash));
        assert.equal(r.signatures[0]!.digestAlgorithm, hash);
      }
    });
  }

  it('RSASSA-PSS (RFC 6931 sha*-rsa-MGF1): kyso signs and verifies, a tampered value fails (xmlsec1 1.2 has no PSS: kyso-only)', async () => {
    for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
      for (const leaf of ['rsa', 'pss'] as LeafName[]) {
        const out = await signXml(DOC, { backend: backends[leaf], signatureAlgorithm: { scheme: 'RSA-PSS', hash } });
        const text = Buffer.from(out).toString();
        assert.ok(text.includes(`xmldsig-more#${hash.replace('-', '').toLowerCase()}-rsa-MGF1`));
        const r = await verifyXml(out, policy());
        assert.equal(r.documentIndication, 'TOTAL_PASSED', r.signatures[0]!.message);
        assert.equal(r.signatures[0]!.signatureAlgorithm, `RSASSA-PSS/${hash}`);
        const bad = await verifyXml(tamper(text, '<ds:SignatureValue Id="' + /Id="(kyso-sig-[0-9a-f]+)"/.exec(text)![1] + '-value">'), policy());
        assert.equal(bad.documentIndication, 'TOTAL_FAILED');
      }
    }
  });

  it('a tampered byte fails in both xmlsec1 and kyso (content → HASH_FAILURE, signature value → SIG_CRYPTO_FAILURE)', async () => {
    for (const mode of ['enveloped', 'enveloping'] as XmlSignatureMode[]) {
      const out = Buffer.from(await signXml(DOC, { backend: backends.rsa, mode })).toString();
      const t1 = tamper(out, 'Id="item-1" p:n="1">');
      assert.equal(xmlsecVerify(t1, pki.rootPath).ok, false);
      const r1 = await verifyXml(Buffer.from(t1), policy());
      assert.equal(r1.documentIndication, 'TOTAL_FAILED');
      assert.equal(r1.signatures[0]!.subIndication, 'HASH_FAILURE');
      const t2 = tamper(out, '-value">');
      assert.equal(xmlsecVerify(t2, pki.rootPath).ok, false);
      const r2 = await verifyXml(Buffer.from(t2), policy());
      assert.equal(r2.documentIndication, 'TOTAL_FAILED');
      assert.equal(r2.signatures[0]!.subIndication, 'SIG_CRYPTO_FAILURE');
      const t3 = tamper(out, '<xades:SigningTime>');
      assert.equal(xmlsecVerify(t3, pki.rootPath).ok, false, 'SignedProperties are signed');
      assert.equal((await verifyXml(Buffer.from(t3), policy())).signatures[0]!.subIndication, 'HASH_FAILURE');
    }
    const det = await signXml(DOC, { backend: backends.ec256, mode: 'detached', detached: { data: detachedData, uri: 'payload.txt' } });
    const changed = Buffer.from(detachedData); changed[3] ^= 1;
    assert.equal(xmlsecVerify(det, pki.rootPath, { detached: { 'payload.txt': changed } }).ok, false);
    assert.equal((await verifyXml(det, policy(), { detached: { 'payload.txt': changed } })).signatures[0]!.subIndication, 'HASH_FAILURE');
    const missing = await verifyXml(det, policy());
    assert.equal(missing.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND', 'detached data is never fetched');
  });

  it('the original bytes are untouched: enveloped output = input with the signature inserted before the root end tag', async () => {
    const out = Buffer.from(await signXml(DOC, { backend: backends.rsa })).toString();
    const at = out.indexOf('<ds:Signature');
    const end = out.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
    assert.equal(out.slice(0, at) + out.slice(end), DOC);
    const selfClosing = Buffer.from(await signXml('<r:root xmlns:r="urn:r" a="1"/>', { backend: backends.ec256 })).toString();
    assert.match(selfClosing, /^<r:root xmlns:r="urn:r" a="1"><ds:Signature[\s\S]*<\/ds:Signature><\/r:root>$/);
    assert.ok(xmlsecVerify(selfClosing, pki.rootPath).ok);
  });

  it('two-step: prepareXml gives the digest, finalizeXml (JSON state, another process) takes the raw signature value', async () => {
    for (const leaf of ['rsa', 'ec256'] as LeafName[]) {
      const cert = new Uint8Array(Buffer.from(readFileSync(pki.leaves[leaf].certPath, 'latin1').replace(/-----[^-]+-----|\s/g, ''), 'base64'));
      const prepared = prepareXml(DOC, { certificate: cert, level: 'B-B', c14n: 'c14n11' });
      const json = JSON.stringify(prepared.state);
      // Sign the digest only, as an HSM or a remote signHash service would.
      const value = await backends[leaf].sign(leaf === 'rsa' ? { digest: prepared.digestToSign } : { data: prepared.toBeSigned, digest: prepared.digestToSign }, prepared.signatureAlgorithm);
      const out = await finalizeXml(json, value);
      assert.ok(xmlsecVerify(out, pki.rootPath).ok);
      assert.equal((await verifyXml(out, policy())).documentIndication, 'TOTAL_PASSED');
      await assert.rejects(finalizeXml(json, new Uint8Array(value.length)), (e: unknown) => e instanceof SignerError && e.code === 'SIGNATURE_INVALID');
      await assert.rejects(finalizeXml('{"v":2}', value), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
    }
    // An external backend with a callback (remote / CSC style) signs the same way.
    const ext = new ExternalKeyBackend(backends.ec384.certificate, [], (input, alg) => backends.ec384.sign(input, alg));
    const out = await signXml(DOC, { backend: ext, mode: 'enveloping' });
    assert.ok(xmlsecVerify(out, pki.rootPath).ok);
  });

  it('co-signing: with allowFurtherSignatures (XPath Filter 2 subtract //ds:Signature) two signers each add an enveloped signature and both stay valid (xmlsec1 and kyso)', async () => {
    const first = await signXml(DOC, { backend: backends.rsa, allowFurtherSignatures: true, id: 'sig-agency-a' });
    const both = await signXml(first, { backend: backends.ec256, allowFurtherSignatures: true, id: 'sig-agency-b' });
    for (const id of ['sig-agency-a', 'sig-agency-b']) {
      const x = xmlsecVerify(both, pki.rootPath, { nodeId: id });
      assert.ok(x.ok, `${id}: ${x.out}`);
    }
    const r = await verifyXml(both, policy());
    assert.equal(r.signatures.length, 2);
    assert.ok(r.signatures.every((s) => s.indication === 'TOTAL_PASSED' && s.coverage.xml!.scope === 'FULL'), JSON.stringify(r.signatures.map((s) => s.message)));
    const t = await verifyXml(Buffer.from(tamper(Buffer.from(both).toString(), 'Id="item-1" p:n="1">')), policy());
    assert.ok(t.signatures.every((s) => s.subIndication === 'HASH_FAILURE'));
    // Content smuggled inside an extra ds:Signature (left out by the filter) is reported as a signature of its own
    // that does not validate, so the document is not TOTAL_PASSED; the signed octets handed back never contain it.
    const smuggled = Buffer.from(both).toString().replace('<empty/>', '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object><evil>999999</evil></ds:Object></ds:Signature><empty/>');
    const sm = await verifyXml(Buffer.from(smuggled), policy());
    assert.equal(sm.documentIndication, 'TOTAL_FAILED');
    assert.equal(sm.signatures.filter((s) => s.indication === 'TOTAL_PASSED').length, 2);
    // Without it, the first signer's enveloped-signature reference sees the second signature: HASH_FAILURE.
    const plain = await signXml(await signXml(DOC, { backend: backends.rsa, id: 'sig-1' }), { backend: backends.ec256, id: 'sig-2' });
    const p = await verifyXml(plain, policy());
    assert.equal(p.signatures.find((s) => s.field === 'sig-1')!.subIndication, 'HASH_FAILURE');
    assert.equal(p.signatures.find((s) => s.field === 'sig-2')!.indication, 'TOTAL_PASSED');
    // Only that XPath Filter 2 form is accepted.
    const other = Buffer.from(first).toString().replace('Filter="subtract">//ds:Signature<', 'Filter="subtract">//ds:Object<');
    assert.match((await verifyXml(Buffer.from(other), policy())).signatures[0]!.message, /XPath Filter 2 is not allowed/);
  });

  it('bad input gives typed errors: DTD, malformed, unknown c14n, missing detached data', async () => {
    await assert.rejects(signXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', { backend: backends.rsa }), (e: unknown) => e instanceof XmlError && e.code === 'XML_DTD_FORBIDDEN');
    await assert.rejects(signXml('<a><b></a>', { backend: backends.rsa }), (e: unknown) => e instanceof XmlError && e.code === 'XML_MALFORMED');
    await assert.rejects(signXml(DOC, { backend: backends.rsa, c14n: 'xslt' }), (e: unknown) => e instanceof XmlError && e.code === 'XML_UNSUPPORTED');
    await assert.rejects(signXml(DOC, { backend: backends.rsa, mode: 'detached' }), (e: unknown) => e instanceof XmlError && e.code === 'XML_INPUT');
    await assert.rejects(signXml(DOC, { backend: backends.ec256, signatureAlgorithm: { scheme: 'RSA-PKCS1', hash: 'SHA-256' } }), (e: unknown) => e instanceof SignerError && e.code === 'ALG_KEY_MISMATCH');
  });
});
