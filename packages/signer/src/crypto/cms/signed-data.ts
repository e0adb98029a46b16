import * as asn1js from 'asn1js';
import { concatBytes, ctx, int, octets, oid, seq, setOf, tlv } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { OID } from './oids.js';

/**
 * The raw DER pieces of a one-signer SignedData. kyso assembles CMS from these pieces so that
 * the signed attributes are byte-for-byte what was signed, and unsigned data (timestamps,
 * validation data) can be added later without touching the signature.
 */
export interface SignedDataParts {
  /** DER of the signed attributes with the SET OF tag (0x31), i.e. exactly the bytes signed. */
  signedAttrs: Uint8Array;
  /** DER IssuerAndSerialNumber. */
  sid: Uint8Array;
  /** DER AlgorithmIdentifier of the digest. */
  digestAlgorithm: Uint8Array;
  /** DER AlgorithmIdentifier of the signature. */
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  /** DER Attribute elements of the unsigned attributes. */
  unsignedAttrs: Uint8Array[];
  /** DER certificates. */
  certificates: Uint8Array[];
  /** DER RevocationInfoChoice elements (CertificateList or [1] OtherRevocationInfoFormat). */
  crls: Uint8Array[];
  /** eContentType (id-data for detached CAdES). */
  eContentType: string;
  /** Encapsulated content (absent for detached signatures). */
  eContent?: Uint8Array;
  /** SignedData.version as parsed (recomputed when absent or when it must go up). */
  version?: number;
  /** DER AlgorithmIdentifiers of SignedData.digestAlgorithms as parsed (default: the signer's). */
  digestAlgorithms?: Uint8Array[];
}

/** DER IssuerAndSerialNumber from raw issuer Name DER and serial INTEGER content bytes. */
export const issuerAndSerial = (issuerDer: Uint8Array, serialDer: Uint8Array): Uint8Array => seq(issuerDer, tlv(0x02, serialDer));

function dedupe(list: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const x of list) { const k = Buffer.from(x).toString('base64'); if (!seen.has(k)) { seen.add(k); out.push(x); } }
  return out;
}

/** Encode a ContentInfo(SignedData) from its parts. */
export function assembleSignedData(p: SignedDataParts): Uint8Array {
  const signedAttrsImplicit = concatBytes([Uint8Array.of(0xa0), p.signedAttrs.subarray(1)]);
  const siVersion = p.sid[0] === 0x80 ? 3 : 1;
  const si = seq(
    int(siVersion),
    p.sid,
    p.digestAlgorithm,
    signedAttrsImplicit,
    p.signatureAlgorithm,
    octets(p.signature),
    ...(p.unsignedAttrs.length ? [ctx(1, true, ...p.unsignedAttrs)] : []),
  );
  const certs = dedupe(p.certificates);
  const crls = dedupe(p.crls);
  const hasOther = crls.some((c) => c[0] === 0xa1);
  // RFC 5652 5.1: 5 with other revocation formats, 3 for non-data content or SKI signer ids.
  const minVersion = hasOther ? 5 : p.eContentType !== OID.data || siVersion === 3 ? 3 : 1;
  const version = Math.max(minVersion, p.version ?? 0);
  const encap = p.eContent ? seq(oid(p.eContentType), ctx(0, true, octets(p.eContent))) : seq(oid(p.eContentType));
  const sd = seq(
    int(version),
    setOf(...dedupe([p.digestAlgorithm, ...(p.digestAlgorithms ?? [])])),
    encap,
    ...(certs.length ? [tlv(0xa0, ...[...certs].sort(cmpDer))] : []),
    ...(crls.length ? [tlv(0xa1, ...[...crls].sort(cmpDer))] : []),
    setOf(si),
  );
  return seq(oid(OID.signedData), ctx(0, true, sd));
}

function cmpDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const raw = (n: asn1js.AsnType): Uint8Array => n.valueBeforeDecodeView.slice();

/** Split a one-signer ContentInfo(SignedData) into its parts (CMS_PARSE on anything else). */
export function parseSignedData(cms: Uint8Array): SignedDataParts {
  try {
    return parseSignedDataUnchecked(cms);
  } catch (e) {
    if (e instanceof SignerError) throw e;
    throw new SignerError('CMS_PARSE', `CMS SignedData: malformed (${(e as Error).message})`, { cause: e });
  }
}

function parseSignedDataUnchecked(cms: Uint8Array): SignedDataParts {
  const fail = (why: string): never => { throw new SignerError('CMS_PARSE', `CMS SignedData: ${why}`); };
  const res = asn1js.fromBER(cms);
  if (res.offset === -1) fail(`not DER (${res.result.error})`);
  const ci = res.result as asn1js.Sequence;
  const ciItems = ci.valueBlock?.value ?? [];
  if (!(ciItems[0] instanceof asn1js.ObjectIdentifier) || ciItems[0].valueBlock.toString() !== OID.signedData) fail('not a SignedData ContentInfo');
  const sd = (ciItems[1] as asn1js.Constructed)?.valueBlock?.value?.[0] as asn1js.Sequence | undefined;
  const items = sd?.valueBlock?.value ?? fail('missing content');
  const version = (items[0] as asn1js.Integer).valueBlock.valueDec;
  const digestAlgorithms = ((items[1] as asn1js.Set).valueBlock.value ?? []).map(raw);
  let i = 2;
  const encap = items[i++] as asn1js.Sequence;
  const eContentType = (encap.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
  let eContent: Uint8Array | undefined;
  const ec = encap.valueBlock.value[1] as asn1js.Constructed | undefined;
  if (ec) {
    const os = ec.valueBlock.value[0] as asn1js.OctetString;
    eContent = os.valueBlock.isConstructed
      ? concatBytes(os.valueBlock.value.map((x) => (x as asn1js.OctetString).valueBlock.valueHexView))
      : os.valueBlock.valueHexView.slice();
  }
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  while (items[i] && items[i]!.idBlock.tagClass === 3) {
    const t = items[i] as asn1js.Constructed;
    for (const c of t.valueBlock.value) (t.idBlock.tagNumber === 0 ? certificates : crls).push(raw(c));
    i++;
  }
  const infos = (items[i] as asn1js.Set)?.valueBlock?.value ?? fail('no signerInfos');
  if (infos.length !== 1) fail(`expected one SignerInfo, found ${infos.length}`);
  const si = (infos[0] as asn1js.Sequence).valueBlock.value;
  const sa = si[3] as asn1js.Constructed;
  if (sa.idBlock.tagClass !== 3 || sa.idBlock.tagNumber !== 0) fail('SignerInfo has no signed attributes');
  const signedAttrs = raw(sa);
  signedAttrs[0] = 0x31;
  const ua = si[6] as asn1js.Constructed | undefined;
  return {
    sid: raw(si[1]!),
    digestAlgorithm: raw(si[2]!),
    signedAttrs,
    signatureAlgorithm: raw(si[4]!),
    signature: (si[5] as asn1js.OctetString).valueBlock.valueHexView.slice(),
    unsignedAttrs: ua ? ua.valueBlock.value.map(raw) : [],
    certificates,
    crls,
    eContentType,
    ...(eContent ? { eContent } : {}),
    version,
    digestAlgorithms,
  };
}

/** Find the values (raw DER) of an attribute in a DER SET OF Attribute (signed attrs with 0x31 tag) or list of attributes. */
export function attributeValues(attrs: Uint8Array | Uint8Array[], type: string): Uint8Array[] {
  try { return attributeValuesUnchecked(attrs, type); } catch (e) {
    throw new SignerError('CMS_PARSE', `malformed attributes (${(e as Error).message})`, { cause: e });
  }
}

function attributeValuesUnchecked(attrs: Uint8Array | Uint8Array[], type: string): Uint8Array[] {
  const list = attrs instanceof Uint8Array
    ? (asn1js.fromBER(attrs).result as asn1js.Set).valueBlock.value.map(raw)
    : attrs;
  const out: Uint8Array[] = [];
  for (const a of list) {
    const s = asn1js.fromBER(a).result as asn1js.Sequence;
    const t = (s.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
    if (t === type) for (const v of (s.valueBlock.value[1] as asn1js.Set).valueBlock.value) out.push(raw(v));
  }
  return out;
}
