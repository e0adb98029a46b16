import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, constants } from 'node:crypto';
import * as pkijs from 'pkijs';
import { getTestPki } from '@kyso/fixtures';
import {
  OIDS, oidName, pemBlocks, pemToDer, toPem, toDer, isPem, describeCertificate, signBytes, pkijsSignatureAlgorithm, pssParams, keyFamily, setupCrypto,
} from '@kyso/pki';

describe('@kyso/pki helpers', function () {
  this.timeout(30_000);

  it('PEM <-> DER round trip keeps labels and order; garbage and missing labels are errors', () => {
    const a = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]);
    const b = new Uint8Array(200).map((_, i) => i);
    const text = `junk\n${toPem(a)}more junk\n${toPem(b, 'X509 CRL')}`;
    const blocks = pemBlocks(text);
    assert.deepEqual(blocks.map((x) => x.label), ['CERTIFICATE', 'X509 CRL']);
    assert.deepEqual(blocks[1]!.der, b);
    assert.deepEqual(pemToDer(text, 'X509 CRL'), b);
    assert.deepEqual(pemToDer(text), a);
    assert.throws(() => pemToDer(text, 'PRIVATE KEY'), /no PEM block "PRIVATE KEY"/);
    assert.throws(() => pemToDer('nothing here'), (e: Error & { code?: string }) => e.code === 'CERT_PARSE');
    assert.ok(isPem(Buffer.from(text)));
    assert.ok(!isPem(a));
    assert.deepEqual(toDer(a), a);
    assert.deepEqual(toDer(Buffer.from(toPem(a))), a);
    // mismatched BEGIN/END labels and non-base64 bodies are not blocks
    assert.equal(pemBlocks('-----BEGIN A-----\nAAAA\n-----END B-----').length, 0);
    assert.equal(pemBlocks('-----BEGIN A-----\n!!!!\n-----END A-----').length, 0);
    assert.match(toPem(b), /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  });

  it('OIDS and oidName', () => {
    assert.equal(OIDS.signingCertificateV2, '1.2.840.113549.1.9.16.2.47');
    assert.equal(OIDS.signatureTimeStampToken, '1.2.840.113549.1.9.16.2.14');
    assert.equal(oidName('2.5.4.97'), 'organizationIdentifier');
    assert.equal(oidName('1.2.3.4.5'), '1.2.3.4.5');
  });

  it('describeCertificate on the test PKI: subject fields, serial, key, extensions', async () => {
    const pki = await getTestPki();
    const { certificate, summary } = describeCertificate(pki.identities.agency.certPem);
    assert.ok(certificate instanceof pkijs.Certificate);
    assert.equal(summary.serialHex, pki.identities.agency.serialHex.replace(/^(00)+/, ''));
    assert.equal(summary.subject.organizationIdentifier, 'NTRVN-0101234567');
    assert.equal(summary.keyAlgorithm, 'RSA');
    assert.equal(summary.keySize, 3072);
    assert.equal(summary.issuer.commonName, 'Government CA (TEST)');
    assert.equal(summary.signatureAlgorithm, 'sha256WithRSAEncryption');
    assert.match(summary.subject.text, /^C=VN, L=Hà Nội, O=Sở Tư pháp/);
    const ec = describeCertificate(pki.identities.citizenP384.certDer).summary;
    assert.equal(ec.keyAlgorithm, 'EC');
    assert.equal(ec.curve, 'secp384r1');
    assert.equal(ec.keySize, 384);
    assert.equal(describeCertificate(pki.rootDer).summary.isCA, true);
  });

  it('signBytes + pkijsSignatureAlgorithm: RSA PKCS#1, RSA-PSS, ECDSA (DER) verify with Node', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const data = new Uint8Array(Buffer.from('kyso'));
    const s1 = signBytes(rsa, { hash: 'SHA-256' }, data);
    assert.ok(verify('sha256', data, createPublicKey(rsa), s1));
    const s2 = signBytes(rsa, { hash: 'SHA-384', pss: true }, data);
    assert.ok(verify('sha384', data, { key: createPublicKey(rsa), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, s2));
    const s3 = signBytes(ec, { hash: 'SHA-256' }, data);
    assert.equal(s3[0], 0x30, 'ECDSA signature is DER');
    assert.ok(verify('sha256', data, createPublicKey(ec), s3));
    assert.equal(pkijsSignatureAlgorithm(rsa, { hash: 'SHA-512' }).algorithmId, OIDS.sha512WithRSAEncryption);
    assert.equal(pkijsSignatureAlgorithm(ec, { hash: 'SHA-384' }).algorithmId, OIDS.ecdsaWithSHA384);
    const pss = pkijsSignatureAlgorithm(rsa, { hash: 'SHA-256', pss: true });
    assert.equal(pss.algorithmId, OIDS.rsassaPss);
    const params = new pkijs.RSASSAPSSParams({ schema: pss.algorithmParams });
    assert.equal(params.saltLength, 32);
    assert.equal(params.hashAlgorithm.algorithmId, OIDS.sha256);
    assert.equal(pssParams('SHA-512').saltLength, 64);
    assert.throws(() => pkijsSignatureAlgorithm(ec, { hash: 'SHA-256', pss: true }), /RSA key/);
    assert.equal(keyFamily(createPublicKey(ec)), 'EC');
    assert.throws(() => keyFamily(generateKeyPairSync('ed25519').privateKey), /unsupported key type/);
  });

  it('setupCrypto is idempotent and gives pkijs an engine', () => {
    setupCrypto();
    setupCrypto();
    assert.ok(pkijs.getEngine().crypto);
  });
});
