import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { verifyPdf, type ValidationReport, type Policy } from '@kyso/verifier';

/**
 * The real-world and attack PDFs of /work/shared/corpus (MANIFEST.tsv) through the whole verifier (PDF layer +
 * validation core). XML rows belong to the XML issue and are not read here.
 */
const CORPUS = '/work/shared/corpus';
const rows = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1)
  .map((l) => l.split('\t')).map(([file, , , , verdict, note]) => ({ file: file!, verdict: verdict!, note: note ?? '' }))
  .filter((r) => r.file.endsWith('.pdf'));
const PYHANKO_ROOT = readFileSync(join(CORPUS, 'pyhanko/testing-ca-root.cert.pem'), 'latin1');
const PYHANKO_TIME = new Date('2020-11-01T00:00:00Z');

function pemOf(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
}

/** Every certificate embedded in the file's signatures (to simulate "its root trusted" for attack samples). */
function embeddedCerts(path: string): string[] {
  const text = readFileSync(path).toString('latin1');
  const out: string[] = [];
  for (const m of text.matchAll(/\/Contents\s*<([0-9A-Fa-f\s]+)>/g)) {
    try {
      const der = Buffer.from(m[1]!.replace(/\s/g, ''), 'hex');
      const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(new Uint8Array(der).buffer).result });
      const sd = new pkijs.SignedData({ schema: ci.content });
      for (const c of sd.certificates ?? []) if (c instanceof pkijs.Certificate) out.push(pemOf(new Uint8Array(c.toSchema().toBER(false))));
    } catch {
      // not a CMS
    }
  }
  return out;
}

function describeReport(r: ValidationReport): string {
  return `${r.documentIndication}/${r.documentSubIndication}: ` + r.signatures.map((s) => `${s.field}=${s.indication}/${s.subIndication}[${s.block}] ${s.message.slice(0, 160)}`).join(' | ');
}

describe('corpus: real-world and attack PDFs give the expected verdicts', function () {
  this.timeout(60_000);

  it('the manifest has PDF rows of each class', () => {
    assert.ok(rows.filter((r) => r.verdict === 'valid').length >= 5);
    assert.ok(rows.filter((r) => r.verdict === 'invalid').length >= 3);
    assert.ok(rows.filter((r) => r.verdict === 'attack-should-be-detected').length >= 8);
  });

  for (const row of rows) {
    const path = join(CORPUS, row.file);
    const pyhanko = row.file.startsWith('pyhanko/');
    const base: Policy = { offline: true, revocationRequired: false, ...(pyhanko ? { trustAnchors: [PYHANKO_ROOT], validationTime: PYHANKO_TIME } : {}) };

    if (row.verdict === 'valid') {
      it(`valid: ${row.file} is not TOTAL_FAILED and its signatures are cryptographically intact`, async () => {
        const r = await verifyPdf(path, base);
        assert.ok(r.signatures.length > 0, 'signatures found');
        assert.notEqual(r.documentIndication, 'TOTAL_FAILED', describeReport(r));
        assert.ok(r.signatures.every((s) => s.intact), `crypto checks: ${describeReport(r)}`);
        if (pyhanko && /val_trusted/.test(row.note)) {
          // pyHanko's val_trusted: the first signature passes against testing-ca at 2020-11-01.
          assert.equal(r.signatures.find((s) => s.kind === 'signature')!.indication, 'TOTAL_PASSED', describeReport(r));
        }
      });
    } else if (row.verdict === 'invalid') {
      it(`invalid: ${row.file} is never TOTAL_PASSED`, async () => {
        const r = await verifyPdf(path, { ...base, trustAnchors: [...(base.trustAnchors ?? []), ...embeddedCerts(path)], allowedDigests: ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] });
        assert.notEqual(r.documentIndication, 'TOTAL_PASSED', describeReport(r));
        assert.ok(r.signatures.some((s) => s.indication !== 'TOTAL_PASSED') || r.signatures.length === 0);
      });
    } else if (row.verdict === 'attack-should-be-detected') {
      it(`attack: ${row.file} is never TOTAL_PASSED, even with its own certificates trusted, and the report says why`, async () => {
        const anchors = [...(base.trustAnchors ?? []), ...embeddedCerts(path)];
        const first = await verifyPdf(path, { ...base, trustAnchors: anchors });
        // Validate when the certificates were valid, so that only the attack can make it fail.
        const times = first.signatures.map((s) => s.signingTime).filter((t): t is string => !!t).map((t) => Date.parse(t));
        const at = times.length ? new Date(Math.max(...times) + 60_000) : new Date();
        const r = await verifyPdf(path, { ...base, trustAnchors: anchors, validationTime: pyhanko ? PYHANKO_TIME : at, allowedDigests: ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] });
        assert.notEqual(r.documentIndication, 'TOTAL_PASSED', describeReport(r));
        const failed = r.signatures.filter((s) => s.indication !== 'TOTAL_PASSED');
        assert.ok(failed.length > 0 || r.findings.some((f) => f.severity === 'error'), describeReport(r));
        // The structural blocks (format / modification analysis) name the attack.
        assert.ok(failed.some((s) => (s.block === 'FC' || s.block === 'MA') && s.message.length > 10) || r.findings.some((f) => f.severity === 'error'), describeReport(r));
      });
    }
  }
});
