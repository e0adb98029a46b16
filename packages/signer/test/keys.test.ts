import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ExternalKeyBackend, SignerError, buildCms, loadPemBackend, loadPemFiles, loadPkcs12Backend, loadPkcs12File, openKeyBackend,
} from '@kyso/signer';
import { pemToDerList } from '@kyso/pki';
import { localPki, opensslVerifyCms } from './crypto-testpki.js';
import { rc2DecryptBlockRaw } from '../src/crypto/keys/pkcs12-legacy.js';

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SignerError, `expected SignerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('key backends: PEM and PKCS#12', function () {
  this.timeout(60_000);
  const pki = localPki();
  const content = join(pki.dir, 'content.bin');
  const contentDigest = createHash('sha256').update(readFileSync(content)).digest();

  it('plain PKCS#8 PEM key: RSA, RSA-PSS, P-256, P-384 describe themselves and sign CMS that openssl accepts', async () => {
    const expected = { rsa: ['RSA', 2048], pss: ['RSA-PSS', 2048], ec256: ['EC', 256], ec384: ['EC', 384] } as const;
    for (const leaf of Object.values(pki.leaves)) {
      const b = await loadPemBackend({ key: leaf.keyPem, cert: leaf.certPem, chain: pki.rootPem });
      assert.equal(b.kind, 'pem');
      assert.equal(b.keyAlgorithm.type, expected[leaf.name][0]);
      assert.equal(b.keyAlgorithm.bits, expected[leaf.name][1]);
      assert.equal(b.chain.length, 1);
      const cms = await buildCms({ backend: b, contentDigest, hash: 'SHA-256' });
      const v = opensslVerifyCms(cms, content, pki.rootPath);
      assert.ok(v.ok, `${leaf.name}: ${v.out}`);
      await b.close();
    }
  });

  it('encrypted PKCS#8 from files with the right password; missing password → KEY_LOCKED; wrong → BAD_PASSWORD', async () => {
    const leaf = pki.leaves.rsa;
    const b = await loadPemFiles({ keyPath: leaf.encKeyPath, certPath: leaf.certPath, chainPath: pki.rootPath, password: pki.password });
    const sig = await b.sign({ data: Buffer.from('abc'), digest: createHash('sha256').update('abc').digest() }, { scheme: 'RSA-PKCS1', hash: 'SHA-256' });
    assert.ok(verify('sha256', Buffer.from('abc'), createPublicKey(leaf.certPem), sig));
    await rejectsCode(loadPemFiles({ keyPath: leaf.encKeyPath, certPath: leaf.certPath }), 'KEY_LOCKED');
    await rejectsCode(loadPemFiles({ keyPath: leaf.encKeyPath, certPath: leaf.certPath, password: 'not-the-password' }), 'BAD_PASSWORD');
  });

  it('the error message never contains the password', async () => {
    const leaf = pki.leaves.ec256;
    const secret = 'Sup3r-Secret-Guess';
    try { await loadPemFiles({ keyPath: leaf.encKeyPath, certPath: leaf.certPath, password: secret }); assert.fail('should throw'); } catch (e) {
      assert.ok(e instanceof SignerError);
      assert.ok(!e.message.includes(secret));
      assert.ok(!String(e.stack).includes(secret));
    }
  });

  it('cert bundle: the signer is the certificate matching the key even when it is not first', async () => {
    const leaf = pki.leaves.ec384;
    const b = await loadPemBackend({ key: leaf.keyPem, cert: pki.rootPem + leaf.certPem });
    assert.deepEqual(Buffer.from(b.certificate), Buffer.from(pemToDerList(leaf.certPem)[0]!));
    assert.equal(b.chain.length, 1);
  });

  it('key of another certificate → KEY_CERT_MISMATCH; garbage key → KEY_PARSE; missing file → INPUT_READ', async () => {
    await rejectsCode(loadPemBackend({ key: pki.leaves.rsa.keyPem, cert: pki.leaves.pss.certPem }), 'KEY_CERT_MISMATCH');
    await rejectsCode(loadPemBackend({ key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', cert: pki.leaves.rsa.certPem }), 'KEY_PARSE');
    await rejectsCode(loadPemFiles({ keyPath: join(pki.dir, 'nope.key'), certPath: pki.leaves.rsa.certPath }), 'INPUT_READ');
  });

  it('algorithm must fit the key: ECDSA with an RSA key → ALG_KEY_MISMATCH', async () => {
    const b = await loadPemBackend({ key: pki.leaves.rsa.keyPem, cert: pki.leaves.rsa.certPem });
    await rejectsCode(b.sign({ data: Buffer.from('x'), digest: createHash('sha256').update('x').digest() }, { scheme: 'ECDSA', hash: 'SHA-256' }), 'ALG_KEY_MISMATCH');
  });

  it('RSA PKCS#1 v1.5 over a digest only (remote signHash style) equals signing the data', async () => {
    const b = await loadPemBackend({ key: pki.leaves.rsa.keyPem, cert: pki.leaves.rsa.certPem });
    const data = Buffer.from('to be signed');
    for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
      const d = createHash(hash.replace('-', '').toLowerCase()).update(data).digest();
      const a = await b.sign({ data, digest: d }, { scheme: 'RSA-PKCS1', hash });
      const c = await b.sign({ digest: d }, { scheme: 'RSA-PKCS1', hash });
      assert.deepEqual(Buffer.from(a), Buffer.from(c));
    }
  });

  it('RSASSA-PSS over a digest only (PSS and plain RSA keys, salt = hash length) verifies as a PSS signature of the data', async () => {
    for (const leaf of [pki.leaves.pss, pki.leaves.rsa]) {
      const b = await loadPemBackend({ key: leaf.keyPem, cert: leaf.certPem });
      const data = Buffer.from('remote signHash');
      for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
        const h = hash.replace('-', '').toLowerCase();
        const sig = await b.sign({ digest: createHash(h).update(data).digest() }, { scheme: 'RSA-PSS', hash });
        assert.ok(verify(h, data, { key: createPublicKey(leaf.certPem), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(h).digest().length }, sig), `${leaf.name}/${hash}`);
      }
    }
    const ec = await loadPemBackend({ key: pki.leaves.ec256.keyPem, cert: pki.leaves.ec256.certPem });
    await rejectsCode(ec.sign({ digest: new Uint8Array(32) }, { scheme: 'ECDSA', hash: 'SHA-256' }), 'ALG_UNSUPPORTED');
  });

  it('PKCS#12: opens with the password, finds key, signer and chain; wrong → BAD_PASSWORD; none → KEY_LOCKED; garbage → KEY_PARSE', async () => {
    for (const leaf of Object.values(pki.leaves)) {
      const b = await loadPkcs12File(leaf.p12Path, pki.password);
      assert.equal(b.kind, 'pkcs12');
      assert.deepEqual(Buffer.from(b.certificate), Buffer.from(pemToDerList(leaf.certPem)[0]!));
      assert.equal(b.chain.length, 1);
      const cms = await buildCms({ backend: b, contentDigest, hash: 'SHA-256' });
      assert.ok(opensslVerifyCms(cms, content, pki.rootPath).ok, leaf.name);
    }
    await rejectsCode(loadPkcs12File(pki.leaves.rsa.p12Path, 'wrong'), 'BAD_PASSWORD');
    await rejectsCode(loadPkcs12File(pki.leaves.rsa.p12Path, undefined), 'KEY_LOCKED');
    await rejectsCode(loadPkcs12Backend(new Uint8Array([1, 2, 3, 4]), 'x'), 'KEY_PARSE');
  });

  it('legacy PKCS#12 (openssl -legacy: RC2-40 certificate safe, 3DES key; and 3DES everywhere) opens; wrong password → BAD_PASSWORD', async () => {
    for (const leaf of [pki.leaves.rsa, pki.leaves.ec384]) {
      const variants: [string, string[]][] = [
        ['legacy', ['-legacy']],
        ['3des', ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']],
      ];
      for (const [name, args] of variants) {
        const out = join(pki.dir, `${leaf.name}-${name}.p12`);
        execFileSync('openssl', ['pkcs12', '-export', ...args, '-in', leaf.certPath, '-inkey', leaf.keyPath, '-certfile', pki.rootPath, '-out', out, '-passout', `pass:${pki.password}`], { stdio: 'ignore' });
        const b = await loadPkcs12File(out, pki.password);
        assert.deepEqual(Buffer.from(b.certificate), Buffer.from(pemToDerList(leaf.certPem)[0]!), `${leaf.name}/${name}`);
        assert.equal(b.chain.length, 1);
        const cms = await buildCms({ backend: b, contentDigest, hash: 'SHA-256' });
        assert.ok(opensslVerifyCms(cms, content, pki.rootPath).ok);
        await rejectsCode(loadPkcs12File(out, 'wrong-password'), 'BAD_PASSWORD');
      }
    }
  });

  it('RC2 block decryption matches the RFC 2268 known answers', () => {
    const vectors: [string, number, string, string][] = [
      ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
      ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
      ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
      ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
    ];
    for (const [k, bits, pt, ct] of vectors) {
      assert.equal(Buffer.from(rc2DecryptBlockRaw(Buffer.from(k, 'hex'), bits, Buffer.from(ct, 'hex'))).toString('hex'), pt);
    }
  });

  it('openKeyBackend dispatches --p12 and --key/--cert sources', async () => {
    const a = await openKeyBackend({ type: 'pkcs12', path: pki.leaves.ec256.p12Path, password: pki.password });
    const b = await openKeyBackend({ type: 'pem', keyPath: pki.leaves.ec256.keyPath, certPath: pki.leaves.ec256.certPath });
    assert.deepEqual(Buffer.from(a.certificate), Buffer.from(b.certificate));
    await a.close(); await b.close();
    await rejectsCode(a.sign({ digest: new Uint8Array(32) }, { scheme: 'ECDSA', hash: 'SHA-256' }), 'KEY_LOCKED');
  });

  it('external backend: callback signs; without callback sign() is refused', async () => {
    const inner = await loadPemBackend({ key: pki.leaves.ec256.keyPem, cert: pki.leaves.ec256.certPem });
    let calls = 0;
    const ext = new ExternalKeyBackend(inner.certificate, [], async (i, a) => { calls++; return inner.sign(i, a); });
    assert.equal(ext.keyAlgorithm.namedCurve, 'P-256');
    const cms = await buildCms({ backend: ext, contentDigest, hash: 'SHA-256', chain: pemToDerList(pki.rootPem) });
    assert.equal(calls, 1);
    assert.ok(opensslVerifyCms(cms, content, pki.rootPath).ok);
    await rejectsCode(new ExternalKeyBackend(inner.certificate).sign({ digest: new Uint8Array(32) }, { scheme: 'ECDSA', hash: 'SHA-256' }), 'KEY_UNSUPPORTED');
  });
});
