/**
 * extendPdf (B-LT / B-LTA on existing signatures, kyso's and @signpdf's), the self-contained sealed
 * two-step state across processes, and the damaged-input preflight.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { PdfReader } from '@kyso/pdf';
import {
  extendPdf, finalizePdfSignature, loadPemFiles, preflightPdf, preparePdfSignature, repairPdf, sealPdfSignatureState, signPdf,
  PadesError, type KeyBackend, type PdfSignatureState,
} from '@kyso/signer';
import { verifyPdf } from '@kyso/verifier';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { assertPdfsigSignaturesValid, assertPdfsigValid, assertPrefix, assertQpdfCheck, signaturesOf } from './pades-helpers.js';
import { startOpensslServices, type OpensslServices } from './crypto-testpki.js';

const hasCode = (e: unknown, code: string): boolean => String((e as { code?: unknown }).code) === code;
const noTemp = (dir: string): void => assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.kyso-tmp')), [], 'no temp file left');

async function verdict(path: string, root: string): Promise<{ doc: string; levels: string[]; all: string }> {
  const r = await verifyPdf(path, { trustAnchors: [root] });
  return {
    doc: r.documentIndication,
    levels: r.signatures.filter((s) => s.kind === 'signature').map((s) => s.level),
    all: JSON.stringify(r.signatures.map((s) => `${s.field}: ${s.kind} ${s.level} ${s.indication}/${s.subIndication ?? ''} ${s.message ?? ''}`)),
  };
}

describe('PAdES extension to B-LT / B-LTA (kyso and @signpdf signatures)', function () {
  this.timeout(180_000);
  let dir: string;
  let svc: OpensslServices;
  let good: KeyBackend;
  let root: string;
  let input: string;
  let peerFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-extend-'));
    svc = await startOpensslServices();
    root = readFileSync(svc.rootPath, 'latin1');
    good = await loadPemFiles({ keyPath: svc.good.keyPath, certPath: svc.good.certPath, chainPath: svc.rootPath });
    input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(2));
    // a file signed by another tool: @signpdf (adbe.pkcs7.detached, pdf-lib placeholder), same key
    const p12 = join(dir, 'peer.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', svc.good.keyPath, '-in', svc.good.certPath, '-certfile', svc.rootPath, '-passout', 'pass:test',
      '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-out', p12]);
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([595, 842]).drawText('signed by @signpdf', { x: 50, y: 780, size: 14, font });
    pdflibAddPlaceholder({ pdfDoc: doc, reason: 'peer', contactInfo: 'peer@example.test', name: 'peer', location: 'Hà Nội', signatureLength: 8192 });
    const withPlaceholder = await doc.save({ useObjectStreams: false });
    const signed = await new SignPdf().sign(Buffer.from(withPlaceholder), new P12Signer(readFileSync(p12), { passphrase: 'test' }));
    peerFile = join(dir, 'peer.pdf');
    writeFileSync(peerFile, signed);
  });
  after(async () => {
    await good?.close();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kyso B-T → B-LT: DSS added, prefix kept, pdfsig valid, kyso TOTAL_PASSED as PAdES-BASELINE-LT', async () => {
    const bt = join(dir, 'bt.pdf');
    await signPdf(input, bt, { backend: good, level: 'B-T', tsa: { url: svc.tsaUrl } });
    assert.deepEqual((await verdict(bt, root)).levels, ['PAdES-BASELINE-T']);
    const out = join(dir, 'bt-lt.pdf');
    const r = await extendPdf(bt, out, { level: 'B-LT' });
    assert.equal(r.validationDataAdded, 1);
    assert.equal(r.documentTimestampsAdded, 0, 'a signature timestamp is already the T');
    assertPrefix(bt, out);
    assertQpdfCheck(out);
    assertPdfsigValid(out, 1);
    const v = await verdict(out, root);
    assert.equal(v.doc, 'TOTAL_PASSED', v.all);
    assert.deepEqual(v.levels, ['PAdES-BASELINE-LT']);
    // offline from the DSS alone
    const off = await verifyPdf(out, { trustAnchors: [root], offline: true });
    assert.equal(off.documentIndication, 'TOTAL_PASSED', JSON.stringify(off.signatures.map((s) => s.message)));
  });

  it('kyso B-B → B-LTA: document timestamp (T), DSS, archive timestamp; pdfsig valid, kyso TOTAL_PASSED as PAdES-BASELINE-LTA', async () => {
    const bb = join(dir, 'bb.pdf');
    await signPdf(input, bb, { backend: good });
    const out = join(dir, 'bb-lta.pdf');
    const r = await extendPdf(bb, out, { level: 'B-LTA', tsa: { url: svc.tsaUrl } });
    assert.equal(r.documentTimestampsAdded, 2);
    assert.equal(r.revisionsAdded, 3);
    assertPrefix(bb, out);
    assertPdfsigSignaturesValid(out, 1, 2);
    const sigs = signaturesOf(out);
    assert.equal(sigs[sigs.length - 1]!.subFilter, 'ETSI.RFC3161');
    const rd = PdfReader.open(out);
    assert.equal(sigs[sigs.length - 1]!.byteRange[2]! + sigs[sigs.length - 1]!.byteRange[3]!, rd.size, 'the archive timestamp covers the whole file');
    rd.close();
    const v = await verdict(out, root);
    assert.equal(v.doc, 'TOTAL_PASSED', v.all);
    assert.deepEqual(v.levels, ['PAdES-BASELINE-LTA']);
  });

  it('renews the archive timestamp of a B-LTA document: DSS for the old document timestamp, then a new one', async () => {
    const lta = join(dir, 'lta.pdf');
    await signPdf(input, lta, { backend: good, level: 'B-LTA', tsa: { url: svc.tsaUrl } });
    const out = join(dir, 'lta-renewed.pdf');
    const r = await extendPdf(lta, out, { level: 'B-LTA', tsa: { url: svc.tsaUrl } });
    assert.equal(r.renewed, true);
    assert.equal(r.validationDataAdded, 1, 'the old document timestamp got its validation data');
    assert.equal(r.documentTimestampsAdded, 1);
    assertPrefix(lta, out);
    assertPdfsigSignaturesValid(out, 1, 2);
    const before = signaturesOf(lta).filter((s) => s.subFilter === 'ETSI.RFC3161').length;
    assert.equal(signaturesOf(out).filter((s) => s.subFilter === 'ETSI.RFC3161').length, before + 1);
    const v = await verdict(out, root);
    assert.equal(v.doc, 'TOTAL_PASSED', v.all);
    assert.deepEqual(v.levels, ['PAdES-BASELINE-LTA']);
  });

  it('@signpdf-signed file → B-LT and → B-LTA: the peer signature stays valid for pdfsig, kyso TOTAL_PASSED, validation data embedded', async () => {
    assertPdfsigValid(peerFile, 1);
    // before: offline validation cannot establish revocation
    const offBefore = await verifyPdf(peerFile, { trustAnchors: [root], offline: true });
    assert.notEqual(offBefore.documentIndication, 'TOTAL_PASSED');
    const lt = join(dir, 'peer-lt.pdf');
    const r = await extendPdf(peerFile, lt, { level: 'B-LT', tsa: { url: svc.tsaUrl } });
    assert.equal(r.signatures, 1);
    assert.equal(r.documentTimestampsAdded, 1, 'the peer signature had no time: a document timestamp is its T');
    assertPrefix(peerFile, lt);
    assertPdfsigSignaturesValid(lt, 1, 1);
    const v = await verdict(lt, root);
    assert.equal(v.doc, 'TOTAL_PASSED', v.all);
    const offAfter = await verifyPdf(lt, { trustAnchors: [root], offline: true });
    const peerSig = offAfter.signatures.find((s) => s.kind === 'signature')!;
    assert.equal(peerSig.indication, 'TOTAL_PASSED', `offline from the DSS: ${peerSig.message}`);
    const lta = join(dir, 'peer-lta.pdf');
    await extendPdf(lt, lta, { level: 'B-LTA', tsa: { url: svc.tsaUrl } });
    assertPrefix(lt, lta);
    assertPdfsigSignaturesValid(lta, 1, 2);
    const v2 = await verdict(lta, root);
    assert.equal(v2.doc, 'TOTAL_PASSED', v2.all);
  });

  it('in place: the file is replaced atomically; failures (unreachable TSA) leave it untouched and no temp file', async () => {
    const f = join(dir, 'inplace.pdf');
    await signPdf(input, f, { backend: good, level: 'B-T', tsa: { url: svc.tsaUrl } });
    const original = readFileSync(f);
    await assert.rejects(extendPdf(f, f, { level: 'B-LTA', tsa: { url: 'http://127.0.0.1:9/tsa', timeoutMs: 2000 } }),
      (e: unknown) => e instanceof PadesError && hasCode(e, 'TSA_UNREACHABLE'));
    assert.ok(readFileSync(f).equals(original), 'unchanged after a failure');
    noTemp(dir);
    await extendPdf(f, f, { level: 'B-LTA', tsa: { url: svc.tsaUrl } });
    assertPrefix(original, f);
    assertPdfsigSignaturesValid(f, 1, 1);
  });

  it('refuses: no signature (EXTEND_FAILED), B-LTA without a TSA, a B-B signature to B-LT without a TSA, a damaged file (PDF_DAMAGED)', async () => {
    await assert.rejects(extendPdf(input, join(dir, 'x.pdf'), { level: 'B-LT' }), (e: unknown) => hasCode(e, 'EXTEND_FAILED') && /no signature/.test((e as Error).message));
    const bb = join(dir, 'bb2.pdf');
    await signPdf(input, bb, { backend: good });
    await assert.rejects(extendPdf(bb, join(dir, 'x.pdf'), { level: 'B-LTA' }), (e: unknown) => hasCode(e, 'EXTEND_FAILED') && /TSA|tsa/.test((e as Error).message));
    await assert.rejects(extendPdf(bb, join(dir, 'x.pdf'), { level: 'B-LT' }), (e: unknown) => hasCode(e, 'EXTEND_FAILED') && /no trusted time/.test((e as Error).message));
    const cut = join(dir, 'cut.pdf');
    const b = readFileSync(bb);
    writeFileSync(cut, b.subarray(0, b.length - 40));
    await assert.rejects(extendPdf(cut, join(dir, 'x.pdf'), { level: 'B-LT', tsa: { url: svc.tsaUrl } }), (e: unknown) => hasCode(e, 'PDF_DAMAGED'));
    assert.equal(existsSync(join(dir, 'x.pdf')), false);
    noTemp(dir);
  });

  it('refuses a document whose signature is broken (a signed byte changed, or the signature value altered): no archive timestamp for it', async () => {
    const bt = join(dir, 'bt-broken-src.pdf');
    await signPdf(input, bt, { backend: good, level: 'B-T', tsa: { url: svc.tsaUrl } });
    const b = readFileSync(bt);
    // a byte of the signed header comment (covered by the ByteRange; the file still parses)
    const content = Buffer.from(b);
    const at = content.indexOf('\n%') + 2;
    content[at] ^= 0x01;
    writeFileSync(join(dir, 'broken-content.pdf'), content);
    await assert.rejects(extendPdf(join(dir, 'broken-content.pdf'), join(dir, 'y.pdf'), { level: 'B-LTA', tsa: { url: svc.tsaUrl } }),
      (e: unknown) => hasCode(e, 'EXTEND_FAILED') && /not intact/.test((e as Error).message) && /message-digest/.test((e as Error).message));
    // the last bytes of the signature value inside /Contents (hex), the digest still matching
    const sigValue = Buffer.from(b);
    const contentsEnd = sigValue.indexOf('>', sigValue.indexOf('/Contents <') + 11);
    let p = contentsEnd - 1;
    while (sigValue[p] === 0x30) p--; // skip the zero padding
    const cms = Buffer.from(sigValue.subarray(sigValue.indexOf('/Contents <') + 11, p + 1).toString('latin1'), 'hex');
    // flip a byte of the RSA signature value: the last OCTET STRING before the unsigned attributes; find it as the
    // 256-byte value following "04 82 01 00"
    const sigAt = cms.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00]));
    assert.ok(sigAt > 0, 'RSA-2048 signature value found');
    cms[sigAt + 10] ^= 0x01;
    Buffer.from(cms.toString('hex'), 'latin1').copy(sigValue, sigValue.indexOf('/Contents <') + 11);
    writeFileSync(join(dir, 'broken-sig.pdf'), sigValue);
    await assert.rejects(extendPdf(join(dir, 'broken-sig.pdf'), join(dir, 'y.pdf'), { level: 'B-LT', tsa: { url: svc.tsaUrl } }),
      (e: unknown) => hasCode(e, 'EXTEND_FAILED') && /does not verify/.test((e as Error).message));
    assert.equal(existsSync(join(dir, 'y.pdf')), false);
    noTemp(dir);
  });
});

describe('kyso extend (CLI)', function () {
  this.timeout(300_000);
  let dir: string;
  let svc: OpensslServices;
  let good: KeyBackend;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-extend-cli-'));
    svc = await startOpensslServices();
    good = await loadPemFiles({ keyPath: svc.good.keyPath, certPath: svc.good.certPath, chainPath: svc.rootPath });
  });
  after(async () => {
    await good?.close();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('extends a kyso-signed and an @signpdf-signed file to B-LTA (-o folder), then renews in place; pdfsig valid, kyso verify TOTAL_PASSED', async () => {
    const { kyso } = await import('./pades-helpers.js');
    const input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(1));
    const mine = join(dir, 'mine.pdf');
    await signPdf(input, mine, { backend: good, level: 'B-T', tsa: { url: svc.tsaUrl } });
    const p12 = join(dir, 'peer.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', svc.good.keyPath, '-in', svc.good.certPath, '-certfile', svc.rootPath, '-passout', 'pass:test',
      '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-out', p12]);
    const doc = await PDFDocument.load(readFileSync(input));
    pdflibAddPlaceholder({ pdfDoc: doc, reason: 'peer', contactInfo: 'p@example.test', name: 'peer', location: 'Huế', signatureLength: 8192 });
    const peer = join(dir, 'peer.pdf');
    writeFileSync(peer, await new SignPdf().sign(Buffer.from(await doc.save({ useObjectStreams: false })), new P12Signer(readFileSync(p12), { passphrase: 'test' })));
    const outDir = join(dir, 'out');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(outDir);
    const r = await kyso(['extend', mine, peer, '--level=B-LTA', `--tsa=${svc.tsaUrl}`, '-o', outDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^extended .*mine\.pdf \(B-LTA: 1 signature; validation data for 1, 1 document timestamp added; \d+ bytes\)$/m);
    assert.match(r.stdout, /^extended .*peer\.pdf \(B-LTA: 1 signature; validation data for 2, 2 document timestamps added; \d+ bytes\)$/m);
    assert.doesNotMatch(r.stderr, /\[[#.]+\]/, 'no progress bar on a pipe');
    for (const f of ['mine.pdf', 'peer.pdf']) {
      const out = join(outDir, f);
      assertPrefix(join(dir, f), out);
      assertPdfsigSignaturesValid(out, 1, f === 'mine.pdf' ? 1 : 2);
      const v = await kyso(['verify', out, '--trust', svc.rootPath]);
      assert.equal(v.code, 0, `kyso verify ${f}: ${v.stdout}${v.stderr}`);
      if (f === 'mine.pdf') assert.match(v.stdout, /PAdES-BASELINE-LTA/);
    }
    // renew in place
    const target = join(outDir, 'mine.pdf');
    const before = readFileSync(target);
    const again = await kyso(['extend', target, '--level', 'B-LTA', '--tsa', svc.tsaUrl, '--in-place']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /archive timestamp renewed/);
    assertPrefix(before, target);
    assertPdfsigSignaturesValid(target, 1, 2);
    assert.equal((await kyso(['verify', target, '--trust', svc.rootPath])).code, 0);
    noTemp(outDir);
  });

  it('exit 4 when the TSA cannot be reached (file untouched), exit 3 for a damaged file, exit 1 for a file without signatures', async () => {
    const { kyso } = await import('./pades-helpers.js');
    const input = join(dir, 'plain.pdf');
    writeFileSync(input, await makeBasicPdf(1));
    const signed = join(dir, 'signed.pdf');
    await signPdf(input, signed, { backend: good });
    const original = readFileSync(signed);
    const down = await kyso(['extend', signed, '--level', 'B-LTA', '--tsa', 'http://127.0.0.1:9/tsa', '--in-place', '--timeout', '3']);
    assert.equal(down.code, 4, down.stderr);
    assert.match(down.stderr, /^kyso extend: .*signed\.pdf: TSA_UNREACHABLE: /);
    assert.ok(readFileSync(signed).equals(original), 'in place: untouched after a failure');
    const cut = join(dir, 'cut.pdf');
    writeFileSync(cut, original.subarray(0, original.length - 30));
    const dmg = await kyso(['extend', cut, '--level', 'B-LT', '--tsa', svc.tsaUrl, '-o', join(dir, 'cut-lt.pdf')]);
    assert.equal(dmg.code, 3, dmg.stderr);
    assert.match(dmg.stderr, /PDF_DAMAGED/);
    const none = await kyso(['extend', input, '--level', 'B-LT', '-o', join(dir, 'none.pdf')]);
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /EXTEND_FAILED: .*no signature/);
    assert.equal(existsSync(join(dir, 'cut-lt.pdf')) || existsSync(join(dir, 'none.pdf')), false);
    noTemp(dir);
  });
});

describe('two-step signing across processes: self-contained, sealed state', function () {
  this.timeout(120_000);
  let dir: string;
  let good: KeyBackend;
  let input: string;
  let key: Buffer;
  let pem: { keyPath: string; certPath: string; rootPath: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-twostep-'));
    const { makeLocalPki } = await import('./pades-pki.js');
    const pki = makeLocalPki(join(dir, 'pki'));
    pem = { keyPath: pki.leafKey, certPath: pki.leafCert, rootPath: pki.rootPath };
    good = await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.leafCert, chainPath: pki.rootPath });
    input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(3));
    key = Buffer.alloc(32, 7);
  });
  after(async () => {
    await good?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the state holds no path and no copy of the PDF: only the incremental update, the original\'s SHA-256 and size', async () => {
    const prep = await preparePdfSignature(new Uint8Array(readFileSync(input)), '', { certificate: good.certificate, chain: good.chain });
    const json = JSON.stringify(prep.state);
    assert.equal(prep.state.input, undefined);
    assert.equal(prep.state.output, undefined);
    assert.doesNotMatch(json, /kyso-tmp|\/tmp\//);
    assert.equal(prep.state.base.size, readFileSync(input).length);
    // the state is much smaller than the document plus its /Contents placeholder
    assert.ok(json.length < prep.state.contentsHexLength, `state ${json.length} bytes vs placeholder ${prep.state.contentsHexLength} hex digits`);
    assert.deepEqual(readdirSync(dir).filter((f) => f !== 'pki' && f !== 'in.pdf'), [], 'prepare writes nothing');
  });

  it('prepare in one process, finalize in another (sealed state, original supplied again): pdfsig valid', async () => {
    const prep = await preparePdfSignature(input, join(dir, 'unused.pdf'), { certificate: good.certificate, chain: good.chain }, { stateKey: key, reason: 'two hosts' });
    assert.ok(prep.sealedState?.startsWith('kyso-pades-state.v2.'));
    const sig = await good.sign({ digest: prep.digest, data: prep.toBeSigned }, prep.signatureAlgorithm);
    // "another host": a copy of the original at another path
    const copy = join(dir, 'copy-of-in.pdf');
    writeFileSync(copy, readFileSync(input));
    const out = join(dir, 'two-host.pdf');
    const job = join(dir, 'job.json');
    writeFileSync(job, JSON.stringify({ sealed: prep.sealedState, signature: Buffer.from(sig).toString('base64'), key: key.toString('base64'), input: copy, output: out }));
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'pades-finalize-child.ts'), job], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assertPdfsigValid(out, 1);
    assertPrefix(input, out);
    assert.equal(existsSync(join(dir, 'unused.pdf')), false);
  });

  it('a tampered state is refused with a clear error (STATE_TAMPERED), in the other process too; nothing written', async () => {
    const prep = await preparePdfSignature(input, join(dir, 't.pdf'), { certificate: good.certificate, chain: good.chain }, { stateKey: key });
    const sig = await good.sign({ digest: prep.digest, data: prep.toBeSigned }, prep.signatureAlgorithm);
    const sealed = prep.sealedState!;
    // flip one character of the payload
    const i = 40;
    const flipped = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
    await assert.rejects(finalizePdfSignature(flipped, sig, { stateKey: key, input }), (e: unknown) => hasCode(e, 'STATE_TAMPERED') && /altered|HMAC/.test((e as Error).message));
    // re-sealed with another key
    await assert.rejects(finalizePdfSignature(sealPdfSignatureState(prep.state, Buffer.alloc(32, 9)), sig, { stateKey: key, input }), (e: unknown) => hasCode(e, 'STATE_TAMPERED'));
    // an unsealed state when a key is expected
    await assert.rejects(finalizePdfSignature(JSON.stringify(prep.state), sig, { stateKey: key, input }), (e: unknown) => hasCode(e, 'STATE_TAMPERED'));
    // unsealed and altered update (another object smuggled into it): the ByteRange digest no longer matches
    const st = JSON.parse(JSON.stringify(prep.state)) as PdfSignatureState;
    const head = Buffer.from(st.updateHead, 'base64');
    const at = head.indexOf('/Name');
    head[at + 7] = head[at + 7]! ^ 1;
    st.updateHead = head.toString('base64');
    await assert.rejects(finalizePdfSignature(st, sig, { input }), (e: unknown) => hasCode(e, 'STATE_TAMPERED'));
    // another original document than the one prepared
    const other = join(dir, 'other.pdf');
    const b = Buffer.from(readFileSync(input));
    b[20] = b[20]! ^ 1;
    writeFileSync(other, b);
    await assert.rejects(finalizePdfSignature(prep.sealedState!, sig, { stateKey: key, input: other }), (e: unknown) => hasCode(e, 'STATE_TAMPERED') && /not the one prepared/.test((e as Error).message));
    // the child process refuses the tampered state with the same code
    const job = join(dir, 'job-bad.json');
    writeFileSync(job, JSON.stringify({ sealed: flipped, signature: Buffer.from(sig).toString('base64'), key: key.toString('base64'), input, output: join(dir, 't.pdf') }));
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'pades-finalize-child.ts'), job], { encoding: 'utf8' });
    assert.equal(child.status, 1);
    assert.match(child.stderr, /STATE_TAMPERED/);
    assert.equal(existsSync(join(dir, 't.pdf')), false);
    noTemp(dir);
  });

  it('too short a state key is refused', async () => {
    await assert.rejects(preparePdfSignature(input, join(dir, 's.pdf'), { certificate: good.certificate, chain: good.chain }, { stateKey: Buffer.alloc(8) }), (e: unknown) => hasCode(e, 'STATE_INVALID'));
    void pem;
  });
});

describe('damaged input: preflight and explicit repair', function () {
  this.timeout(60_000);
  let dir: string;
  let good: KeyBackend;
  let sound: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-preflight-'));
    const { makeLocalPki } = await import('./pades-pki.js');
    const pki = makeLocalPki(join(dir, 'pki'));
    good = await loadPemFiles({ keyPath: pki.leafKey, certPath: pki.leafCert, chainPath: pki.rootPath });
    sound = Buffer.from(await makeBasicPdf(2));
  });
  after(async () => {
    await good?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
    ['truncated (last 100 bytes cut)', (b) => b.subarray(0, b.length - 100), /startxref|%%EOF|truncated/],
    ['truncated (half the file)', (b) => b.subarray(0, Math.floor(b.length / 2)), /startxref|%%EOF|truncated/],
    ['broken startxref offset', (b) => Buffer.from(b.toString('latin1').replace(/startxref\s+\d+/, 'startxref\n99999999'), 'latin1'), /cross-reference/],
    ['xref entry pointing at the wrong object', (b) => {
      const s = b.toString('latin1');
      const m = /xref\s+0 \d+\s+0000000000 65535 f\s+(\d{10}) 00000 n/.exec(s)!;
      const shifted = String(Number(m[1]) + 1).padStart(10, '0');
      return Buffer.from(s.replace(m[0], m[0].replace(m[1]!, shifted)), 'latin1');
    }, /broken cross-reference data/],
    ['unfinished revision after the last %%EOF', (b) => Buffer.concat([b, Buffer.from('\n5 0 obj\n<< /Type /Annot /Subtype /Text >>\nendobj\n', 'latin1')]), /unfinished revision/],
  ];
  for (const [name, damage, why] of cases) {
    it(`${name}: refused with PDF_DAMAGED, signed after repair (pdfsig valid, repair reported)`, async () => {
      const bad = damage(sound);
      const r = preflightPdf(new Uint8Array(bad));
      assert.equal(r.ok, false);
      const out = join(dir, `${name.replace(/\W+/g, '-')}.pdf`);
      await assert.rejects(signPdf(new Uint8Array(bad), out, { backend: good }), (e: unknown) => e instanceof PadesError && hasCode(e, 'PDF_DAMAGED') && why.test((e as Error).message) && /repair/.test((e as Error).message));
      assert.equal(existsSync(out), false);
      if (name.startsWith('truncated (half')) {
        // too little is left to recover: a clear refusal even with repair, or a sound file
        try {
          await signPdf(new Uint8Array(bad), out, { backend: good, repair: true });
          assertPdfsigValid(out, 1);
        } catch (e) {
          assert.ok(hasCode(e, 'PDF_DAMAGED'), String(e));
        }
        return;
      }
      const res = await signPdf(new Uint8Array(bad), out, { backend: good, repair: true });
      assert.ok(res.repaired && res.repaired.length > 0, 'the repair is reported');
      assertPdfsigValid(out, 1);
      assertQpdfCheck(out);
      assert.equal(preflightPdf(out).ok, true);
    });
  }

  it('a sound file passes the preflight (every sample class) and an end-of-line after %%EOF is fine', async () => {
    assert.equal(preflightPdf(new Uint8Array(sound)).ok, true);
    assert.equal(preflightPdf(new Uint8Array(Buffer.concat([sound, Buffer.from('\r\n\n')]))).ok, true);
  });

  it('repair refuses a signed file (rewriting would break its signatures)', async () => {
    const signed = join(dir, 'signed.pdf');
    await signPdf(new Uint8Array(sound), signed, { backend: good });
    const b = Buffer.concat([readFileSync(signed), Buffer.from('\n9 0 obj\n<<>>\nendobj\n')]);
    await assert.rejects(repairPdf(new Uint8Array(b)), (e: unknown) => hasCode(e, 'PDF_DAMAGED') && /signature/.test((e as Error).message));
  });

  it('visible rectangle outside the page: RECT_OUTSIDE_PAGE; image neither PNG nor JPEG: IMAGE_UNSUPPORTED', async () => {
    const out = join(dir, 'vis.pdf');
    for (const rect of [[500, 700, 200, 50], [-10, 10, 100, 50], [10, 830, 100, 50], [0, 0, 1000, 1000]] as [number, number, number, number][]) {
      await assert.rejects(signPdf(new Uint8Array(sound), out, { backend: good, visible: { page: 1, rect } }), (e: unknown) => hasCode(e, 'RECT_OUTSIDE_PAGE') && /does not fit on page 1/.test((e as Error).message), rect.join(','));
    }
    await assert.rejects(signPdf(new Uint8Array(sound), out, { backend: good, visible: { page: 3, rect: [10, 10, 100, 50] } }), (e: unknown) => hasCode(e, 'PAGE_NOT_FOUND'));
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    await assert.rejects(signPdf(new Uint8Array(sound), out, { backend: good, visible: { page: 1, rect: [10, 10, 100, 50], image: gif } }), (e: unknown) => hasCode(e, 'IMAGE_UNSUPPORTED') && /GIF/.test((e as Error).message));
    await assert.rejects(signPdf(new Uint8Array(sound), out, { backend: good, visible: { page: 1, rect: [10, 10, 100, 50], image: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') } }), (e: unknown) => hasCode(e, 'IMAGE_UNSUPPORTED'));
    // right magic, broken body: decoded and refused with the same code
    const brokenPng = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage that is not a PNG chunk stream')]);
    const brokenJpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
    for (const image of [brokenPng, brokenJpeg]) {
      await assert.rejects(signPdf(new Uint8Array(sound), out, { backend: good, visible: { page: 1, rect: [10, 10, 100, 50], image } }), (e: unknown) => hasCode(e, 'IMAGE_UNSUPPORTED') && /could not be decoded/.test((e as Error).message));
    }
    assert.equal(existsSync(out), false);
    // inside the page it signs
    await signPdf(new Uint8Array(sound), out, { backend: good, visible: { page: 1, rect: [10, 10, 100, 50] } });
    assertPdfsigValid(out, 1);
  });
});

describe('a revocation service that cannot be reached is reported (REVOCATION_UNREACHABLE, CLI exit 4)', function () {
  this.timeout(180_000);
  let dir: string;
  let svc: OpensslServices;
  let good: KeyBackend;
  let bt: string;
  let input: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-revdown-'));
    svc = await startOpensslServices();
    good = await loadPemFiles({ keyPath: svc.good.keyPath, certPath: svc.good.certPath, chainPath: svc.rootPath });
    input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(1));
    bt = join(dir, 'bt.pdf');
    await signPdf(input, bt, { backend: good, level: 'B-T', tsa: { url: svc.tsaUrl } });
    for (const [from, to] of [[svc.good.keyPath, 'good.key'], [svc.good.certPath, 'good.pem'], [svc.rootPath, 'root.pem']] as const) writeFileSync(join(dir, to), readFileSync(from));
    // every responder (OCSP, CRL, AIA) goes away
    await svc.close();
  });
  after(async () => {
    await good?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signPdf with the online signer check: REVOCATION_UNREACHABLE naming the service, no output', async () => {
    const out = join(dir, 'out.pdf');
    await assert.rejects(signPdf(input, out, { backend: good, checkRevocation: true }),
      (e: unknown) => e instanceof PadesError && hasCode(e, 'REVOCATION_UNREACHABLE') && /could not be checked/.test((e as Error).message) && /offline/.test((e as Error).message));
    assert.equal(existsSync(out), false);
    // without the online check it signs (the user chose --offline)
    await signPdf(input, out, { backend: good, checkRevocation: false });
    assertPdfsigValid(out, 1);
  });

  it('extendPdf to B-LT: REVOCATION_UNREACHABLE, nothing written', async () => {
    const out = join(dir, 'lt.pdf');
    await assert.rejects(extendPdf(bt, out, { level: 'B-LT' }), (e: unknown) => e instanceof PadesError && hasCode(e, 'REVOCATION_UNREACHABLE'));
    assert.equal(existsSync(out), false);
    noTemp(dir);
  });

  it('kyso sign (online check) and kyso extend exit 4 with REVOCATION_UNREACHABLE', async () => {
    const { kyso } = await import('./pades-helpers.js');
    const s = await kyso(['sign', input, '-o', join(dir, 'cli.pdf'), '--key', join(dir, 'good.key'), '--cert', join(dir, 'good.pem'), '--chain', join(dir, 'root.pem')]);
    assert.equal(s.code, 4, s.stderr);
    assert.match(s.stderr, /^kyso sign: REVOCATION_UNREACHABLE: /);
    const e = await kyso(['extend', bt, '--level', 'B-LT', '-o', join(dir, 'cli-lt.pdf')]);
    assert.equal(e.code, 4, e.stderr);
    assert.match(e.stderr, /REVOCATION_UNREACHABLE/);
    assert.equal(existsSync(join(dir, 'cli.pdf')) || existsSync(join(dir, 'cli-lt.pdf')), false);
  });
});
