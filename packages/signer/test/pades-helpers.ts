/**
 * Helpers of the PAdES tests: external-tool checks (pdfsig, qpdf, openssl) and CMS extraction.
 * Missing tools make the tests fail (execFileSync throws ENOENT), never skip.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PdfReader, PdfString, PdfArray } from '@kyso/pdf';
import { trimDer } from '../src/pades/dss.js';

/** Runs pdfsig and returns one status line per signature ("Signature is Valid." ...). */
export function pdfsigStatuses(path: string): string[] {
  const r = spawnSync('pdfsig', [path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return [...r.stdout.matchAll(/Signature Validation: (.*)/g)].map((m) => m[1]!.trim());
}

/** Asserts every signature of the file is cryptographically valid per pdfsig, and returns the count. */
export function assertPdfsigValid(path: string, expected: number): void {
  const st = pdfsigStatuses(path);
  assert.equal(st.length, expected, `pdfsig saw ${st.length} signatures: ${st.join(' | ')}`);
  for (const s of st) assert.equal(s, 'Signature is Valid.', `pdfsig: ${st.join(' | ')}`);
}

/**
 * Asserts pdfsig sees `signatures` signatures that are all "Signature is Valid." plus `docTimestamps`
 * document timestamps (which pdfsig lists but does not verify: "not yet verified" or valid).
 */
export function assertPdfsigSignaturesValid(path: string, signatures: number, docTimestamps: number): void {
  const st = pdfsigStatuses(path);
  assert.equal(st.length, signatures + docTimestamps, `pdfsig saw ${st.length} signatures: ${st.join(' | ')}`);
  const valid = st.filter((s) => s === 'Signature is Valid.').length;
  assert.ok(valid >= signatures, `pdfsig: ${st.join(' | ')}`);
  for (const s of st) assert.ok(s === 'Signature is Valid.' || s === 'Signature has not yet been verified.', `pdfsig: ${st.join(' | ')}`);
}

/** qpdf --check must pass (exit 0; 3 = warnings counts as failure too). */
export function assertQpdfCheck(path: string): void {
  const r = spawnSync('qpdf', ['--check', path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `qpdf --check ${path}: ${r.stdout}${r.stderr}`);
}

/** Asserts `prefix` file bytes are an exact prefix of `file`. */
export function assertPrefix(prefix: string | Uint8Array, file: string): void {
  const a = typeof prefix === 'string' ? readFileSync(prefix) : Buffer.from(prefix);
  const b = readFileSync(file);
  assert.ok(b.length > a.length && b.subarray(0, a.length).equals(a), 'input is an exact prefix of the output');
}

/** Signatures of the file: CMS (trimmed), the ByteRange, the SubFilter, field name. */
export function signaturesOf(path: string): { field: string; cms: Uint8Array; contents: Uint8Array; byteRange: number[]; subFilter?: string; dict: import('@kyso/pdf').PdfDict }[] {
  const r = PdfReader.open(path);
  try {
    const out = [];
    for (const f of r.fields()) {
      if (f.fieldType !== 'Sig') continue;
      const v = r.dict(f.dict.get('V'));
      if (!v) continue;
      const c = v.get('Contents') as PdfString;
      const br = (r.resolve(v.get('ByteRange')) as PdfArray).items as number[];
      out.push({ field: f.fullName, cms: trimDer(c.bytes), contents: c.bytes, byteRange: br, ...(v.getName('SubFilter') ? { subFilter: v.getName('SubFilter')! } : {}), dict: v });
    }
    return out;
  } finally {
    r.close();
  }
}

/** Bytes covered by a ByteRange. */
export function signedBytes(path: string, br: number[]): Buffer {
  const b = readFileSync(path);
  const parts: Buffer[] = [];
  for (let i = 0; i + 1 < br.length; i += 2) parts.push(b.subarray(br[i]!, br[i]! + br[i + 1]!));
  return Buffer.concat(parts);
}

/** `openssl cms -verify` of every signature's CMS over its ByteRange bytes, against `caFile`. */
export function assertOpensslCmsVerifies(path: string, caFile: string, dir: string): void {
  const sigs = signaturesOf(path);
  sigs.forEach((s, i) => {
    if (s.subFilter === 'ETSI.RFC3161') return;
    const cmsPath = join(dir, `sig-${i}.der`);
    const dataPath = join(dir, `sig-${i}.bin`);
    writeFileSync(cmsPath, s.cms);
    writeFileSync(dataPath, signedBytes(path, s.byteRange));
    // -purpose any: test leaf certificates need not carry emailProtection EKU.
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsPath, '-content', dataPath, '-CAfile', caFile, '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    if (r.error) throw r.error;
    assert.equal(r.status, 0, `openssl cms -verify of ${s.field}: ${r.stderr}`);
  });
}

/** Text of a page (pdftotext). */
export function pdfText(path: string, page = 1): string {
  return execFileSync('pdftotext', ['-f', String(page), '-l', String(page), '-enc', 'UTF-8', path, '-'], { encoding: 'utf8' });
}

const KYSO = resolve(import.meta.dirname, '../../cli/bin/kyso.mjs');

/** Runs `kyso ARGS` (async, so several can run in parallel) and returns exit code and output. */
export function kyso(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [KYSO, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

