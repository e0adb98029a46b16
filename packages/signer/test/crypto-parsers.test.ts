import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  PkiClientError, checkCrl, checkOcspResponse, digest, fetchOcsp, parseCertificate, requestTimestamp, verifyTimestampToken,
  parseTimestampToken, CertInfo,
} from '@kyso/pki';
import { SignerError, buildCms, loadPemFiles, loadPkcs12Backend, parseSignedData, prepareCms, finalizeCms } from '@kyso/signer';
import { localPki, startOpensslServices, type OpensslServices } from './crypto-testpki.js';

/** Byte-level mutations of a valid structure: flips, truncation, insertion. */
const mutation = (len: number) => fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: len - 1 }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: len - 1 }), xor: fc.constant(0) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: len - 1 }), xor: fc.integer({ min: 0, max: 255 }) }),
);
function mutate(src: Uint8Array, m: { kind: 'flip' | 'truncate' | 'insert'; at: number; xor: number }): Uint8Array {
  if (m.kind === 'truncate') return src.slice(0, m.at);
  if (m.kind === 'insert') return Uint8Array.from([...src.subarray(0, m.at), m.xor, ...src.subarray(m.at)]);
  const out = Uint8Array.from(src); out[m.at]! ^= m.xor; return out;
}

describe('crypto parsers on corrupted input: typed errors only, never a wrong "valid"', function () {
  this.timeout(120_000);
  let s: OpensslServices;
  before(async () => { s = await startOpensslServices(); });
  after(async () => { await s?.close(); });

  it('CRL: any corruption is refused with a PkiClientError or leaves the revoked list unchanged', async () => {
    const root = parseCertificate(readFileSync(s.rootPath, 'utf8'));
    const good = readFileSync(join(s.dir, 'root.crl'));
    const ref = checkCrl(good, root);
    fc.assert(fc.property(mutation(good.length), (m) => {
      try {
        const r = checkCrl(mutate(good, m), root);
        assert.deepEqual([...r.revoked.keys()], [...ref.revoked.keys()]);
        assert.equal(r.thisUpdate.getTime(), ref.thisUpdate.getTime());
      } catch (e) { if (!(e instanceof PkiClientError)) throw e; }
    }), { numRuns: 200 });
  });

  it('OCSP: any corruption is refused or yields the same status', async () => {
    const root = parseCertificate(readFileSync(s.rootPath, 'utf8'));
    const leaf = parseCertificate(readFileSync(s.revoked.certPath, 'utf8'));
    const r = await fetchOcsp(leaf, root, { cache: false, nonce: false });
    fc.assert(fc.property(mutation(r.der.length), (m) => {
      try {
        const x = checkOcspResponse(mutate(r.der, m), leaf, root);
        assert.equal(x.status, 'revoked');
      } catch (e) { if (!(e instanceof PkiClientError)) throw e; }
    }), { numRuns: 200 });
  });

  it('time-stamp token: any corruption fails verification or keeps imprint and time', async () => {
    const imprint = digest('SHA-256', Buffer.from('fuzz'));
    const t = await requestTimestamp(s.tsaUrl, imprint, 'SHA-256');
    fc.assert(fc.property(mutation(t.token.length), (m) => {
      const bad = mutate(t.token, m);
      try {
        verifyTimestampToken(bad);
        const p = parseTimestampToken(bad);
        assert.deepEqual(Buffer.from(p.imprint), Buffer.from(imprint));
        assert.equal(p.genTime.getTime(), t.genTime.getTime());
      } catch (e) { if (!(e instanceof PkiClientError)) throw e; }
    }), { numRuns: 200 });
  });

  it('CMS parser, certificate parser, PKCS#12 and two-step state: corruption gives typed errors', async () => {
    const pki = localPki();
    const b = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath, chainPath: pki.rootPath });
    const cms = await buildCms({ backend: b, contentDigest: digest('SHA-256', Buffer.from('x')), hash: 'SHA-256' });
    fc.assert(fc.property(mutation(cms.length), (m) => {
      try { parseSignedData(mutate(cms, m)); } catch (e) { if (!(e instanceof SignerError) || e.code !== 'CMS_PARSE') throw e; }
    }), { numRuns: 200 });
    fc.assert(fc.property(mutation(b.certificate.length), (m) => {
      try { new CertInfo(mutate(b.certificate, m)); } catch (e) { if (!(e instanceof PkiClientError) || e.code !== 'CERT_PARSE') throw e; }
    }), { numRuns: 200 });
    const p12 = readFileSync(pki.leaves.ec256.p12Path);
    await fc.assert(fc.asyncProperty(mutation(p12.length), async (m) => {
      try { await loadPkcs12Backend(mutate(p12, m), pki.password); } catch (e) { if (!(e instanceof SignerError)) throw e; }
    }), { numRuns: 60 });
    const p = prepareCms({ contentDigest: digest('SHA-256', Buffer.from('x')), hash: 'SHA-256', certificate: b.certificate });
    const sig = await b.sign({ data: p.toBeSigned, digest: p.digestToSign }, p.signatureAlgorithm);
    const json = Buffer.from(JSON.stringify(p.state));
    fc.assert(fc.property(mutation(json.length), (m) => {
      const text = Buffer.from(mutate(json, m)).toString('latin1');
      try {
        const out = finalizeCms(text, sig);
        // Accepted only if the signed attributes and certificate are the ones signed.
        const parts = parseSignedData(out);
        assert.deepEqual(Buffer.from(parts.signedAttrs), Buffer.from(p.toBeSigned));
      } catch (e) { if (!(e instanceof SignerError) && !(e instanceof PkiClientError)) throw e; }
    }), { numRuns: 200 });
  });
});
