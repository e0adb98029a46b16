/**
 * `kyso xml sign` takes its key's secret as `kyso sign` does (the shared key options and prompt): from the named
 * environment variable, else from a hidden prompt on a terminal (pty through script(1)), never echoed; without a
 * terminal it says where the secret belongs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localPki } from '../packages/signer/test/crypto-testpki.js';
import { xmlsecVerify } from '../packages/signer/test/xades-helpers.js';
import { answerPrompt } from '../packages/signer/test/pty.js';

const KYSO = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages/cli/bin/kyso.mjs');

describe('kyso xml sign: secrets as kyso sign takes them (environment or hidden prompt)', function () {
  this.timeout(120_000);
  const pki = localPki();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-xml-prompt-'));
    writeFileSync(join(dir, 'in.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n<HoSo><Ten>Nguyễn Văn An</Ten></HoSo>\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prompts for the PKCS#12 password on a terminal without echoing it; the signature verifies in xmlsec1', async () => {
    const out = join(dir, 'prompted.xml');
    const { code, seen, answered } = await answerPrompt([process.execPath, KYSO, 'xml', 'sign', join(dir, 'in.xml'), '-o', out, '--p12', pki.leaves.rsa.p12Path], 'Password: ', pki.password);
    assert.equal(code, 0, seen);
    assert.ok(answered, `no prompt: ${seen}`);
    assert.ok(!seen.slice(seen.indexOf('Password: ') + 10).includes(pki.password), 'password echoed');
    assert.equal(xmlsecVerify(readFileSync(out), pki.rootPath).ok, true);
  });

  it('without a terminal: the environment variable works; none given is a clear error naming --password-env', async () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => new Promise<{ code: number; stderr: string }>((res) => {
      const c = execFile(process.execPath, [KYSO, ...args], { env: { ...process.env, ...env } }, (err, _o, stderr) => res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }));
      c.stdin?.end();
    });
    const ok = await run(['xml', 'sign', join(dir, 'in.xml'), '-o', join(dir, 'env.xml'), '--p12', pki.leaves.rsa.p12Path, '--password-env', 'KYSO_T_PW'], { KYSO_T_PW: pki.password });
    assert.equal(ok.code, 0, ok.stderr);
    const pin = await run(['xml', 'sign', join(dir, 'in.xml'), '-o', join(dir, 'x.xml'), '--pkcs11-module', '/usr/lib/softhsm/libsofthsm2.so', '--pkcs11-token', 't', '--pkcs11-key', 'k']);
    assert.equal(pin.code, 2, pin.stderr);
    assert.match(pin.stderr, /^kyso xml: PIN needed and no terminal to ask on: set it with --pin-env VAR/);
  });
});
