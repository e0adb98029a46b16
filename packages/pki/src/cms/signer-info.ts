import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { children, readTlv, type Tlv } from './der.js';

/** Dotted string of a DER OBJECT IDENTIFIER value. */
function decodeOid(v: Uint8Array): string | undefined {
  if (v.length === 0 || v[v.length - 1]! & 0x80) return undefined;
  const arcs: number[] = [];
  let n = 0;
  for (const b of v) {
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 256) return undefined;
    if (!(b & 0x80)) {
      arcs.push(n);
      n = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

function algorithm(buf: Uint8Array, t: Tlv): pkijs.AlgorithmIdentifier | undefined {
  if (t.cls !== 0 || t.tag !== 16) return undefined;
  const k = children(buf, t);
  if (!k || k.length < 1 || k.length > 2 || k[0]!.tag !== 6 || k[0]!.cls !== 0) return undefined;
  const algorithmId = decodeOid(buf.subarray(k[0]!.valueStart, k[0]!.end));
  if (!algorithmId) return undefined;
  if (k.length === 1) return new pkijs.AlgorithmIdentifier({ algorithmId });
  const p = k[1]!;
  const params = p.cls === 0 && p.tag === 5 && p.end === p.valueStart ? new asn1js.Null() : asn1js.fromBER(buf.slice(p.start, p.end)).result;
  return new pkijs.AlgorithmIdentifier({ algorithmId, algorithmParams: params });
}

function attributes(buf: Uint8Array, t: Tlv, type: 0 | 1): pkijs.SignedAndUnsignedAttributes | undefined {
  const items = children(buf, t);
  if (!items || items.length === 0) return undefined;
  const attrs: pkijs.Attribute[] = [];
  for (const a of items) {
    if (a.cls !== 0 || a.tag !== 16) return undefined;
    const k = children(buf, a);
    if (!k || k.length !== 2 || k[0]!.tag !== 6 || k[1]!.tag !== 17 || k[1]!.cls !== 0) return undefined;
    const oid = decodeOid(buf.subarray(k[0]!.valueStart, k[0]!.end));
    const vals = children(buf, k[1]!);
    if (!oid || !vals) return undefined;
    const values = vals.map((v) => asn1js.fromBER(buf.slice(v.start, v.end)));
    if (values.some((v) => v.offset === -1)) return undefined;
    attrs.push(new pkijs.Attribute({ type: oid, values: values.map((v) => v.result) }));
  }
  const encoded = buf.slice(t.start, t.end);
  if (type === 0) encoded[0] = 0x31; // signed as a DER SET OF (RFC 5652 §5.4)
  return new pkijs.SignedAndUnsignedAttributes({ type, attributes: attrs, encodedValue: encoded.buffer });
}

/**
 * SignerInfo from DER without pkijs's schema comparison (the costly part of a signature check). Returns
 * undefined for anything it does not recognise, and the caller then uses the full pkijs parser.
 */
export function parseSignerInfoFast(buf: Uint8Array): pkijs.SignerInfo | undefined {
  try {
    const t = readTlv(buf, 0);
    if (!t || t.cls !== 0 || t.tag !== 16 || t.end !== buf.length) return undefined;
    const k = children(buf, t);
    if (!k || k.length < 5 || k.length > 7) return undefined;
    let i = 0;
    const ver = k[i++]!;
    if (ver.cls !== 0 || ver.tag !== 2 || ver.end - ver.valueStart !== 1) return undefined;
    const version = buf[ver.valueStart]!;
    const sidT = k[i++]!;
    let sid: pkijs.IssuerAndSerialNumber | asn1js.BaseBlock;
    if (sidT.cls === 0 && sidT.tag === 16) {
      const asn = asn1js.fromBER(buf.slice(sidT.start, sidT.end));
      if (asn.offset === -1) return undefined;
      sid = new pkijs.IssuerAndSerialNumber({ schema: asn.result });
    } else if (sidT.cls === 2 && sidT.tag === 0 && !sidT.constructed) {
      const asn = asn1js.fromBER(buf.slice(sidT.start, sidT.end));
      if (asn.offset === -1) return undefined;
      sid = asn.result;
    } else return undefined;
    const digestAlgorithm = algorithm(buf, k[i++]!);
    if (!digestAlgorithm) return undefined;
    let signedAttrs: pkijs.SignedAndUnsignedAttributes | undefined;
    if (k[i]!.cls === 2 && k[i]!.tag === 0) {
      signedAttrs = attributes(buf, k[i++]!, 0);
      if (!signedAttrs) return undefined;
    }
    const signatureAlgorithm = algorithm(buf, k[i++]!);
    if (!signatureAlgorithm) return undefined;
    const sigT = k[i++];
    if (!sigT || sigT.cls !== 0 || sigT.tag !== 4 || sigT.constructed) return undefined;
    const signature = new asn1js.OctetString({ valueHex: buf.slice(sigT.valueStart, sigT.end).buffer });
    let unsignedAttrs: pkijs.SignedAndUnsignedAttributes | undefined;
    if (i < k.length) {
      const u = k[i++]!;
      if (u.cls !== 2 || u.tag !== 1) return undefined;
      unsignedAttrs = attributes(buf, u, 1);
      if (!unsignedAttrs) return undefined;
    }
    if (i !== k.length) return undefined;
    const params: ConstructorParameters<typeof pkijs.SignerInfo>[0] = { version, sid, digestAlgorithm, signatureAlgorithm, signature };
    if (signedAttrs) params.signedAttrs = signedAttrs;
    if (unsignedAttrs) params.unsignedAttrs = unsignedAttrs;
    return new pkijs.SignerInfo(params);
  } catch {
    return undefined;
  }
}
