/** The native PKCS#12 MAC check (fast path of parsePkcs12) agrees with OpenSSL's files and never widens acceptance. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { loadPkcs12File, SignerError } from '@kyso/signer';
import { pkcs12MacMatches } from '../src/crypto/keys/pkcs12-mac.js';

describe('PKCS#12 MAC check (node:crypto fast path)', function () {
  this.timeout(60_000);
  let dir: string;
  const ossl = (...a: string[]): void => { execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
  const pfx = (f: string) => pkijs.PFX.fromBER(new Uint8Array(readFileSync(join(dir, f))));
  const enc = (s: string) => new TextEncoder().encode(s);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-p12mac-'));
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=p12 mac');
    for (const [name, mac, pass] of [['sha256', 'sha256', 'pw-256'], ['sha1', 'sha1', 'pw-1'], ['sha512', 'sha512', 'pw-512'], ['sha384', 'sha384', 'pw-384'], ['vi', 'sha256', 'mật khẩu Việt']] as const) {
      ossl('pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-out', `${name}.p12`, '-passout', `pass:${pass}`, '-macalg', mac, '-iter', '2048');
    }
    ossl('pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-out', 'nomac.p12', '-passout', 'pass:pw', '-nomac');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('confirms the right password for SHA-1 / SHA-256 / SHA-384 / SHA-512 MACs and a non-ASCII password', () => {
    assert.equal(pkcs12MacMatches(pfx('sha256.p12'), enc('pw-256')), true);
    assert.equal(pkcs12MacMatches(pfx('sha1.p12'), enc('pw-1')), true);
    assert.equal(pkcs12MacMatches(pfx('sha384.p12'), enc('pw-384')), true);
    assert.equal(pkcs12MacMatches(pfx('sha512.p12'), enc('pw-512')), true);
    assert.equal(pkcs12MacMatches(pfx('vi.p12'), enc('mật khẩu Việt')), true);
  });

  it('does not confirm a wrong password, a file without MAC, or a tampered file', () => {
    assert.equal(pkcs12MacMatches(pfx('sha256.p12'), enc('pw-257')), false);
    assert.equal(pkcs12MacMatches(pfx('sha256.p12'), enc('')), false);
    assert.equal(pkcs12MacMatches(pfx('nomac.p12'), enc('pw')), false);
    const bytes = readFileSync(join(dir, 'sha256.p12'));
    bytes[200] ^= 1;
    let tampered: pkijs.PFX | undefined;
    try { tampered = pkijs.PFX.fromBER(new Uint8Array(bytes)); } catch { /* unparsable is fine too */ }
    if (tampered) assert.equal(pkcs12MacMatches(tampered, enc('pw-256')), false);
  });

  it('loading keeps its outcomes: the key opens with the right password, BAD_PASSWORD otherwise', async () => {
    for (const [f, pw] of [['sha256.p12', 'pw-256'], ['sha1.p12', 'pw-1'], ['vi.p12', 'mật khẩu Việt']]) {
      const b = await loadPkcs12File(join(dir, f!), pw!);
      assert.equal(b.certificate.length > 0, true);
    }
    await assert.rejects(loadPkcs12File(join(dir, 'sha256.p12'), 'nope'), (e: unknown) => e instanceof SignerError && e.code === 'BAD_PASSWORD');
    await assert.rejects(loadPkcs12File(join(dir, 'sha512.p12'), 'pw-256'), (e: unknown) => e instanceof SignerError && e.code === 'BAD_PASSWORD');
  });
});
