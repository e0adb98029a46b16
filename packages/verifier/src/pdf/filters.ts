/** Stream decoding for the verifier (Flate with PNG/TIFF predictors, ASCIIHex), capped in size. */
import { inflateSync, inflateRawSync, constants } from 'node:zlib';
import { PArray, PDict, PName, PObj } from './objects.js';

export class FilterError extends Error {
  override name = 'FilterError';
}

/** Decoded-size cap for any single stream the verifier decodes (xref/object streams, DSS entries). */
export const MAX_DECODED = 64 * 1024 * 1024;

function inflate(data: Uint8Array, max: number): Uint8Array {
  const opts = { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH };
  try {
    return inflateSync(data, opts);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || /too large|maxOutputLength/i.test(String(e))) {
      throw new FilterError(`decoded stream exceeds ${max} bytes`);
    }
    try {
      return inflateRawSync(data, opts);
    } catch {
      throw new FilterError('corrupt Flate data');
    }
  }
}

function predictor(data: Uint8Array, parms: PDict | undefined): Uint8Array {
  if (!parms) return data;
  const p = parms.get('Predictor');
  const pred = typeof p === 'number' ? p : 1;
  if (pred <= 1) return data;
  const colors = num(parms.get('Colors'), 1);
  const bpc = num(parms.get('BitsPerComponent'), 8);
  const columns = num(parms.get('Columns'), 1);
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (rowLen <= 0 || rowLen > 1 << 20) throw new FilterError('bad predictor parameters');
  if (pred === 2) {
    const out = Uint8Array.from(data);
    if (bpc !== 8) return out;
    for (let r = 0; r < out.length; r += rowLen) for (let i = bpp; i < rowLen && r + i < out.length; i++) out[r + i] = (out[r + i]! + out[r + i - bpp]!) & 0xff;
    return out;
  }
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = new Uint8Array(rows * rowLen);
  let prev = new Uint8Array(rowLen);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLen + 1)]!;
    const row = data.subarray(r * (rowLen + 1) + 1, (r + 1) * (rowLen + 1));
    const cur = out.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) {
      const left = i >= bpp ? cur[i - bpp]! : 0;
      const up = prev[i]!;
      const ul = i >= bpp ? prev[i - bpp]! : 0;
      const x = row[i]!;
      let v: number;
      switch (type) {
        case 0: v = x; break;
        case 1: v = x + left; break;
        case 2: v = x + up; break;
        case 3: v = x + ((left + up) >> 1); break;
        case 4: {
          const pa = Math.abs(up - ul), pb = Math.abs(left - ul), pc = Math.abs(left + up - 2 * ul);
          v = x + (pa <= pb && pa <= pc ? left : pb <= pc ? up : ul);
          break;
        }
        default: throw new FilterError(`bad PNG predictor row type ${type}`);
      }
      cur[i] = v & 0xff;
    }
    prev = cur;
  }
  return out;
}

function num(o: PObj | undefined, d: number): number {
  return typeof o === 'number' && Number.isInteger(o) && o > 0 && o < 1e6 ? o : d;
}

function asciiHex(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (v < 0) continue;
    if (hi < 0) hi = v;
    else {
      out.push(hi * 16 + v);
      hi = -1;
    }
  }
  if (hi >= 0) out.push(hi * 16);
  return Uint8Array.from(out);
}

/** Applies the stream's /Filter chain. Unknown filters throw FilterError. */
export function decodeStream(dict: PDict, raw: Uint8Array, max = MAX_DECODED): Uint8Array {
  const f = dict.get('Filter');
  const filters = f instanceof PName ? [f] : f instanceof PArray ? f.items : [];
  const pr = dict.get('DecodeParms');
  const parms = pr instanceof PDict ? [pr] : pr instanceof PArray ? pr.items : [];
  if (filters.length > 8) throw new FilterError('too many filters');
  let data = raw;
  filters.forEach((fi, i) => {
    if (!(fi instanceof PName)) throw new FilterError('filter is not a name');
    const p = parms[i];
    switch (fi.name) {
      case 'FlateDecode':
      case 'Fl':
        data = predictor(inflate(data, max), p instanceof PDict ? p : undefined);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data);
        break;
      default:
        throw new FilterError(`unsupported filter /${fi.name}`);
    }
    if (data.length > max) throw new FilterError(`decoded stream exceeds ${max} bytes`);
  });
  return data;
}
