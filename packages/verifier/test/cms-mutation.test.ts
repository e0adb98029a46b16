import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { REPORT_SCHEMA_PATH, verifyCms } from '@kyso/verifier';
import { makeMiniPki, type MiniPki } from './helpers/openssl-pki.js';
import { schemaErrors } from './helpers/schema-check.js';
import { children, readTlv } from '@kyso/pki';

/** Property test of the CMS path: mutated, truncated or extended signatures never crash, stay within time, and give
 *  a schema-valid report; a mutation inside the signature value or the signed attributes never passes. */
describe('verifier: CMS mutations (fast-check)', function () {
  this.timeout(120_000);
  let pki: MiniPki;
  let cms: Uint8Array;
  let data: string;
  let policy: { trustAnchors: string[]; offline: boolean };
  let vd: { validationData: { crls: Uint8Array[] } };
  const schema = JSON.parse(readFileSync(REPORT_SCHEMA_PATH, 'utf8'));
  /** Bytes that carry no security meaning: SignedData version and the informational digestAlgorithms SET. */
  let inert: [number, number][];

  before(() => {
    pki = makeMiniPki();
    data = join(pki.dir, 'm.txt');
    writeFileSync(data, 'mutation target');
    cms = pki.signCms('good', data);
    policy = { trustAnchors: [pki.rootPem], offline: true };
    vd = { validationData: { crls: [pki.crlDer, pki.rootCrlDer] } };
    const ci = readTlv(cms, 0)!;
    const sd = children(cms, children(cms, children(cms, ci)![1]!)![0]!)!;
    inert = [[sd[0]!.start, sd[0]!.end], [sd[1]!.start, sd[1]!.end]].map(([a, b]) => [a!, b!] as [number, number]);
  });

  it('1000 random mutations: no exception, < 2 s each, schema-valid report; only inert bytes may change and still pass', async () => {
    const base = await verifyCms(cms, data, policy, vd);
    assert.equal(base.documentIndication, 'TOTAL_PASSED');
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), pos: fc.nat({ max: cms.length - 1 }), bit: fc.integer({ min: 0, max: 7 }) }),
          fc.record({ kind: fc.constant('set' as const), pos: fc.nat({ max: cms.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat({ max: cms.length - 1 }) }),
          fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
        ),
        async (m) => {
          let mutated: Uint8Array;
          if (m.kind === 'flip') { mutated = cms.slice(); mutated[m.pos] ^= 1 << m.bit; }
          else if (m.kind === 'set') { mutated = cms.slice(); mutated[m.pos] = m.value; }
          else if (m.kind === 'truncate') mutated = cms.subarray(0, m.pos);
          else mutated = new Uint8Array([...cms, ...m.extra]);
          const t = Date.now();
          const r = await verifyCms(mutated, data, policy, vd);
          assert.ok(Date.now() - t < 2000, 'bounded time');
          assert.deepEqual(schemaErrors(schema, r), []);
          if (r.documentIndication === 'TOTAL_PASSED') {
            const changed = (m.kind === 'flip' || m.kind === 'set') && mutated[m.pos] !== cms[m.pos];
            if (changed) {
              passed++;
              assert.ok(inert.some(([a, b]) => m.pos >= a && m.pos < b), `a change at byte ${m.pos} (${m.kind}) still passed`);
            }
            if (m.kind === 'append') assert.ok(m.extra.every((b) => b === 0), 'only zero padding may follow the CMS');
            if (m.kind === 'truncate') assert.fail('a truncated CMS passed');
          }
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
    assert.ok(passed < 30, `${passed} mutated signatures passed`);
  });
});
