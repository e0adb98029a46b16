/**
 * The same attacks and benign updates on documents using cross-reference streams and object streams
 * (qpdf --object-streams=generate) and on linearized documents (qpdf --linearize), signed by kyso.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPemFiles, signPdfBytes } from '@kyso/signer';
import { analyzePdf, type PdfAnalysis } from '../src/pdf/index.js';
import * as A from '../../../fixtures/attacks/index.js';

const disallowedKinds = (a: PdfAnalysis, i = 0) => a.signatures[i]!.modifications.filter((m) => !m.allowed).map((m) => m.kind);

describe('PDF layer on xref-stream / object-stream / linearized documents (verifier/pdf)', function () {
  this.timeout(60000);
  let dir: string;
  const inputs: Record<string, Uint8Array> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-xrefstm-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '30', '-subj', '/CN=xrefstm test'], { cwd: dir, stdio: 'ignore' });
    const backend = await loadPemFiles({ keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') });
    writeFileSync(join(dir, 'base.pdf'), A.buildBaseDocument());
    execFileSync('qpdf', ['--object-streams=generate', join(dir, 'base.pdf'), join(dir, 'objstm.pdf')]);
    execFileSync('qpdf', ['--linearize', join(dir, 'base.pdf'), join(dir, 'lin.pdf')]);
    for (const k of ['objstm', 'lin']) {
      inputs[k] = await signPdfBytes(readFileSync(join(dir, `${k}.pdf`)), { backend, tmpDir: dir, fieldName: 'Signer1' });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const k of ['objstm', 'lin']) {
    describe(k, () => {
      it('the signed file is clean and the signature covers the whole file', async () => {
        const a = await analyzePdf(inputs[k]!);
        assert.deepEqual(a.findings.filter((f) => f.severity === 'error'), []);
        assert.equal(a.signatures.length, 1);
        assert.deepEqual(a.signatures[0]!.formatFindings.filter((f) => f.severity === 'error'), []);
        assert.equal(a.signatures[0]!.coverage?.coversWholeFile, true);
        assert.equal(a.signatures[0]!.modificationLevel, 'NONE');
      });
      const attacks: [string, (b: Uint8Array) => Uint8Array, string][] = [
        ['ISA', (b) => A.incrementalSavingAttack(b), 'page-content-changed'],
        ['page added', (b) => A.addPageAttack(b), 'page-added'],
        ['shadow hide', (b) => A.shadowHide(b), 'resource-changed'],
        ['shadow replace', (b) => A.shadowReplace(b), 'appearance-overridden'],
        ['font replaced', (b) => A.shadowReplaceFont(b), 'resource-changed'],
        ['relocated signature dictionary', (b) => A.relocatedSignatureDictionary(b), 'signature-dictionary-changed'],
      ];
      for (const [label, f, kind] of attacks) {
        it(`${label} is flagged as ${kind}`, async () => {
          const a = await analyzePdf(f(inputs[k]!));
          assert.ok(disallowedKinds(a).includes(kind), JSON.stringify(a.signatures[0]!.modifications));
        });
      }
      it('benign DSS, form fill and document timestamp stay allowed', async () => {
        const a = await analyzePdf(A.appendDocumentTimestampLike(A.appendDss(A.fillField(inputs[k]!))));
        assert.deepEqual(disallowedKinds(a), []);
        assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING');
        assert.equal(a.signatures.length, 2);
      });
    });
  }
});
