/**
 * Cross-package: CAdES detached signatures (@kyso/signer crypto layer) and the TSA / OCSP / CRL
 * clients (@kyso/pki) against the fixture PKI and its servers (@kyso/fixtures getTestPki()).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestPki, type TestPki, type FixtureServers } from '@kyso/fixtures';
import { CertInfo, digest, fetchCrl, fetchOcsp, crlStatus, parseCertificate, pemToDerList, requestTimestamp } from '@kyso/pki';
import {
  SignerError, attributeValues, loadPemFiles, loadPkcs12File, parseSignedData, signDetached, OID, type CadesLevel,
  prepareCms, finalizeCms, addSignatureTimestamp, openPkcs11Backend, storeCertificateOnToken,
} from '@kyso/signer';

function opensslCmsVerify(cms: Uint8Array, contentPath: string, caPath: string, dir: string): string {
  const p = join(dir, `v-${Math.random().toString(36).slice(2)}.p7s`);
  writeFileSync(p, cms);
  return execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p, '-content', contentPath, '-CAfile', caPath, '-purpose', 'any', '-out', '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString()
    + 'ok';
}

describe('CAdES detached signatures with the fixture PKI (getTestPki)', function () {
  this.timeout(120_000);
  let pki: TestPki & { servers: FixtureServers };
  let dir = '';
  let contentPath = '';

  before(async () => {
    pki = await getTestPki();
    dir = mkdtempSync(join(tmpdir(), 'kyso-cades-fx-'));
    contentPath = join(dir, 'hoso.txt');
    writeFileSync(contentPath, 'Tờ khai đăng ký hộ tịch — kyso\n'.repeat(500));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const levels: CadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];
  for (const id of ['citizen1', 'citizen2', 'citizenPss', 'citizenP384', 'agency']) {
    it(`${id}: PKCS#12 key signs .p7s at ${levels.join(', ')}; openssl cms -verify accepts each`, async function () {
      const ident = pki.identities[id];
      assert.ok(ident, `fixture identity ${id} missing`);
      const backend = await loadPkcs12File(ident.p12Path, ident.password);
      for (const level of levels) {
        const r = await signDetached(contentPath, { backend, level, tsaUrl: pki.servers.tsaUrl });
        assert.match(opensslCmsVerify(r.cms, contentPath, pki.rootPath, dir), /ok$/);
        const p = parseSignedData(r.cms);
        assert.equal(attributeValues(p.unsignedAttrs, OID.signatureTimeStampToken).length, level === 'B-B' ? 0 : 1, level);
        assert.equal(attributeValues(p.unsignedAttrs, OID.archiveTimeStampV3).length, level === 'B-LTA' ? 1 : 0, level);
        if (level === 'B-LT' || level === 'B-LTA') {
          assert.ok(p.crls.length >= 1, 'revocation data embedded');
          const missing = r.validationData!.details.filter((d) => d.status === 'unavailable');
          assert.deepEqual(missing, [], 'every certificate has revocation data or is an anchor');
        }
      }
      await backend.close();
    });
  }

  it('B-T: the signature timestamp verifies with openssl ts -verify against the fixture root', async () => {
    const ident = pki.identities.citizen1;
    const backend = await loadPemFiles({ keyPath: ident.keyPath, certPath: ident.certPath, chainPath: ident.chainPath, password: ident.password });
    const r = await signDetached(contentPath, { backend, level: 'B-T', tsaUrl: pki.servers.tsaUrl, signingTime: false });
    const p = parseSignedData(r.cms);
    const [token] = attributeValues(p.unsignedAttrs, OID.signatureTimeStampToken);
    const tokPath = join(dir, 'sig-ts.der');
    writeFileSync(tokPath, token!);
    const out = execFileSync('openssl', ['ts', '-verify', '-digest', Buffer.from(digest('SHA-256', p.signature)).toString('hex'), '-in', tokPath, '-token_in',
      '-CAfile', pki.rootPath, '-untrusted', pki.intermediatePath], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    assert.match(out, /Verification: OK/);
  });

  it('OCSP from the fixture responder: good for citizen1, revoked for the revoked identity; CRL lists the revoked serial', async () => {
    const issuer = parseCertificate(pki.intermediatePem);
    const good = await fetchOcsp(new CertInfo(pki.identities.citizen1.certDer), issuer, { cache: false });
    assert.equal(good.status, 'good');
    const rev = await fetchOcsp(new CertInfo(pki.identities.revoked.certDer), issuer, { cache: false });
    assert.equal(rev.status, 'revoked');
    const crlUrl = new CertInfo(pki.identities.citizen1.certDer).crlUrls[0] ?? pki.servers.crlUrl;
    const crl = await fetchCrl(crlUrl, issuer, { cache: false });
    assert.equal(crlStatus(crl, new CertInfo(pki.identities.revoked.certDer)).status, 'revoked');
    assert.equal(crlStatus(crl, new CertInfo(pki.identities.citizen1.certDer)).status, 'good');
  });

  it('refuses to sign with the revoked or the expired identity unless overridden', async () => {
    const rev = pki.identities.revoked;
    const rb = await loadPemFiles({ keyPath: rev.keyPath, certPath: rev.certPath, chainPath: rev.chainPath, password: rev.password });
    await assert.rejects(signDetached(contentPath, { backend: rb }), (e: unknown) => e instanceof SignerError && e.code === 'CERT_REVOKED');
    const ok = await signDetached(contentPath, { backend: rb, allowRevoked: true });
    assert.ok(ok.cms.length > 0);
    const exp = pki.identities.expired;
    const eb = await loadPemFiles({ keyPath: exp.keyPath, certPath: exp.certPath, chainPath: exp.chainPath, password: exp.password });
    await assert.rejects(signDetached(contentPath, { backend: eb }), (e: unknown) => e instanceof SignerError && e.code === 'CERT_EXPIRED');
  });

  it('PKCS#11: the fixture citizen1 key imported into SoftHSM2 signs a B-LT .p7s that openssl accepts', async () => {
    const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
    const hsm = mkdtempSync(join(tmpdir(), 'kyso-cades-hsm-'));
    const prev = process.env.SOFTHSM2_CONF;
    try {
      mkdirSync(join(hsm, 'tokens'));
      writeFileSync(join(hsm, 'softhsm2.conf'), `directories.tokendir = ${join(hsm, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
      process.env.SOFTHSM2_CONF = join(hsm, 'softhsm2.conf');
      const ident = pki.identities.citizen1;
      writeFileSync(join(hsm, 'k.pem'), ident.keyPem, { mode: 0o600 });
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'citizen', '--pin', '2468', '--so-pin', '13579135'], { stdio: 'ignore' });
      execFileSync('softhsm2-util', ['--import', join(hsm, 'k.pem'), '--token', 'citizen', '--label', 'citizen1', '--id', 'c1', '--pin', '2468'], { stdio: 'ignore' });
      rmSync(join(hsm, 'k.pem'));
      await storeCertificateOnToken({ module: MODULE, token: 'citizen', pin: '2468', label: 'citizen1', id: 'c1', certificate: ident.certDer });
      const backend = await openPkcs11Backend({ module: MODULE, token: 'citizen', pin: '2468', keyLabel: 'citizen1', chain: ident.chainPems.flatMap((p) => pemToDerList(p)) });
      try {
        const r = await signDetached(contentPath, { backend, level: 'B-LT', tsaUrl: pki.servers.tsaUrl });
        assert.match(opensslCmsVerify(r.cms, contentPath, pki.rootPath, dir), /ok$/);
        assert.ok(r.validationData!.ocsps.length >= 1);
      } finally { await backend.close(); }
    } finally {
      if (prev === undefined) delete process.env.SOFTHSM2_CONF; else process.env.SOFTHSM2_CONF = prev;
      rmSync(hsm, { recursive: true, force: true });
    }
  });

  it('fixture TSA honours nonce and imprint; two-step signing then timestamp works with the fixture TSA', async () => {
    const imprint = digest('SHA-384', Buffer.from('kyso'));
    const t = await requestTimestamp(pki.servers.tsaUrl, imprint, 'SHA-384');
    assert.equal(t.hash, 'SHA-384');
    const ident = pki.identities.citizen2;
    const backend = await loadPemFiles({ keyPath: ident.keyPath, certPath: ident.certPath, chainPath: ident.chainPath, password: ident.password });
    const prepared = prepareCms({ contentDigest: digest('SHA-256', readFileSync(contentPath)), hash: 'SHA-256', certificate: backend.certificate, chain: backend.chain });
    const state = JSON.parse(JSON.stringify(prepared.state));
    const sig = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digestToSign }, prepared.signatureAlgorithm);
    const cms = await addSignatureTimestamp(finalizeCms(state, sig), { url: pki.servers.tsaUrl });
    assert.match(opensslCmsVerify(cms, contentPath, pki.rootPath, dir), /ok$/);
  });
});
