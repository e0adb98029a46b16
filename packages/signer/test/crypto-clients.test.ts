import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import {
  PkiClientError, RevocationCache, checkCrl, digest, fetchCrl, fetchOcsp, parseCertificate, pemToDerList, requestTimestamp,
  verifyTimestampToken, crlStatus, fetchCaIssuers,
} from '@kyso/pki';
import {
  SignerError, checkSignerCertificate, collectValidationData, loadPemFiles, signDetached, addSignatureTimestamp, buildCms,
  attributeValues, parseSignedData, OID, estimateCmsSize, extendCades,
} from '@kyso/signer';
import { atsHashIndexV3, archiveTimestampInput } from '../src/crypto/cms/archive.js';
import { probeTimestampTokenSize } from '../src/crypto/cms/timestamp.js';
import * as asn1js from 'asn1js';
import { opensslVerifyCms, startOpensslServices, type OpensslServices } from './crypto-testpki.js';

function clientCode(code: string) {
  return (e: unknown): boolean => { assert.ok(e instanceof PkiClientError, `expected PkiClientError, got ${String(e)}`); assert.equal(e.code, code, e.message); return true; };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('TSA / OCSP / CRL clients against openssl-backed services', function () {
  this.timeout(60_000);
  let s: OpensslServices;
  let root: ReturnType<typeof parseCertificate>;
  const cert = (p: string) => parseCertificate(readFileSync(p, 'utf8'));

  before(async () => { s = await startOpensslServices(); root = cert(s.rootPath); });
  after(async () => { await s?.close(); });

  it('RFC 3161: token with our imprint and nonce, signature checked; openssl ts -verify accepts it', async () => {
    const imprint = digest('SHA-256', Buffer.from('kyso imprint'));
    const t = await requestTimestamp(s.tsaUrl, imprint, 'SHA-256', { nonce: 0x1234567890abcdefn });
    assert.equal(t.nonce, 0x1234567890abcdefn);
    assert.deepEqual(Buffer.from(t.imprint), Buffer.from(imprint));
    assert.ok(Math.abs(t.genTime.getTime() - Date.now()) < 60_000);
    assert.equal(t.certificates.length, 1, 'certReq asks for the TSA certificate');
    assert.equal(verifyTimestampToken(t.token).subject, cert(s.tsa.certPath).subject);
    const tok = join(s.dir, 'tok.der');
    writeFileSync(tok, t.token);
    const out = execFileSync('openssl', ['ts', '-verify', '-digest', Buffer.from(imprint).toString('hex'), '-in', tok, '-token_in', '-CAfile', s.rootPath], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    assert.match(out, /Verification: OK/);
  });

  it('a token whose TSTInfo was altered fails verifyTimestampToken', async () => {
    const t = await requestTimestamp(s.tsaUrl, digest('SHA-384', Buffer.from('x')), 'SHA-384');
    const bad = Uint8Array.from(t.token);
    const at = Buffer.from(bad).indexOf(Buffer.from(t.imprint));
    assert.ok(at > 0);
    bad[at]! ^= 0xff;
    assert.throws(() => verifyTimestampToken(bad), clientCode('TSA_BAD_SIGNATURE'));
  });

  it('TSA refusal → TSA_REJECTED with the status text; closed port → TSA_UNREACHABLE fast; silent server → TSA_TIMEOUT', async () => {
    s.mode.tsa = 'reject';
    try {
      await assert.rejects(requestTimestamp(s.tsaUrl, digest('SHA-256', Buffer.from('x')), 'SHA-256'), clientCode('TSA_REJECTED'));
    } finally { s.mode.tsa = 'normal'; }
    const t0 = Date.now();
    await assert.rejects(requestTimestamp(`http://127.0.0.1:${await closedPort()}/tsa`, digest('SHA-256', Buffer.from('x')), 'SHA-256'), clientCode('TSA_UNREACHABLE'));
    assert.ok(Date.now() - t0 < 2000, 'unreachable TSA must fail fast');
    const t1 = Date.now();
    await assert.rejects(requestTimestamp(`${s.baseUrl}/slow`, digest('SHA-256', Buffer.from('x')), 'SHA-256', { timeoutMs: 300 }), clientCode('TSA_TIMEOUT'));
    assert.ok(Date.now() - t1 < 2000);
    await assert.rejects(requestTimestamp(`${s.baseUrl}/nothing-here`, digest('SHA-256', Buffer.from('x')), 'SHA-256'), clientCode('HTTP_STATUS'));
    await assert.rejects(requestTimestamp('ftp://example.invalid/tsa', digest('SHA-256', Buffer.from('x')), 'SHA-256'), clientCode('HTTP_BAD_URL'));
  });

  it('garbage and oversized answers give typed errors (TSA_BAD_RESPONSE, OCSP_BAD_RESPONSE, CRL_BAD_RESPONSE, HTTP_TOO_LARGE)', async () => {
    await assert.rejects(requestTimestamp(`${s.baseUrl}/garbage`, digest('SHA-256', Buffer.from('x')), 'SHA-256'), clientCode('TSA_BAD_RESPONSE'));
    await assert.rejects(fetchOcsp(cert(s.good.certPath), root, { cache: false, url: `${s.baseUrl}/garbage` }), clientCode('OCSP_BAD_RESPONSE'));
    await assert.rejects(fetchCrl(`${s.baseUrl}/garbage`, root, { cache: false }), clientCode('CRL_BAD_RESPONSE'));
    await assert.rejects(fetchCrl(`${s.baseUrl}/huge`, root, { cache: false, maxBytes: 4 * 1024 * 1024 }), clientCode('HTTP_TOO_LARGE'));
  });

  it('OCSP: good and revoked (with time) from the delegated responder, nonce echoed, answers cached', async () => {
    const cache = new RevocationCache();
    const before = s.hits['/ocsp'] ?? 0;
    const g = await fetchOcsp(cert(s.good.certPath), root, { cache });
    assert.equal(g.status, 'good');
    assert.equal(g.nonceChecked, true);
    assert.equal(parseCertificate(g.responderCertificate).subject, cert(s.ocsp.certPath).subject);
    const r = await fetchOcsp(cert(s.revoked.certPath), root, { cache });
    assert.equal(r.status, 'revoked');
    assert.ok(r.revocationTime && r.revocationTime.getTime() < Date.now());
    await fetchOcsp(cert(s.good.certPath), root, { cache });
    assert.equal((s.hits['/ocsp'] ?? 0) - before, 2, 'third call served from the cache');
    const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(g.der));
    assert.equal(resp.responseStatus.valueBlock.valueDec, 0);
  });

  it('OCSP: missing nonce tolerated unless required; response signed by an unauthorised certificate refused', async () => {
    s.mode.ocsp = 'no-nonce';
    try {
      const r = await fetchOcsp(cert(s.good.certPath), root, { cache: false });
      assert.equal(r.nonceChecked, false);
      await assert.rejects(fetchOcsp(cert(s.good.certPath), root, { cache: false, requireNonce: true }), clientCode('OCSP_NONCE_MISMATCH'));
    } finally { s.mode.ocsp = 'normal'; }
    s.mode.ocsp = 'wrong-signer';
    try {
      await assert.rejects(fetchOcsp(cert(s.good.certPath), root, { cache: false }), clientCode('OCSP_UNAUTHORIZED_RESPONDER'));
    } finally { s.mode.ocsp = 'normal'; }
    await assert.rejects(fetchOcsp(cert(s.good.certPath), root, { cache: false, url: `http://127.0.0.1:${await closedPort()}/ocsp` }), clientCode('OCSP_UNREACHABLE'));
  });

  it('CRL: signature checked against the issuer, revoked serial found; tampered / foreign CRL refused', async () => {
    const crl = await fetchCrl(s.crlUrl, root, { cache: false });
    assert.equal(crlStatus(crl, cert(s.good.certPath)).status, 'good');
    const rs = crlStatus(crl, cert(s.revoked.certPath));
    assert.equal(rs.status, 'revoked');
    assert.equal(rs.revocationReason, 1);
    const tampered = Uint8Array.from(crl.der);
    tampered[tampered.length - 5]! ^= 1;
    assert.throws(() => checkCrl(tampered, root), clientCode('CRL_BAD_SIGNATURE'));
    assert.throws(() => checkCrl(crl.der, cert(s.good.certPath)), clientCode('CRL_WRONG_ISSUER'));
    assert.throws(() => checkCrl(Uint8Array.from([0x30, 0x03, 0x02, 0x01]), root), (e: unknown) => e instanceof PkiClientError);
  });

  it('CRL scope: a CA-only CRL (issuing distribution point) says nothing about end-entity certificates', async () => {
    writeFileSync(join(s.dir, 'ca-idp.cnf'), readFileSync(join(s.dir, 'ca.cnf'), 'utf8').replace('[ CA_default ]', '[ CA_default ]\ncrl_extensions = crl_ext') +
      '[ crl_ext ]\nissuingDistributionPoint = critical, @idp\n[ idp ]\nonlyCA = TRUE\n');
    execFileSync('openssl', ['ca', '-gencrl', '-config', join(s.dir, 'ca-idp.cnf'), '-out', join(s.dir, 'ca-only.crl.pem')], { cwd: s.dir, stdio: 'ignore' });
    const crl = checkCrl(readFileSync(join(s.dir, 'ca-only.crl.pem')), root);
    assert.equal(crl.scope.onlyCACerts, true);
    assert.equal(crlStatus(crl, cert(s.good.certPath)).status, 'unknown');
    assert.equal(crlStatus(crl, cert(s.revoked.certPath)).status, 'revoked', 'a listed serial is still revoked');
  });

  it('AIA caIssuers: downloads the issuer certificate', async () => {
    const certs = await fetchCaIssuers(cert(s.good.certPath).caIssuersUrls[0]!, { cache: false });
    assert.equal(certs.length, 1);
    assert.equal(parseCertificate(certs[0]!).subject, root.subject);
  });

  it('collectValidationData: issuer via AIA, OCSP for the leaf, responder with ocsp-nocheck, root as anchor', async () => {
    const vd = await collectValidationData([cert(s.good.certPath).der], [], { cache: false });
    assert.equal(vd.ocsps.length, 1);
    const subjects = vd.details.map((d) => `${d.subject}:${d.status}`).sort();
    assert.deepEqual(subjects, [`${cert(s.good.certPath).subject}:good`, `${cert(s.ocsp.certPath).subject}:no-check`, `${root.subject}:trust-anchor`].sort());
    assert.equal(vd.certs.length, 3);
    const both = await collectValidationData([cert(s.good.certPath).der], [], { cache: false, prefer: 'both' });
    assert.equal(both.crls.length, 1);
    const crlOnly = await collectValidationData([cert(s.good.certPath).der, root.der], [], { cache: false, prefer: 'crl' });
    assert.equal(crlOnly.crls.length, 1);
    assert.equal(crlOnly.ocsps.length, 0);
  });

  it('signer check: revoked signer refused (CERT_REVOKED) unless overridden', async () => {
    const rev = cert(s.revoked.certPath);
    await assert.rejects(checkSignerCertificate(rev.der, [root.der], { cache: false }), (e: unknown) => e instanceof SignerError && e.code === 'CERT_REVOKED');
    const ok = await checkSignerCertificate(rev.der, [root.der], { cache: false, allowRevoked: true });
    assert.equal(ok.signer?.status, 'revoked');
    const good = await checkSignerCertificate(cert(s.good.certPath).der, [root.der], { cache: false, requireRevocationInfo: true });
    assert.equal(good.signer?.status, 'good');
    const b = await loadPemFiles({ keyPath: s.revoked.keyPath, certPath: s.revoked.certPath, chainPath: s.rootPath });
    await assert.rejects(signDetached(Buffer.from('x'), { backend: b, validation: { cache: false } }), (e: unknown) => e instanceof SignerError && e.code === 'CERT_REVOKED');
  });

  it('CAdES B-T and B-LT detached signatures: openssl cms and openssl ts accept them', async () => {
    const content = join(s.dir, 'doc.txt');
    writeFileSync(content, 'Đơn đề nghị — kyso\n'.repeat(50));
    const b = await loadPemFiles({ keyPath: s.good.keyPath, certPath: s.good.certPath, chainPath: s.rootPath });
    const t = await signDetached(content, { backend: b, level: 'B-T', tsaUrl: s.tsaUrl, validation: { cache: false } });
    assert.ok(opensslVerifyCms(t.cms, content, s.rootPath).ok);
    const parts = parseSignedData(t.cms);
    const [token] = attributeValues(parts.unsignedAttrs, OID.signatureTimeStampToken);
    assert.ok(token, 'signature-time-stamp attribute present');
    const tokPath = join(s.dir, 'sig-ts.der');
    writeFileSync(tokPath, token);
    const imprintHex = Buffer.from(digest('SHA-256', parts.signature)).toString('hex');
    const out = execFileSync('openssl', ['ts', '-verify', '-digest', imprintHex, '-in', tokPath, '-token_in', '-CAfile', s.rootPath], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    assert.match(out, /Verification: OK/);

    const lt = await signDetached(content, { backend: b, level: 'B-LT', tsaUrl: s.tsaUrl, validation: { cache: false } });
    assert.ok(opensslVerifyCms(lt.cms, content, s.rootPath).ok);
    const ltParts = parseSignedData(lt.cms);
    const ocspEntries = ltParts.crls.filter((c) => c[0] === 0xa1);
    assert.ok(ocspEntries.length >= 1, 'OCSP response embedded as RevocationInfoChoice other');
    const tsaCert = pemToDerList(readFileSync(s.tsa.certPath, 'utf8'))[0]!;
    assert.ok(ltParts.certificates.some((c) => Buffer.from(c).equals(Buffer.from(tsaCert))), 'TSA certificate embedded');
    assert.ok(lt.validationData!.details.every((d) => d.status !== 'unavailable'), JSON.stringify(lt.validationData!.details));
    const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(lt.cms)).content });
    assert.equal(sd.version, 5, 'SignedData v5 when other revocation info is present');
  });

  it('CAdES B-LTA: archive-time-stamp-v3 with ats-hash-index-v3 over the B-LT signature; openssl ts -verify accepts the imprint input', async () => {
    const content = join(s.dir, 'doc-lta.txt');
    writeFileSync(content, 'Hồ sơ lưu trữ dài hạn\n'.repeat(40));
    const b = await loadPemFiles({ keyPath: s.good.keyPath, certPath: s.good.certPath, chainPath: s.rootPath });
    const lta = await signDetached(content, { backend: b, level: 'B-LTA', tsaUrl: s.tsaUrl, validation: { cache: false } });
    assert.ok(opensslVerifyCms(lta.cms, content, s.rootPath).ok);
    const p = parseSignedData(lta.cms);
    const last = p.unsignedAttrs[p.unsignedAttrs.length - 1]!;
    const [ats] = attributeValues([last], OID.archiveTimeStampV3);
    assert.ok(ats, 'archive-time-stamp-v3 is the last unsigned attribute');
    assert.equal(attributeValues(p.unsignedAttrs, OID.signatureTimeStampToken).length, 1);
    // The signature as it was when the archive timestamp was requested.
    const before = { ...p, unsignedAttrs: p.unsignedAttrs.slice(0, -1) };
    const index = atsHashIndexV3(before, 'SHA-256');
    const tokenParts = parseSignedData(ats);
    const [embeddedIndex] = attributeValues(tokenParts.unsignedAttrs, OID.atsHashIndexV3);
    assert.deepEqual(Buffer.from(embeddedIndex!), Buffer.from(index), 'ats-hash-index-v3 in the token matches the signature');
    // Index lists: certificates, revocation entries, unsigned attribute values of the B-LT signature.
    const [, certIdx, crlIdx, attrIdx] = (asn1js.fromBER(index).result as asn1js.Sequence).valueBlock.value as asn1js.Sequence[];
    assert.equal(certIdx!.valueBlock.value.length, before.certificates.length);
    assert.equal(crlIdx!.valueBlock.value.length, before.crls.length);
    assert.equal(attrIdx!.valueBlock.value.length, 1);
    const input = archiveTimestampInput(before, digest('SHA-256', readFileSync(content)), index);
    const inPath = join(s.dir, 'ats-input.bin'); const tokPath = join(s.dir, 'ats.der');
    writeFileSync(inPath, input); writeFileSync(tokPath, ats);
    const out = execFileSync('openssl', ['ts', '-verify', '-data', inPath, '-in', tokPath, '-token_in', '-CAfile', s.rootPath], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    assert.match(out, /Verification: OK/);
    // Tampering with a protected revocation entry changes the index, so the archive imprint no longer matches.
    const tampered = { ...before, crls: before.crls.slice(1) };
    assert.notDeepEqual(Buffer.from(atsHashIndexV3(tampered, 'SHA-256')), Buffer.from(index));
  });

  it('probeTimestampTokenSize gives a placeholder size that fits a real B-T CMS', async () => {
    const b = await loadPemFiles({ keyPath: s.good.keyPath, certPath: s.good.certPath, chainPath: s.rootPath });
    const size = await probeTimestampTokenSize(s.tsaUrl);
    const est = estimateCmsSize({ certificate: b.certificate, chain: b.chain, timestamp: size });
    const cms = await addSignatureTimestamp(await buildCms({ backend: b, contentDigest: digest('SHA-256', Buffer.from('x')), hash: 'SHA-256' }), { url: s.tsaUrl });
    assert.ok(cms.length <= est, `${cms.length} > ${est}`);
    assert.ok(est - cms.length < 2048 + 256, `estimate ${est} too far above ${cms.length}`);
  });

  it('extendCades: B-B → B-LTA, then a renewal adds a second archive timestamp; openssl still accepts', async () => {
    const content = join(s.dir, 'doc-ext.txt');
    writeFileSync(content, 'gia hạn chữ ký\n'.repeat(30));
    const b = await loadPemFiles({ keyPath: s.good.keyPath, certPath: s.good.certPath, chainPath: s.rootPath });
    const bb = await signDetached(content, { backend: b, validation: { cache: false } });
    const lta = await extendCades(bb.cms, { level: 'B-LTA', tsaUrl: s.tsaUrl, validation: { cache: false } });
    assert.ok(opensslVerifyCms(lta.cms, content, s.rootPath).ok);
    const p1 = parseSignedData(lta.cms);
    assert.equal(attributeValues(p1.unsignedAttrs, OID.signatureTimeStampToken).length, 1);
    assert.equal(attributeValues(p1.unsignedAttrs, OID.archiveTimeStampV3).length, 1);
    assert.deepEqual(Buffer.from(p1.signature), Buffer.from(parseSignedData(bb.cms).signature), 'signature untouched');
    const renewed = await extendCades(lta.cms, { level: 'B-LTA', tsaUrl: s.tsaUrl, validation: { cache: false } });
    const p2 = parseSignedData(renewed.cms);
    assert.equal(attributeValues(p2.unsignedAttrs, OID.archiveTimeStampV3).length, 2);
    // The second archive timestamp covers the first one (its attribute value is in the index).
    const before = { ...p2, unsignedAttrs: p2.unsignedAttrs.slice(0, -1) };
    const [ats2] = attributeValues(p2.unsignedAttrs.slice(-1), OID.archiveTimeStampV3);
    const [idx] = attributeValues(parseSignedData(ats2!).unsignedAttrs, OID.atsHashIndexV3);
    assert.deepEqual(Buffer.from(idx!), Buffer.from(atsHashIndexV3(before, 'SHA-256')));
    assert.ok(opensslVerifyCms(renewed.cms, content, s.rootPath).ok);
  });

  it('unreachable TSA: signing fails quickly with TSA_FAILED and nothing is returned', async () => {
    const b = await loadPemFiles({ keyPath: s.good.keyPath, certPath: s.good.certPath, chainPath: s.rootPath });
    const cms = await buildCms({ backend: b, contentDigest: digest('SHA-256', Buffer.from('x')), hash: 'SHA-256' });
    const t0 = Date.now();
    await assert.rejects(addSignatureTimestamp(cms, { url: `http://127.0.0.1:${await closedPort()}/tsa` }), (e: unknown) => {
      assert.ok(e instanceof SignerError);
      assert.equal(e.code, 'TSA_FAILED');
      assert.match(e.message, /TSA_UNREACHABLE/);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
  });
});
