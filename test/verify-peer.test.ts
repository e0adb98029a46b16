import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { verifyPdf } from '@kyso/verifier';
import { makeMiniPki, type MiniPki } from '../packages/verifier/test/helpers/openssl-pki.js';

const signpdf = new SignPdf();

/** Per-signature digest verdict of poppler's pdfsig: true = "Signature is Valid", false = "Digest Mismatch". */
function pdfsigVerdicts(path: string): boolean[] {
  let out: string;
  try {
    out = execFileSync('pdfsig', ['-nocert', path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    const err = e as { stdout?: Buffer; code?: string };
    if (err.code === 'ENOENT') throw new Error('pdfsig (poppler-utils) is required for this test');
    out = err.stdout?.toString() ?? '';
  }
  return [...out.matchAll(/Signature Validation: (.*)/g)].map((m) => {
    if (/Signature is Valid/.test(m[1]!)) return true;
    if (/Digest Mismatch/.test(m[1]!)) return false;
    throw new Error(`unexpected pdfsig verdict: ${m[1]}`);
  });
}

async function peerSign(input: Uint8Array, p12: Buffer, name: string): Promise<Uint8Array> {
  const doc = await PDFDocument.load(input);
  pdflibAddPlaceholder({ pdfDoc: doc, reason: 'peer test', contactInfo: 'peer@example.com', name, location: 'Hà Nội', signatureLength: 8192 });
  const withPlaceholder = await doc.save({ useObjectStreams: false });
  return new Uint8Array(await signpdf.sign(Buffer.from(withPlaceholder), new P12Signer(p12, { passphrase: 'test' })));
}

describe('peer files (@signpdf): same digest verdict as pdfsig', function () {
  this.timeout(120_000);
  let pki: MiniPki;
  let p12: Buffer;
  let files: Record<string, string>;

  before(async () => {
    pki = makeMiniPki();
    const l = pki.leaf('good');
    const p12Path = join(pki.dir, 'good.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', l.key, '-in', l.cert, '-certfile', join(pki.dir, 'inter.pem'), '-passout', 'pass:test',
      '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-out', p12Path]);
    p12 = readFileSync(p12Path);
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([595, 842]).drawText('peer document', { x: 50, y: 780, size: 14, font });
    const once = await peerSign(await doc.save({ useObjectStreams: false }), p12, 'first');
    const tampered = Buffer.from(once);
    // Flip a bit in the binary comment of the header: inside the signed range, structure untouched.
    assert.equal(tampered[9], 0x25);
    tampered[11] = tampered[11]! ^ 0x01;
    // @signpdf re-saves the whole file with pdf-lib for a second signature, which breaks the first one.
    const twice = await peerSign(once, p12, 'second');
    files = { once: join(pki.dir, 'once.pdf'), tampered: join(pki.dir, 'tampered.pdf'), twice: join(pki.dir, 'twice.pdf') };
    writeFileSync(files.once!, once);
    writeFileSync(files.tampered!, tampered);
    writeFileSync(files.twice!, twice);
  });

  for (const name of ['once', 'tampered', 'twice']) {
    it(`${name}: kyso's intact flag per signature equals pdfsig's digest verdict`, async () => {
      const expected = pdfsigVerdicts(files[name]!);
      assert.ok(expected.length > 0, 'pdfsig found signatures');
      const r = await verifyPdf(files[name]!, { trustAnchors: [pki.rootPem], offline: true }, { validationData: { crls: [pki.crlDer, pki.rootCrlDer] } });
      const sigs = r.signatures.filter((s) => s.kind === 'signature');
      assert.equal(sigs.length, expected.length);
      assert.deepEqual(sigs.map((s) => s.intact), expected, JSON.stringify(sigs.map((s) => `${s.field}: ${s.indication}/${s.subIndication} ${s.message}`)));
      for (const [i, s] of sigs.entries()) {
        if (!expected[i]) {
          assert.equal(s.indication, 'TOTAL_FAILED');
          // The format block may decide first (e.g. the ByteRange no longer ends a revision); the digest check still fails.
          assert.ok(s.subIndication === 'HASH_FAILURE' || s.subIndication === 'FORMAT_FAILURE', String(s.subIndication));
          assert.ok(s.checks.some((c) => c.check === 'message-digest' && c.status === 'failed'), JSON.stringify(s.checks));
        }
      }
      if (name === 'once') {
        assert.equal(r.documentIndication, 'TOTAL_PASSED', JSON.stringify(sigs.map((s) => s.message)));
        assert.equal(sigs[0]!.level, 'adbe.pkcs7.detached');
      }
    });
  }
});
