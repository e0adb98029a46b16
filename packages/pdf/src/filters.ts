import { constants, inflateSync } from 'node:zlib';
import { PdfError } from './errors.js';
import { PdfArray, PdfDict, PdfName, type PdfObject } from './objects.js';

/** Default cap on the decoded size of one stream (decompression bombs). */
export const DEFAULT_MAX_DECODED = 256 * 1024 * 1024;

function inflate(data: Uint8Array, max: number): Uint8Array {
  try {
    return inflateSync(data, { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new PdfError('PDF_LIMIT_EXCEEDED', `FlateDecode output exceeds ${max} bytes`);
    }
    throw new PdfError('PDF_FILTER_FAILED', `FlateDecode failed: ${e.message}`);
  }
}

function unpredict(data: Uint8Array, parms: PdfDict | undefined): Uint8Array {
  if (!parms) return data;
  const predictor = num(parms.get('Predictor'), 1);
  if (predictor <= 1) return data;
  const colors = num(parms.get('Colors'), 1);
  const bpc = num(parms.get('BitsPerComponent'), 8);
  const columns = num(parms.get('Columns'), 1);
  if (colors < 1 || colors > 32 || ![1, 2, 4, 8, 16].includes(bpc) || columns < 1 || columns > 1 << 24) {
    throw new PdfError('PDF_FILTER_FAILED', 'bad predictor parameters');
  }
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) throw new PdfError('PDF_FILTER_UNSUPPORTED', 'TIFF predictor with BitsPerComponent != 8');
    const out = Uint8Array.from(data);
    for (let r = 0; r * rowLen < out.length; r++) {
      for (let i = r * rowLen + bpp; i < Math.min(out.length, (r + 1) * rowLen); i++) out[i] = (out[i]! + out[i - bpp]!) & 0xff;
    }
    return out;
  }
  // PNG predictors (10-15): each row starts with a filter-type byte.
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = new Uint8Array(rows * rowLen);
  let prev = new Uint8Array(rowLen);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLen + 1)]!;
    const src = data.subarray(r * (rowLen + 1) + 1, (r + 1) * (rowLen + 1));
    const cur = out.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      const x = src[i]!;
      switch (type) {
        case 0: cur[i] = x; break;
        case 1: cur[i] = (x + a) & 0xff; break;
        case 2: cur[i] = (x + b) & 0xff; break;
        case 3: cur[i] = (x + ((a + b) >> 1)) & 0xff; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          cur[i] = (x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
          break;
        }
        default:
          throw new PdfError('PDF_FILTER_FAILED', `bad PNG predictor row type ${type}`);
      }
    }
    prev = cur;
  }
  return out;
}

function num(v: PdfObject | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

function asciiHex(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
    else continue;
    if (hi < 0) hi = v;
    else {
      out.push((hi << 4) | v);
      hi = -1;
    }
  }
  if (hi >= 0) out.push(hi << 4);
  return Uint8Array.from(out);
}

function ascii85(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let group: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x7e) break;
    if (c <= 0x20) continue;
    if (c === 0x7a && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (c < 0x21 || c > 0x75) throw new PdfError('PDF_FILTER_FAILED', 'bad ASCII85 character');
    group.push(c - 33);
    if (group.length === 5) {
      let v = 0;
      for (const g of group) v = v * 85 + g;
      out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
      group = [];
    }
  }
  if (group.length > 1) {
    const n = group.length;
    while (group.length < 5) group.push(84);
    let v = 0;
    for (const g of group) v = v * 85 + g;
    const bytes = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    out.push(...bytes.slice(0, n - 1));
  }
  return Uint8Array.from(out);
}

/**
 * Applies the stream's /Filter chain to `raw`. Supports FlateDecode (with PNG/TIFF predictors),
 * ASCIIHexDecode, ASCII85Decode; image filters (DCT, JPX, CCITT, JBIG2) are returned undecoded
 * when `keepImageFilters` is set, otherwise PDF_FILTER_UNSUPPORTED.
 */
export function decodeStreamData(dict: PdfDict, raw: Uint8Array, maxBytes = DEFAULT_MAX_DECODED, resolve: (o: PdfObject | undefined) => PdfObject | undefined = (o) => o): Uint8Array {
  const f = resolve(dict.get('Filter'));
  const p = resolve(dict.get('DecodeParms'));
  const filters: string[] = f instanceof PdfName ? [f.name] : f instanceof PdfArray ? f.items.map((x) => (x instanceof PdfName ? x.name : '?')) : [];
  const parms: (PdfDict | undefined)[] = p instanceof PdfDict ? [p] : p instanceof PdfArray ? p.items.map((x) => { const r = resolve(x); return r instanceof PdfDict ? r : undefined; }) : [];
  if (filters.length > 8) throw new PdfError('PDF_LIMIT_EXCEEDED', 'too many filters');
  let data = raw;
  filters.forEach((name, i) => {
    switch (name) {
      case 'FlateDecode':
      case 'Fl':
        data = unpredict(inflate(data, maxBytes), parms[i]);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data);
        break;
      case 'ASCII85Decode':
      case 'A85':
        data = ascii85(data);
        break;
      default:
        throw new PdfError('PDF_FILTER_UNSUPPORTED', `filter ${name} is not supported`);
    }
    if (data.length > maxBytes) throw new PdfError('PDF_LIMIT_EXCEEDED', `decoded stream exceeds ${maxBytes} bytes`);
  });
  return data;
}
