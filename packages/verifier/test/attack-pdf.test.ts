/**
 * Attack classes built by code from validly signed files (kyso signer): each must give the affected
 * signature a non-allowed modification or an error finding naming what was manipulated; benign
 * appends (DSS, a second signature in its own field, a document timestamp, form filling) stay allowed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPemFiles, signPdfBytes } from '@kyso/signer';
import { analyzePdf, type PdfAnalysis, type PdfSignatureInfo } from '../src/pdf/index.js';
import * as A from '../../../fixtures/attacks/index.js';

function pki(dir: string): { keyPath: string; certPath: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '30', '-subj', '/CN=kyso attack test signer', '-addext', 'keyUsage=critical,digitalSignature,nonRepudiation'], { cwd: dir, stdio: 'ignore' });
  return { keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') };
}

function disallowed(s: PdfSignatureInfo): { kind: string; object?: string; description: string }[] {
  return s.modifications.filter((m) => !m.allowed);
}
function errors(s: PdfSignatureInfo): string[] {
  return s.formatFindings.filter((f) => f.severity === 'error').map((f) => f.code);
}
/** Asserts signature `i` is clean: whole-revision coverage, no error, only allowed modifications. */
function assertClean(a: PdfAnalysis, i: number): void {
  const s = a.signatures[i]!;
  assert.ok(s, `signature ${i} present`);
  assert.deepEqual(errors(s), [], `no format error: ${JSON.stringify(s.formatFindings)}`);
  assert.deepEqual(disallowed(s), [], `no disallowed change: ${JSON.stringify(s.modifications)}`);
  assert.equal(s.coverage?.coversWholeRevision, true);
}
/** Asserts signature `i` shows the attack: a disallowed modification of `kind` (naming an object). */
function assertFlagged(a: PdfAnalysis, i: number, kind: string, objectRe?: RegExp): void {
  const s = a.signatures[i]!;
  const bad = disallowed(s);
  const hit = bad.find((m) => m.kind === kind);
  assert.ok(hit, `expected a disallowed '${kind}', got ${JSON.stringify(s.modifications.map((m) => [m.kind, m.allowed, m.object]))} / ${errors(s)}`);
  assert.ok(hit.object && hit.description.length > 10, 'names the offending object');
  if (objectRe) assert.match(hit.object!, objectRe);
  assert.equal(s.modificationLevel, 'OTHER');
}

describe('PDF attacks (verifier/pdf)', function () {
  this.timeout(60000);
  let dir: string;
  let signed: Uint8Array; // approval signature, base document
  let certified: Uint8Array; // certification P=2
  let backend: Awaited<ReturnType<typeof loadPemFiles>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-attacks-'));
    backend = await loadPemFiles(pki(dir));
    const base = A.buildBaseDocument();
    signed = await signPdfBytes(base, { backend, tmpDir: dir, fieldName: 'Signer1' });
    certified = await signPdfBytes(base, { backend, tmpDir: dir, fieldName: 'Certifier', certify: 2 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the signed inputs are clean', async () => {
    const a = await analyzePdf(signed);
    assert.equal(a.signatures.length, 1);
    assertClean(a, 0);
    assert.equal(a.signatures[0]!.coverage?.coversWholeFile, true);
    assert.equal(a.signatures[0]!.modificationLevel, 'NONE');
    const c = await analyzePdf(certified);
    assertClean(c, 0);
    assert.equal(c.signatures[0]!.isCertification, true);
    assert.equal(c.signatures[0]!.docMdpPermissions, 2);
  });

  it('digest() streams the ByteRange from bytes and from a file identically', async () => {
    const p = join(dir, 'signed.pdf');
    writeFileSync(p, signed);
    const a = await analyzePdf(signed);
    const b = await analyzePdf(p);
    const d1 = Buffer.from(await a.signatures[0]!.digest('SHA-256')).toString('hex');
    const d2 = Buffer.from(await b.signatures[0]!.digest('SHA-256')).toString('hex');
    assert.equal(d1, d2);
    const br = a.signatures[0]!.coverage!.byteRange;
    const { createHash } = await import('node:crypto');
    const h = createHash('sha256').update(signed.subarray(0, br[1])).update(signed.subarray(br[2], br[2]! + br[3]!)).digest('hex');
    assert.equal(d1, h);
  });

  describe('2019: ISA, SWA, USF', () => {
    it('ISA: rewritten page content stream', async () => {
      const a = await analyzePdf(A.incrementalSavingAttack(signed));
      assertFlagged(a, 0, 'page-content-changed', /^\d+ 0 R$/);
      assert.equal(a.signatures[0]!.coverage?.coversWholeFile, false);
    });
    it('ISA: page added', async () => {
      assertFlagged(await analyzePdf(A.addPageAttack(signed)), 0, 'page-added', /page 2/);
    });
    it('objects appended after %%EOF without an xref section', async () => {
      assertFlagged(await analyzePdf(A.appendedWithoutXref(signed)), 0, 'data-after-last-revision', /^offset \d+$/);
    });
    it('a ByteRange ending right after %%EOF (EOL left out) is a whole revision', async () => {
      const a0 = await analyzePdf(signed);
      const br = a0.signatures[0]!.coverage!.byteRange;
      const tail = Buffer.from(signed.subarray(signed.length - 2));
      assert.equal(tail[1], 0x0a, 'kyso ends the revision with an EOL');
      const shorter = Buffer.from(signed);
      const s = shorter.toString('latin1');
      const at = s.lastIndexOf(`${br[3]}]`, a0.signatures[0]!.coverage!.contentsStart);
      assert.ok(at > 0);
      const repl = String(br[3]! - 1).padEnd(String(br[3]).length, ' ');
      shorter.write(repl, at, 'latin1');
      const a = await analyzePdf(shorter);
      assert.equal(a.signatures[0]!.coverage?.coversWholeRevision, true, JSON.stringify(a.signatures[0]!.formatFindings));
      assert.equal(a.signatures[0]!.coverage?.coversWholeFile, true);
    });
    it('SWA: ByteRange gap moved past /Contents', async () => {
      const a = await analyzePdf(A.signatureWrappingAttack(signed));
      assert.ok(errors(a.signatures[0]!).includes('CONTENTS_GAP_MISMATCH'), JSON.stringify(a.signatures[0]!.formatFindings));
      assert.equal(a.signatures[0]!.coverage?.coversWholeRevision, false);
    });
    it('SWA: signature dictionary relocated to a later revision', async () => {
      const a = await analyzePdf(A.relocatedSignatureDictionary(signed));
      assert.ok(errors(a.signatures[0]!).includes('CONTENTS_GAP_MISMATCH'));
      assertFlagged(a, 0, 'signature-dictionary-changed');
    });
    for (const v of ['contents-missing', 'contents-null', 'contents-empty', 'byterange-missing', 'byterange-null', 'byterange-malformed', 'byterange-zero'] as const) {
      it(`USF: ${v}`, async () => {
        const a = await analyzePdf(A.universalSignatureForgery(signed, v));
        const s = a.signatures[0]!;
        const errs = errors(s);
        const expected = v.startsWith('contents') ? /^CONTENTS_(MISSING|MALFORMED|EMPTY)$/ : /^BYTERANGE_(MISSING|MALFORMED|NOT_REVISION_END)$/;
        assert.ok(errs.some((e) => expected.test(e)), `${v}: ${errs}`);
        if (v.startsWith('contents')) assert.equal(s.contents.length, 0);
        assert.ok(disallowed(s).some((m) => m.kind === 'signature-dictionary-changed'));
      });
    }
    for (const key of ['Contents', 'ByteRange'] as const) {
      it(`USF in place: /${key} renamed`, async () => {
        const a = await analyzePdf(A.universalSignatureForgeryInPlace(signed, key));
        assert.ok(errors(a.signatures[0]!).includes(key === 'Contents' ? 'CONTENTS_MISSING' : 'BYTERANGE_MISSING'));
        assert.equal(a.signatures[0]!.coverage === null || !a.signatures[0]!.coverage.coversWholeRevision, true);
      });
    }
  });

  describe('2021: shadow attacks', () => {
    it('hide: overlay XObject emptied', async () => {
      assertFlagged(await analyzePdf(A.shadowHide(signed)), 0, 'resource-changed', new RegExp(`^${A.BASE.overlay} 0 R$`));
    });
    it('replace: field appearance redefined without a value change', async () => {
      assertFlagged(await analyzePdf(A.shadowReplace(signed)), 0, 'appearance-overridden', new RegExp(`^${A.BASE.amountAppearance} 0 R$`));
    });
    it('replace: page font redefined', async () => {
      assertFlagged(await analyzePdf(A.shadowReplaceFont(signed)), 0, 'resource-changed', new RegExp(`^${A.BASE.font} 0 R$`));
    });
    it('hide: a visible annotation present at signing is removed', async () => {
      assertFlagged(await analyzePdf(A.removeAnnotationAttack(signed)), 0, 'annotation-removed', new RegExp(`^${A.BASE.stamp} 0 R$`));
    });
    it('replace: the appearance of an annotation present at signing is rewritten', async () => {
      assertFlagged(await analyzePdf(A.rewriteAnnotationAppearance(signed)), 0, 'annotation-modified', new RegExp(`^${A.BASE.stampAppearance} 0 R$`));
    });
    it('removing an annotation added after signing stays allowed (ANNOTATIONS)', async () => {
      const withNote = A.evilAnnotationAttack(signed);
      const added = (await analyzePdf(withNote)).signatures[0]!.modifications.find((m) => m.kind === 'annotation-added')!;
      const a = await analyzePdf(A.removeAnnotationAttack(withNote, Number.parseInt(added.object!, 10)));
      assertClean(a, 0);
      assert.ok(a.signatures[0]!.modifications.some((m) => m.kind === 'annotation-removed' && m.allowed));
    });
    it('hide-and-replace: page /Contents switched to a prepared stream', async () => {
      assertFlagged(await analyzePdf(A.shadowHideAndReplace(signed)), 0, 'page-content-changed', new RegExp(`^${A.BASE.page} 0 R$`));
    });
  });

  describe('rule confusion: a content change disguised as an allowed change', () => {
    for (const via of ['annotation', 'signature-value', 'dss', 'info'] as const) {
      it(`via ${via}`, async () => {
        assertFlagged(await analyzePdf(A.disguisedContentChange(signed, via)), 0, 'page-content-changed', new RegExp(`^${A.BASE.content} 0 R$`));
      });
    }
  });

  it('parser disagreement: page redefined with /Contents twice', async () => {
    assertFlagged(await analyzePdf(A.duplicateKeyAttack(signed)), 0, 'ambiguous-object', new RegExp(`^${A.BASE.page} 0 R$`));
  });

  describe('certification attacks', () => {
    it('EAA: annotation added to a certified P=2 document', async () => {
      const a = await analyzePdf(A.evilAnnotationAttack(certified));
      const m = a.signatures[0]!.modifications.find((x) => x.kind === 'annotation-added');
      assert.ok(m && !m.allowed, JSON.stringify(a.signatures[0]!.modifications));
      assert.match(m.description, /DocMDP P=2/);
    });
    it('catalog /Perms /DocMDP is authoritative even without the DocMDP /Reference', async () => {
      const s = Buffer.from(certified).toString('latin1');
      const at = s.lastIndexOf('/Reference');
      assert.ok(at > 0);
      const stripped = Buffer.from(s.slice(0, at) + '/ReferencX' + s.slice(at + 10), 'latin1');
      const a0 = await analyzePdf(stripped);
      assert.equal(a0.signatures[0]!.isCertification, true);
      assert.ok(a0.signatures[0]!.formatFindings.some((f) => f.code === 'DOCMDP_REFERENCE_MISSING'));
      const a = await analyzePdf(A.evilAnnotationAttack(stripped));
      assert.ok(a.signatures[0]!.modifications.some((m) => m.kind === 'annotation-added' && !m.allowed));
    });
    it('the same annotation on an approval-only document is allowed (ANNOTATIONS)', async () => {
      const a = await analyzePdf(A.evilAnnotationAttack(signed));
      assertClean(a, 0);
      assert.equal(a.signatures[0]!.modificationLevel, 'ANNOTATIONS');
    });
    it('SSA: new visible signature field on a certified document', async () => {
      const a = await analyzePdf(A.sneakySignatureAttack(certified));
      assertFlagged(a, 0, 'new-signature-field-after-certification');
    });
    it('P=1: even a second signature in an existing field is not permitted', async () => {
      const p1 = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Certifier', certify: 1 });
      const a = await analyzePdf(A.appendSignatureLike(p1, { fieldName: 'Approval', existingField: true }));
      const m = a.signatures[0]!.modifications.find((x) => x.kind === 'signature-added');
      assert.ok(m && !m.allowed, JSON.stringify(a.signatures[0]!.modifications));
    });
  });

  it('signing a signature field locked by an earlier FieldMDP lock is not allowed', async () => {
    const locked = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Locker', lock: { action: 'Include', fields: ['Approval'] } });
    const a = await analyzePdf(A.appendSignatureLike(locked, { fieldName: 'Approval', existingField: true }));
    const m = a.signatures[0]!.modifications.find((x) => x.kind === 'locked-field-changed');
    assert.ok(m && !m.allowed, JSON.stringify(a.signatures[0]!.modifications));
    const free = await analyzePdf(A.appendSignatureLike(locked, { fieldName: 'Other', rect: [0, 0, 0, 0] }));
    assert.deepEqual(disallowed(free.signatures[0]!), []);
  });

  describe('benign appends stay allowed', () => {
    it('DSS added', async () => {
      const a = await analyzePdf(A.appendDss(signed));
      assertClean(a, 0);
      assert.equal(a.signatures[0]!.modificationLevel, 'LTA_UPDATES');
      assert.ok(a.signatures[0]!.modifications.some((m) => m.kind === 'dss-added'));
      assert.equal(a.dss?.certs.length, 1);
      assert.deepEqual(Object.keys(a.dss!.vri), ['0'.repeat(40)]);
    });
    it('second signature (kyso signer) in its own pre-existing field, then DSS', async () => {
      const two = await signPdfBytes(signed, { backend, tmpDir: dir, fieldName: 'Approval' });
      const a = await analyzePdf(A.appendDss(two));
      assert.equal(a.signatures.length, 2);
      assertClean(a, 0);
      assertClean(a, 1);
      assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING');
      assert.equal(a.signatures[1]!.revision, a.signatures[0]!.revision + 1);
    });
    it('second signature in a new field on a certified P=2 document (invisible) is allowed', async () => {
      const two = await signPdfBytes(certified, { backend, tmpDir: dir, fieldName: 'Countersign' });
      const a = await analyzePdf(two);
      assertClean(a, 0);
      assertClean(a, 1);
    });
    it('document timestamp', async () => {
      const a = await analyzePdf(A.appendDocumentTimestampLike(A.appendDss(signed)));
      assertClean(a, 0);
      assert.equal(a.signatures[1]!.kind, 'document-timestamp');
      assert.equal(a.signatures[0]!.modificationLevel, 'LTA_UPDATES');
      assert.equal(a.signatures[1]!.coverage?.coversWholeFile, true);
    });
    it('form filling with a new appearance (approval signature; certified P=2)', async () => {
      for (const base of [signed, certified]) {
        const a = await analyzePdf(A.fillField(base));
        assertClean(a, 0);
        assert.equal(a.signatures[0]!.modificationLevel, 'FORM_FILLING');
      }
    });
    it('form filling is refused on a FieldMDP-locked field', async () => {
      const locked = await signPdfBytes(A.buildBaseDocument(), { backend, tmpDir: dir, fieldName: 'Locker', lock: { action: 'Include', fields: ['Amount'] } });
      const an = await analyzePdf(locked);
      assert.deepEqual(an.signatures[0]!.fieldLock, { action: 'Include', fields: ['Amount'] });
      const a = await analyzePdf(A.fillField(locked));
      const m = a.signatures[0]!.modifications.find((x) => x.kind === 'locked-field-changed');
      assert.ok(m && !m.allowed, JSON.stringify(a.signatures[0]!.modifications));
    });
  });
});
