import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb } from 'pdf-lib';
import { IncrementalWriter, PdfArray, PdfDict, PdfName, type PdfObject, PdfReader, PdfRef, PdfStream } from '@kyso/pdf';
import { PadesError } from './errors.js';

/** A visible signature: where, and what it shows. */
export interface VisibleSignatureOptions {
  /** 1-based page number. */
  page: number;
  /** [x, y, width, height] in PDF points (origin bottom-left of the page). */
  rect: [number, number, number, number];
  /** PNG (or JPEG) image drawn on the left: a seal or a handwritten signature. */
  image?: Uint8Array;
  /** Text lines (default: "Ký bởi: …", "Thời gian ký: …", "Lý do: …"). */
  lines?: string[];
  /** TrueType font with the needed glyphs (default DejaVuSans from dejavu-fonts-ttf). */
  fontPath?: string;
}

let defaultFont: Uint8Array | undefined;
function fontBytes(path?: string): Uint8Array {
  if (path) return readFileSync(path);
  if (!defaultFont) {
    const req = createRequire(import.meta.url);
    defaultFont = readFileSync(req.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'));
  }
  return defaultFont;
}

/**
 * Draws the appearance in a scratch pdf-lib document (subset TrueType font, optional image),
 * then copies its content and resources into the update as a Form XObject (objects renumbered).
 * Returns the reference of the XObject, for the widget's /AP /N.
 */
export async function buildAppearance(w: IncrementalWriter, opts: { width: number; height: number; lines: string[]; image?: Uint8Array; fontPath?: string; pageRotate?: number }): Promise<PdfRef> {
  // On a page shown rotated (/Rotate, clockwise), draw in the on-screen orientation and rotate the
  // form back (/Matrix, counterclockwise) so that the text reads upright.
  const rot = (((opts.pageRotate ?? 0) % 360) + 360) % 360;
  const quarter = rot === 90 || rot === 270;
  const width = quarter ? opts.height : opts.width;
  const height = quarter ? opts.width : opts.height;
  if (!(width > 0 && height > 0 && width < 14400 && height < 14400)) throw new PadesError('APPEARANCE_FAILED', `bad signature rectangle size ${width}x${height}`);
  let scratch: Uint8Array;
  try {
    const doc = await PDFDocument.create();
    doc.registerFontkit(fontkit);
    const font = await doc.embedFont(fontBytes(opts.fontPath), { subset: true });
    const page = doc.addPage([width, height]);
    const pad = Math.min(4, width / 20, height / 20);
    let textX = pad;
    if (opts.image) {
      const isPng = opts.image[0] === 0x89 && opts.image[1] === 0x50;
      let img;
      try {
        img = isPng ? await doc.embedPng(opts.image) : await doc.embedJpg(opts.image);
        if (!(img.width > 0 && img.height > 0)) throw new Error('no pixels');
      } catch (err) {
        throw new PadesError('IMAGE_UNSUPPORTED', `the signature image could not be decoded as ${isPng ? 'PNG' : 'JPEG'} (${(err as Error).message}): give a valid PNG or JPEG file`, { cause: err });
      }
      const box = Math.min(height - 2 * pad, width * 0.35);
      const scale = Math.min(box / img.width, box / img.height);
      const iw = img.width * scale;
      const ih = img.height * scale;
      page.drawImage(img, { x: pad + (box - iw) / 2, y: (height - ih) / 2, width: iw, height: ih });
      textX = pad * 2 + box;
    }
    const lines = opts.lines.filter((l) => l.length > 0);
    const availW = Math.max(1, width - textX - pad);
    const availH = Math.max(1, height - 2 * pad);
    let size = Math.min(12, availH / (Math.max(1, lines.length) * 1.25));
    for (const l of lines) {
      const lw = font.widthOfTextAtSize(l, size);
      if (lw > availW) size = Math.max(3, (size * availW) / lw);
    }
    const lineH = size * 1.25;
    let y = height - pad - size;
    for (const l of lines) {
      page.drawText(l, { x: textX, y, size, font, color: rgb(0.05, 0.15, 0.45) });
      y -= lineH;
    }
    scratch = await doc.save({ useObjectStreams: false });
  } catch (err) {
    if (err instanceof PadesError) throw err;
    throw new PadesError('APPEARANCE_FAILED', `could not draw the signature appearance: ${(err as Error).message}`);
  }
  const sr = PdfReader.open(scratch);
  const pg = sr.getPage(0);
  const contents = sr.resolve(pg.dict.get('Contents'));
  const parts: Uint8Array[] = [];
  const streams = contents instanceof PdfArray ? contents.items.map((x) => sr.resolve(x)) : [contents];
  for (const s of streams) if (s instanceof PdfStream) parts.push(s.decode(), new Uint8Array([0x0a]));
  const memo = new Map<number, PdfRef>();
  const subsetTag = Array.from(createHash('sha256').update(opts.lines.join('\n')).update(String(w.reader.size)).digest().subarray(0, 6), (b) => String.fromCharCode(65 + (b % 26))).join('');
  const copy = (o: PdfObject | undefined, depth = 0): PdfObject => {
    if (depth > 64) throw new PadesError('APPEARANCE_FAILED', 'appearance resources nested too deeply');
    if (o === undefined) return null;
    if (o instanceof PdfRef) {
      const m = memo.get(o.num);
      if (m) return m;
      const nr = w.allocate();
      memo.set(o.num, nr);
      w.set(nr, copy(sr.getObject(o), depth + 1));
      return nr;
    }
    if (o instanceof PdfArray) return new PdfArray(o.items.map((x) => copy(x, depth + 1)));
    if (o instanceof PdfStream) {
      const d = copy(o.dict, depth + 1) as PdfDict;
      d.delete('Length');
      return new PdfStream(d, o.raw());
    }
    if (o instanceof PdfDict) {
      const d = new PdfDict();
      for (const [k, v] of o.map) d.set(k, copy(v, depth + 1));
      // pdf-lib names its subsets "Name-1234"; ISO 32000 wants the "ABCDEF+Name" subset tag.
      for (const key of ['BaseFont', 'FontName']) {
        const n = d.getName(key);
        if (n) d.set(key, PdfName.of(subsetTag + '+' + n.replace(/-\d+$/, '')));
      }
      return d;
    }
    return o;
  };
  const resources = pg.resources ? (copy(pg.resources) as PdfDict) : new PdfDict();
  const data = deflateSync(Buffer.concat(parts));
  const xobj = new PdfStream(
    new PdfDict({ Type: PdfName.of('XObject'), Subtype: PdfName.of('Form'), BBox: new PdfArray([0, 0, width, height]), Resources: resources, Filter: PdfName.of('FlateDecode') }),
    data,
  );
  const matrices: Record<number, number[]> = { 90: [0, 1, -1, 0, 0, 0], 180: [-1, 0, 0, -1, 0, 0], 270: [0, -1, 1, 0, 0, 0] };
  if (matrices[rot]) xobj.dict.set('Matrix', new PdfArray(matrices[rot]!));
  return w.add(xobj);
}
