/**
 * Real-world and attack samples of /work/shared/corpus (MANIFEST.tsv): every `attack` PDF row gives an
 * error finding or a non-allowed modification naming what was modified; `valid` rows have no
 * non-allowed modification and no format error. Specific expectations pin the known files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzePdf, type PdfAnalysis } from '../src/pdf/index.js';

const CORPUS = '/work/shared/corpus';
const rows = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((l) => l.split('\t'))
  .map(([file, , , , verdict, note]) => ({ file: file!, verdict: verdict!, note: note ?? '' }))
  .filter((r) => r.file.endsWith('.pdf'));

function problems(a: PdfAnalysis): string[] {
  const out: string[] = [];
  for (const f of a.findings) if (f.severity === 'error') out.push(`doc:${f.code}`);
  for (const s of a.signatures) {
    for (const f of s.formatFindings) if (f.severity === 'error') out.push(`${s.fieldName}:${f.code}`);
    for (const m of s.modifications) if (!m.allowed) out.push(`${s.fieldName}:${m.kind}@${m.object}`);
  }
  return out;
}

/** Known files: what the analysis must say about them (beyond the generic verdict check). */
const SPECIFIC: Record<string, (a: PdfAnalysis) => void> = {
  'dss-pades/siwa.pdf': (a) => assert.ok(a.signatures[0]!.formatFindings.some((f) => f.code === 'CONTENTS_GAP_MISMATCH')),
  'dss-pades/pdf-byterange-overlap.pdf': (a) => {
    assert.equal(a.signatures.length, 2);
    const bad = a.signatures.filter((s) => s.formatFindings.some((f) => f.severity === 'error'));
    assert.equal(bad.length, 1, 'exactly one signature with a ByteRange problem');
  },
  'dss-pades/dss-2236_hide.pdf': (a) => assert.ok(a.signatures[0]!.modifications.some((m) => !m.allowed && m.kind === 'resource-changed' && m.object === '8 0 R')),
  'dss-pades/dss-2236_replace.pdf': (a) => assert.ok(a.signatures[0]!.modifications.some((m) => !m.allowed && m.kind === 'appearance-overridden')),
  'dss-pades/pades-spoofing-replaced-reason.pdf': (a) => assert.ok(a.signatures[0]!.modifications.some((m) => !m.allowed && m.kind === 'signature-dictionary-changed' && /\/Reason/.test(m.description))),
  'dss-pades/pdf-spoofing-attack.pdf': (a) => assert.ok(a.signatures.some((s) => s.modifications.some((m) => !m.allowed && m.kind === 'signature-dictionary-changed'))),
  'dss-pades/pdf-signed-added-page.pdf': (a) => assert.ok(a.signatures[0]!.modifications.some((m) => !m.allowed && m.kind === 'page-added' && m.object === 'page 2')),
  'dss-pades/hello_signed_INCSAVE_signed.pdf': (a) => {
    assert.equal(a.signatures.length, 2);
    assert.equal(a.signatures[1]!.coverage?.coversWholeFile, true);
    assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING');
  },
  'dss-pades/pades-signed-annot-added.pdf': (a) => assert.equal(a.signatures[0]!.modificationLevel, 'ANNOTATIONS'),
  'dss-pades/pades-ltv.pdf': (a) => {
    assert.deepEqual(a.signatures.map((s) => s.kind), ['signature', 'document-timestamp', 'document-timestamp']);
    assert.equal(a.signatures[0]!.modificationLevel, 'LTA_UPDATES');
    assert.ok(a.dss && a.dss.certs.length === 4 && a.dss.ocsps.length === 1 && a.dss.crls.length === 1);
  },
  'dss-pades/dss-2554_certified-no-change-permitted.pdf': (a) => assert.equal(a.signatures[0]!.docMdpPermissions, 1),
  'dss-pades/dss-2554_certified-changes-permitted.pdf': (a) => assert.equal(a.signatures[0]!.docMdpPermissions, 3),
  'dss-pades/pdf-signed-corrupted.pdf': (a) => assert.ok(a.findings.some((f) => f.code === 'XREF_REPAIRED' && f.severity === 'error')),
  'dss-pades/pdf-signed-out-of-byteRange.pdf': (a) => assert.ok(a.signatures[0]!.formatFindings.some((f) => f.code === 'BYTERANGE_BEYOND_FILE')),
  'dss-pades/hello_signed_INCSAVE_signed_EDITED.pdf': (a) => assert.ok(problems(a).length > 0),
  'pyhanko/coverage-anomalies_tail-uncovered.pdf': (a) => assert.ok(a.signatures[0]!.formatFindings.some((f) => f.code === 'BYTERANGE_NOT_REVISION_END')),
  'pyhanko/coverage-anomalies_signature-gap-too-big.pdf': (a) => assert.ok(a.signatures[0]!.formatFindings.some((f) => f.code === 'CONTENTS_GAP_MISMATCH')),
  'pyhanko/coverage-anomalies_weird-byterange.pdf': (a) => assert.equal(a.signatures[0]!.coverage?.coversWholeRevision ?? false, false),
  'pyhanko/form-update-override-appearance-stream-sneaky.pdf': (a) => assert.ok(a.signatures[0]!.modifications.some((m) => !m.allowed && m.kind === 'appearance-overridden' && m.object === '9 0 R')),
  'pyhanko/form-update-override-appearance-stream.pdf': (a) => assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING'),
  'pyhanko/minimal-two-fields-signed-twice.pdf': (a) => {
    assert.equal(a.signatures.length, 2);
    assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING');
  },
  'pyhanko/certified-with-indirect-refs-in-dir.pdf': (a) => assert.equal(a.signatures[0]!.isCertification, true),
  'pyhanko/pades-lta-dss-indirect-arrs-test.pdf': (a) => {
    assert.equal(a.signatures[1]!.kind, 'document-timestamp');
    assert.equal(a.signatures[0]!.modificationLevel, 'LTA_UPDATES');
    // pyHanko keys the VRI by the SHA-1 of the padded /Contents
    assert.equal(a.signatures[0]!.vriKey, '37E8639579D2B652A64AB624A22D3823AC6FA4F1');
    assert.equal(a.signatures[1]!.vriKey, undefined);
  },
  'node-signpdf/signed-once.pdf': (a) => assert.equal(a.signatures[0]!.coverage?.coversWholeFile, true),
};

describe('PDF corpus (verifier/pdf)', function () {
  this.timeout(30000);
  it('the manifest lists PDF rows and the files exist', () => {
    assert.ok(rows.length >= 25, `only ${rows.length} PDF rows`);
    for (const r of rows) assert.ok(existsSync(join(CORPUS, r.file)), r.file);
  });
  for (const r of rows) {
    it(`${r.file} (${r.verdict})`, async () => {
      const t = Date.now();
      const a = await analyzePdf(join(CORPUS, r.file));
      assert.ok(Date.now() - t < 2000, 'analysed within 2 s');
      assert.ok(a.signatures.length >= 1, `signatures found: ${JSON.stringify(a.findings)}`);
      const p = problems(a);
      if (r.verdict === 'attack-should-be-detected') {
        assert.ok(p.length > 0, 'attack detected');
        // every non-allowed modification names its object and says what happened
        for (const s of a.signatures) for (const m of s.modifications) if (!m.allowed) assert.ok(m.object && m.description, JSON.stringify(m));
      } else if (r.verdict === 'valid') {
        assert.deepEqual(p, [], 'no format error and no disallowed modification');
        for (const s of a.signatures) {
          assert.ok(s.contents.length > 0 && s.contents[0] === 0x30, 'CMS extracted');
          assert.equal(s.coverage?.coversWholeRevision, true);
        }
      }
      SPECIFIC[r.file]?.(a);
    });
  }
});
