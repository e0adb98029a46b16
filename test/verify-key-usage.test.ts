import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import * as pkijs from 'pkijs';
import { getTestPki, loadCaContext, type CaContext } from '@kyso/fixtures';
import { OIDS, parseSignedData, pemToDer, toPem } from '@kyso/pki';
import { addDss, loadPemBackend, signDetached, signPdfBytes } from '@kyso/signer';
import { verifyCms, verifyPdf, type ValidationReport } from '@kyso/verifier';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeName, issueCertificate, keyIdentifier, randomSerial, type ExtensionSpec } from '../fixtures/src/x509-build.js';

// RFC 5280 §4.2.1.3 / §4.2.1.12 for document signing, and levels earned only by data that validates.

type Pki = Awaited<ReturnType<typeof getTestPki>>;
const DAY = 86_400_000;

async function onePage(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText(text, { x: 50, y: 780, size: 14, font });
  return doc.save({ useObjectStreams: false });
}

const why = (r: ValidationReport) => JSON.stringify(r.signatures.map((s) => `${s.field}: ${s.indication}/${s.subIndication} [${s.block}] ${s.message} level=${s.level}`));

describe('verify: key usage and extended key usage of the signing certificate (certificates issued by the test intermediate)', function () {
  this.timeout(240_000);
  let pki: Pki;
  let ca: CaContext;

  before(async () => {
    pki = await getTestPki();
    ca = await loadCaContext(pki);
  });

  /** A leaf issued by the test intermediate with the given usages; signs a one-page PDF at B-B. */
  async function signWith(cn: string, ext: Pick<ExtensionSpec, 'keyUsage' | 'extKeyUsage'>): Promise<Uint8Array> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = issueCertificate({
      subjectDer: encodeName([[OIDS.countryName, 'VN', 'printable'], [OIDS.commonName, cn]]),
      publicKey,
      serial: randomSerial(),
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
      extensions: { ...ext },
      issuer: { nameDer: ca.intermediate.nameDer, key: ca.intermediate.key, keyId: keyIdentifierOf(ca), scheme: { hash: 'SHA-256' } },
    });
    const backend = await loadPemBackend({
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      cert: toPem(der),
      chain: toPem(ca.intermediate.der),
    });
    return signPdfBytes(await onePage(cn), { backend, level: 'B-B', fieldName: 'Signature1' });
  }

  // Revocation is not the subject here (these serials are unknown to the test OCSP responder).
  const policy = () => ({ trustAnchors: [pki.rootPem], revocationRequired: false, offline: true, intermediates: [toPem(ca.intermediate.der)] });

  const refused: [string, Pick<ExtensionSpec, 'keyUsage' | 'extKeyUsage'>, RegExp][] = [
    ['EKU serverAuth only', { keyUsage: ['digitalSignature', 'nonRepudiation'], extKeyUsage: { oids: [OIDS.ekuServerAuth], critical: false } }, /extendedKeyUsage \(ekuServerAuth\) does not allow document signing/],
    ['EKU serverAuth + clientAuth (critical)', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuServerAuth, OIDS.ekuClientAuth], critical: true } }, /does not allow document signing/],
    ['EKU timeStamping only', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuTimeStamping], critical: true } }, /does not allow document signing/],
    ['EKU codeSigning + OCSPSigning', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuCodeSigning, OIDS.ekuOcspSigning], critical: false } }, /does not allow document signing/],
    ['KU keyEncipherment only', { keyUsage: ['keyEncipherment'] }, /keyUsage allows neither digitalSignature nor nonRepudiation/],
    ['KU keyCertSign + cRLSign (a CA key)', { keyUsage: ['keyCertSign', 'cRLSign'] }, /keyUsage allows neither digitalSignature nor nonRepudiation/],
    ['KU keyAgreement with an acceptable EKU', { keyUsage: ['keyAgreement'], extKeyUsage: { oids: [OIDS.ekuDocumentSigning], critical: false } }, /keyUsage allows neither/],
  ];
  for (const [name, ext, msg] of refused) {
    it(`${name}: INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE naming the usage`, async () => {
      const r = await verifyPdf(await signWith(`Refused ${name}`, ext), policy());
      const s = r.signatures[0]!;
      assert.equal(s.indication, 'INDETERMINATE', why(r));
      assert.equal(s.subIndication, 'CHAIN_CONSTRAINTS_FAILURE', why(r));
      assert.match(s.message, msg);
      assert.notEqual(r.documentIndication, 'TOTAL_PASSED');
    });
  }

  const accepted: [string, Pick<ExtensionSpec, 'keyUsage' | 'extKeyUsage'>][] = [
    ['no EKU, KU digitalSignature', { keyUsage: ['digitalSignature'] }],
    ['no EKU, KU nonRepudiation only', { keyUsage: ['nonRepudiation'] }],
    ['EKU anyExtendedKeyUsage', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuAny], critical: false } }],
    ['EKU emailProtection + clientAuth (typical citizen token)', { keyUsage: ['digitalSignature', 'nonRepudiation'], extKeyUsage: { oids: [OIDS.ekuClientAuth, OIDS.ekuEmailProtection], critical: false } }],
    ['EKU id-kp-documentSigning (RFC 9336)', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuDocumentSigning], critical: true } }],
    ['EKU Adobe Authentic Documents Trust', { keyUsage: ['nonRepudiation'], extKeyUsage: { oids: [OIDS.ekuAdobeAuthenticDocuments], critical: false } }],
    ['EKU Microsoft Document Signing + serverAuth', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuServerAuth, OIDS.ekuMsDocumentSigning], critical: false } }],
  ];
  for (const [name, ext] of accepted) {
    it(`${name}: TOTAL_PASSED`, async () => {
      const r = await verifyPdf(await signWith(`Accepted ${name}`, ext), policy());
      assert.equal(r.signatures[0]!.indication, 'TOTAL_PASSED', why(r));
      assert.equal(r.documentIndication, 'TOTAL_PASSED', why(r));
    });
  }

  it('the policy decides the document-signing purposes: serverAuth allowed explicitly passes, documentSigning removed fails', async () => {
    const server = await signWith('Policy serverAuth', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuServerAuth], critical: false } });
    const r1 = await verifyPdf(server, { ...policy(), signingExtendedKeyUsages: [OIDS.ekuServerAuth] });
    assert.equal(r1.signatures[0]!.indication, 'TOTAL_PASSED', why(r1));
    const doc = await signWith('Policy docSigning', { keyUsage: ['digitalSignature'], extKeyUsage: { oids: [OIDS.ekuDocumentSigning], critical: false } });
    const r2 = await verifyPdf(doc, { ...policy(), signingExtendedKeyUsages: [OIDS.ekuAny] });
    assert.equal(r2.signatures[0]!.subIndication, 'CHAIN_CONSTRAINTS_FAILURE', why(r2));
  });
  /** root → sub-CA (with the given EKU) → leaf without EKU; a B-B PDF signed by the leaf, and the sub-CA PEM. */
  async function signUnderSubCa(cn: string, caEku: string[]): Promise<{ pdf: Uint8Array; subCaPem: string }> {
    const sub = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const subName = encodeName([[OIDS.countryName, 'VN', 'printable'], [OIDS.commonName, `Sub-CA ${cn} (TEST)`]]);
    const rootSki = ca.root.cert.extensions?.find((e) => e.extnID === OIDS.subjectKeyIdentifier)?.parsedValue as { valueBlock: { valueHexView: Uint8Array } } | undefined;
    const subDer = issueCertificate({
      subjectDer: subName, publicKey: sub.publicKey, serial: randomSerial(),
      notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY),
      extensions: { ca: { pathLen: 0 }, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: { oids: caEku, critical: false } },
      issuer: { nameDer: ca.root.nameDer, key: ca.root.key, keyId: rootSki ? new Uint8Array(rootSki.valueBlock.valueHexView) : keyIdentifier(createPublicKey(ca.root.key)), scheme: { hash: 'SHA-256' } },
    });
    const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leafDer = issueCertificate({
      subjectDer: encodeName([[OIDS.countryName, 'VN', 'printable'], [OIDS.commonName, cn]]), publicKey: leaf.publicKey, serial: randomSerial(),
      notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 300 * DAY),
      extensions: { keyUsage: ['digitalSignature', 'nonRepudiation'] },
      issuer: { nameDer: subName, key: sub.privateKey, keyId: keyIdentifier(sub.publicKey), scheme: { hash: 'SHA-256' } },
    });
    const backend = await loadPemBackend({ key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: toPem(leafDer), chain: toPem(subDer) });
    return { pdf: await signPdfBytes(await onePage(cn), { backend, level: 'B-B', fieldName: 'Signature1' }), subCaPem: toPem(subDer) };
  }

  it('EKU chaining: a sub-CA restricted to serverAuth cannot vouch for a signing certificate; one with emailProtection can', async () => {
    const bad = await signUnderSubCa('Under a TLS-only sub-CA', [OIDS.ekuServerAuth]);
    const r1 = await verifyPdf(bad.pdf, { trustAnchors: [pki.rootPem], revocationRequired: false, offline: true });
    assert.equal(r1.signatures[0]!.subIndication, 'CHAIN_CONSTRAINTS_FAILURE', why(r1));
    assert.match(r1.signatures[0]!.message, /CA certificate .* restricts extendedKeyUsage to ekuServerAuth/);
    const good = await signUnderSubCa('Under an S/MIME sub-CA', [OIDS.ekuEmailProtection, OIDS.ekuClientAuth]);
    const r2 = await verifyPdf(good.pdf, { trustAnchors: [pki.rootPem], revocationRequired: false, offline: true });
    assert.equal(r2.signatures[0]!.indication, 'TOTAL_PASSED', why(r2));
  });
});

function keyIdentifierOf(ca: CaContext): Uint8Array {
  const ski = ca.intermediate.cert.extensions?.find((e) => e.extnID === OIDS.subjectKeyIdentifier);
  if (ski?.parsedValue) return new Uint8Array((ski.parsedValue as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView);
  return keyIdentifier(createPublicKey(ca.intermediate.key));
}

describe('verify: a level is earned only by timestamps and validation data that validate', function () {
  this.timeout(240_000);
  let pki: Pki;
  before(async () => { pki = await getTestPki(); });

  async function signed(level: 'B-T' | 'B-LT' | 'B-LTA'): Promise<Uint8Array> {
    const id = pki.identities.citizen1!;
    const backend = await loadPemBackend({ key: id.keyPem, cert: id.certPem, chain: id.chainPems.join('\n') });
    return signPdfBytes(await onePage(`level ${level}`), { backend, level, fieldName: 'Signature1', tsa: { url: pki.servers.tsaUrl } });
  }

  /** Flips one byte of the signature value of the signature-timestamp token inside the first /Contents. */
  function breakSignatureTimestamp(pdf: Uint8Array): Uint8Array {
    const text = Buffer.from(pdf).toString('latin1');
    const m = /\/Contents\s*<([0-9A-Fa-f]+)>/.exec(text);
    assert.ok(m, '/Contents found');
    const hex = m[1]!;
    const der = new Uint8Array(Buffer.from(hex.replace(/(00)+$/, ''), 'hex'));
    const cms = parseSignedData(der);
    const tokenAttr = cms.signedData.signerInfos[0]!.unsignedAttrs!.attributes.find((a) => a.type === OIDS.signatureTimeStampToken)!;
    const token = new Uint8Array(tokenAttr.values[0]!.toBER(false));
    const tsd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(token).content });
    const sigValue = Buffer.from(tsd.signerInfos[0]!.signature.valueBlock.valueHexView);
    const at = Buffer.from(der).indexOf(sigValue);
    assert.ok(at > 0, 'timestamp signature value located in the CMS');
    const pos = m.index + m[0].indexOf('<') + 1 + 2 * (at + 10);
    const out = Buffer.from(pdf);
    const old = String.fromCharCode(out[pos]!);
    out[pos] = (old === '0' ? '1' : '0').charCodeAt(0);
    return new Uint8Array(out);
  }

  it('a valid B-T signature is PAdES-BASELINE-T; with its timestamp signature broken it is TOTAL_PASSED at PAdES-BASELINE-B, the timestamp reported invalid', async () => {
    const good = await signed('B-T');
    const r0 = await verifyPdf(good, { trustAnchors: [pki.rootPem] });
    assert.equal(r0.signatures[0]!.level, 'PAdES-BASELINE-T', why(r0));
    const bad = breakSignatureTimestamp(good);
    const r = await verifyPdf(bad, { trustAnchors: [pki.rootPem] });
    const s = r.signatures[0]!;
    assert.equal(s.indication, 'TOTAL_PASSED', why(r));
    assert.equal(s.level, 'PAdES-BASELINE-B', why(r));
    assert.equal(s.timestamp, null, 'no trusted time from an invalid timestamp');
    assert.equal(s.timestamps.length, 1);
    assert.equal(s.timestamps[0]!.valid, false);
    assert.ok(s.checks.some((c) => c.check === 'signature-timestamp' && c.status === 'warning'), 'the invalid timestamp is named');
  });

  it('a DSS without usable revocation data does not earn LT: B-T plus a DSS of certificates only stays PAdES-BASELINE-T (revocation fetched online)', async () => {
    const id = pki.identities.citizen1!;
    const dir = mkdtempSync(join(tmpdir(), 'kyso-dss-'));
    writeFileSync(join(dir, 't.pdf'), await signed('B-T'));
    const certs = [id.certPem, ...id.chainPems].map((p) => pemToDer(p));
    await addDss(join(dir, 't.pdf'), join(dir, 'dss.pdf'), { content: { certs } });
    const pdf = new Uint8Array(readFileSync(join(dir, 'dss.pdf')));
    const r = await verifyPdf(pdf, { trustAnchors: [pki.rootPem] });
    const s = r.signatures[0]!;
    assert.equal(s.indication, 'TOTAL_PASSED', why(r));
    assert.ok(s.revocation.every((x) => x.source.startsWith('online')), JSON.stringify(s.revocation));
    assert.equal(s.level, 'PAdES-BASELINE-T', why(r));
    // The same file offline cannot establish revocation at all: INDETERMINATE, and still not LT.
    const off = await verifyPdf(pdf, { trustAnchors: [pki.rootPem], offline: true });
    assert.equal(off.signatures[0]!.indication, 'INDETERMINATE', why(off));
    assert.equal(off.signatures[0]!.level, 'PAdES-BASELINE-T', why(off));
  });

  it('B-LT with a broken signature timestamp is not LT (nor T): PAdES-BASELINE-B', async () => {
    const bad = breakSignatureTimestamp(await signed('B-LT'));
    const r = await verifyPdf(bad, { trustAnchors: [pki.rootPem] });
    assert.equal(r.signatures[0]!.level, 'PAdES-BASELINE-B', why(r));
  });
});

describe('verify: SHA-384 / SHA-512 signatures (digest names come from the one table in @kyso/pki)', function () {
  this.timeout(120_000);
  for (const md of ['sha384', 'sha512', 'sha256']) {
    it(`a CAdES detached signature made by openssl with -md ${md} (P-384 key) is TOTAL_PASSED`, async () => {
      const pki = await getTestPki();
      const id = pki.identities.citizenP384!;
      const dir = mkdtempSync(join(tmpdir(), 'kyso-md-'));
      writeFileSync(join(dir, 'data.txt'), 'Giấy khai sinh');
      writeFileSync(join(dir, 'key.pem'), id.keyPem);
      writeFileSync(join(dir, 'cert.pem'), id.certPem);
      writeFileSync(join(dir, 'chain.pem'), id.chainPems.join('\n'));
      execFileSync('openssl', ['cms', '-sign', '-binary', '-cades', '-md', md, '-in', join(dir, 'data.txt'), '-signer', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'),
        '-certfile', join(dir, 'chain.pem'), '-outform', 'DER', '-out', join(dir, 'sig.p7s')]);
      const r = await verifyCms(join(dir, 'sig.p7s'), join(dir, 'data.txt'), { trustAnchors: [pki.rootPem] });
      assert.equal(r.documentIndication, 'TOTAL_PASSED', why(r));
      assert.equal(r.signatures[0]!.digestAlgorithm, `SHA-${md.slice(3)}`);
    });
  }
});

describe('verify: CAdES levels of kyso-signed .p7s', function () {
  this.timeout(180_000);
  for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as const) {
    it(`${level}: TOTAL_PASSED, detected at the level its validated data earns`, async () => {
      const pki = await getTestPki();
      const id = pki.identities.citizen1!;
      const dir = mkdtempSync(join(tmpdir(), 'kyso-cades-lvl-'));
      const dataPath = join(dir, 'hoso.txt');
      writeFileSync(dataPath, 'Hồ sơ đăng ký kinh doanh\n');
      const backend = await loadPemBackend({ key: id.keyPem, cert: id.certPem, chain: id.chainPems.join('\n') });
      const r = await signDetached(dataPath, { backend, level, tsaUrl: pki.servers.tsaUrl });
      writeFileSync(join(dir, 'sig.p7s'), r.cms);
      const online = await verifyCms(join(dir, 'sig.p7s'), dataPath, { trustAnchors: [pki.rootPem] });
      assert.equal(online.documentIndication, 'TOTAL_PASSED', why(online));
      const expected = { 'B-B': 'CAdES-BASELINE-B', 'B-T': 'CAdES-BASELINE-T', 'B-LT': 'CAdES-BASELINE-LT', 'B-LTA': 'CAdES-BASELINE-LT' }[level];
      assert.equal(online.signatures[0]!.level, expected, why(online));
      if (level === 'B-LT' || level === 'B-LTA') {
        const offline = await verifyCms(join(dir, 'sig.p7s'), dataPath, { trustAnchors: [pki.rootPem], offline: true });
        assert.equal(offline.documentIndication, 'TOTAL_PASSED', why(offline));
        assert.equal(offline.signatures[0]!.level, 'CAdES-BASELINE-LT', why(offline));
      }
    });
  }
});
