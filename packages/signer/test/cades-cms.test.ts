import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  SignerError, buildCms, estimateCmsSize, finalizeCms, loadPemBackend, prepareCms, signDetached, sealCmsState, unsealCmsState, type HashName,
} from '@kyso/signer';
import { pemToDerList } from '@kyso/pki';
import { localPki, opensslVerifyCms } from './crypto-testpki.js';

const execFileP = promisify(execFile);
const H = (h: HashName): string => h.replace('-', '').toLowerCase();

function signerInfoOf(cms: Uint8Array): { sd: pkijs.SignedData; si: pkijs.SignerInfo } {
  const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(cms)).content });
  return { sd, si: sd.signerInfos[0]! };
}

describe('CAdES detached CMS builder', function () {
  this.timeout(60_000);
  const pki = localPki();
  const contentPath = join(pki.dir, 'content.bin');
  const content = readFileSync(contentPath);
  const root = pemToDerList(pki.rootPem);

  it('signed attributes: content-type, message-digest, signing-certificate-v2 only (no signing-time), DER-sorted', async () => {
    const b = await loadPemBackend({ key: pki.leaves.rsa.keyPem, cert: pki.leaves.rsa.certPem, chain: pki.rootPem });
    const md = createHash('sha256').update(content).digest();
    const p = prepareCms({ contentDigest: md, hash: 'SHA-256', certificate: b.certificate, chain: b.chain });
    assert.equal(p.toBeSigned[0], 0x31);
    const set = asn1js.fromBER(p.toBeSigned).result as asn1js.Set;
    const encodings = set.valueBlock.value.map((v) => Buffer.from(v.valueBeforeDecodeView));
    const sorted = [...encodings].sort(Buffer.compare);
    assert.deepEqual(encodings, sorted, 'SET OF must be DER-sorted');
    const cms = await buildCms({ backend: b, contentDigest: md, hash: 'SHA-256' });
    const { sd, si } = signerInfoOf(cms);
    const types = si.signedAttrs!.attributes.map((a) => a.type).sort();
    assert.deepEqual(types, ['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4'].sort());
    const mdAttr = si.signedAttrs!.attributes.find((a) => a.type === '1.2.840.113549.1.9.4')!;
    assert.deepEqual(Buffer.from((mdAttr.values[0] as asn1js.OctetString).valueBlock.valueHexView), md);
    assert.deepEqual(Buffer.from(new Uint8Array(si.signedAttrs!.encodedValue)), Buffer.from(p.toBeSigned));
    assert.equal(sd.encapContentInfo.eContent, undefined, 'detached: no eContent');
    assert.equal(sd.certificates!.length, 2, 'signer + chain');
    assert.ok(opensslVerifyCms(cms, contentPath, pki.rootPath).ok);
  });

  for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
    it(`signing-certificate-v2 under ${hash} matches the signer certificate (hashAlgorithm ${hash === 'SHA-256' ? 'omitted' : 'present'})`, async () => {
      const b = await loadPemBackend({ key: pki.leaves.ec384.keyPem, cert: pki.leaves.ec384.certPem, chain: pki.rootPem });
      const cms = await buildCms({ backend: b, contentDigest: createHash(H(hash)).update(content).digest(), hash });
      const { si } = signerInfoOf(cms);
      const attr = si.signedAttrs!.attributes.find((a) => a.type === '1.2.840.113549.1.9.16.2.47')!;
      const essCertId = ((attr.values[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
      const fields = essCertId.valueBlock.value;
      let i = 0;
      if (hash === 'SHA-256') assert.ok(fields[0] instanceof asn1js.OctetString, 'hashAlgorithm must be omitted for SHA-256');
      else {
        const algOid = ((fields[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
        assert.equal(algOid, { 'SHA-384': '2.16.840.1.101.3.4.2.2', 'SHA-512': '2.16.840.1.101.3.4.2.3' }[hash]);
        i = 1;
      }
      assert.deepEqual(Buffer.from((fields[i] as asn1js.OctetString).valueBlock.valueHexView), createHash(H(hash)).update(b.certificate).digest());
      const serial = ((fields[i + 1] as asn1js.Sequence).valueBlock.value[1] as asn1js.Integer).valueBlock.valueHexView;
      assert.equal(Buffer.from(serial).toString('hex').replace(/^0+/, '').toUpperCase(), new X509Certificate(b.certificate).serialNumber.replace(/^0+/, ''));
      assert.ok(opensslVerifyCms(cms, contentPath, pki.rootPath).ok);
    });
  }

  it('RSASSA-PSS: explicit RSASSA-PSS-params (hash, MGF1 with the same hash, salt length), with PSS and plain RSA keys', async () => {
    for (const leaf of [pki.leaves.pss, pki.leaves.rsa]) {
      const b = await loadPemBackend({ key: leaf.keyPem, cert: leaf.certPem, chain: pki.rootPem });
      for (const hash of ['SHA-256', 'SHA-512'] as const) {
        const cms = await buildCms({ backend: b, contentDigest: createHash(H(hash)).update(content).digest(), hash, signatureAlgorithm: { scheme: 'RSA-PSS', hash } });
        const { si } = signerInfoOf(cms);
        assert.equal(si.signatureAlgorithm.algorithmId, '1.2.840.113549.1.1.10');
        const params = new pkijs.RSASSAPSSParams({ schema: si.signatureAlgorithm.algorithmParams });
        const hOid = { 'SHA-256': '2.16.840.1.101.3.4.2.1', 'SHA-512': '2.16.840.1.101.3.4.2.3' }[hash];
        assert.equal(params.hashAlgorithm.algorithmId, hOid);
        assert.equal(params.maskGenAlgorithm.algorithmId, '1.2.840.113549.1.1.8');
        assert.equal(new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }).algorithmId, hOid);
        assert.equal(params.saltLength, hash === 'SHA-256' ? 32 : 64);
        const v = opensslVerifyCms(cms, contentPath, pki.rootPath);
        assert.ok(v.ok, `${leaf.name}/${hash}: ${v.out}`);
      }
    }
  });

  it('ECDSA signature value is a DER Ecdsa-Sig-Value; finalize also accepts raw r‖s', async () => {
    const b = await loadPemBackend({ key: pki.leaves.ec256.keyPem, cert: pki.leaves.ec256.certPem, chain: pki.rootPem });
    const md = createHash('sha256').update(content).digest();
    const p = prepareCms({ contentDigest: md, hash: 'SHA-256', certificate: b.certificate, chain: b.chain });
    const der = await b.sign({ data: p.toBeSigned, digest: p.digestToSign }, p.signatureAlgorithm);
    assert.equal(der[0], 0x30);
    const seq = asn1js.fromBER(der).result as asn1js.Sequence;
    const raw = Buffer.concat(seq.valueBlock.value.map((v) => {
      const h = Buffer.from((v as asn1js.Integer).valueBlock.valueHexView);
      const t = h[0] === 0 ? h.subarray(1) : h;
      return Buffer.concat([Buffer.alloc(32 - t.length), t]);
    }));
    assert.equal(raw.length, 64);
    const cms = finalizeCms(p.state, raw);
    assert.ok(opensslVerifyCms(cms, contentPath, pki.rootPath).ok);
    const { si } = signerInfoOf(cms);
    assert.equal(si.signature.valueBlock.valueHexView[0], 0x30);
  });

  it('two-step across processes: prepare here, sign the digest and finalize in a child process from the JSON state', async () => {
    const leaf = pki.leaves.rsa;
    const md = createHash('sha256').update(content).digest();
    const p = prepareCms({ contentDigest: md, hash: 'SHA-256', certificate: pemToDerList(leaf.certPem)[0]!, chain: root });
    const statePath = join(pki.dir, 'state.json');
    const outPath = join(pki.dir, 'two-step.p7s');
    writeFileSync(statePath, JSON.stringify(p.state));
    const child = `
      import { readFileSync, writeFileSync } from 'node:fs';
      import { loadPemBackend, finalizeCms } from '@kyso/signer';
      const [statePath, keyPath, certPath, outPath] = process.argv.slice(1);
      const state = JSON.parse(readFileSync(statePath, 'utf8'));
      const key = await loadPemBackend({ key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') });
      // A remote signHash service only sees the digest.
      const sig = await key.sign({ digest: Buffer.from(state.digestToSign, 'base64') }, state.signatureAlgorithm);
      writeFileSync(outPath, finalizeCms(JSON.stringify(state), sig));
    `;
    await execFileP(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, statePath, leaf.keyPath, leaf.certPath, outPath], { cwd: process.cwd(), timeout: 30_000 });
    const cms = readFileSync(outPath);
    const v = opensslVerifyCms(cms, contentPath, pki.rootPath);
    assert.ok(v.ok, v.out);
    const { si } = signerInfoOf(cms);
    assert.deepEqual(Buffer.from(new Uint8Array(si.signedAttrs!.encodedValue)), Buffer.from(p.toBeSigned));
  });

  it('finalize refuses a signature that does not verify (SIGNATURE_INVALID) and a tampered or foreign state (STATE_INVALID)', async () => {
    const b = await loadPemBackend({ key: pki.leaves.rsa.keyPem, cert: pki.leaves.rsa.certPem });
    const other = await loadPemBackend({ key: pki.leaves.pss.keyPem, cert: pki.leaves.pss.certPem });
    const p = prepareCms({ contentDigest: createHash('sha256').update(content).digest(), hash: 'SHA-256', certificate: b.certificate });
    const wrongKeySig = await other.sign({ data: p.toBeSigned, digest: p.digestToSign }, { scheme: 'RSA-PSS', hash: 'SHA-256' });
    assert.throws(() => finalizeCms(p.state, wrongKeySig), (e: unknown) => e instanceof SignerError && e.code === 'SIGNATURE_INVALID');
    const good = await b.sign({ data: p.toBeSigned, digest: p.digestToSign }, p.signatureAlgorithm);
    const flipped = Uint8Array.from(good); flipped[10]! ^= 1;
    assert.throws(() => finalizeCms(p.state, flipped), (e: unknown) => e instanceof SignerError && e.code === 'SIGNATURE_INVALID');
    // Signed attributes changed after signing (e.g. another document's digest): the signature no longer matches.
    const other2 = prepareCms({ contentDigest: createHash('sha256').update('other').digest(), hash: 'SHA-256', certificate: b.certificate });
    assert.throws(() => finalizeCms({ ...p.state, signedAttrs: other2.state.signedAttrs }, good), (e: unknown) => e instanceof SignerError && e.code === 'SIGNATURE_INVALID');
    assert.throws(() => finalizeCms('{not json', good), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
    assert.throws(() => finalizeCms({ ...p.state, v: 2 as 1 }, good), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
    assert.throws(() => finalizeCms({ ...p.state, signedAttrs: '!!' }, good), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
    assert.ok(finalizeCms(JSON.stringify(p.state), good).length > 0);
  });

  it('sealed two-step state: opens with the secret; a swapped certificate or another secret → STATE_INVALID', async () => {
    const b = await loadPemBackend({ key: pki.leaves.ec256.keyPem, cert: pki.leaves.ec256.certPem });
    const p = prepareCms({ contentDigest: createHash('sha256').update(content).digest(), hash: 'SHA-256', certificate: b.certificate });
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    const sealed = sealCmsState(p.state, secret);
    const opened = unsealCmsState(sealed, secret);
    const sig = await b.sign({ data: p.toBeSigned, digest: p.digestToSign }, p.signatureAlgorithm);
    assert.ok(opensslVerifyCms(finalizeCms(opened, sig), contentPath, pki.rootPath).ok);
    const outer = JSON.parse(sealed) as { state: string; mac: string };
    const swapped = JSON.stringify({ ...outer, state: outer.state.replace(p.state.certificate, Buffer.from(pemToDerList(pki.leaves.ec384.certPem)[0]!).toString('base64')) });
    assert.throws(() => unsealCmsState(swapped, secret), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
    assert.throws(() => unsealCmsState(sealed, Buffer.from('another-secret-of-32-bytes-xxxxx')), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
    assert.throws(() => unsealCmsState('nope', secret), (e: unknown) => e instanceof SignerError && e.code === 'STATE_INVALID');
  });

  it('prepare refuses a digest of the wrong length and an algorithm that does not fit the key', async () => {
    const cert = pemToDerList(pki.leaves.ec256.certPem)[0]!;
    assert.throws(() => prepareCms({ contentDigest: new Uint8Array(20), hash: 'SHA-256', certificate: cert }), SignerError);
    assert.throws(() => prepareCms({ contentDigest: new Uint8Array(32), hash: 'SHA-256', certificate: cert, signatureAlgorithm: { scheme: 'RSA-PKCS1', hash: 'SHA-256' } }),
      (e: unknown) => e instanceof SignerError && e.code === 'ALG_KEY_MISMATCH');
  });

  it('estimateCmsSize is an upper bound close to the real size', async () => {
    for (const leaf of Object.values(pki.leaves)) {
      const b = await loadPemBackend({ key: leaf.keyPem, cert: leaf.certPem, chain: pki.rootPem });
      const cms = await buildCms({ backend: b, contentDigest: createHash('sha256').update(content).digest(), hash: 'SHA-256' });
      const est = estimateCmsSize({ certificate: b.certificate, chain: b.chain, hash: 'SHA-256' });
      assert.ok(est >= cms.length, `${leaf.name}: estimate ${est} < actual ${cms.length}`);
      assert.ok(est <= cms.length + 2048 + 16, `${leaf.name}: estimate ${est} far above ${cms.length}`);
      assert.ok(estimateCmsSize({ certificate: b.certificate, chain: b.chain, timestamp: 5000 }) >= est + 5000);
    }
  });

  it('signDetached B-B: streams a file or a stream, signing-time optional, openssl accepts; missing file → INPUT_READ', async () => {
    const b = await loadPemBackend({ key: pki.leaves.ec384.keyPem, cert: pki.leaves.ec384.certPem, chain: pki.rootPem });
    const a = await signDetached(contentPath, { backend: b, hash: 'SHA-384' });
    assert.equal(a.contentLength, content.length);
    assert.deepEqual(Buffer.from(a.contentDigest), createHash('sha384').update(content).digest());
    assert.ok(opensslVerifyCms(a.cms, contentPath, pki.rootPath).ok);
    assert.ok(signerInfoOf(a.cms).si.signedAttrs!.attributes.some((x) => x.type === '1.2.840.113549.1.9.5'), 'CAdES default has signing-time');
    const s = await signDetached(createReadStream(contentPath, { highWaterMark: 97 }), { backend: b, signingTime: false });
    assert.ok(!signerInfoOf(s.cms).si.signedAttrs!.attributes.some((x) => x.type === '1.2.840.113549.1.9.5'));
    assert.ok(opensslVerifyCms(s.cms, contentPath, pki.rootPath).ok);
    await assert.rejects(signDetached(join(pki.dir, 'missing.bin'), { backend: b }), (e: unknown) => e instanceof SignerError && e.code === 'INPUT_READ');
    await assert.rejects(signDetached(content, { backend: b, level: 'B-T' }), (e: unknown) => e instanceof SignerError && e.code === 'TSA_FAILED');
  });
});
