/**
 * A minimal, deterministic DER writer. kyso builds the few structures whose exact bytes matter
 * (signed attributes, SignedData, OCSP/TSA requests) with it, so that what is signed is exactly
 * what is written; parsing is done with asn1js / PKI.js.
 */

/** DER bytes of one TLV with the given identifier octet (single-byte tags only). */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = concatBytes(contents);
  const len = encodeLength(body.length);
  const out = new Uint8Array(1 + len.length + body.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

/** Concatenate byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** SEQUENCE. */
export const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items);

/** Compare two byte strings as DER SET OF ordering requires (shorter-is-padded lexicographic). */
export function compareDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? a[i]! : 0;
    const y = i < b.length ? b[i]! : 0;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

/** SET OF, with elements sorted as DER (X.690 11.6) requires. */
export const setOf = (...items: Uint8Array[]): Uint8Array => tlv(0x31, ...[...items].sort(compareDer));

/** Context-specific tag [n]; constructed for EXPLICIT / constructed IMPLICIT, primitive otherwise. */
export const ctx = (n: number, constructed: boolean, ...items: Uint8Array[]): Uint8Array =>
  tlv((constructed ? 0xa0 : 0x80) | n, ...items);

/** OBJECT IDENTIFIER from dotted notation. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => BigInt(s));
  if (arcs.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const bytes: number[] = [];
  const first = arcs[0]! * 40n + arcs[1]!;
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let v = arc;
    do { chunk.unshift(Number(v & 0x7fn)); v >>= 7n; } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** INTEGER from a number/bigint (non-negative) or from unsigned big-endian magnitude bytes. */
export function int(value: number | bigint | Uint8Array): Uint8Array {
  let mag: Uint8Array;
  if (value instanceof Uint8Array) {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    mag = value.subarray(i);
    if (mag.length === 0) mag = Uint8Array.of(0);
  } else {
    let v = BigInt(value);
    if (v < 0n) throw new RangeError('negative INTEGER not supported');
    const b: number[] = [];
    do { b.unshift(Number(v & 0xffn)); v >>= 8n; } while (v > 0n);
    mag = Uint8Array.from(b);
  }
  if (mag[0]! & 0x80) mag = concatBytes([Uint8Array.of(0), mag]);
  return tlv(0x02, mag);
}

/** OCTET STRING. */
export const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
/** NULL. */
export const nul = (): Uint8Array => Uint8Array.of(0x05, 0x00);
/** BOOLEAN. */
export const bool = (b: boolean): Uint8Array => Uint8Array.of(0x01, 0x01, b ? 0xff : 0x00);

function pad(n: number, w = 2): string { return String(n).padStart(w, '0'); }

/** UTCTime (years 1950–2049) or GeneralizedTime otherwise, as RFC 5280 / RFC 5652 require. */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, new TextEncoder().encode(`${pad(y % 100)}${rest}`));
  return tlv(0x18, new TextEncoder().encode(`${pad(y, 4)}${rest}`));
}

/** GeneralizedTime. */
export function generalizedTime(d: Date): Uint8Array {
  const s = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return tlv(0x18, new TextEncoder().encode(s));
}

/** AlgorithmIdentifier; `params` undefined = absent. */
export const algId = (algOid: string, params?: Uint8Array): Uint8Array =>
  params ? seq(oid(algOid), params) : seq(oid(algOid));
