// Review 15 (F1, F2): documents built to make canonicalization quadratic in namespace declarations, or pathOf
// quadratic in siblings, are verified within 2 s with the right verdict (or FORMAT_FAILURE when the documented
// canonicalization work budget is exceeded). Valid namespace-heavy signatures from kyso and from xmlsec1 still verify.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { C14N, loadPemFiles, signXml, type KeyBackend } from '@kyso/signer';
import { verifyXml, type Policy, type ValidationReport } from '@kyso/verifier';
import { localPki } from '../../signer/test/crypto-testpki.js';
import { tamper, xmlsecSign, xmlsecVerify } from '../../signer/test/xades-helpers.js';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

/** The verification and its CPU time (ms, this process's threads): the work it did, whatever else the machine runs. */
async function timed(input: string, policy: Policy): Promise<{ r: ValidationReport; ms: number }> {
  const c = process.cpuUsage();
  const r = await verifyXml(Buffer.from(input), policy);
  const d = process.cpuUsage(c);
  return { r, ms: (d.user + d.system) / 1000 };
}

const decls = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `xmlns:${tag}${i}="urn:${tag}:${i}"`).join(' ');
const sigOf = (s: string) => /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(s)![0];

/** An xmlsec1 template: enveloped signature over the whole document with the canonicalization given. */
function template(open: string, body: string, close: string, c14n: string, transform = `<Transform Algorithm="${c14n}"/>`): string {
  return `<?xml version="1.0"?>\n${open}${body}<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="${c14n}"/>`
    + `<SignatureMethod Algorithm="${RSA_SHA256}"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>${transform}</Transforms>`
    + `<DigestMethod Algorithm="${SHA256}"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>${close}\n`;
}

describe('XML verification: review 15 canonicalization and pathOf attack shapes finish within 2 s', function () {
  this.timeout(120_000);
  const pki = localPki();
  const policy: Policy = { trustAnchors: [pki.rootPem], revocationRequired: false };
  let rsa: KeyBackend;
  before(async () => { rsa = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath }); });

  // 2 x 999 namespaces in scope, 4,000 children declaring one more each: 38.6 s in the previous canonicalizer alone
  const nsOpen = `<doc xmlns="urn:x"><w0 ${decls(999, 'p')}><w1 ${decls(999, 'q')}>`;
  const nsBody = '<c xmlns:z="urn:z">t</c>'.repeat(4000);
  const nsClose = '</w1></w0></doc>';
  // xmlsec1 (libxml2) takes tens of seconds on the full-size shapes: the interop checks use smaller ones
  const nsOpenSmall = `<doc xmlns="urn:x"><w0 ${decls(300, 'p')}><w1 ${decls(300, 'q')}>`;
  const nsBodySmall = '<c xmlns:z="urn:z">t</c>'.repeat(500);

  it('namespace bomb, inclusive C14N: kyso-signed verifies TOTAL_PASSED (xmlsec1 agrees), tampered is HASH_FAILURE, each < 2 s', async () => {
    const signed = Buffer.from(await signXml(nsOpen + nsBody + nsClose, { backend: rsa, level: 'XMLDSIG', c14n: C14N.c14n10 })).toString();
    const ok = await timed(signed, policy);
    assert.equal(ok.r.documentIndication, 'TOTAL_PASSED', ok.r.signatures[0]?.message);
    assert.ok(ok.ms < 2000, `${ok.ms} ms`);
    const small = Buffer.from(await signXml(nsOpenSmall + nsBodySmall + nsClose, { backend: rsa, level: 'XMLDSIG', c14n: C14N.c14n10 })).toString();
    assert.ok(xmlsecVerify(small, pki.rootPath).ok, 'xmlsec1 accepts the kyso signature (smaller document of the same shape)');
    const bad = await timed(tamper(signed, '<c xmlns:z="urn:z">'), policy);
    assert.equal(bad.r.documentIndication, 'TOTAL_FAILED');
    assert.equal(bad.r.documentSubIndication, 'HASH_FAILURE');
    assert.ok(bad.ms < 2000, `${bad.ms} ms`);
  });

  it('namespace bomb (smaller), C14N 1.0 and 1.1 signed by xmlsec1: TOTAL_PASSED < 2 s', async () => {
    for (const c of [C14N.c14n10, C14N.c14n11]) {
      const signed = xmlsecSign(template(nsOpenSmall, nsBodySmall + '</w1></w0>', '</doc>', c), pki.leaves.rsa.keyPath, pki.leaves.rsa.certPath);
      const { r, ms } = await timed(signed, policy);
      assert.equal(r.documentIndication, 'TOTAL_PASSED', `${c}: ${r.signatures[0]?.message}`);
      assert.ok(ms < 2000, `${c}: ${ms} ms`);
    }
  });

  it('the reviewer\'s shape: a signature lifted into a namespace bomb (inclusive C14N) is HASH_FAILURE < 2 s', async () => {
    const signed = Buffer.from(await signXml('<doc xmlns="urn:x"><a>hello</a></doc>', { backend: rsa, level: 'XMLDSIG', c14n: C14N.c14n10 })).toString();
    const { r, ms } = await timed(nsOpen + nsBody + '</w1></w0>' + sigOf(signed) + '</doc>', policy);
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    assert.equal(r.documentSubIndication, 'HASH_FAILURE');
    assert.ok(ms < 2000, `${ms} ms`);
  });

  // 999 namespaces in scope, 4,000 elements, a 1,000-prefix PrefixList: 15.6 s in the previous canonicalizer alone
  const excOpen = `<doc xmlns="urn:x" ${decls(999, 'p')}>`;
  const excBody = '<e/>'.repeat(2000) + '<p5:e p7:a="1"/>'.repeat(2000);
  const prefixList = Array.from({ length: 1000 }, (_, i) => `p${i}`).join(' ') + ' #default';

  it('exclusive C14N with a 1,000-prefix PrefixList signed by xmlsec1 (999 namespaces, 400 elements): TOTAL_PASSED < 2 s; tampered fails in both', async () => {
    const inclusive = `<Transform Algorithm="${C14N.exc}"><ec:InclusiveNamespaces xmlns:ec="${C14N.exc}" PrefixList="${prefixList}"/></Transform>`;
    const body = '<e/>'.repeat(200) + '<p5:e p7:a="1"/>'.repeat(200);
    const signed = xmlsecSign(template(excOpen, body, '</doc>', C14N.exc, inclusive), pki.leaves.rsa.keyPath, pki.leaves.rsa.certPath);
    const { r, ms } = await timed(signed, policy);
    assert.equal(r.documentIndication, 'TOTAL_PASSED', r.signatures[0]?.message);
    assert.ok(ms < 2000, `${ms} ms`);
    // a changed declaration (p900 is not used by any element, only listed) must break the digest: PrefixList honoured
    const bad = signed.replace('xmlns:p900="urn:p:900"', 'xmlns:p900="urn:p:901"');
    assert.notEqual(bad, signed);
    assert.equal(xmlsecVerify(bad, pki.rootPath).ok, false);
    const b = await timed(bad, policy);
    assert.equal(b.r.documentIndication, 'TOTAL_FAILED');
    assert.equal(b.r.documentSubIndication, 'HASH_FAILURE');
    assert.ok(b.ms < 2000, `${b.ms} ms`);
  });

  it('the reviewer\'s shape: a 1,000-prefix PrefixList injected into a kyso XAdES signature over 999 namespaces: HASH_FAILURE < 2 s', async () => {
    const signed = Buffer.from(await signXml('<doc xmlns="urn:x"><a Id="a1">hello</a></doc>', { backend: rsa })).toString();
    const sig = sigOf(signed).replace(`<ds:Transform Algorithm="${C14N.exc}"/></ds:Transforms>`,
      `<ds:Transform Algorithm="${C14N.exc}"><ec:InclusiveNamespaces xmlns:ec="${C14N.exc}" PrefixList="${prefixList}"/></ds:Transform></ds:Transforms>`);
    assert.notEqual(sig, sigOf(signed));
    const { r, ms } = await timed(excOpen + excBody + sig + '</doc>', policy);
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    assert.equal(r.documentSubIndication, 'HASH_FAILURE');
    assert.ok(ms < 2000, `${ms} ms`);
  });

  describe('990 references to elements under 8,991 inherited declarations: FORMAT_FAILURE (a work budget) < 2 s', () => {
    const wrappers = Array.from({ length: 9 }, (_, w) => `<w${w} ${decls(999, `n${w}_`)}>`).join('');
    const closing = Array.from({ length: 9 }, (_, w) => `</w${8 - w}>`).join('');
    const inScope = Array.from({ length: 9 }, (_, w) => Array.from({ length: 999 }, (_, i) => [`n${w}_${i}`, `urn:n${w}_:${i}`] as const)).flat()
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([p, u]) => ` xmlns:${p}="${u}"`).join('');
    // digests anyone can compute (no key needed): every reference is processed before the signature value is checked
    const cases: [string, string, (i: number) => string, RegExp][] = [
      ['inclusive C14N (each reference renders 8,991 namespaces): the verifier\'s processing budget', C14N.c14n10, (i) => `<e${inScope} Id="i${i}"></e>`, /processing budget/],
      ['exclusive C14N (tiny output, 18,000 units of apex work each): the canonicalization work budget', C14N.exc, (i) => `<e Id="i${i}"></e>`, /canonicalization work budget/],
    ];
    for (const [name, c14n, canonical, why] of cases) {
      it(name, async () => {
        const signed = Buffer.from(await signXml('<doc>' + wrappers + Array.from({ length: 990 }, (_, i) => `<e Id="i${i}"/>`).join('') + closing + '</doc>', { backend: rsa, level: 'XMLDSIG' })).toString();
        const ref = (i: number) => `<ds:Reference URI="#i${i}"><ds:Transforms><ds:Transform Algorithm="${c14n}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/>`
          + `<ds:DigestValue>${createHash('sha256').update(canonical(i)).digest('base64')}</ds:DigestValue></ds:Reference>`;
        const doc = signed.replace('</ds:SignedInfo>', Array.from({ length: 990 }, (_, i) => ref(i)).join('') + '</ds:SignedInfo>');
        const { r, ms } = await timed(doc, policy);
        assert.equal(r.documentIndication, 'TOTAL_FAILED');
        assert.equal(r.documentSubIndication, 'FORMAT_FAILURE', JSON.stringify(r.signatures[0]?.message));
        assert.match(r.signatures[0]!.message, why);
        assert.ok(ms < 2000, `${ms} ms`);
      });
    }
    it('the same with 100 references stays under both budgets: the digests are right, only the signature value fails', async () => {
      const signed = Buffer.from(await signXml('<doc>' + wrappers + Array.from({ length: 990 }, (_, i) => `<e Id="i${i}"/>`).join('') + closing + '</doc>', { backend: rsa, level: 'XMLDSIG' })).toString();
      const ref = (i: number) => `<ds:Reference URI="#i${i}"><ds:Transforms><ds:Transform Algorithm="${C14N.exc}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/>`
        + `<ds:DigestValue>${createHash('sha256').update(`<e Id="i${i}"></e>`).digest('base64')}</ds:DigestValue></ds:Reference>`;
      const doc = signed.replace('</ds:SignedInfo>', Array.from({ length: 100 }, (_, i) => ref(i)).join('') + '</ds:SignedInfo>');
      const { r, ms } = await timed(doc, policy);
      assert.equal(r.documentIndication, 'INDETERMINATE');
      assert.equal(r.documentSubIndication, 'NO_SIGNING_CERTIFICATE_FOUND', r.signatures[0]?.message);
      assert.doesNotMatch(JSON.stringify(r), /budget|digest does not match/);
      assert.ok(ms < 2000, `${ms} ms`);
    });
  });

  it('a PrefixList of more than 10,000 entries: FORMAT_FAILURE (XML_TOO_LARGE) < 2 s, whichever path verifies it', async () => {
    const signed = Buffer.from(await signXml('<doc xmlns="urn:x"><a Id="a1">hello</a></doc>', { backend: rsa })).toString();
    const huge = Array.from({ length: 10_001 }, (_, i) => `p${i}`).join(' ');
    const sig = sigOf(signed).replace(`<ds:Transform Algorithm="${C14N.exc}"/></ds:Transforms>`,
      `<ds:Transform Algorithm="${C14N.exc}"><ec:InclusiveNamespaces xmlns:ec="${C14N.exc}" PrefixList="${huge}"/></ds:Transform></ds:Transforms>`);
    assert.notEqual(sig, sigOf(signed));
    // whole-document reference (the streaming fast path may take it) and the same in a document it declines (a comment)
    for (const doc of ['<doc xmlns="urn:x"><a Id="a1">hello</a>' + sig + '</doc>', '<doc xmlns="urn:x"><!-- c --><a Id="a1">hello</a><![CDATA[ ]]>' + sig + '</doc>']) {
      const { r, ms } = await timed(doc, policy);
      assert.equal(r.documentIndication, 'TOTAL_FAILED');
      assert.equal(r.documentSubIndication, 'FORMAT_FAILURE', JSON.stringify(r));
      assert.match(JSON.stringify(r), /PrefixList has 10001 entries/);
      assert.ok(ms < 2000, `${ms} ms`);
    }
  });

  it('990 references after 200,000 siblings (pathOf took ~16 s before): HASH_FAILURE < 2 s, paths in the report exact', async () => {
    const signed = Buffer.from(await signXml('<doc><a>hello</a></doc>', { backend: rsa })).toString();
    const ref = (i: number) => `<ds:Reference URI="#i${i}"><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>`;
    const sig = sigOf(signed).replace('</ds:SignedInfo>', Array.from({ length: 990 }, (_, i) => ref(i)).join('') + '</ds:SignedInfo>');
    const doc = '<doc>' + '<e/>'.repeat(200_000) + Array.from({ length: 990 }, (_, i) => `<e Id="i${i}"/>`).join('') + sig + '</doc>';
    const { r, ms } = await timed(doc, policy);
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    assert.equal(r.documentSubIndication, 'HASH_FAILURE');
    const text = JSON.stringify(r);
    assert.ok(text.includes('"/doc[1]/e[200001]"') && text.includes('"/doc[1]/e[200990]"'), 'paths of the first and last referenced elements');
    assert.ok(ms < 2000, `${ms} ms`);
  });
});
