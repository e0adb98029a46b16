/**
 * Benchmark: kyso verify vs poppler's pdfsig.
 *  1. 200 signed one-page PDFs: one `pdfsig` process per file (as people script it) vs one `kyso verify DIR`.
 *  2. One ~200 MB signed PDF: verifyPdf vs node's SHA-256 of the file, and the peak RSS growth while verifying.
 * Run: cd /work/main && node --import tsx bench/verify.ts [--files N] [--mb N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { loadPemBackend, signPdf, signPdfBytes } from '@kyso/signer';
import { verifyPdf } from '@kyso/verifier';
import { makeMiniPki } from '../packages/verifier/test/helpers/openssl-pki.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--files', 200);
const MB = arg('--mb', 200);
const ROOT = new URL('..', import.meta.url).pathname;

async function onePage(i: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText(`kyso bench document ${i}`, { x: 50, y: 780, size: 14, font });
  return doc.save({ useObjectStreams: false });
}

/** A PDF with one page and one big uncompressed image XObject of `mb` megabytes, written by hand (streamed). */
function writeBigPdf(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  let pos = 0;
  const offsets: number[] = [];
  const w = (s: string | Uint8Array) => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    writeSync(fd, b);
    pos += b.length;
  };
  w('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  const size = mb * 1024 * 1024;
  const side = Math.floor(Math.sqrt(size / 3));
  const len = side * side * 3;
  offsets[1] = pos; w('1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n');
  offsets[2] = pos; w('2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n');
  offsets[3] = pos; w('3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>\nendobj\n');
  const content = 'q 500 0 0 700 50 70 cm /Im1 Do Q\n';
  offsets[4] = pos; w(`4 0 obj\n<< /Length ${content.length} >>\nstream\n${content}\nendstream\nendobj\n`);
  offsets[5] = pos; w(`5 0 obj\n<< /Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${len} >>\nstream\n`);
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + (i >> 10)) & 0xff;
  let left = len;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    w(chunk.subarray(0, n));
    left -= n;
  }
  w('\nendstream\nendobj\n');
  const xref = pos;
  w('xref\n0 6\n0000000000 65535 f \n');
  for (let i = 1; i <= 5; i++) w(`${String(offsets[i]).padStart(10, '0')} 00000 n \n`);
  w(`trailer\n<< /Size 6 /Root 1 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] >>\nstartxref\n${xref}\n%%EOF\n`);
  closeSync(fd);
}

function sha256File(path: string): Promise<void> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 }).on('data', (c) => h.update(c)).on('error', rej).on('end', () => { h.digest(); res(); });
  });
}

const rows: [string, string, string, string][] = [];
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  try {
    execFileSync('pdfsig', ['-v'], { stdio: 'ignore' });
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new Error('pdfsig (poppler-utils) is required');
  }
  const pki = makeMiniPki();
  const work = mkdtempSync(join(tmpdir(), 'kyso-bench-verify-'));
  const dir = join(work, 'batch');
  mkdirSync(dir);
  const backend = await loadPemBackend({ key: readFileSync(pki.leaf('good').key), cert: readFileSync(pki.leaf('good').cert), chain: pki.interPem });
  process.stderr.write(`signing ${N} one-page PDFs...\n`);
  for (let i = 0; i < N; i++) {
    const signed = await signPdfBytes(await onePage(i), { backend, fieldName: 'Signature1', tmpDir: work });
    const fd = openSync(join(dir, `doc-${String(i).padStart(4, '0')}.pdf`), 'w');
    writeSync(fd, signed);
    closeSync(fd);
  }
  const rootPath = join(pki.dir, 'root.pem');

  // 1. Batch.
  let t = performance.now();
  let pdfsigValid = 0;
  for (let i = 0; i < N; i++) {
    const r = spawnSync('pdfsig', [join(dir, `doc-${String(i).padStart(4, '0')}.pdf`)], { encoding: 'utf8' });
    if (/Signature is Valid/.test(r.stdout)) pdfsigValid++;
  }
  const peerBatch = performance.now() - t;
  t = performance.now();
  const k = spawnSync(process.execPath, [join(ROOT, 'packages/cli/bin/kyso.mjs'), 'verify', dir, '--trust', rootPath, '--offline', '--no-revocation'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const kysoBatch = performance.now() - t;
  const passed = /(\d+) TOTAL_PASSED/.exec(k.stdout)?.[1];
  if (k.status !== 0 || Number(passed) !== N) throw new Error(`kyso verify DIR did not pass all files: ${k.stdout.slice(-300)} ${k.stderr.slice(-300)}`);
  if (pdfsigValid !== N) throw new Error(`pdfsig found ${pdfsigValid}/${N} valid`);
  rows.push([`${N} one-page PDFs (process per file vs one kyso verify DIR)`, fmt(kysoBatch), fmt(peerBatch), `${(peerBatch / kysoBatch).toFixed(2)}x throughput`]);

  // 2. One big file.
  process.stderr.write(`writing and signing a ${MB} MB PDF...\n`);
  const big = join(work, 'big.pdf');
  const bigSigned = join(work, 'big-signed.pdf');
  writeBigPdf(big, MB);
  await signPdf(big, bigSigned, { backend, fieldName: 'Signature1' });
  rmSync(big);
  const size = statSync(bigSigned).size;
  await sha256File(bigSigned); // warm the page cache
  t = performance.now();
  await sha256File(bigSigned);
  const hashMs = performance.now() - t;
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
  t = performance.now();
  const rep = await verifyPdf(bigSigned, { trustAnchors: [pki.rootPem], offline: true, revocationRequired: false });
  const verifyMs = performance.now() - t;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (rep.documentIndication !== 'TOTAL_PASSED') throw new Error(`big file: ${rep.signatures.map((s) => s.message).join('; ')}`);
  rows.push([`one ${(size / 1048576).toFixed(0)} MB signed PDF: verifyPdf vs node SHA-256 of the file`, fmt(verifyMs), fmt(hashMs), `${(verifyMs / hashMs).toFixed(2)}x time (target <= 3x)`]);
  t = performance.now();
  const ps = spawnSync('pdfsig', [bigSigned], { encoding: 'utf8' });
  const pdfsigBig = performance.now() - t;
  rows.push([`one ${(size / 1048576).toFixed(0)} MB signed PDF: verifyPdf vs pdfsig process`, fmt(verifyMs), fmt(pdfsigBig), `${(pdfsigBig / verifyMs).toFixed(2)}x throughput${/Signature is Valid/.test(ps.stdout) ? '' : ' (pdfsig: not valid?)'}`]);
  rows.push(['peak RSS growth while verifying the big file', `${((peak - base) / 1048576).toFixed(1)} MB`, '-', 'target < 64 MB']);

  const head: [string, string, string, string] = ['case', 'kyso', 'peer', 'ratio'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const [i, r] of all.entries()) {
    process.stdout.write(r.map((c, j) => c.padEnd(widths[j]!)).join(' | ') + '\n');
    if (i === 0) process.stdout.write(widths.map((w) => '-'.repeat(w)).join('-|-') + '\n');
  }
  rmSync(work, { recursive: true, force: true });
}

await main();
