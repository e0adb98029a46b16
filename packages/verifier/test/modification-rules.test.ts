/**
 * Modification rules as a policy: the rule list is injectable through `Policy.modificationRules`; allowed
 * changes that matter to a reader are warnings in the report; roles are computed over every referrer.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PdfHistory } from '@kyso/pdf';
import { loadPemFiles, signPdfBytes } from '@kyso/signer';
import { renderText, verifyPdf } from '@kyso/verifier';
import { PDF_MODIFICATION_RULES, modificationRules, type ModificationRule } from '../src/pdf/index.js';
import { buildRoles } from '../src/pdf/rules/context.js';
import * as A from '../../../fixtures/attacks/index.js';

const kase = (name: string): A.RenderCase => A.RENDER_CASES.find((c) => c.name === name)!;

describe('modification rules (verifier/pdf)', function () {
  this.timeout(60_000);
  let dir: string;
  let signed: Uint8Array;
  let policy: { trustAnchors: string[]; revocationRequired: boolean; offline: boolean };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-rules-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '30', '-subj', '/CN=kyso rules test', '-addext', 'keyUsage=critical,digitalSignature,nonRepudiation'], { cwd: dir, stdio: 'ignore' });
    const backend = await loadPemFiles({ keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') });
    signed = await signPdfBytes(A.buildOracleBase(), { backend, tmpDir: dir, fieldName: 'Signer1' });
    policy = { trustAnchors: [readFileSync(join(dir, 'c.pem'), 'latin1')], revocationRequired: false, offline: true };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the default rule set flags reordered annotations; a policy without that rule does not, a policy rule of its own is applied', async () => {
    const bytes = kase('overlapping annotations reordered').build(signed)!;
    const def = await verifyPdf(bytes, policy);
    assert.equal(def.documentIndication, 'TOTAL_FAILED');
    assert.ok(def.signatures[0]!.modifications.some((m) => m.kind === 'annotation-order-changed' && !m.allowed));
    const lenient = await verifyPdf(bytes, { ...policy, modificationRules: PDF_MODIFICATION_RULES.filter((r) => r !== modificationRules.annotationOrderRule) });
    assert.ok(!lenient.signatures[0]!.modifications.some((m) => m.kind === 'annotation-order-changed'), JSON.stringify(lenient.signatures[0]!.modifications));
    const strict: ModificationRule = { name: 'no-info-rule', apply: (ctx) => ctx.report({ kind: 'nothing-may-change', allowed: false, rule: 'no-info-rule', level: 'OTHER', description: `revision ${ctx.k} exists` }) };
    const custom = await verifyPdf(kase('document information updated (benign)').build(signed)!, { ...policy, modificationRules: [strict, ...PDF_MODIFICATION_RULES] });
    assert.equal(custom.documentIndication, 'TOTAL_FAILED');
    assert.ok(custom.signatures[0]!.modifications.some((m) => m.kind === 'nothing-may-change'));
    const plain = await verifyPdf(kase('document information updated (benign)').build(signed)!, policy);
    assert.equal(plain.documentIndication, 'TOTAL_PASSED', JSON.stringify(plain.signatures[0]));
  });

  it('a new link is allowed on an approval-signed document, but reported as a warning', async () => {
    const r = await verifyPdf(kase('link annotation with a URI action added').build(signed)!, policy);
    assert.equal(r.documentIndication, 'TOTAL_PASSED');
    const m = r.signatures[0]!.modifications.find((x) => x.kind === 'annotation-added');
    assert.ok(m && m.allowed && m.warning === true, JSON.stringify(r.signatures[0]!.modifications));
    assert.match(renderText(r), /allowed \(warning\): annotation-added/);
  });

  it('a same-meaning rewrite of page resources is no modification at all', async () => {
    const r = await verifyPdf(kase('page resources re-serialised with the same meaning (benign)').build(signed)!, policy);
    assert.equal(r.documentIndication, 'TOTAL_PASSED');
    assert.deepEqual(r.signatures[0]!.modifications.filter((m) => !m.allowed), []);
  });

  it('an object with two roles cannot be re-labelled: metadata that is also an attachment, info that is also the page tree', async () => {
    const { name, ref, dict, arr, str } = A;
    const o = new Map<number, A.ObjBody>();
    o.set(1, dict({ Type: name('Catalog'), Pages: ref(2), Metadata: ref(5), Names: dict({ EmbeddedFiles: dict({ Names: arr(str('data.xml'), ref(6)) }) }) }));
    o.set(2, dict({ Type: name('Pages'), Kids: arr(ref(3)), Count: 1 }));
    o.set(3, dict({ Type: name('Page'), Parent: ref(2), MediaBox: arr(0, 0, 200, 200), Contents: ref(4) }));
    o.set(4, { dict: {}, data: '0 0 1 rg 10 10 100 100 re f\n' });
    o.set(5, { dict: { Type: name('Metadata'), Subtype: name('XML') }, data: '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>' });
    o.set(6, dict({ Type: name('Filespec'), F: str('data.xml'), EF: dict({ F: ref(5) }) }));
    const base = A.buildPdf(o, { Info: ref(2) });
    const backend = await loadPemFiles({ keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') });
    const certified = await signPdfBytes(base, { backend, tmpDir: dir, fieldName: 'Certifier', certify: 1 });
    assert.equal((await verifyPdf(certified, policy)).documentIndication, 'TOTAL_PASSED');
    const h = PdfHistory.open(certified);
    // The "metadata" stream is also the attached file: rewriting it changes the attachment.
    const meta = A.appendAuto(certified, new Map([[5, { dict: { Type: name('Metadata'), Subtype: name('XML') }, data: '<x:xmpmeta xmlns:x="adobe:ns:meta/"><evil/></x:xmpmeta>' }]]));
    const r1 = await verifyPdf(meta, policy);
    assert.notEqual(r1.documentIndication, 'TOTAL_PASSED');
    assert.ok(r1.signatures[0]!.modifications.some((m) => !m.allowed && m.object === '5 0 R' && m.kind !== 'metadata-updated'), JSON.stringify(r1.signatures[0]!.modifications));
    // The "document information" dictionary is also the page-tree root: a /Rotate there turns every page.
    const info = A.appendAuto(certified, new Map([[2, A.withEntries(h.dict(ref(2))!, { Producer: str('x'), Rotate: 90 })]]));
    const r2 = await verifyPdf(info, policy);
    assert.notEqual(r2.documentIndication, 'TOTAL_PASSED');
    assert.ok(!r2.signatures[0]!.modifications.some((m) => m.kind === 'metadata-updated' && m.object === '2 0 R'), JSON.stringify(r2.signatures[0]!.modifications));
  });

  it('roles count every referrer: the info dictionary that is also the optional-content configuration has both', () => {
    const h = PdfHistory.open(signed);
    const roles = buildRoles(h, h.revisions.length - 1);
    assert.notEqual(roles, 'TOO_LARGE');
    const r = (roles as Map<number, Set<string>>).get(A.RB.infoAndOcConfig)!;
    assert.ok(r.has('Trailer/Info') && r.has('Catalog/OCProperties'), [...r].join(','));
    assert.ok((roles as Map<number, Set<string>>).get(A.RB.ghost)?.has('Catalog/Pages'), 'a dangling reference has the role of its referrer');
  });
});
