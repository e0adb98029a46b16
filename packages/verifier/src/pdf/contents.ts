/** /Contents of a signature dictionary: the DER value inside its zero padding. */
import type { Finding } from './types.js';

/** Length of the DER/BER TLV at the start of `b` (indefinite lengths walked, bounded), or -1 when malformed. */
export function derLength(b: Uint8Array): number {
  const end = tlvEnd(b, 0, 0);
  return end < 0 ? -1 : end;
}

function tlvEnd(b: Uint8Array, off: number, depth: number): number {
  if (depth > 64 || off + 2 > b.length) return -1;
  let p = off + 1;
  if ((b[off]! & 0x1f) === 0x1f) {
    // high tag number
    let n = 0;
    while (p < b.length && b[p]! & 0x80 && n++ < 4) p++;
    p++;
  }
  if (p >= b.length) return -1;
  const l0 = b[p++]!;
  if (l0 < 0x80) return p + l0 <= b.length ? p + l0 : -1;
  const n = l0 & 0x7f;
  if (n === 0) {
    // indefinite length (BER): constructed content until an end-of-contents 00 00
    if (!(b[off]! & 0x20)) return -1;
    for (let i = 0; i < 100000; i++) {
      if (p + 2 > b.length) return -1;
      if (b[p] === 0 && b[p + 1] === 0) return p + 2;
      p = tlvEnd(b, p, depth + 1);
      if (p < 0) return -1;
    }
    return -1;
  }
  if (n > 4 || p + n > b.length) return -1;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
  const total = p + n + len;
  return total <= b.length ? total : -1;
}

/** Trims the zero padding of a decoded /Contents using the DER length of its SEQUENCE. */
export function trimContents(raw: Uint8Array, where: string, findings: Finding[]): Uint8Array {
  if (raw.length === 0 || raw.every((x) => x === 0)) {
    findings.push({ code: 'CONTENTS_EMPTY', severity: 'error', message: 'signature /Contents is empty or all zero padding', where });
    return new Uint8Array(0);
  }
  if (raw[0] !== 0x30) {
    findings.push({ code: 'CONTENTS_NOT_DER', severity: 'error', message: `signature /Contents does not start with a DER SEQUENCE (first byte 0x${raw[0]!.toString(16).padStart(2, '0')})`, where });
    return new Uint8Array(0);
  }
  const len = derLength(raw);
  if (len < 0) {
    findings.push({ code: 'CONTENTS_NOT_DER', severity: 'error', message: 'signature /Contents has an invalid or truncated DER length', where });
    return new Uint8Array(0);
  }
  for (let i = len; i < raw.length; i++) {
    if (raw[i] !== 0) {
      findings.push({ code: 'CONTENTS_TRAILING_DATA', severity: 'warning', message: `${raw.length - len} byte(s) after the DER value in /Contents are not zero padding`, where });
      break;
    }
  }
  return raw.slice(0, len);
}

/** Parses a PDF date string (D:YYYYMMDDHHmmSSOHH'mm'), undefined when malformed. */
export function parsePdfDate(s: string): Date | undefined {
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(?:(\d{2})'?(\d{2})?'?)?)?/.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', tz, th = '00', tm = '00'] = m;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (tz === '+' || tz === '-') {
    const off = (Number(th) * 60 + Number(tm)) * 60000;
    t += tz === '+' ? -off : off;
  }
  return Number.isFinite(t) ? new Date(t) : undefined;
}
