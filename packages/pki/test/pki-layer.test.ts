import assert from 'node:assert/strict';
import { createHash, createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { getTestPki, loadCaContext, answerOcspRequest, type CaContext } from '@kyso/fixtures';
import {
  CertInfo, OIDS, PkiClientError, buildOcspRequest, checkCrl, evaluateCrl, evaluateOcsp, hash, nodeDigestName, parseCertificates,
  pemToDer, signBytes, tryCert, verifyCertificateSignature,
} from '@kyso/pki';

// The one PKI layer (issue 11, point 2): certificate model, name handling, CRL / OCSP evaluation with one rule set,
// signature verification and digest names, as the signer and the verifier both use them.

type Pki = Awaited<ReturnType<typeof getTestPki>>;

/** Re-signs a CRL of the intermediate after `edit` changed it (so only the edit differs). */
function resignCrl(ctx: CaContext, der: Uint8Array, edit: (crl: pkijs.CertificateRevocationList) => void, key = ctx.intermediate.key): Uint8Array {
  const crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
  edit(crl);
  const tbs = new Uint8Array((crl as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS().toBER(false));
  crl.signatureValue = new asn1js.BitString({ valueHex: signBytes(key, { hash: 'SHA-256' }, tbs) });
  return new Uint8Array(crl.toSchema(true).toBER(false));
}

describe('@kyso/pki: the one X.509 / OCSP / CRL layer', function () {
  this.timeout(60_000);
  let pki: Pki;
  let ctx: CaContext;
  let leaf: CertInfo;
  let inter: CertInfo;
  let revoked: CertInfo;

  before(async () => {
    pki = await getTestPki();
    ctx = await loadCaContext(pki);
    leaf = new CertInfo(pemToDer(pki.identities.citizen1!.certPem));
    revoked = new CertInfo(pemToDer(pki.identities.revoked!.certPem));
    inter = new CertInfo(ctx.intermediate.der);
  });

  it('digest names are a table: SHA-384 is sha384 (the verifier used to compute "sha3-84"), SHA3-384 is sha3-384', () => {
    assert.equal(nodeDigestName('SHA-384'), 'sha384');
    assert.equal(nodeDigestName('SHA3-384'), 'sha3-384');
    assert.equal(nodeDigestName('SHA-1'), 'sha1');
    const data = new Uint8Array(Buffer.from('kyso'));
    for (const [n, node] of [['SHA-256', 'sha256'], ['SHA-384', 'sha384'], ['SHA-512', 'sha512'], ['SHA3-256', 'sha3-256']] as const) {
      assert.deepEqual(Buffer.from(hash(n, data)), createHash(node).update(data).digest(), n);
    }
  });

  it('CertInfo: RFC 4514 names (most specific first), key identifiers, usages, issuance checked by signature', () => {
    assert.match(leaf.subject, /^CN=Nguyễn Văn An, serialNumber=CCCD:001090000001, L=Hà Nội, C=VN$/);
    assert.equal(leaf.issuerKey, inter.subjectKey);
    assert.deepEqual([...leaf.keyUsage!].sort(), ['digitalSignature', 'nonRepudiation']);
    assert.equal(leaf.extKeyUsage, undefined, 'absent EKU is undefined, not empty');
    assert.deepEqual(leaf.extKeyUsages, []);
    assert.ok(leaf.aki && leaf.aki === inter.ski);
    assert.ok(leaf.isIssuedBy(inter));
    assert.ok(verifyCertificateSignature(leaf, inter));
    assert.ok(!leaf.isIssuedBy(leaf));
    assert.ok(leaf.ocspUrls[0]?.startsWith('http://'));
    assert.ok(leaf.crlUrls[0]?.startsWith('http://'));
    const tsa = new CertInfo(pemToDer(pki.identities.tsa!.certPem));
    assert.deepEqual(tsa.extKeyUsage, [OIDS.ekuTimeStamping]);
  });

  it('CertInfo: strict (signing) refuses trailing bytes with CERT_PARSE; lenient (validation) models the certificate', () => {
    const padded = new Uint8Array([...leaf.der, 0, 0]);
    assert.throws(() => new CertInfo(padded), (e: unknown) => e instanceof PkiClientError && e.code === 'CERT_PARSE');
    assert.equal(tryCert(padded)?.serialHex, leaf.serialHex);
    assert.equal(tryCert(new Uint8Array([0x30, 0x03, 1, 2, 3])), undefined);
    assert.throws(() => parseCertificates('no pem here'), /no PEM CERTIFICATE block/);
    assert.equal(parseCertificates(pki.identities.citizen1!.certPem).length, 1);
  });

  it('evaluateCrl (the verifier\'s) and checkCrl (the signer\'s) apply the same rules: good, revoked with reason, wrong issuer, bad signature', () => {
    const crl = ctx.crls.intermediate;
    assert.equal(evaluateCrl(crl, leaf, inter)?.status, 'good');
    const r = evaluateCrl(crl, revoked, inter);
    assert.equal(r?.status, 'revoked');
    assert.equal(r?.reason, 'keyCompromise');
    assert.ok(r?.revokedAt instanceof Date);
    assert.equal(evaluateCrl(ctx.crls.root, leaf, inter), undefined, 'a CRL of another issuer does not apply');
    const bad = new Uint8Array(crl); bad[bad.length - 20]! ^= 1;
    assert.equal(evaluateCrl(bad, leaf, inter), undefined);
    assert.throws(() => checkCrl(bad, inter, { at: false }), (e: unknown) => e instanceof PkiClientError && e.code === 'CRL_BAD_SIGNATURE');
  });

  it('one rule set: a CRL with an unknown critical extension, or an entry with an unknown critical extension, is refused by both', () => {
    const critExt = resignCrl(ctx, ctx.crls.intermediate, (c) => {
      c.crlExtensions ??= new pkijs.Extensions({ extensions: [] });
      c.crlExtensions.extensions.push(new pkijs.Extension({ extnID: '1.3.6.1.4.1.32473.9.9', critical: true, extnValue: new asn1js.Null().toBER(false) }));
    });
    assert.throws(() => checkCrl(critExt, inter, { at: false }), /unknown critical extension 1\.3\.6\.1\.4\.1\.32473\.9\.9/);
    assert.equal(evaluateCrl(critExt, leaf, inter), undefined, 'the verifier does not use it either (it used to)');
    const critEntry = resignCrl(ctx, ctx.crls.intermediate, (c) => {
      const e = c.revokedCertificates?.[0];
      assert.ok(e, 'the fixture CRL lists a revoked certificate');
      e.crlEntryExtensions ??= new pkijs.Extensions({ extensions: [] });
      e.crlEntryExtensions.extensions.push(new pkijs.Extension({ extnID: '1.3.6.1.4.1.32473.9.8', critical: true, extnValue: new asn1js.Null().toBER(false) }));
    });
    assert.throws(() => checkCrl(critEntry, inter, { at: false }), /unknown critical entry extension/);
    assert.equal(evaluateCrl(critEntry, leaf, inter), undefined);
    const plain = resignCrl(ctx, ctx.crls.intermediate, () => undefined);
    assert.equal(evaluateCrl(plain, leaf, inter)?.status, 'good', 'a re-signed CRL without the extension is fine');
  });

  it('a CRL signed by a key without cRLSign is refused', () => {
    // citizen1's key signs a CRL under citizen1's name: its keyUsage is digitalSignature/nonRepudiation only.
    const key = createPrivateKey(pki.identities.citizen1!.keyPem);
    const byLeaf = resignCrl(ctx, ctx.crls.intermediate, (c) => { c.issuer = pkijs.Certificate.fromBER(new Uint8Array(leaf.der)).subject; }, key);
    assert.throws(() => checkCrl(byLeaf, leaf, { at: false }), /may not sign CRLs \(keyUsage lacks cRLSign\)/);
  });

  it('evaluateOcsp: the fixture responder\'s answers (delegated responder) are good / revoked; another certificate\'s answer does not apply', () => {
    const ask = (c: CertInfo) => answerOcspRequest(ctx, buildOcspRequest(c, inter)).der;
    const good = evaluateOcsp(ask(leaf), leaf, inter);
    assert.equal(good?.status, 'good');
    const rev = evaluateOcsp(ask(revoked), revoked, inter);
    assert.equal(rev?.status, 'revoked');
    assert.equal(rev?.revocationReason, 1);
    assert.equal(evaluateOcsp(ask(leaf), revoked, inter), undefined);
    const tampered = new Uint8Array(ask(leaf)); tampered[tampered.length - 300]! ^= 1;
    assert.equal(evaluateOcsp(tampered, leaf, inter), undefined);
    assert.equal(evaluateOcsp(new Uint8Array([0x30, 0]), leaf, inter), undefined);
  });
});
