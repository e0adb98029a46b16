import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pemToDerList } from '@kyso/pki';
import { finalizePdfSignature, openPkcs11Backend, preparePdfSignature, signPdf, storeCertificateOnToken } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { assertOpensslCmsVerifies, assertPdfsigValid, assertPrefix, assertQpdfCheck, kyso } from './pades-helpers.js';
import { makeLocalPki, type LocalPki } from './pades-pki.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '2468';

describe('PAdES with the key in SoftHSM2 (PKCS#11)', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: LocalPki;
  let prevConf: string | undefined;
  let input: string;

  before(async () => {
    assert.ok(existsSync(MODULE), `SoftHSM2 module missing at ${MODULE}`);
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-hsm-'));
    pki = makeLocalPki(join(dir, 'pki'));
    mkdirSync(join(dir, 'tokens'));
    writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    prevConf = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'kyso-pades', '--pin', PIN, '--so-pin', '13572468'], { stdio: 'ignore' });
    const p8 = join(dir, 'leaf.p8');
    execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', pki.leafKey, '-out', p8], { stdio: 'ignore' });
    execFileSync('softhsm2-util', ['--import', p8, '--token', 'kyso-pades', '--label', 'citizen', '--id', '0a', '--pin', PIN], { stdio: 'ignore' });
    rmSync(p8);
    await storeCertificateOnToken({ module: MODULE, token: 'kyso-pades', pin: PIN, label: 'citizen', id: '0a', certificate: pemToDerList(readFileSync(pki.leafCert, 'utf8'))[0]! });
    input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(2, { objectStreams: true }));
  });
  after(() => {
    if (prevConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = prevConf;
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs three times (certify, then two approvals) with the HSM key: all valid', async () => {
    const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-pades', pin: PIN, keyLabel: 'citizen', chain: pemToDerList(readFileSync(pki.rootPath, 'utf8')) });
    try {
      const o1 = join(dir, 'h1.pdf');
      const o2 = join(dir, 'h2.pdf');
      const o3 = join(dir, 'h3.pdf');
      await signPdf(input, o1, { backend: b, certify: 2 });
      await signPdf(o1, o2, { backend: b, reason: 'approval 1' });
      await signPdf(o2, o3, { backend: b, reason: 'approval 2' });
      assertPrefix(input, o1);
      assertPrefix(o2, o3);
      assertPdfsigValid(o3, 3);
      assertQpdfCheck(o3);
      assertOpensslCmsVerifies(o3, pki.rootPath, dir);
    } finally {
      await b.close();
    }
  });

  it('two-step with the HSM signing only the digest (remote-signing shape)', async () => {
    const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-pades', pin: PIN, keyLabel: 'citizen' });
    try {
      const out = join(dir, 'h-two-step.pdf');
      const prep = await preparePdfSignature(input, out, { certificate: b.certificate, chain: b.chain }, { reason: 'remote' });
      const sig = await b.sign({ digest: prep.digest }, prep.signatureAlgorithm);
      await finalizePdfSignature(JSON.stringify(prep.state), sig);
      assertPdfsigValid(out, 1);
    } finally {
      await b.close();
    }
  });

  it('kyso sign --pkcs11-module/--pkcs11-token/--pkcs11-key with --pin-env; a wrong PIN is exit 1 without output', async () => {
    const out = join(dir, 'h-cli.pdf');
    const env = { SOFTHSM2_CONF: join(dir, 'softhsm2.conf'), HSM_PIN: PIN, BAD_PIN: '0000' };
    const ok = await kyso(['sign', input, '-o', out, '--pkcs11-module', MODULE, '--pkcs11-token', 'kyso-pades', '--pkcs11-key', 'citizen', '--pin-env', 'HSM_PIN', '--offline'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assertPdfsigValid(out, 1);
    const bad = join(dir, 'h-bad.pdf');
    const r = await kyso(['sign', input, '-o', bad, '--pkcs11-module', MODULE, '--pkcs11-token', 'kyso-pades', '--pkcs11-key', 'citizen', '--pin-env', 'BAD_PIN', '--offline'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PIN/);
    assert.ok(!r.stderr.includes('0000'));
    assert.equal(existsSync(bad), false);
    void spawnSync;
  });
});
