/**
 * The node:crypto PKCS#12 fast path (pkcs12-native.ts): opens OpenSSL's files of every usual shape with the same key
 * and certificates that `openssl pkcs12` itself extracts, and answers undefined (so PKI.js decides) for anything it
 * cannot vouch for: wrong password, no MAC, tampered bytes, truncation, BER indefinite lengths.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPkcs12File, SignerError } from '@kyso/signer';
import { openPkcs12Natively } from '../src/crypto/keys/pkcs12-native.js';

describe('PKCS#12 opened natively (fast path of parsePkcs12)', function () {
  this.timeout(120_000);
  let dir: string;
  const ossl = (...a: string[]): string => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'latin1' });
  const enc = (s: string) => new TextEncoder().encode(s);
  const file = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  const spki = (k: Parameters<typeof createPublicKey>[0]) => createPublicKey(k).export({ type: 'spki', format: 'der' }).toString('hex');
  const ders = (pem: string) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('hex')).sort();

  // [file, password, extra openssl pkcs12 -export options]
  const SHAPES: [string, string, string[]][] = [
    ['default.p12', 'pw', []],
    ['aes128-sha1prf.p12', 'pw', ['-keypbe', 'AES-128-CBC', '-certpbe', 'AES-128-CBC', '-macalg', 'sha1']],
    ['aes192.p12', 'pw', ['-keypbe', 'AES-192-CBC', '-certpbe', 'AES-192-CBC', '-macalg', 'sha512', '-iter', '3000']],
    ['legacy-3des.p12', 'pw', ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']],
    ['cert-clear.p12', 'pw', ['-certpbe', 'NONE']],
    ['vietnamese.p12', 'mật khẩu Việt', []],
    ['empty-password.p12', '', []],
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-p12native-'));
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=p12 native CA');
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'k.csr', '-subj', '/CN=p12 native signer');
    ossl('x509', '-req', '-in', 'k.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'c.pem', '-days', '2');
    for (const [name, pass, extra] of SHAPES) {
      ossl('pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-certfile', 'ca.pem', '-out', name, '-passout', `pass:${pass}`, ...extra);
    }
    ossl('pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-out', 'nomac.p12', '-passout', 'pass:pw', '-nomac');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the key and certificates that openssl extracts, for every usual shape', () => {
    for (const [name, pass] of SHAPES) {
      const got = openPkcs12Natively(file(name), enc(pass));
      assert.ok(got, `${name}: the fast path should open it`);
      const keyPem = ossl('pkcs12', '-in', name, '-nocerts', '-nodes', '-passin', `pass:${pass}`);
      assert.equal(spki(got.key), spki(createPrivateKey(keyPem)), `${name}: key`);
      const certPem = ossl('pkcs12', '-in', name, '-nokeys', '-passin', `pass:${pass}`);
      assert.deepEqual(got.certificates.map((c) => Buffer.from(c).toString('hex')).sort(), ders(certPem), `${name}: certificates`);
    }
  });

  it('does not answer for a wrong password, a file without MAC, tampered, truncated or re-encoded bytes', () => {
    assert.equal(openPkcs12Natively(file('default.p12'), enc('pW')), undefined);
    assert.equal(openPkcs12Natively(file('default.p12'), enc('')), undefined);
    assert.equal(openPkcs12Natively(file('empty-password.p12'), enc('x')), undefined);
    assert.equal(openPkcs12Natively(file('nomac.p12'), enc('pw')), undefined);
    const good = file('default.p12');
    let answered = 0;
    for (let i = 0; i < good.length; i += 7) {
      const t = good.slice();
      t[i] = t[i]! ^ 0x01;
      if (openPkcs12Natively(t, enc('pw'))) answered++;
    }
    assert.equal(answered, 0, 'a flipped bit anywhere is never vouched for');
    for (const n of [1, 10, good.length >> 1, good.length - 1]) assert.equal(openPkcs12Natively(good.subarray(0, n), enc('pw')), undefined);
    assert.equal(openPkcs12Natively(Buffer.concat([good, Buffer.from([0])]), enc('pw')), undefined, 'trailing byte');
    // the same PFX with an indefinite outer length (BER, valid for PKI.js) is left to PKI.js
    const ber = Buffer.concat([Buffer.from([0x30, 0x80]), good.subarray(good[1]! & 0x80 ? 2 + (good[1]! & 0x7f) : 2), Buffer.from([0, 0])]);
    assert.equal(openPkcs12Natively(ber, enc('pw')), undefined);
  });

  it('loadPkcs12File keeps its outcomes on both paths: same signer and chain, BAD_PASSWORD, KEY_LOCKED, no MAC refused', async () => {
    for (const [name, pass] of SHAPES) {
      const b = await loadPkcs12File(join(dir, name), pass);
      assert.equal(Buffer.from(b.certificate).toString('hex'), ders(readFileSync(join(dir, 'c.pem'), 'latin1'))[0], `${name}: signer`);
      assert.deepEqual(b.chain.map((c) => Buffer.from(c).toString('hex')), ders(readFileSync(join(dir, 'ca.pem'), 'latin1')), `${name}: chain`);
      assert.equal(b.keyAlgorithm.type, 'EC');
    }
    // no integrity MAC: not vouched for natively, and PKI.js refuses it too
    await assert.rejects(loadPkcs12File(join(dir, 'nomac.p12'), 'pw'), (e: unknown) => e instanceof SignerError);
    await assert.rejects(loadPkcs12File(join(dir, 'default.p12'), 'nope'), (e: unknown) => e instanceof SignerError && e.code === 'BAD_PASSWORD');
    await assert.rejects(loadPkcs12File(join(dir, 'default.p12'), undefined), (e: unknown) => e instanceof SignerError && e.code === 'KEY_LOCKED');
  });
});
