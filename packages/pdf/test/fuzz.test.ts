import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PdfError, PdfReader, PdfStream } from '@kyso/pdf';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBasicPdf, makeEmptyFieldPdf, makeEncrypted } from '../../../fixtures/pdf/samples.js';

/** Reads everything reachable; any failure must be a PdfError. */
function exercise(bytes: Uint8Array): void {
  let r: PdfReader;
  try {
    r = PdfReader.open(bytes);
  } catch (e) {
    assert.ok(e instanceof PdfError, `open threw ${(e as Error).name}: ${(e as Error).message}`);
    return;
  }
  const steps: (() => unknown)[] = [
    () => r.canDecrypt,
    () => r.catalog,
    () => [...r.pages()].length,
    () => r.getPage(0),
    () => r.fields(),
    () => r.revisions(),
    () => { for (const n of r.xref.keys()) { const o = r.getObject(n); if (o instanceof PdfStream) o.decode(1 << 20); } },
  ];
  for (const s of steps) {
    try {
      s();
    } catch (e) {
      assert.ok(e instanceof PdfError, `threw ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
}

describe('@kyso/pdf on mutated input (fast-check)', function () {
  this.timeout(120_000);
  let seeds: Uint8Array[];
  before(async () => {
    seeds = [await makeBasicPdf(2), await makeBasicPdf(2, { objectStreams: true }), await makeEmptyFieldPdf()];
    // an AES-256 encrypted file with the empty user password: the decryption path gets fuzzed too
    const dir = mkdtempSync(join(tmpdir(), 'kyso-fuzz-'));
    writeFileSync(join(dir, 'p.pdf'), seeds[0]!);
    makeEncrypted(join(dir, 'p.pdf'), join(dir, 'e.pdf'), 'aes256', '');
    seeds.push(new Uint8Array(readFileSync(join(dir, 'e.pdf'))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('never throws anything but PdfError and always terminates (byte flips, truncation, splices)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
        fc.option(fc.nat()),
        (which, flips, cut) => {
          const src = seeds[which]!;
          let b = Uint8Array.from(src);
          for (const [pos, v] of flips) b[pos % b.length] = v;
          if (cut !== null) b = b.subarray(0, cut % b.length);
          exercise(b);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('survives structural mutations of tokens (numbers, brackets, keywords)', () => {
    const tokens = ['<<', '>>', '[', ']', '(', ')', '/', ' 0 R ', ' 99999999 0 R ', 'obj', 'endobj', 'stream\n', 'endstream', 'xref', 'trailer', '-1', '1e308'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...tokens)), { minLength: 1, maxLength: 8 }), (which, edits) => {
        let s = Buffer.from(seeds[which]!).toString('latin1');
        for (const [pos, t] of edits) {
          const p = pos % s.length;
          s = s.slice(0, p) + t + s.slice(p + t.length);
        }
        exercise(Buffer.from(s, 'latin1'));
      }),
      { numRuns: 300 },
    );
  });
});
