import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pemToDerList } from '@kyso/pki';
import { openPkcs11Backend, signXml, storeCertificateOnToken } from '@kyso/signer';
import { verifyXml } from '@kyso/verifier';
import { localPki } from './crypto-testpki.js';
import { xmlsecVerify } from './xades-helpers.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '1357';

describe('XML signatures with the key in SoftHSM2 (PKCS#11): RSA and ECDSA, every mode', function () {
  this.timeout(120_000);
  const pki = localPki();
  let dir: string;
  let prevConf: string | undefined;
  before(async () => {
    assert.ok(existsSync(MODULE), `SoftHSM2 module missing at ${MODULE}`);
    dir = mkdtempSync(join(tmpdir(), 'kyso-xades-hsm-'));
    mkdirSync(join(dir, 'tokens'));
    writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    prevConf = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'kyso-xml', '--pin', PIN, '--so-pin', '24681357'], { stdio: 'ignore' });
    for (const [leaf, id] of [['rsa', '0b'], ['ec256', '0c']] as const) {
      execFileSync('softhsm2-util', ['--import', pki.leaves[leaf].keyPath, '--token', 'kyso-xml', '--label', leaf, '--id', id, '--pin', PIN], { stdio: 'ignore' });
      await storeCertificateOnToken({ module: MODULE, token: 'kyso-xml', pin: PIN, label: leaf, id, certificate: pemToDerList(readFileSync(pki.leaves[leaf].certPath, 'utf8'))[0]! });
    }
  });
  after(() => {
    if (prevConf === undefined) delete process.env.SOFTHSM2_CONF; else process.env.SOFTHSM2_CONF = prevConf;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const leaf of ['rsa', 'ec256'] as const) {
    it(`${leaf}: enveloped, enveloping and detached XAdES B-B signed in the HSM verify in xmlsec1 and kyso`, async () => {
      const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-xml', pin: PIN, keyLabel: leaf });
      try {
        const data = Buffer.from('detached data');
        for (const mode of ['enveloped', 'enveloping', 'detached'] as const) {
          const out = await signXml('<doc xmlns="urn:d"><x>Chữ ký trong HSM</x></doc>', { backend: b, mode, ...(mode === 'detached' ? { detached: { data, uri: 'data.bin' } } : {}) });
          assert.ok(xmlsecVerify(out, pki.rootPath, { detached: { 'data.bin': data } }).ok, `${leaf}/${mode}`);
          const r = await verifyXml(out, { trustAnchors: [pki.rootPem], revocationRequired: false }, { detached: { 'data.bin': data } });
          assert.equal(r.documentIndication, 'TOTAL_PASSED', r.signatures[0]!.message);
        }
      } finally { await b.close(); }
    });
  }
});
