/**
 * Files signed by the peer library (@signpdf with pdf-lib placeholders): a single signature is clean and
 * covers the whole file; signing a second time with the peer re-serialises the document (pdf-lib save),
 * which breaks the first signature's coverage — analyzePdf must flag it, in agreement with pdfsig.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { P12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';
import { analyzePdf } from '../src/pdf/index.js';

function pdfsig(path: string): string[] {
  const r = spawnSync('pdfsig', [path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return [...r.stdout.matchAll(/Signature Validation: (.*)/g)].map((m) => m[1]!.trim());
}

describe('peer-signed PDFs (verifier/pdf)', function () {
  this.timeout(60000);
  let dir: string;
  let p12: Buffer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-peer-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '30', '-subj', '/CN=peer signer'], { cwd: dir, stdio: 'ignore' });
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-out', 'p.p12', '-passout', 'pass:'], { cwd: dir, stdio: 'ignore' });
    p12 = readFileSync(join(dir, 'p.p12'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function peerSign(input: Uint8Array | null, reason: string): Promise<Buffer> {
    let doc: PDFDocument;
    if (input) doc = await PDFDocument.load(input);
    else {
      doc = await PDFDocument.create();
      const page = doc.addPage([595, 842]);
      page.drawText('Peer-signed test document', { x: 72, y: 760, size: 18, font: await doc.embedFont(StandardFonts.Helvetica) });
    }
    pdflibAddPlaceholder({ pdfDoc: doc, reason, contactInfo: 'test@example.org', name: 'Peer', location: 'Hanoi' });
    const withPlaceholder = Buffer.from(await doc.save({ useObjectStreams: false }));
    return new SignPdf().sign(withPlaceholder, new P12Signer(p12, { passphrase: '' }));
  }

  it('one peer signature: clean, covers the whole file, pdfsig agrees', async () => {
    const one = await peerSign(null, 'first');
    const p = join(dir, 'one.pdf');
    writeFileSync(p, one);
    const a = await analyzePdf(p);
    assert.equal(a.signatures.length, 1);
    const s = a.signatures[0]!;
    assert.equal(s.subFilter, 'adbe.pkcs7.detached');
    assert.equal(s.reason, 'first');
    assert.deepEqual(s.formatFindings.filter((f) => f.severity === 'error'), []);
    assert.equal(s.coverage?.coversWholeFile, true);
    assert.equal(s.contents[0], 0x30);
    assert.deepEqual(pdfsig(p), ['Signature is Valid.']);
  });

  it('second peer signature re-serialises the file: the first is flagged, as pdfsig reports a digest mismatch', async () => {
    const one = await peerSign(null, 'first');
    const two = await peerSign(one, 'second');
    const p = join(dir, 'two.pdf');
    writeFileSync(p, two);
    const st = pdfsig(p);
    const a = await analyzePdf(p);
    assert.equal(a.signatures.length, 2);
    const broken = a.signatures.filter((s) => !s.coverage?.coversWholeRevision || s.formatFindings.some((f) => f.severity === 'error'));
    const mismatches = st.filter((x) => x !== 'Signature is Valid.').length;
    assert.ok(mismatches >= 1, `pdfsig: ${st.join(' | ')}`);
    assert.equal(broken.length, mismatches, `kyso flags ${broken.map((s) => s.fieldName)}, pdfsig: ${st.join(' | ')}`);
  });
});
