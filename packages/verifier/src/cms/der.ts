/** Minimal DER TLV reader (definite lengths only) used to slice CMS structures without a full ASN.1 parse. */
export interface Tlv {
  /** Tag class: 0 universal, 1 application, 2 context, 3 private. */
  cls: number;
  constructed: boolean;
  tag: number;
  /** Offsets: start of the TLV, start of the value, end (exclusive). */
  start: number;
  valueStart: number;
  end: number;
}

/** Reads the TLV at `offset`; undefined for indefinite lengths, high tag numbers or anything out of bounds. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv | undefined {
  if (offset + 2 > limit) return undefined;
  const id = buf[offset]!;
  const tag = id & 0x1f;
  if (tag === 0x1f) return undefined;
  let p = offset + 1;
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) len = first;
  else {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (len < 0x80 && n === 1) return undefined; // non-minimal: let the full parser judge it
  }
  const end = p + len;
  if (end > limit) return undefined;
  return { cls: id >> 6, constructed: (id & 0x20) !== 0, tag, start: offset, valueStart: p, end };
}

/** Children of a constructed TLV; undefined if any child is unreadable or they do not fill it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] | undefined {
  const out: Tlv[] = [];
  let p = parent.valueStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    if (!t) return undefined;
    out.push(t);
    p = t.end;
  }
  return p === parent.end ? out : undefined;
}
