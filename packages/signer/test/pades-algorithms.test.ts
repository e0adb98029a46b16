import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPemFiles, parseSignedData, signPdf, type SignatureAlgorithm } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { localPki, type LeafName } from './crypto-testpki.js';
import { assertOpensslCmsVerifies, assertPdfsigValid, pdfsigStatuses, signaturesOf } from './pades-helpers.js';

describe('PAdES with RSA PKCS#1 v1.5 / RSASSA-PSS, ECDSA P-256 / P-384 and SHA-256/384/512', function () {
  this.timeout(120_000);
  let dir: string;
  let input: string;
  const pki = localPki();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-alg-'));
    input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(1));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [LeafName, SignatureAlgorithm, boolean][] = [
    ['rsa', { scheme: 'RSA-PKCS1', hash: 'SHA-256' }, true],
    ['rsa', { scheme: 'RSA-PKCS1', hash: 'SHA-512' }, true],
    ['rsa', { scheme: 'RSA-PSS', hash: 'SHA-256' }, true],
    ['ec256', { scheme: 'ECDSA', hash: 'SHA-256' }, true],
    ['ec384', { scheme: 'ECDSA', hash: 'SHA-384' }, true],
    // pdfsig 22.12 (NSS) rejects CMS signed with an id-RSASSA-PSS-typed key although openssl accepts it: openssl is the judge here.
    ['pss', { scheme: 'RSA-PSS', hash: 'SHA-256' }, false],
  ];
  for (const [leaf, alg, judgeWithPdfsig] of cases) {
    it(`${leaf} ${alg.scheme} ${alg.hash}`, async () => {
      const b = await loadPemFiles({ keyPath: pki.leaves[leaf].keyPath, certPath: pki.leaves[leaf].certPath, chainPath: pki.rootPath });
      try {
        const out = join(dir, `${leaf}-${alg.scheme}-${alg.hash}.pdf`);
        await signPdf(input, out, { backend: b, hash: alg.hash, signatureAlgorithm: alg });
        assertOpensslCmsVerifies(out, pki.rootPath, dir);
        if (judgeWithPdfsig) assertPdfsigValid(out, 1);
        else assert.equal(pdfsigStatuses(out).length, 1);
        const cms = parseSignedData(signaturesOf(out)[0]!.cms);
        assert.ok(cms.signature.length > 0);
      } finally {
        await b.close();
      }
    });
  }
});
