import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testKey, keyCacheDir } from '../fixtures/src/keys.js';

describe('test PKI key cache', function () {
  this.timeout(30_000);
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['KYSO_PKI_KEY_CACHE'];
    dir = mkdtempSync(join(tmpdir(), 'kyso-keycache-'));
    process.env['KYSO_PKI_KEY_CACHE'] = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['KYSO_PKI_KEY_CACHE']; else process.env['KYSO_PKI_KEY_CACHE'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates once, then reuses the cached key (file mode 0600, PKCS#8)', async () => {
    assert.equal(keyCacheDir(), dir);
    const a = await testKey('probe', 'ECDSA-P256');
    const files = readdirSync(dir);
    assert.deepEqual(files, ['probe.ECDSA-P256.key.pem']);
    assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dir, files[0]!), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const b = await testKey('probe', 'ECDSA-P256');
    assert.deepEqual(createPublicKey(a).export({ type: 'spki', format: 'der' }), createPublicKey(b).export({ type: 'spki', format: 'der' }));
    const c = await testKey('probe', 'ECDSA-P384');
    assert.equal(c.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  });

  it('a corrupted cache file is replaced by a fresh key', async () => {
    writeFileSync(join(dir, 'broken.ECDSA-P256.key.pem'), 'garbage');
    const k = await testKey('broken', 'ECDSA-P256');
    assert.equal(k.asymmetricKeyType, 'ec');
    assert.match(readFileSync(join(dir, 'broken.ECDSA-P256.key.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  });

  it('fresh keys are the default: unset, 0 or false mean no cache; 1 means the repository cache; opts.cache overrides', async () => {
    delete process.env['KYSO_PKI_KEY_CACHE'];
    assert.equal(keyCacheDir(), undefined);
    for (const v of ['0', 'false', '']) {
      process.env['KYSO_PKI_KEY_CACHE'] = v;
      assert.equal(keyCacheDir(), undefined, `KYSO_PKI_KEY_CACHE=${v}`);
    }
    process.env['KYSO_PKI_KEY_CACHE'] = '1';
    assert.match(keyCacheDir()!, /\.cache\/test-pki-keys\/?$/);
    delete process.env['KYSO_PKI_KEY_CACHE'];
    const a = await testKey('default', 'ECDSA-P256');
    const b = await testKey('default', 'ECDSA-P256');
    assert.notDeepEqual(createPublicKey(a).export({ type: 'spki', format: 'der' }), createPublicKey(b).export({ type: 'spki', format: 'der' }));
    // explicit per-call opt-in and opt-out
    const c = await testKey('explicit', 'ECDSA-P256', { cache: dir });
    const d = await testKey('explicit', 'ECDSA-P256', { cache: dir });
    assert.deepEqual(createPublicKey(c).export({ type: 'spki', format: 'der' }), createPublicKey(d).export({ type: 'spki', format: 'der' }));
    process.env['KYSO_PKI_KEY_CACHE'] = dir;
    const e = await testKey('explicit', 'ECDSA-P256', { cache: false });
    assert.notDeepEqual(createPublicKey(c).export({ type: 'spki', format: 'der' }), createPublicKey(e).export({ type: 'spki', format: 'der' }));
  });

  it('KYSO_PKI_KEY_CACHE=0 never touches the disk', async () => {
    process.env['KYSO_PKI_KEY_CACHE'] = '0';
    assert.equal(keyCacheDir(), undefined);
    const a = await testKey('nocache', 'ECDSA-P256');
    const b = await testKey('nocache', 'ECDSA-P256');
    assert.notDeepEqual(createPublicKey(a).export({ type: 'spki', format: 'der' }), createPublicKey(b).export({ type: 'spki', format: 'der' }));
    assert.deepEqual(readdirSync(dir), []);
  });
});
