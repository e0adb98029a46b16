import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { verifyCms, type Fetcher, type ValidationReport } from '@kyso/verifier';
import { makeMiniPki, type MiniPki } from './helpers/openssl-pki.js';

function one(r: ValidationReport) {
  assert.equal(r.signatures.length, 1);
  return r.signatures[0]!;
}

describe('verifier: detached CMS / CAdES (openssl-made PKI)', function () {
  this.timeout(60_000);
  let pki: MiniPki;
  let data: string;
  let policy: { trustAnchors: string[]; offline: boolean };
  let vd: { validationData: { crls: Uint8Array[] } };
  let good: Uint8Array;

  before(() => {
    pki = makeMiniPki();
    data = join(pki.dir, 'data.bin');
    writeFileSync(data, 'Đơn đề nghị cấp giấy phép — hello');
    policy = { trustAnchors: [pki.rootPem], offline: true };
    vd = { validationData: { crls: [pki.crlDer, pki.rootCrlDer] } };
    good = pki.signCms('good', data);
  });

  it('a CAdES-B signature chained to the trusted root with CRLs is TOTAL_PASSED', async () => {
    const r = await verifyCms(good, data, policy, vd);
    const s = one(r);
    assert.equal(r.documentIndication, 'TOTAL_PASSED');
    assert.equal(s.indication, 'TOTAL_PASSED');
    assert.equal(s.subIndication, null);
    assert.equal(s.level, 'CAdES-BASELINE-B');
    assert.equal(s.intact, true);
    assert.match(s.signer!.subject, /CN=Leaf good/);
    assert.deepEqual(s.signer!.personalIdentifiers, ['CCCD:001094']);
    assert.equal(s.signer!.chain!.length, 3);
    assert.ok(s.signingTime, 'claimed signing-time is reported');
    assert.equal(s.timestamp, null);
    assert.equal(s.coverage.dataSize, readFileSync(data).length);
    assert.ok(s.revocation.every((x) => x.status === 'good' && x.source === 'embedded CRL'));
  });

  it('the data path and the data bytes give the same verdict', async () => {
    const r = await verifyCms(good, new Uint8Array(readFileSync(data)), policy, vd);
    assert.equal(one(r).indication, 'TOTAL_PASSED');
  });

  it('changed data → TOTAL_FAILED / HASH_FAILURE (CV)', async () => {
    const s = one(await verifyCms(good, new TextEncoder().encode('something else'), policy, vd));
    assert.equal(s.indication, 'TOTAL_FAILED');
    assert.equal(s.subIndication, 'HASH_FAILURE');
    assert.equal(s.block, 'CV');
    assert.equal(s.intact, false);
  });

  it('a corrupted signature value → TOTAL_FAILED / SIG_CRYPTO_FAILURE', async () => {
    const asn = asn1js.fromBER(good.slice().buffer);
    const ci = new pkijs.ContentInfo({ schema: asn.result });
    const sd = new pkijs.SignedData({ schema: ci.content });
    const sig = new Uint8Array(sd.signerInfos[0]!.signature.valueBlock.valueHexView);
    sig[10] = sig[10]! ^ 0xff;
    sd.signerInfos[0]!.signature = new asn1js.OctetString({ valueHex: sig.buffer });
    const der = new Uint8Array(new pkijs.ContentInfo({ contentType: ci.contentType, content: sd.toSchema(true) }).toSchema().toBER(false));
    const s = one(await verifyCms(der, data, policy, vd));
    assert.equal(s.indication, 'TOTAL_FAILED');
    assert.equal(s.subIndication, 'SIG_CRYPTO_FAILURE');
  });

  it('a substituted signer certificate is caught by signing-certificate-v2 (ISC)', async () => {
    // Put the "ec" leaf's certificate in place of the signer's, with the sid pointing at it.
    const asn = asn1js.fromBER(good.slice().buffer);
    const ci = new pkijs.ContentInfo({ schema: asn.result });
    const sd = new pkijs.SignedData({ schema: ci.content });
    const otherPem = readFileSync(pki.leaf('small').cert, 'latin1');
    const otherDer = Buffer.from(otherPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const other = new pkijs.Certificate({ schema: asn1js.fromBER(new Uint8Array(otherDer).buffer).result });
    sd.certificates = [other, ...(sd.certificates ?? []).slice(1)];
    sd.signerInfos[0]!.sid = new pkijs.IssuerAndSerialNumber({ issuer: other.issuer, serialNumber: other.serialNumber });
    const der = new Uint8Array(new pkijs.ContentInfo({ contentType: ci.contentType, content: sd.toSchema(true) }).toSchema().toBER(false));
    const s = one(await verifyCms(der, data, policy, vd));
    assert.equal(s.indication, 'INDETERMINATE');
    assert.equal(s.subIndication, 'NO_SIGNING_CERTIFICATE_FOUND');
    assert.equal(s.block, 'ISC');
    assert.match(s.message, /signing-certificate-v2/);
  });

  it('without a trust anchor → INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND, still intact', async () => {
    const s = one(await verifyCms(good, data, { offline: true }, vd));
    assert.equal(s.indication, 'INDETERMINATE');
    assert.equal(s.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
    assert.equal(s.intact, true);
  });

  it('another root as anchor → NO_CERTIFICATE_CHAIN_FOUND', async () => {
    const other = makeMiniPki();
    const s = one(await verifyCms(good, data, { trustAnchors: [other.rootPem], offline: true }, vd));
    assert.equal(s.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
  });

  it('revoked signer (embedded CRL) → TOTAL_FAILED / REVOKED naming the reason', async () => {
    const s = one(await verifyCms(pki.signCms('revoked', data), data, policy, vd));
    assert.equal(s.indication, 'TOTAL_FAILED');
    assert.equal(s.subIndication, 'REVOKED');
    assert.match(s.message, /keyCompromise/);
  });

  it('an old embedded CRL (issued before the revocation) cannot hide it once it is no longer current', async () => {
    const revokedSig = pki.signCms('revoked', data);
    const stale = { validationData: { crls: [pki.preRevocationCrlDer, pki.rootCrlDer] } };
    const later = new Date(Date.now() + 60 * 86400_000); // past the CRL's nextUpdate (30 days)
    const s = one(await verifyCms(revokedSig, data, { ...policy, validationTime: later }, stale));
    assert.notEqual(s.indication, 'TOTAL_PASSED');
    assert.equal(s.subIndication, 'TRY_LATER');
    assert.match(s.message, /too old/);
    // With the current CRL the revocation is found.
    assert.equal(one(await verifyCms(revokedSig, data, policy, vd)).subIndication, 'REVOKED');
  });

  it('no revocation data offline → INDETERMINATE / TRY_LATER when required, passes when soft-fail', async () => {
    const s = one(await verifyCms(good, data, policy));
    assert.equal(s.indication, 'INDETERMINATE');
    assert.equal(s.subIndication, 'TRY_LATER');
    const s2 = one(await verifyCms(good, data, { ...policy, revocationRequired: false }));
    assert.equal(s2.indication, 'TOTAL_PASSED');
    assert.ok(s2.checks.some((c) => c.status === 'warning' && /revocation status/.test(c.message)));
  });

  it('--offline never touches the network; online mode asks the fetcher', async () => {
    let calls = 0;
    const fetcher: Fetcher = { async fetch() { calls++; return undefined; } };
    await verifyCms(good, data, { ...policy, offline: true }, { fetcher });
    // The openssl leaves have no AIA/CRLDP: even online there is nothing to fetch.
    assert.equal(calls, 0);
  });

  it('expired signer without timestamp → INDETERMINATE / OUT_OF_BOUNDS_NO_POE', async () => {
    const s = one(await verifyCms(pki.signCms('expired', data), data, policy, vd));
    assert.equal(s.indication, 'INDETERMINATE');
    assert.equal(s.subIndication, 'OUT_OF_BOUNDS_NO_POE');
    assert.equal(s.block, 'PSV');
  });

  it('validation before the certificate was issued → TOTAL_FAILED / NOT_YET_VALID', async () => {
    const s = one(await verifyCms(good, data, { ...policy, validationTime: new Date('2020-06-01T00:00:00Z') }, vd));
    assert.equal(s.indication, 'TOTAL_FAILED');
    assert.equal(s.subIndication, 'NOT_YET_VALID');
  });

  it('ECDSA P-256 and RSASSA-PSS signatures verify', async () => {
    assert.equal(one(await verifyCms(pki.signCms('ec', data), data, policy, vd)).indication, 'TOTAL_PASSED');
    const pss = one(await verifyCms(pki.signCms('good', data, { pss: true }), data, policy, vd));
    assert.equal(pss.indication, 'TOTAL_PASSED');
    assert.match(pss.signatureAlgorithm!, /RSASSA-PSS\/SHA-256/);
  });

  it('signatures without signed attributes verify (RSA and ECDSA)', async () => {
    for (const leaf of ['good', 'ec']) {
      const s = one(await verifyCms(pki.signCms(leaf, data, { noattr: true, cades: false }), data, policy, vd));
      assert.equal(s.indication, 'TOTAL_PASSED', `${leaf}: ${s.message}`);
      assert.equal(s.level, 'CMS');
    }
    const bad = one(await verifyCms(pki.signCms('ec', data, { noattr: true, cades: false }), new TextEncoder().encode('x'), policy, vd));
    assert.equal(bad.indication, 'TOTAL_FAILED');
    assert.equal(bad.subIndication, 'SIG_CRYPTO_FAILURE');
  });

  it('crypto constraints: SHA-1 and RSA-1024 → INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE (SAV); policy can allow them', async () => {
    const sha1 = one(await verifyCms(pki.signCms('good', data, { md: 'sha1' }), data, policy, vd));
    assert.equal(sha1.subIndication, 'CRYPTO_CONSTRAINTS_FAILURE');
    assert.equal(sha1.block, 'SAV');
    assert.equal(sha1.intact, true);
    const small = one(await verifyCms(pki.signCms('small', data), data, policy, vd));
    assert.equal(small.subIndication, 'CRYPTO_CONSTRAINTS_FAILURE');
    assert.match(small.message, /1024/);
    const allowed = one(await verifyCms(pki.signCms('small', data), data, { ...policy, minRsaBits: 1024 }, vd));
    assert.equal(allowed.indication, 'TOTAL_PASSED');
  });

  it('a signer certificate without signing key usage → INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE', async () => {
    const s = one(await verifyCms(pki.signCms('enc', data), data, policy, vd));
    assert.equal(s.subIndication, 'CHAIN_CONSTRAINTS_FAILURE');
  });

  it('an unknown critical extension in the signer certificate fails closed (CHAIN_CONSTRAINTS_FAILURE)', async () => {
    const s = one(await verifyCms(pki.signCms('critext', data), data, policy, vd));
    assert.equal(s.indication, 'INDETERMINATE');
    assert.equal(s.subIndication, 'CHAIN_CONSTRAINTS_FAILURE');
    assert.match(s.message, /1\.3\.6\.1\.4\.1\.99999\.7/);
  });

  it('missing data → INDETERMINATE / SIGNED_DATA_NOT_FOUND', async () => {
    const s = one(await verifyCms(good, undefined, policy, vd));
    assert.equal(s.indication, 'INDETERMINATE');
    assert.equal(s.subIndication, 'SIGNED_DATA_NOT_FOUND');
  });

  it('an attached CMS (.p7m) validates from its encapsulated content; a different data file is a HASH_FAILURE', async () => {
    const p7m = pki.signCms('good', data, { attached: true });
    const s = one(await verifyCms(p7m, undefined, policy, vd));
    assert.equal(s.indication, 'TOTAL_PASSED', s.message);
    assert.equal(one(await verifyCms(p7m, data, policy, vd)).indication, 'TOTAL_PASSED');
    assert.equal(one(await verifyCms(p7m, new TextEncoder().encode('other'), policy, vd)).subIndication, 'HASH_FAILURE');
  });

  it('PEM-armoured CMS is accepted', async () => {
    const pem = `-----BEGIN CMS-----\n${Buffer.from(good).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CMS-----\n`;
    assert.equal(one(await verifyCms(new TextEncoder().encode(pem), data, policy, vd)).indication, 'TOTAL_PASSED');
  });

  it('malformed DER of every truncation length → FORMAT_FAILURE report, never a throw', async () => {
    for (const n of [0, 1, 2, 10, 50, 200, good.length - 1]) {
      const r = await verifyCms(good.subarray(0, n), data, policy, vd);
      assert.equal(r.documentIndication, 'TOTAL_FAILED', `length ${n}`);
      assert.equal(r.signatures[0]!.subIndication, 'FORMAT_FAILURE');
    }
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff);
    const r = await verifyCms(garbage, data, policy, vd);
    assert.equal(r.signatures[0]!.subIndication, 'FORMAT_FAILURE');
  });
});
