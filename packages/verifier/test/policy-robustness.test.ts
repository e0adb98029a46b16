import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyFromJson, loadPolicyFile, resolvePolicy, verifyPdf, verifyCms, VerifierError, renderText, renderHtml } from '@kyso/verifier';

const CORPUS = '/work/shared/corpus';

describe('verifier: policy parsing and hostile input', function () {
  this.timeout(120_000);

  it('policy JSON: defaults, file-relative anchors, and typed errors for nonsense', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-policy-'));
    writeFileSync(join(dir, 'root.pem'), readFileSync(join(CORPUS, 'pyhanko/testing-ca-root.cert.pem')));
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ trustAnchors: ['root.pem'], validationTime: '2020-11-01T00:00:00Z', offline: true, minRsaBits: 3072 }));
    const p = resolvePolicy(loadPolicyFile(file));
    assert.equal(p.trustAnchors.length, 1);
    assert.equal(p.validationTime.toISOString(), '2020-11-01T00:00:00.000Z');
    assert.equal(p.minRsaBits, 3072);
    assert.equal(p.revocationRequired, true);
    assert.ok(!p.allowedDigests.includes('SHA-1'));
    for (const bad of [[], { offline: 'yes' }, { validationTime: 'soon' }, { unknownField: 1 }, { disallowedModifications: 'maybe' }, { allowedDigests: [1] }]) {
      assert.throws(() => resolvePolicy(policyFromJson(bad)), (e: unknown) => e instanceof VerifierError && e.code === 'POLICY_INVALID', JSON.stringify(bad));
    }
    assert.throws(() => resolvePolicy({ trustAnchors: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] }), (e: unknown) => e instanceof VerifierError && e.code === 'TRUST_ANCHOR_UNREADABLE');
  });

  it('truncated and bit-flipped signed PDFs end in a report within bounded time, never TOTAL_PASSED when changed', async () => {
    const original = new Uint8Array(readFileSync(join(CORPUS, 'pyhanko/sig-no-signed-attrs.pdf')));
    const root = readFileSync(join(CORPUS, 'pyhanko/testing-ca-root.cert.pem'), 'latin1');
    const policy = { trustAnchors: [root], validationTime: new Date('2020-11-01T00:00:00Z'), offline: true, revocationRequired: false };
    const base = await verifyPdf(original, policy);
    assert.equal(base.documentIndication, 'TOTAL_PASSED', 'the untouched file passes');
    let rng = 12345;
    const rand = (n: number) => { rng = (rng * 1103515245 + 12345) & 0x7fffffff; return rng % n; };
    for (let k = 0; k < 60; k++) {
      const mutated = k < 20 ? original.subarray(0, rand(original.length)) : original.slice();
      if (k >= 20) for (let j = 0; j < 1 + rand(4); j++) mutated[rand(mutated.length)] ^= 1 << rand(8);
      const t = Date.now();
      const r = await verifyPdf(mutated, policy);
      assert.ok(Date.now() - t < 2000, `case ${k} took ${Date.now() - t} ms`);
      assert.ok(renderText(r).length > 0 && renderHtml([r]).includes('</html>'));
      const same = mutated.length === original.length && Buffer.compare(Buffer.from(mutated), Buffer.from(original)) === 0;
      if (!same && r.documentIndication === 'TOTAL_PASSED') {
        // Only bytes outside the signed ranges (inside the /Contents padding) may change without effect.
        const c = base.signatures[0]!.coverage.byteRange!;
        for (let i = 0; i < mutated.length; i++) {
          if (mutated[i] !== original[i]) assert.ok(i >= c[0]! + c[1]! && i < c[2]!, `byte ${i} changed in the signed range yet TOTAL_PASSED`);
        }
        assert.equal(mutated.length, original.length);
      }
    }
  });

  it('garbage instead of a PDF or a CMS: a FORMAT_FAILURE report, not an exception', async () => {
    const garbage = new Uint8Array(10_000).map((_, i) => (i * 2654435761) & 0xff);
    const r = await verifyPdf(garbage, { offline: true });
    assert.notEqual(r.documentIndication, 'TOTAL_PASSED');
    const c = await verifyCms(garbage, garbage, { offline: true });
    assert.equal(c.documentIndication, 'TOTAL_FAILED');
    assert.equal(c.signatures[0]!.subIndication, 'FORMAT_FAILURE');
    const missing = await verifyPdf('/nonexistent/file.pdf', { offline: true });
    assert.notEqual(missing.documentIndication, 'TOTAL_PASSED');
  });
});
