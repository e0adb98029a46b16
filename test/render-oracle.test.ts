/**
 * The rendering oracle (issue 11, point 4): post-signing updates of many kinds are built on approval,
 * DocMDP P=2 and P=1 documents, written with classic xref tables and with object streams. For each, the
 * signed revision and the final file are rendered with `pdftoppm` and `mutool draw` (low resolution, in
 * parallel): whenever either renderer shows a different page, the verifier must not report TOTAL_PASSED
 * without naming the modification (as not allowed, or as allowed with a warning) — and on certified documents a visible change is never TOTAL_PASSED.
 * Harmless rewrites (same meaning) must keep kyso-signed documents TOTAL_PASSED.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadPemFiles, signPdfBytes } from '@kyso/signer';
import { verifyPdf, type ValidationReport } from '@kyso/verifier';
import * as A from '../fixtures/attacks/index.js';

const run = promisify(execFile);

/** Renders every page at 20 dpi; returns the raw pixmaps (one per page) of one renderer. */
async function render(tool: 'pdftoppm' | 'mutool', file: string, outDir: string): Promise<Buffer[]> {
  const prefix = join(outDir, `${tool}-${Math.random().toString(36).slice(2)}`);
  // Renderers exit non-zero on files they repair (a dangling reference...): what they drew still counts.
  const args = tool === 'pdftoppm' ? ['-r', '20', file, prefix] : ['draw', '-q', '-r', '20', '-o', `${prefix}-%d.pnm`, file];
  await run(tool, args, { timeout: 30_000 }).catch((e: Error & { killed?: boolean }) => {
    if (e.killed) throw e;
  });
  const base = prefix.slice(outDir.length + 1);
  const pages = readdirSync(outDir).filter((f) => f.startsWith(base + '-')).sort((a, b) => Number(/(\d+)\.p.m$/.exec(a)?.[1]) - Number(/(\d+)\.p.m$/.exec(b)?.[1]));
  const out = pages.map((f) => readFileSync(join(outDir, f)));
  for (const f of pages) rmSync(join(outDir, f));
  return out;
}

function differs(a: Buffer[], b: Buffer[]): boolean {
  return a.length !== b.length || a.some((x, i) => !x.equals(b[i]!));
}

/** Runs `tasks` with at most `n` at a time. */
async function pool<T>(tasks: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }));
  return out;
}

interface Signed { label: string; bytes: Uint8Array; certified: 0 | 1 | 2 }
interface Outcome { doc: Signed; kase: A.RenderCase; poppler: boolean; mupdf: boolean; report: ValidationReport }

describe('rendering oracle: what pdftoppm and mutool draw show vs. what the verifier reports', function () {
  this.timeout(300_000);
  let dir: string;
  let certPem: string;
  const docs: Signed[] = [];
  const outcomes: Outcome[] = [];
  const controls = new Map<string, ValidationReport>();

  before(async () => {
    for (const tool of ['pdftoppm', 'mutool']) execFileSync('which', [tool]); // a missing renderer is a failure
    dir = mkdtempSync(join(tmpdir(), 'kyso-oracle-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '30', '-subj', '/CN=kyso render oracle signer', '-addext', 'keyUsage=critical,digitalSignature,nonRepudiation'], { cwd: dir, stdio: 'ignore' });
    certPem = readFileSync(join(dir, 'c.pem'), 'latin1');
    const backend = await loadPemFiles({ keyPath: join(dir, 'k.pem'), certPath: join(dir, 'c.pem') });
    for (const [kind, base] of [['classic', A.buildOracleBase()], ['object-stream', A.buildOracleBaseObjStm()]] as const) {
      docs.push({ label: `approval/${kind}`, certified: 0, bytes: await signPdfBytes(base, { backend, tmpDir: dir, fieldName: 'Signer1' }) });
      docs.push({ label: `P=2/${kind}`, certified: 2, bytes: await signPdfBytes(base, { backend, tmpDir: dir, fieldName: 'Certifier', certify: 2 }) });
      docs.push({ label: `P=1/${kind}`, certified: 1, bytes: await signPdfBytes(base, { backend, tmpDir: dir, fieldName: 'Certifier', certify: 1 }) });
    }
    const policy = { trustAnchors: [certPem], revocationRequired: false, offline: true };
    for (const d of docs) controls.set(d.label, await verifyPdf(d.bytes, policy));
    const signedRenders = new Map<string, { poppler: Buffer[]; mupdf: Buffer[] }>();
    await pool(docs.map((d) => async () => {
      const f = join(dir, `${d.label.replace(/\W/g, '_')}-signed.pdf`);
      writeFileSync(f, d.bytes);
      signedRenders.set(d.label, { poppler: await render('pdftoppm', f, dir), mupdf: await render('mutool', f, dir) });
    }), 4);
    const jobs: (() => Promise<void>)[] = [];
    docs.forEach((d, di) => A.RENDER_CASES.forEach((kase, ci) => jobs.push(async () => {
      const bytes = kase.build(d.bytes);
      if (!bytes) return;
      const f = join(dir, `case-${di}-${ci}.pdf`);
      writeFileSync(f, bytes);
      const [p, m] = await Promise.all([render('pdftoppm', f, dir).catch(() => [] as Buffer[]), render('mutool', f, dir).catch(() => [] as Buffer[])]);
      const s = signedRenders.get(d.label)!;
      const report = await verifyPdf(bytes, policy);
      outcomes.push({ doc: d, kase, poppler: differs(s.poppler, p), mupdf: differs(s.mupdf, m), report });
    })));
    await pool(jobs, 4);
    if (process.env.KYSO_ORACLE_TABLE) {
      for (const o of outcomes) console.log([o.kase.name.padEnd(60), o.doc.label.padEnd(22), o.poppler ? 'P' : '-', o.mupdf ? 'M' : '-', o.report.signatures[0]?.indication, o.report.signatures[0]?.modifications.filter((m) => !m.allowed).map((m) => m.kind).join(',')].join(' '));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the signed inputs (approval, P=2, P=1; classic and object streams) render and are TOTAL_PASSED', () => {
    assert.equal(docs.length, 6);
    for (const d of docs) {
      const r = controls.get(d.label)!;
      assert.equal(r.documentIndication, 'TOTAL_PASSED', `${d.label}: ${JSON.stringify(r.signatures.map((s) => [s.indication, s.subIndication, s.message]))}`);
    }
  });

  it('the oracle sees changes: every case class changes a rendering on some document, and the control changes both', () => {
    const seen = new Set(outcomes.filter((o) => o.poppler || o.mupdf).map((o) => o.kase.klass));
    for (const k of ['content', 'revision views', 'two roles', 'order', 'appearance regeneration', 'visibility']) assert.ok(seen.has(k), `class '${k}' never changed a rendering`);
    const control = outcomes.filter((o) => o.kase.name.endsWith('(control)'));
    assert.equal(control.length, 6);
    for (const o of control) assert.ok(o.poppler && o.mupdf, `${o.doc.label}: the content rewrite must change both renderings`);
  });

  for (const kase of A.RENDER_CASES) {
    it(`${kase.klass}: ${kase.name}`, () => {
      const mine = outcomes.filter((o) => o.kase === kase);
      assert.ok(mine.length >= 3, 'the case applies to at least the classic documents');
      for (const o of mine) {
        const first = o.report.signatures[0];
        assert.ok(first, `${o.doc.label}: the signature is still found (${JSON.stringify(o.report.findings)})`);
        // Named: a modification the report lists as not allowed, or as allowed with a warning.
        const named = first.modifications.some((m) => !m.allowed || m.warning === true);
        const what = `${o.doc.label}: poppler ${o.poppler ? 'differs' : 'same'}, mupdf ${o.mupdf ? 'differs' : 'same'}; verifier ${first.indication} ${JSON.stringify(first.modifications.map((m) => [m.kind, m.allowed]))}`;
        if (o.poppler || o.mupdf) {
          assert.ok(first.indication !== 'TOTAL_PASSED' || named, `visible change not named: ${what}`);
          if (o.doc.certified) assert.notEqual(first.indication, 'TOTAL_PASSED', `visible change passed on a certified document: ${what}`);
        }
        if (kase.klass === 'harmless rewrite') {
          assert.ok(!o.poppler && !o.mupdf, `a harmless rewrite must not change the rendering: ${what}`);
          assert.equal(first.indication, 'TOTAL_PASSED', `harmless rewrite failed the document: ${what}`);
        }
      }
    });
  }
});
