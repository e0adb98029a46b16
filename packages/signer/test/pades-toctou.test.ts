/**
 * One-shot signing (signPdf) never writes a signature over a document other than the one it prepared: if the input
 * changes while the key is signing (a remote approval can take minutes) — even keeping its size — signing fails
 * with STATE_TAMPERED and writes nothing; finalize's internal one-shot option cannot finalize another document.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalKeyBackend, finalizePdfSignature, loadPemFiles, PadesError, preparePdfSignature, signPdf } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { localPki } from './crypto-testpki.js';

describe('PAdES one-shot signing: the document signed is the document prepared', function () {
  this.timeout(60_000);
  const pki = localPki();
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'kyso-toctou-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A same-size change of the page text. */
  const altered = (b: Buffer): Buffer => {
    const at = b.indexOf('endstream') - 40;
    const c = Buffer.from(b);
    c[at] = c[at] === 0x41 ? 0x42 : 0x41;
    return c;
  };

  it('the input rewritten (same size) while the key signs: STATE_TAMPERED, no output', async () => {
    const input = join(dir, 'race.pdf');
    const output = join(dir, 'race-signed.pdf');
    writeFileSync(input, await makeBasicPdf(1));
    const key = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath });
    const backend = new ExternalKeyBackend(key.certificate, key.chain, async (tbs, alg) => {
      const before = readFileSync(input);
      writeFileSync(input, altered(before));
      assert.equal(readFileSync(input).length, before.length);
      return key.sign(tbs, alg);
    });
    await assert.rejects(signPdf(input, output, { backend }), (e: unknown) => e instanceof PadesError && e.code === 'STATE_TAMPERED');
    assert.equal(existsSync(output), false, 'nothing written');
    // the same from bytes that change under the signer
    const bytes = Buffer.from(await makeBasicPdf(1));
    const b2 = new ExternalKeyBackend(key.certificate, key.chain, async (tbs, alg) => { altered(bytes).copy(bytes); return key.sign(tbs, alg); });
    await assert.rejects(signPdf(bytes, join(dir, 'race2.pdf'), { backend: b2 }), (e: unknown) => e instanceof PadesError && e.code === 'STATE_TAMPERED');
    // unchanged input: signs
    writeFileSync(input, await makeBasicPdf(1));
    await signPdf(input, output, { backend: key });
    assert.ok(existsSync(output));
  });

  it('finalize with the internal one-shot option and another same-size document: STATE_TAMPERED', async () => {
    const input = join(dir, 'a.pdf');
    const other = join(dir, 'b.pdf');
    const a = Buffer.from(await makeBasicPdf(1));
    writeFileSync(input, a);
    writeFileSync(other, altered(a));
    const key = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath });
    const prepared = await preparePdfSignature(input, join(dir, 'a-signed.pdf'), { certificate: key.certificate, chain: key.chain }, {});
    const signature = await key.sign({ data: prepared.toBeSigned, digest: prepared.digest }, prepared.signatureAlgorithm);
    await assert.rejects(finalizePdfSignature(prepared.state, signature, { input: other, trustedInput: true }), (e: unknown) => e instanceof PadesError && e.code === 'STATE_TAMPERED');
    assert.equal(existsSync(join(dir, 'a-signed.pdf')), false);
  });
});
