import { PdfError } from './errors.js';
import { PdfArray, PdfDict, PdfName, type PdfObject, PdfRaw, PdfRef, PdfStream, PdfString } from './objects.js';

/** Formats a number for PDF (integers as is, reals with up to 6 decimals, never exponent notation). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new PdfError('PDF_WRITE_FAILED', `cannot write non-finite number ${n}`);
  if (Number.isInteger(n)) return String(n);
  let s = n.toFixed(6);
  s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

const PLAIN_NAME = /^[A-Za-z0-9_.+\-:]*$/;

function nameToken(n: string): string {
  if (PLAIN_NAME.test(n)) return '/' + n;
  let out = '/';
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i) & 0xff;
    if (c < 0x21 || c > 0x7e || c === 0x23 || '()<>[]{}/%'.includes(String.fromCharCode(c))) out += '#' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
  }
  return out;
}

const PLAIN_STRING = /^[\x20-\x27\x2a-\x5b\x5d-\x7e]*$/;

function stringToken(s: PdfString): string {
  if (s.hex) return '<' + Buffer.from(s.bytes).toString('hex') + '>';
  const latin = Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.length).toString('latin1');
  if (PLAIN_STRING.test(latin)) return '(' + latin + ')';
  let out = '(';
  for (const c of s.bytes) {
    if (c === 0x28 || c === 0x29 || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c > 0x7e) out += '\\' + c.toString(8).padStart(3, '0');
    else out += String.fromCharCode(c);
  }
  return out + ')';
}

/** Serialises a direct object to a latin1 string (streams: dictionary only, see `serializeIndirect`). */
export function serialize(o: PdfObject | undefined, depth = 0): string {
  if (depth > 256) throw new PdfError('PDF_WRITE_FAILED', 'object nested too deeply to write');
  if (o === null || o === undefined) return 'null';
  if (typeof o === 'boolean') return o ? 'true' : 'false';
  if (typeof o === 'number') return formatNumber(o);
  if (o instanceof PdfName) return nameToken(o.name);
  if (o instanceof PdfString) return stringToken(o);
  if (o instanceof PdfRef) return `${o.num} ${o.gen} R`;
  if (o instanceof PdfRaw) return o.text;
  if (o instanceof PdfArray) return '[' + o.items.map((x) => serialize(x, depth + 1)).join(' ') + ']';
  if (o instanceof PdfDict) {
    let s = '<<';
    for (const [k, v] of o.map) {
      if (v === undefined) continue;
      s += nameToken(k) + ' ' + serialize(v, depth + 1);
    }
    return s + '>>';
  }
  if (o instanceof PdfStream) throw new PdfError('PDF_WRITE_FAILED', 'a stream can only be written as an indirect object');
  throw new PdfError('PDF_WRITE_FAILED', `cannot write value ${String(o)}`);
}

/** Serialises `num gen obj ... endobj\n` (streams with their data; /Length is set to the data length). */
export function serializeIndirect(ref: PdfRef, o: PdfObject): Buffer {
  const head = `${ref.num} ${ref.gen} obj\n`;
  if (o instanceof PdfStream) {
    const data = o.raw();
    const d = o.dict.clone();
    d.set('Length', data.length);
    return Buffer.concat([Buffer.from(head + serialize(d) + '\nstream\n', 'latin1'), Buffer.from(data), Buffer.from('\nendstream\nendobj\n', 'latin1')]);
  }
  return Buffer.from(head + serialize(o) + '\nendobj\n', 'latin1');
}
