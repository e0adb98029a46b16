import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as graphene from 'graphene-pk11';
import { SignerError, buildCms, openKeyBackend, openPkcs11Backend, storeCertificateOnToken, type KeyBackend } from '@kyso/signer';
import { algId, int, nul, octets, pemToDerList, seq } from '@kyso/pki';
import { localPki, opensslVerifyCms } from './crypto-testpki.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '4321';

describe('key backend: PKCS#11 (SoftHSM2)', function () {
  this.timeout(60_000);
  const pki = localPki();
  const content = join(pki.dir, 'content.bin');
  let hsmDir = '';
  let prevConf: string | undefined;

  before(async () => {
    assert.ok(existsSync(MODULE), `SoftHSM2 module missing at ${MODULE}`);
    hsmDir = mkdtempSync(join(tmpdir(), 'kyso-hsm-'));
    mkdirSync(join(hsmDir, 'tokens'));
    writeFileSync(join(hsmDir, 'softhsm2.conf'), `directories.tokendir = ${join(hsmDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    prevConf = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = join(hsmDir, 'softhsm2.conf');
    const env = { ...process.env };
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'kyso-test', '--pin', PIN, '--so-pin', '87654321'], { env, stdio: 'ignore' });
    // softhsm2-util imports PKCS#8 keys (not RSA-PSS-typed ones); certificates are stored through PKCS#11.
    for (const [name, id] of [['rsa', '01'], ['pss', '02'], ['ec256', '03'], ['ec384', '04']] as const) {
      const p8 = join(hsmDir, `${name}.p8`);
      if (name === 'pss') {
        // Tokens hold RSA-PSS certificates' keys as plain CKK_RSA keys: re-label the PKCS#8 as rsaEncryption.
        const der = createPrivateKey(pki.leaves.pss.keyPem).export({ type: 'pkcs8', format: 'der' });
        const inner = ((asn1js.fromBER(new Uint8Array(der)).result as asn1js.Sequence).valueBlock.value[2] as asn1js.OctetString).valueBlock.valueHexView;
        const plain = seq(int(0), algId('1.2.840.113549.1.1.1', nul()), octets(inner));
        writeFileSync(p8, createPrivateKey({ key: Buffer.from(plain), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }));
      } else execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', pki.leaves[name].keyPath, '-out', p8], { stdio: 'ignore' });
      execFileSync('softhsm2-util', ['--import', p8, '--token', 'kyso-test', '--label', name, '--id', id, '--pin', PIN], { env, stdio: 'ignore' });
      rmSync(p8);
      await storeCertificateOnToken({ module: MODULE, token: 'kyso-test', pin: PIN, label: name, id, certificate: pemToDerList(pki.leaves[name].certPem)[0]! });
    }
  });

  after(() => {
    if (prevConf === undefined) delete process.env.SOFTHSM2_CONF; else process.env.SOFTHSM2_CONF = prevConf;
    rmSync(hsmDir, { recursive: true, force: true });
  });

  const chain = (): Uint8Array[] => pemToDerList(pki.rootPem);
  const digestOf = (hash: string): Buffer => createHash(hash.replace('-', '').toLowerCase()).update(readFileSync(content)).digest();

  it('an RSA-PSS certificate on the token defaults to RSASSA-PSS', async () => {
    const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: 'pss', chain: chain() });
    assert.equal(b.keyAlgorithm.type, 'RSA-PSS');
    const cms = await buildCms({ backend: b, contentDigest: digestOf('SHA-256'), hash: 'SHA-256' });
    assert.ok(opensslVerifyCms(cms, content, pki.rootPath).ok);
    await assert.rejects(b.sign({ digest: new Uint8Array(32) }, { scheme: 'RSA-PKCS1', hash: 'SHA-256' }), (e: unknown) => e instanceof SignerError && e.code === 'ALG_KEY_MISMATCH');
    await b.close();
  });

  it('signs with RSA PKCS#1 v1.5 and RSASSA-PSS, ECDSA P-256 and P-384, SHA-256/384/512: openssl accepts every CMS', async () => {
    const cases: [string, 'RSA-PKCS1' | 'RSA-PSS' | 'ECDSA'][] = [['rsa', 'RSA-PKCS1'], ['rsa', 'RSA-PSS'], ['pss', 'RSA-PSS'], ['ec256', 'ECDSA'], ['ec384', 'ECDSA']];
    for (const [label, scheme] of cases) {
      const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: label, chain: chain() });
      assert.equal(b.kind, 'pkcs11');
      assert.deepEqual(Buffer.from(b.certificate), Buffer.from(pemToDerList(pki.leaves[label as 'rsa'].certPem)[0]!));
      for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
        const cms = await buildCms({ backend: b, contentDigest: digestOf(hash), hash, signatureAlgorithm: { scheme, hash } });
        const v = opensslVerifyCms(cms, content, pki.rootPath);
        assert.ok(v.ok, `${label}/${scheme}/${hash}: ${v.out}`);
      }
      await b.close();
    }
  });

  it('the private key stays on the token: sensitive and not extractable', async () => {
    const mod = graphene.Module.load(MODULE, 'probe');
    mod.initialize();
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === 'kyso-test') slot = slots.items(i);
      assert.ok(slot);
      const s = slot.open(graphene.SessionFlag.SERIAL_SESSION);
      s.login(PIN, graphene.UserType.USER);
      const keys = s.find({ class: graphene.ObjectClass.PRIVATE_KEY });
      assert.equal(keys.length, 4);
      for (let i = 0; i < keys.length; i++) {
        const k = keys.items(i).toType<graphene.PrivateKey>();
        assert.equal(k.sensitive, true);
        assert.throws(() => k.getAttribute({ value: null }));
      }
      s.logout(); s.close();
    } finally { mod.finalize(); }
  });

  it('wrong PIN → BAD_PIN; unknown token → TOKEN_NOT_FOUND; unknown key → KEY_NOT_FOUND; bad module → PKCS11_ERROR', async () => {
    const code = async (p: Promise<KeyBackend>, c: string): Promise<void> => {
      await assert.rejects(p, (e: unknown) => { assert.ok(e instanceof SignerError); assert.equal(e.code, c, e.message); assert.ok(!e.message.includes('9999')); return true; });
    };
    await code(openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: '9999', keyLabel: 'rsa' }), 'BAD_PIN');
    await code(openPkcs11Backend({ module: MODULE, token: 'no-such-token', pin: PIN, keyLabel: 'rsa' }), 'TOKEN_NOT_FOUND');
    await code(openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: 'nope' }), 'KEY_NOT_FOUND');
    await code(openPkcs11Backend({ module: join(hsmDir, 'missing.so'), token: 'kyso-test', pin: PIN, keyLabel: 'rsa' }), 'PKCS11_ERROR');
    // A correct login still works after the failures (the PIN was not locked by three tries).
    const b = await openKeyBackend({ type: 'pkcs11', module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: 'ec256' });
    assert.equal(b.keyAlgorithm.namedCurve, 'P-256');
    await b.close();
  });

  it('concurrent sign() calls on one backend are serialised on its session and all verify', async () => {
    const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: 'ec256', chain: chain() });
    const cmss = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      buildCms({ backend: b, contentDigest: digestOf('SHA-256'), hash: 'SHA-256', signingTime: new Date(Date.UTC(2026, 0, 1 + i)) })));
    for (const cms of cmss) assert.ok(opensslVerifyCms(cms, content, pki.rootPath).ok);
    await b.close();
  });

  it('two backends on the same module can be open at once and closed in any order', async () => {
    const a = await openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: 'rsa' });
    const b = await openPkcs11Backend({ module: MODULE, token: 'kyso-test', pin: PIN, keyLabel: 'ec384' });
    await a.close();
    const cms = await buildCms({ backend: b, contentDigest: digestOf('SHA-384'), hash: 'SHA-384', chain: chain() });
    assert.ok(opensslVerifyCms(cms, content, pki.rootPath).ok);
    await b.close();
    await b.close();
  });
});
