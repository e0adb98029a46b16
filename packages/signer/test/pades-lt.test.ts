import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { PdfReader, PdfRef, PdfStream } from '@kyso/pdf';
import { addDocumentTimestamp, addDss, loadPemFiles, signPdf, parseSignedData, vriKey, PadesError, SignerError, OID, type KeyBackend } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { assertOpensslCmsVerifies, assertPdfsigValid, assertPrefix, assertQpdfCheck, signaturesOf, signedBytes } from './pades-helpers.js';
import { startOpensslServices, type OpensslServices } from './crypto-testpki.js';
import { makeLocalPki } from './pades-pki.js';

const hasCode = (e: unknown, code: string): boolean => String((e as { code?: unknown }).code) === code;

function tokenOf(cms: Uint8Array): Uint8Array {
  const p = parseSignedData(cms);
  for (const a of p.unsignedAttrs) {
    const seq = asn1js.fromBER(a).result as asn1js.Sequence;
    const [type, values] = seq.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Set];
    if (type.valueBlock.toString() === OID.signatureTimeStampToken) return new Uint8Array(values.valueBlock.value[0]!.toBER());
  }
  throw new Error('no signature timestamp');
}

function opensslTsVerify(dir: string, token: Uint8Array, what: { digestHex?: string; dataPath?: string }, svc: OpensslServices): void {
  const tok = join(dir, `tok-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(tok, token);
  const src = what.digestHex ? ['-digest', what.digestHex] : ['-data', what.dataPath!];
  const r = spawnSync('openssl', ['ts', '-verify', ...src, '-in', tok, '-token_in', '-CAfile', svc.rootPath, '-untrusted', svc.tsa.certPath], { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `openssl ts -verify: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Verification: OK/);
}

describe('PAdES B-T, B-LT, B-LTA (openssl-backed TSA / OCSP / CRL)', function () {
  this.timeout(120_000);
  let dir: string;
  let svc: OpensslServices;
  let good: KeyBackend;
  let input: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-pades-lt-'));
    svc = await startOpensslServices();
    good = await loadPemFiles({ keyPath: svc.good.keyPath, certPath: svc.good.certPath, chainPath: svc.rootPath });
    input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(2));
  });
  after(async () => {
    await good?.close();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('B-T: the signature timestamp verifies with openssl ts -verify (imprint = hash of the signature value)', async () => {
    const out = join(dir, 'bt.pdf');
    await signPdf(input, out, { backend: good, level: 'B-T', tsa: { url: svc.tsaUrl } });
    assertPdfsigValid(out, 1);
    assertQpdfCheck(out);
    assertOpensslCmsVerifies(out, svc.rootPath, dir);
    const [sig] = signaturesOf(out);
    const token = tokenOf(sig!.cms);
    const digestHex = createHash('sha256').update(parseSignedData(sig!.cms).signature).digest('hex');
    opensslTsVerify(dir, token, { digestHex }, svc);
  });

  it('B-LT: DSS with certificates, OCSP responses / CRLs and a VRI entry keyed by SHA-1 of /Contents', async () => {
    const out = join(dir, 'blt.pdf');
    await signPdf(input, out, { backend: good, level: 'B-LT', tsa: { url: svc.tsaUrl } });
    assertPrefix(input, out);
    assertPdfsigValid(out, 1);
    assertQpdfCheck(out);
    const r = PdfReader.open(out);
    const dss = r.dict(r.catalog.get('DSS'))!;
    assert.ok(dss, 'catalog has /DSS');
    const certs = r.array(dss.get('Certs'))!.items;
    const ocsps = r.array(dss.get('OCSPs'))?.items ?? [];
    const crls = r.array(dss.get('CRLs'))?.items ?? [];
    assert.ok(certs.length >= 3, 'signer, root and TSA certificates');
    assert.ok(ocsps.length + crls.length >= 2, 'revocation data for the signer and the TSA');
    for (const x of [...certs, ...ocsps, ...crls]) assert.ok(r.getObject(x as PdfRef) instanceof PdfStream);
    const [sig] = signaturesOf(out);
    const vri = r.dict(dss.get('VRI'))!;
    const key = vriKey(sig!.contents);
    assert.match(key, /^[0-9A-F]{40}$/);
    assert.ok(vri.has(key), `VRI has ${key}`);
    assert.equal(r.revisions().length, 3, 'original, signature, DSS');
  });

  it('B-LTA: the file ends with a document timestamp over the DSS that openssl ts -verify accepts', async () => {
    const out = join(dir, 'blta.pdf');
    await signPdf(input, out, { backend: good, level: 'B-LTA', tsa: { url: svc.tsaUrl }, reason: 'LTA' });
    assertPrefix(input, out);
    assertQpdfCheck(out);
    const sigs = signaturesOf(out);
    assert.equal(sigs.length, 2);
    const last = sigs[sigs.length - 1]!;
    assert.equal(last.subFilter, 'ETSI.RFC3161');
    assert.equal(last.dict.getName('Type'), 'DocTimeStamp');
    const r = PdfReader.open(out);
    assert.equal(last.byteRange[2]! + last.byteRange[3]!, r.size, 'the document timestamp covers the whole file');
    const revs = r.revisions();
    assert.equal(revs.length, 4, 'original, signature, DSS, document timestamp');
    const dataPath = join(dir, 'lta-data.bin');
    writeFileSync(dataPath, signedBytes(out, last.byteRange));
    opensslTsVerify(dir, last.cms, { dataPath }, svc);
    // the signature itself still verifies
    assertOpensslCmsVerifies(out, svc.rootPath, dir);
    const st = spawnSync('pdfsig', [out], { encoding: 'utf8' }).stdout;
    assert.match(st, /Signature #1:[\s\S]*?Signature is Valid/);
  });

  it('B-LTA twice (second signer after the first document timestamp): every signature stays valid', async () => {
    const first = join(dir, 'lta1.pdf');
    const second = join(dir, 'lta2.pdf');
    await signPdf(input, first, { backend: good, level: 'B-LTA', tsa: { url: svc.tsaUrl }, certify: 2 });
    await signPdf(first, second, { backend: good, level: 'B-LTA', tsa: { url: svc.tsaUrl } });
    assertPrefix(first, second);
    assertQpdfCheck(second);
    const sigs = signaturesOf(second);
    assert.deepEqual(sigs.map((s) => s.subFilter), ['ETSI.CAdES.detached', 'ETSI.RFC3161', 'ETSI.CAdES.detached', 'ETSI.RFC3161']);
    assertOpensslCmsVerifies(second, svc.rootPath, dir);
    const out = spawnSync('pdfsig', [second], { encoding: 'utf8' }).stdout;
    assert.equal((out.match(/Digest Mismatch/g) ?? []).length, 0, out);
  });

  it('addDss with given data, then addDocumentTimestamp, as separate public steps', async () => {
    const signed = join(dir, 'steps-0.pdf');
    await signPdf(input, signed, { backend: good });
    const withDss = join(dir, 'steps-1.pdf');
    const crl = new Uint8Array(readFileSync(join(svc.dir, 'root.crl')));
    const [sig] = signaturesOf(signed);
    await addDss(signed, withDss, { content: { certs: [good.certificate, ...good.chain], crls: [crl], vri: [{ contents: sig!.contents, crls: [crl] }] } });
    const lta = join(dir, 'steps-2.pdf');
    await addDocumentTimestamp(withDss, lta, { url: svc.tsaUrl });
    assertPrefix(signed, withDss);
    assertPrefix(withDss, lta);
    assertQpdfCheck(lta);
    const r = PdfReader.open(lta);
    const dss = r.dict(r.catalog.get('DSS'))!;
    assert.equal(r.array(dss.get('CRLs'))!.length, 1, 'the same CRL is stored once');
    assert.equal(r.array(dss.get('Certs'))!.length, 2);
    assert.ok(r.dict(dss.get('VRI'))!.has(vriKey(sig!.contents)));
    r.close();
    const last = signaturesOf(lta).at(-1)!;
    assert.equal(last.subFilter, 'ETSI.RFC3161');
    const dataPath = join(dir, 'steps-data.bin');
    writeFileSync(dataPath, signedBytes(lta, last.byteRange));
    opensslTsVerify(dir, last.cms, { dataPath }, svc);
  });

  it('B-LTA on an encrypted PDF (AES-256, user password): DSS streams encrypted, document timestamp verifies', async () => {
    const { makeEncrypted } = await import('../../../fixtures/pdf/samples.js');
    const enc = join(dir, 'enc-in.pdf');
    makeEncrypted(input, enc, 'aes256', 'pw');
    const out = join(dir, 'enc-lta.pdf');
    await signPdf(enc, out, { backend: good, level: 'B-LTA', tsa: { url: svc.tsaUrl }, pdfPassword: 'pw' });
    assertPrefix(enc, out);
    const r = PdfReader.open(out, { password: 'pw' });
    const dss = r.dict(r.catalog.get('DSS'))!;
    const certs = r.array(dss.get('Certs'))!.items.map((x) => (r.getObject(x as PdfRef) as PdfStream).decode());
    assert.ok(certs.every((c) => c[0] === 0x30), 'DSS certificates decrypt to DER');
    r.close();
    const last = signaturesOf(out).at(-1)!;
    assert.equal(last.subFilter, 'ETSI.RFC3161');
    const dataPath = join(dir, 'enc-lta-data.bin');
    writeFileSync(dataPath, signedBytes(out, last.byteRange));
    opensslTsVerify(dir, last.cms, { dataPath }, svc);
    const st = spawnSync('pdfsig', ['-upw', 'pw', out], { encoding: 'utf8' }).stdout;
    assert.match(st, /Signature #1:[\s\S]*?Signature is Valid/);
  });

  it('unreachable TSA: TSA_UNREACHABLE, no output and no temp file', async () => {
    const out = join(dir, 'no-tsa.pdf');
    await assert.rejects(
      signPdf(input, out, { backend: good, level: 'B-T', tsa: { url: 'http://127.0.0.1:9/tsa', timeoutMs: 2000 } }),
      (e: unknown) => e instanceof SignerError && hasCode(e, 'TSA_UNREACHABLE'),
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.kyso-tmp')), []);
  });

  it('refuses a revoked signer by default (online check), signs with the override', async () => {
    const revoked = await loadPemFiles({ keyPath: svc.revoked.keyPath, certPath: svc.revoked.certPath, chainPath: svc.rootPath });
    try {
      const out = join(dir, 'revoked.pdf');
      await assert.rejects(signPdf(input, out, { backend: revoked, checkRevocation: true }), (e: unknown) => e instanceof SignerError && hasCode(e, 'CERT_REVOKED'));
      assert.equal(existsSync(out), false);
      await signPdf(input, out, { backend: revoked, checkRevocation: true, allowInvalidCert: true });
      assertPdfsigValid(out, 1);
    } finally {
      await revoked.close();
    }
  });

  it('refuses an expired signer certificate unless overridden', async () => {
    const pki = makeLocalPki(join(dir, 'pki'));
    const expired = await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.expiredCert, chainPath: pki.rootPath });
    try {
      const out = join(dir, 'expired.pdf');
      await assert.rejects(signPdf(input, out, { backend: expired }), (e: unknown) => e instanceof SignerError && hasCode(e, 'CERT_EXPIRED'));
      assert.equal(existsSync(out), false);
      await signPdf(input, out, { backend: expired, allowInvalidCert: true });
      assertPdfsigValid(out, 1);
    } finally {
      await expired.close();
    }
    void PadesError;
  });
});
