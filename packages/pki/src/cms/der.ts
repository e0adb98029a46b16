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

/**
 * Strict structural check of BER/DER: every length is consistent (children exactly fill their parent, definite
 * or indefinite), nesting depth is bounded, and only zero padding may follow the outer element. Returns an error
 * message, or undefined when the encoding is consistent. (asn1js tolerates inconsistent lengths.)
 */
export function checkBerStructure(buf: Uint8Array, maxDepth = 64): string | undefined {
  const element = (p: number, limit: number, depth: number): number | string => {
    if (depth > maxDepth) return 'nesting too deep';
    if (p + 2 > limit) return `truncated element at offset ${p}`;
    const id = buf[p]!;
    let q = p + 1;
    if ((id & 0x1f) === 0x1f) {
      let n = 0;
      do {
        if (q >= limit || ++n > 4) return `bad tag at offset ${p}`;
      } while (buf[q++]! & 0x80);
    }
    if (q >= limit) return `truncated length at offset ${p}`;
    const first = buf[q++]!;
    const constructed = (id & 0x20) !== 0;
    if (first === 0x80) {
      if (!constructed) return `indefinite length on a primitive element at offset ${p}`;
      for (;;) {
        if (q + 2 > limit) return `unterminated indefinite-length element at offset ${p}`;
        if (buf[q] === 0 && buf[q + 1] === 0) return q + 2;
        const r = element(q, limit, depth + 1);
        if (typeof r === 'string') return r;
        q = r;
      }
    }
    let len = first;
    if (first & 0x80) {
      const n = first & 0x7f;
      if (n > 4 || q + n > limit) return `bad length at offset ${p}`;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[q++]!;
    }
    const end = q + len;
    if (end > limit) return `element at offset ${p} runs past its container (${end} > ${limit})`;
    if (constructed) {
      let c = q;
      while (c < end) {
        const r = element(c, end, depth + 1);
        if (typeof r === 'string') return r;
        c = r;
      }
      if (c !== end) return `children of the element at offset ${p} do not fill it`;
    }
    return end;
  };
  const r = element(0, buf.length, 0);
  if (typeof r === 'string') return r;
  for (let i = r; i < buf.length; i++) if (buf[i] !== 0) return `${buf.length - r} unexpected byte(s) after the CMS`;
  return undefined;
}
