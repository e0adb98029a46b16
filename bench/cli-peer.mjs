#!/usr/bin/env node
// The peer of bench/cli.ts as a whole process: signs a PDF with @signpdf/signpdf + @signpdf/placeholder-pdf-lib +
// @signpdf/signer-p12 (the same libraries and steps as the peer of bench/sign.ts), in plain Node ESM.
//   node bench/cli-peer.mjs IN.pdf OUT.pdf KEY.p12   (PKCS#12 password from PEER_P12_PASSWORD)
import { readFileSync, writeFileSync } from 'node:fs';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import signpdfModule from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';

// CommonJS from plain ESM: the SignPdf instance is the module's `default` export
const signpdf = signpdfModule.default ?? signpdfModule;
const [input, output, p12] = process.argv.slice(2);
const signer = new P12Signer(readFileSync(p12), { passphrase: process.env.PEER_P12_PASSWORD ?? '' });
const pdfDoc = await PDFDocument.load(readFileSync(input));
pdflibAddPlaceholder({ pdfDoc, reason: 'bench', contactInfo: '', name: 'bench', location: 'Ha Noi' });
const withPlaceholder = await pdfDoc.save({ useObjectStreams: false });
writeFileSync(output, await signpdf.sign(Buffer.from(withPlaceholder), signer));
