/**
 * Hostile resources at the reader level (issue 11, point 5): an oversized /Contents, millions of objects,
 * huge strings, streams and nesting. Each file is verified in a child process that measures time and peak
 * RSS (getrusage): a report within 2 s and 256 MB, never an exception, and never TOTAL_PASSED. Limits are
 * checked before allocation (@kyso/pdf budgets), so the cost does not grow with the hostile size.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { len, signedLooking, writeParts, type Part } from './helpers/hostile-files.js';

const PROBE = new URL('./helpers/measure-verify.mts', import.meta.url).pathname;

interface Probe { ms: number; cpuMs: number; rssBeforeMB: number; peakRssMB: number; growthMB: number; indication: string; findings: string[]; signatures: [string, string | null, string][] }

function probe(file: string): Probe {
  const out = execFileSync(process.execPath, ['--import', 'tsx', PROBE, file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KYSO_COVERAGE: '0' } });
  return JSON.parse(out.trim().split('\n').pop()!) as Probe;
}

describe('hostile resources: a report within 2 s and 256 MB (child process, getrusage)', function () {
  this.timeout(300_000);
  let dir: string;
  const results: Record<string, Probe & { sizeMB: number }> = {};
  const check = (name: string, file: string, expect: (p: Probe) => void): void => {
    const p = probe(file);
    results[name] = { ...p, sizeMB: Math.round(statSync(file).size / 1048576) };
    assert.notEqual(p.indication, 'TOTAL_PASSED', `${name}: ${JSON.stringify(p)}`);
    // CPU time (user + system) is what the file costs; wall time on this shared 2-core machine is reported.
    assert.ok(p.cpuMs < 2000, `${name}: ${p.cpuMs} ms of CPU (${p.ms} ms wall)`);
    assert.ok(p.peakRssMB < 256, `${name}: peak RSS ${p.peakRssMB} MB`);
    expect(p);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-hostile-'));
  });
  after(() => {
    if (process.env.KYSO_HOSTILE_TABLE) for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(34)} ${String(v.sizeMB).padStart(4)} MB  ${String(v.ms).padStart(5)} ms wall ${String(v.cpuMs).padStart(5)} ms cpu  peak ${v.peakRssMB} MB (+${v.growthMB})  ${v.indication}  ${v.findings.join(',')}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 60 MB hex /Contents is refused by size (no allocation)', () => {
    const f = join(dir, 'contents-60mb.pdf');
    signedLooking(f, { fill: '0', bytes: 60 * 1024 * 1024 });
    check('contents 60 MB hex', f, (p) => assert.ok(p.findings.includes('PDF_LIMIT_EXCEEDED') || p.findings.includes('SIGNATURE_VALUE_UNREADABLE'), JSON.stringify(p)));
  });

  it('a 200 MB hex /Contents costs no more than a 60 MB one', () => {
    const f = join(dir, 'contents-200mb.pdf');
    signedLooking(f, { fill: 'a', bytes: 200 * 1024 * 1024 });
    check('contents 200 MB hex', f, (p) => assert.ok(p.findings.includes('PDF_LIMIT_EXCEEDED') || p.findings.includes('SIGNATURE_VALUE_UNREADABLE'), JSON.stringify(p)));
  });

  it('a 40 MB literal string in the signature dictionary is refused by size', () => {
    const f = join(dir, 'literal-40mb.pdf');
    signedLooking(f, '3000', 'BT ET', [], [' /Reason (', { fill: 'x', bytes: 40 * 1024 * 1024 }, ')']);
    check('literal string 40 MB', f, (p) => assert.ok(p.findings.includes('PDF_LIMIT_EXCEEDED'), JSON.stringify(p)));
  });

  it('an xref stream declaring 5 000 000 objects is refused before its data is inflated', () => {
    const f = join(dir, 'objects-5m.pdf');
    const rows = 5_000_000;
    const data = deflateSync(Buffer.alloc(rows * 3)); // W [1 1 1]: every object free
    const parts: Part[] = ['%PDF-1.7\n', '1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type /Pages /Kids [] /Count 0>>\nendobj\n'];
    const at = len(parts[0]!) + len(parts[1]!);
    parts.push(`3 0 obj\n<</Type /XRef /Size ${rows} /W [1 1 1] /Root 1 0 R /Filter /FlateDecode /Length ${data.length}>>\nstream\n`, data, `\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`);
    writeParts(f, parts);
    check('xref stream, 5 M objects', f, (p) => assert.ok(p.findings.includes('PDF_LIMIT_EXCEEDED'), JSON.stringify(p)));
  });

  it('a classic xref table of 1 200 000 entries is refused by count', () => {
    const f = join(dir, 'objects-1_2m.pdf');
    const n = 1_200_000;
    const parts: Part[] = ['%PDF-1.7\n1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type /Pages /Kids [] /Count 0>>\nendobj\n'];
    const at = len(parts[0]!);
    parts.push(`xref\n0 ${n}\n0000000000 65535 f \n`, { fill: '0000000009 00000 n \n', bytes: (n - 1) * 20 }, `trailer\n<</Size ${n} /Root 1 0 R>>\nstartxref\n${at}\n%%EOF\n`);
    writeParts(f, parts);
    check('classic xref, 1.2 M entries', f, (p) => assert.ok(p.findings.includes('PDF_LIMIT_EXCEEDED'), JSON.stringify(p)));
  });

  it('an xref subsection claiming more entries than the file can hold is refused before reading', () => {
    const f = join(dir, 'xref-claim.pdf');
    const parts: Part[] = ['%PDF-1.7\n1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type /Pages /Kids [] /Count 0>>\nendobj\n'];
    const at = len(parts[0]!);
    parts.push('xref\n0 9000000\n0000000000 65535 f \ntrailer\n<</Size 9000000 /Root 1 0 R>>\nstartxref\n' + at + '\n%%EOF\n');
    writeParts(f, parts);
    check('xref claiming 9 M entries', f, () => undefined);
  });

  it('a 150 MB content stream: the digest streams, nothing is decoded', () => {
    const f = join(dir, 'stream-150mb.pdf');
    signedLooking(f, '3003020100' + '0'.repeat(4000), { fill: ' ', bytes: 150 * 1024 * 1024 });
    check('content stream 150 MB', f, (p) => assert.ok(p.signatures.length === 1, JSON.stringify(p)));
  });

  it('a 20 MB stream whose /Length is wrong (endstream searched, bounded)', () => {
    const f = join(dir, 'stream-badlength.pdf');
    signedLooking(f, '3000', 'BT ET', ['7 0 obj\n<</Length 5>>\nstream\n', { fill: 'q', bytes: 20 * 1024 * 1024 }, '\nendstream\nendobj\n']);
    check('stream with wrong /Length 20 MB', f, () => undefined);
  });

  for (const n of [300_000, 150_000]) it(`${n} objects redefined after signing: refused by count before they are parsed`, () => {
    const f = join(dir, `redefined-${n}.pdf`);
    const objs: Part[] = [];
    for (let i = 7; i < 7 + n; i++) objs.push(`${i} 0 obj\n<</A ${i} /B [1 2 3]>>\nendobj\n`);
    signedLooking(f, '3000', 'BT ET', objs);
    const base = readFileSync(f);
    const prev = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(base.toString('latin1', base.length - 64))![1]);
    let body = '';
    const offs: number[] = [];
    for (let i = 7; i < 7 + n; i++) {
      offs.push(base.length + body.length);
      body += `${i} 0 obj\n<</A ${i + 1} /B [1 2 3]>>\nendobj\n`;
    }
    const xref = `xref\n7 ${n}\n` + offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
    appendFileSync(f, `${body}${xref}trailer\n<</Size ${7 + n} /Root 1 0 R /Prev ${prev}>>\nstartxref\n${base.length + body.length}\n%%EOF\n`);
    check(`${n / 1000} k objects redefined`, f, (p) => assert.ok(p.findings.includes(n > 200_000 ? 'PDF_LIMIT_EXCEEDED' : 'ANALYSIS_BUDGET_EXCEEDED'), JSON.stringify(p)));
  });

  it('nesting 1 000 000 arrays deep', () => {
    const f = join(dir, 'nesting.pdf');
    signedLooking(f, '3000', 'BT ET', ['7 0 obj\n', { fill: '[', bytes: 1_000_000 }, { fill: ']', bytes: 1_000_000 }, '\nendobj\n']);
    check('nesting 1 M deep', f, () => undefined);
  });
});
