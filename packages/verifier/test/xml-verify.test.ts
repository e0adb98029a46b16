import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPemFiles, signXml, type KeyBackend } from '@kyso/signer';
import { renderHtml, renderText, verifyXml, verifyXmlSigned, type Fetcher, type Policy } from '@kyso/verifier';
import { localPki } from '../../signer/test/crypto-testpki.js';
import { tamper, xmlsecSign, xmlsecVerify } from '../../signer/test/xades-helpers.js';

const CORPUS = '/work/shared/corpus/';
const rows = readFileSync(CORPUS + 'MANIFEST.tsv', 'utf8').split('\n').slice(1).map((l) => l.split('\t')).filter((r) => /^(xmlsec|dss-xades)\//.test(r[0] ?? '') && r[0]!.endsWith('.xml'));

describe('XML verification: corpus vectors (xmlsec / W3C interop, EU DSS XAdES) give the expected verdicts', function () {
  this.timeout(60_000);
  it('the manifest lists the XML vectors', () => assert.ok(rows.length >= 13, `${rows.length} rows`));
  for (const [file, , , , verdict, note] of rows) {
    it(`${file} (${verdict})`, async () => {
      const r = await verifyXml(CORPUS + file, { offline: true });
      const why = r.signatures.map((s) => `${s.indication}/${s.subIndication}: ${s.message}`).join('; ');
      if (verdict === 'valid') assert.notEqual(r.documentIndication, 'TOTAL_FAILED', why);
      else assert.notEqual(r.documentIndication, 'TOTAL_PASSED', `${note}: ${why}`);
      assert.ok(r.signatures.length >= 1);
    });
  }

  it('aleksey RSA-SHA256 chain: TOTAL_PASSED with its trust anchor, INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND without', async () => {
    const f = CORPUS + 'xmlsec/aleksey-xmldsig-01/enveloping-sha256-rsa-sha256.xml';
    const anchored = await verifyXml(f, { trustAnchors: [readFileSync(CORPUS + 'xmlsec/keys/cacert.pem', 'latin1')], revocationRequired: false });
    assert.equal(anchored.documentIndication, 'TOTAL_PASSED', anchored.signatures[0]!.message);
    const bare = await verifyXml(f, { offline: true });
    assert.equal(bare.signatures[0]!.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
    assert.equal(bare.signatures[0]!.intact, true);
  });

  it('aleksey expired certificate: not TOTAL_PASSED even with the anchor and SHA-1 allowed (no proof of existence)', async () => {
    const r = await verifyXml(CORPUS + 'xmlsec/aleksey-xmldsig-01/enveloping-expired-cert.xml', { trustAnchors: [readFileSync(CORPUS + 'xmlsec/keys/cacert.pem', 'latin1')], revocationRequired: false, allowedDigests: ['SHA-1', 'SHA-256'] });
    assert.equal(r.signatures[0]!.intact, true);
    assert.equal(r.signatures[0]!.subIndication, 'OUT_OF_BOUNDS_NO_POE');
  });

  it('phaos: bad digest is HASH_FAILURE; the intact one verifies cryptographically (SHA-1 then refused by policy)', async () => {
    const bad = await verifyXml(CORPUS + 'xmlsec/phaos-xmldsig-three/signature-rsa-enveloped-bad-digest-val.xml', { offline: true });
    assert.equal(bad.signatures[0]!.subIndication, 'HASH_FAILURE');
    const good = await verifyXml(CORPUS + 'xmlsec/phaos-xmldsig-three/signature-rsa-enveloped.xml', { offline: true });
    assert.equal(good.signatures[0]!.intact, true);
    assert.equal(good.signatures[0]!.subIndication, 'CRYPTO_CONSTRAINTS_FAILURE');
  });

  it('merlin: the detached reference is never fetched; with the offline copy supplied the digests match', async () => {
    let fetched = 0;
    const fetcher: Fetcher = { async fetch() { fetched++; return undefined; } };
    const f = CORPUS + 'xmlsec/merlin-xmldsig-twenty-three/signature-x509-crt.xml';
    const without = await verifyXml(f, {}, { fetcher });
    assert.equal(without.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
    const withData = await verifyXml(f, { offline: true }, { detached: { 'http://www.w3.org/TR/xml-stylesheet': readFileSync(CORPUS + 'xmlsec/external-data/xml-stylesheet-2005') } });
    assert.ok(withData.signatures[0]!.coverage.xml!.references.every((x) => x.intact));
    assert.equal(fetched, 0);
  });

  it('EU DSS XSW vectors: fake ds:Object / ds:Manifest give SIGNED_DATA_NOT_FOUND; a fake SignedProperties never passes', async () => {
    for (const f of ['XSW-enveloping-fake-object.xml', 'XSW-enveloping-fake-manifest.xml']) {
      const r = await verifyXml(CORPUS + 'dss-xades/' + f, { offline: true });
      assert.equal(r.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND', f);
      assert.equal(r.signatures[0]!.coverage.xml!.scope, 'SIGNED_DATA_NOT_FOUND');
    }
    const sp = await verifyXml(CORPUS + 'dss-xades/XSW-enveloped-fake-signedProperties.xml', { offline: true });
    assert.ok(sp.signatures[0]!.checks.some((c) => c.status === 'failed'));
    assert.notEqual(sp.documentIndication, 'TOTAL_PASSED');
    const lta = await verifyXml(CORPUS + 'dss-xades/xades-lta-valid.xml', { offline: true });
    assert.equal(lta.signatures[0]!.level, 'XAdES-BASELINE-LTA');
    assert.equal(lta.signatures[0]!.intact, true);
  });
});

describe('XML verification: EU DSS XAdES-LTA vector with its own test root', function () {
  this.timeout(60_000);
  it('TOTAL_PASSED at 2021-09-01; the SignatureTimeStamp validates and kyso\'s archive-timestamp input matches the imprint DSS time-stamped', async () => {
    const f = CORPUS + 'dss-xades/xades-lta-valid.xml';
    const text = readFileSync(f, 'utf8');
    const certs = [...text.matchAll(/<(?:xades:EncapsulatedX509Certificate|ds:X509Certificate)[^>]*>([^<]+)</g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
    const roots = certs.filter((c) => { const x = new X509Certificate(c); return x.subject === x.issuer && x.verify(x.publicKey); });
    assert.equal(roots.length, 1);
    const r = await verifyXml(f, { offline: true, trustAnchors: roots, validationTime: new Date('2021-09-01'), revocationRequired: false });
    const s = r.signatures[0]!;
    assert.equal(r.documentIndication, 'TOTAL_PASSED', s.message);
    assert.equal(s.level, 'XAdES-BASELINE-LTA');
    assert.equal(s.timestamp, '2021-08-12T13:27:00.000Z');
    const ats = s.checks.find((c) => c.check === 'archive-timestamp')!;
    // The ATS's own TSA chain is not shipped with the vector; what matters here is that its imprint matched.
    assert.ok(!/imprint/.test(ats.message) && /TSA certificate/.test(ats.message), ats.message);
  });
});

describe('XML verification: signatures made by xmlsec1 --sign verify in kyso', function () {
  this.timeout(60_000);
  const pki = localPki();
  const policy: Policy = { trustAnchors: [pki.rootPem], revocationRequired: false };
  const tmpl = (sigMethod: string, c14n: string, body: string) => `<?xml version="1.0"?>\n<doc xmlns="urn:doc">${body}<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="${c14n}"/>`
    + `<SignatureMethod Algorithm="${sigMethod}"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>`
    + `<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></doc>\n`;
  const cases = [
    { leaf: 'rsa' as const, m: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', c: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' },
    { leaf: 'rsa' as const, m: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', c: 'http://www.w3.org/2001/10/xml-exc-c14n#' },
    { leaf: 'ec256' as const, m: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', c: 'http://www.w3.org/2006/12/xml-c14n11' },
    { leaf: 'ec384' as const, m: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', c: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments' },
  ];
  for (const k of cases) {
    it(`${k.leaf} ${k.m.split('#')[1]} ${k.c.split('/').pop()}: TOTAL_PASSED; a tampered byte fails in both`, async () => {
      const signed = xmlsecSign(tmpl(k.m, k.c, '<a n="1">Xin chào <!-- c --> &amp; thế giới</a>\n<b/>'), pki.leaves[k.leaf].keyPath, pki.leaves[k.leaf].certPath);
      const r = await verifyXml(Buffer.from(signed), policy);
      assert.equal(r.documentIndication, 'TOTAL_PASSED', r.signatures[0]!.message);
      assert.equal(r.signatures[0]!.level, 'XMLDSIG');
      const bad = tamper(signed, '<a n="1">');
      assert.equal(xmlsecVerify(bad, pki.rootPath).ok, false);
      assert.equal((await verifyXml(Buffer.from(bad), policy)).documentIndication, 'TOTAL_FAILED');
    });
  }
  it('an enveloping xmlsec1 signature (ds:Object by Id) verifies and hands back the object as signed content', async () => {
    const t = `<?xml version="1.0"?>\n<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>`
      + `<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI="#obj"><Transforms><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>`
      + `<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo>`
      + `<Object Id="obj"><data xmlns="urn:d">payload</data></Object></Signature>`;
    const signed = xmlsecSign(t, pki.leaves.rsa.keyPath, pki.leaves.rsa.certPath, ['Object']);
    const v = await verifyXmlSigned(Buffer.from(signed), policy);
    assert.equal(v.report.documentIndication, 'TOTAL_PASSED', v.report.signatures[0]!.message);
    assert.equal(v.report.signatures[0]!.coverage.xml!.scope, 'FULL');
    assert.match(Buffer.from(v.signed[0]!.references[0]!.octets).toString(), /^<Object xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#" Id="obj"><data xmlns="urn:d">payload<\/data><\/Object>$/);
  });
});

describe('XML signature wrapping: each attack is detected or made harmless', function () {
  this.timeout(60_000);
  const pki = localPki();
  const policy: Policy = { trustAnchors: [pki.rootPem], revocationRequired: false };
  let rsa: KeyBackend;
  const DOC = '<?xml version="1.0"?>\n<orders xmlns="urn:o"><order Id="o1"><amount>100</amount></order><note>hello</note></orders>\n';
  before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); });
  const s = (b: Uint8Array) => Buffer.from(b).toString();

  it('duplicate IDs: a second element with the signed ID → SIGNED_DATA_NOT_FOUND (whichever comes first)', async () => {
    const signed = s(await signXml(DOC, { backend: rsa, references: [{ id: 'o1' }] }));
    assert.equal((await verifyXml(Buffer.from(signed), policy)).documentIndication, 'TOTAL_PASSED');
    for (const evil of [signed.replace('<order Id="o1">', '<order Id="o1"><amount>999999</amount></order><order Id="o1">'), signed.replace('<note>', '<order Id="o1"><amount>999999</amount></order><note>')]) {
      const r = await verifyXml(Buffer.from(evil), policy);
      assert.equal(r.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
      assert.ok(r.findings.some((f) => f.code === 'XML_DUPLICATE_ID'));
    }
  });

  it('signed element moved into the signature (re-parented under a ds:Object) with a forged one in its place → SIGNED_DATA_NOT_FOUND', async () => {
    const signed = s(await signXml(DOC, { backend: rsa, references: [{ id: 'o1' }] }));
    const original = '<order Id="o1"><amount>100</amount></order>';
    const moved = signed.replace(original, '<order><amount>999999</amount></order>').replace('</ds:Signature>', `<ds:Object><wrapper xmlns="urn:o">${original}</wrapper></ds:Object></ds:Signature>`);
    const r = await verifyXml(Buffer.from(moved), policy);
    assert.equal(r.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND', r.signatures[0]!.message);
  });

  it('signed element moved elsewhere in the document: the digest matches but the report shows the new location, scope PARTIAL, and the API returns the signed octets, not the forged element', async () => {
    const signed = s(await signXml(DOC, { backend: rsa, references: [{ id: 'o1' }] }));
    const original = '<order Id="o1"><amount>100</amount></order>';
    const moved = signed.replace(original, '<order><amount>999999</amount></order>').replace('<note>hello</note>', `<note>hello</note><archive>${original}</archive>`);
    const v = await verifyXmlSigned(Buffer.from(moved), policy);
    const sig = v.report.signatures[0]!;
    assert.equal(sig.coverage.xml!.scope, 'PARTIAL');
    assert.equal(sig.coverage.xml!.references[0]!.path, '/orders[1]/archive[1]/order[1]');
    assert.match(renderText(v.report), /scope: PARTIAL\n.*covers: element \/orders\[1\]\/archive\[1\]\/order\[1\]/);
    assert.match(renderHtml([v.report]), /Signed scope.*PARTIAL: element \/orders\[1\]\/archive\[1\]\/order\[1\]/s);
    const octets = Buffer.from(v.signed[0]!.references[0]!.octets).toString();
    assert.ok(octets.includes('<amount>100</amount>') && !octets.includes('999999'));
  });

  it('references outside the signed scope: the signed ID removed, an external http URI (never fetched), XPointer beyond the allow-list', async () => {
    let fetched = 0;
    const fetcher: Fetcher = { async fetch() { fetched++; return undefined; } };
    const signed = s(await signXml(DOC, { backend: rsa, references: [{ id: 'o1' }] }));
    const gone = await verifyXml(Buffer.from(signed.replace('<order Id="o1">', '<order>')), policy, { fetcher });
    assert.equal(gone.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
    assert.equal(gone.signatures[0]!.coverage.xml!.scope, 'SIGNED_DATA_NOT_FOUND');
    const ext = await signXml(DOC, { backend: rsa, mode: 'detached', detached: { data: Buffer.from(DOC), uri: 'http://127.0.0.1:9/evil.xml' } });
    const r = await verifyXml(ext, policy, { fetcher });
    assert.equal(r.signatures[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
    const xp = await verifyXml(Buffer.from(signed.replace('URI="#o1"', `URI="#xpointer(//*[@Id='o1'])"`)), policy, { fetcher });
    assert.equal(xp.documentIndication, 'TOTAL_FAILED');
    assert.ok(xp.signatures[0]!.checks.some((c) => c.status === 'failed' && /XPointer form that is not supported/.test(c.message)));
    assert.equal(fetched, 0);
  });

  it('unsigned content a consumer would read: an extra ds:Object in an enveloping signature → scope PARTIAL with a warning; only the signed object is returned', async () => {
    const signed = s(await signXml(DOC, { backend: rsa, mode: 'enveloping' }));
    const extra = signed.replace('</ds:Signature>', '<ds:Object Id="evil"><orders xmlns="urn:o"><order><amount>999999</amount></order></orders></ds:Object></ds:Signature>');
    const v = await verifyXmlSigned(Buffer.from(extra), policy);
    const sig = v.report.signatures[0]!;
    assert.equal(sig.indication, 'TOTAL_PASSED');
    assert.equal(sig.coverage.xml!.scope, 'PARTIAL');
    assert.ok(sig.checks.some((c) => c.check === 'signature-scope' && c.status === 'warning'));
    assert.equal(v.signed[0]!.references.length, 1);
    assert.ok(!Buffer.from(v.signed[0]!.references[0]!.octets).toString().includes('999999'));
  });

  it('fake SignedProperties (the real ones moved to another ds:Object, forged ones in QualifyingProperties) → SIGNED_DATA_NOT_FOUND', async () => {
    const signed = s(await signXml(DOC, { backend: rsa }));
    const spStart = signed.indexOf('<xades:SignedProperties');
    const spEnd = signed.indexOf('</xades:SignedProperties>') + '</xades:SignedProperties>'.length;
    const realSp = signed.slice(spStart, spEnd);
    const fake = realSp.replace(/Id="[^"]+"/, 'Id="forged"').replace(/<xades:SigningTime>[^<]+/, '<xades:SigningTime>2099-01-01T00:00:00Z');
    const attacked = signed.slice(0, spStart) + fake + signed.slice(spEnd).replace('</ds:Signature>', `<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#">${realSp}</xades:QualifyingProperties></ds:Object></ds:Signature>`);
    const r = await verifyXml(Buffer.from(attacked), policy);
    assert.notEqual(r.documentIndication, 'TOTAL_PASSED');
    assert.equal(r.signatures[0]!.subIndication === 'SIGNED_DATA_NOT_FOUND' || r.signatures[0]!.subIndication === 'FORMAT_FAILURE', true, r.signatures[0]!.message);
    assert.notEqual(r.signatures[0]!.signingTime, '2099-01-01T00:00:00.000Z');
  });

  it('KeyInfo certificate substitution (CVE-2024-32962 class): re-signed with a self-signed attacker key → NO_CERTIFICATE_CHAIN_FOUND, never trusted from KeyInfo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-attacker-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=kyso rsa signer', '-days', '2'], { stdio: 'ignore' });
      const attacker = await loadPemFiles({ keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') });
      const forged = await signXml(DOC.replace('100', '999999'), { backend: attacker });
      const r = await verifyXml(forged, policy);
      assert.equal(r.signatures[0]!.intact, true);
      assert.equal(r.signatures[0]!.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
      assert.equal(xmlsecVerify(forged, pki.rootPath).ok, false, 'xmlsec1 refuses it too');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('a comment or element inside DigestValue / SignatureValue (CVE-2025-29775 class) is refused', async () => {
    const signed = s(await signXml(DOC, { backend: rsa }));
    const dv = signed.replace(/(<ds:DigestValue>)([A-Za-z0-9+/]{4})/, '$1$2<!--x-->');
    assert.equal((await verifyXml(Buffer.from(dv), policy)).documentIndication, 'TOTAL_FAILED');
    const sv = signed.replace(/(-value">)([A-Za-z0-9+/]{4})/, '$1$2<!--x-->');
    assert.equal((await verifyXml(Buffer.from(sv), policy)).signatures[0]!.subIndication, 'FORMAT_FAILURE');
  });

  it('a second, foreign signature in the document is reported on its own and spoils the document verdict', async () => {
    const signed = s(await signXml(DOC, { backend: rsa }));
    const other = s(await signXml('<x xmlns="urn:x">evil</x>', { backend: rsa, mode: 'enveloping' }));
    const twoSigs = signed.replace('<note>', `${other.replace(/^<\?xml[^>]*>/, '')}<note>`);
    const r = await verifyXml(Buffer.from(twoSigs), policy);
    assert.equal(r.signatures.length, 2);
    const main = r.signatures.find((x) => signed.includes(`Id="${x.field}"`))!;
    assert.equal(main.subIndication, 'HASH_FAILURE', 'the whole-document signature sees the inserted content');
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
  });
});
