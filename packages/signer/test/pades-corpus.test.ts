import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PdfError } from '@kyso/pdf';
import { loadPemFiles, signPdf, type KeyBackend } from '@kyso/signer';
import { assertPrefix, pdfsigStatuses } from './pades-helpers.js';
import { makeLocalPki } from './pades-pki.js';

const CORPUS = '/work/shared/corpus';

/**
 * Signing on top of other tools' signed PDFs (EU DSS, pyHanko, node-signpdf samples): kyso's signature is
 * valid and every earlier signature keeps exactly the status pdfsig gave it before. Files kyso must not
 * sign (encrypted, certified with DocMDP P=1, broken xref) are refused with a typed error and no output.
 */
describe('PAdES on already-signed PDFs of the shared corpus', function () {
  this.timeout(120_000);
  let dir: string;
  let backend: KeyBackend;
  const files = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).map((l) => l.split('\t')[0]!).filter((f) => f.endsWith('.pdf'));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-corpus-'));
    const pki = makeLocalPki(join(dir, 'pki'));
    backend = await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.leafCert, chainPath: pki.rootPath });
  });
  after(async () => {
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a valid signature without changing any earlier signature status, or refuses cleanly', async () => {
    assert.ok(files.length >= 20, 'corpus present');
    let signed = 0;
    const refused: string[] = [];
    for (const f of files) {
      const input = join(CORPUS, f);
      const out = join(dir, f.replace(/\//g, '_'));
      const before = pdfsigStatuses(input);
      try {
        await signPdf(input, out, { backend });
      } catch (err) {
        const code = String((err as { code?: unknown }).code);
        // damaged files are refused by the preflight (PDF_DAMAGED) rather than signed on top of
        assert.ok(['PDF_ENCRYPTED', 'DOCMDP_FORBIDS', 'PDF_XREF_BROKEN', 'PDF_DAMAGED'].includes(code), `${f}: unexpected ${code}: ${(err as Error).message}`);
        if (code === 'PDF_XREF_BROKEN') assert.ok(err instanceof PdfError);
        assert.equal(existsSync(out), false);
        refused.push(`${f}:${code}`);
        continue;
      }
      assertPrefix(input, out);
      const after = pdfsigStatuses(out);
      assert.deepEqual(after.slice(0, before.length), before, `${f}: earlier signatures unchanged`);
      assert.equal(after.length, before.length + 1);
      assert.equal(after.at(-1), 'Signature is Valid.', `${f}: kyso's signature`);
      signed++;
    }
    assert.ok(signed >= 20, `signed ${signed}, refused ${refused.join(', ')}`);
    assert.ok(refused.some((r) => r.endsWith('DOCMDP_FORBIDS')), 'the P=1 certified sample is refused');
  });
});
