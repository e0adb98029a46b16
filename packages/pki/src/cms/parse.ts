import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OIDS } from '../oids.js';
import { ownBuffer } from '../util/bytes.js';
import { checkBerStructure, children, readTlv } from './der.js';
import { parseSignerInfoFast } from './signer-info.js';

/** A parsed CMS SignedData with its embedded validation material. */
export interface ParsedCms {
  /** The SignedData (only its SignerInfos are kept parsed). */
  signedData: { signerInfos: pkijs.SignerInfo[] };
  /** eContentType of encapContentInfo. */
  contentType: string;
  /** Encapsulated content bytes when present (adbe.pkcs7.sha1, timestamp tokens). */
  eContent?: Uint8Array;
  certificates: Uint8Array[];
  crls: Uint8Array[];
  ocsps: Uint8Array[];
}

/** Thrown for malformed CMS; the caller turns it into FORMAT_FAILURE. */
export class CmsFormatError extends Error {
  override name = 'CmsFormatError';
}

/** Largest DER we accept for one CMS structure (hostile input guard). */
const MAX_CMS = 64 * 1024 * 1024;

const parsed = new WeakMap<Uint8Array, ParsedCms>();

/** Parses DER ContentInfo → SignedData (memoised per input array). Throws CmsFormatError with a precise message. */
export function parseSignedData(der: Uint8Array): ParsedCms {
  const hit = parsed.get(der);
  if (hit) return hit;
  if (der.length === 0) throw new CmsFormatError('the signature value (/Contents) is empty');
  const structural = checkBerStructure(der);
  if (structural) throw new CmsFormatError(`CMS encoding is inconsistent: ${structural}`);
  const r = fastParse(der) ?? parseSignedDataUncached(der);
  parsed.set(der, r);
  return r;
}

/**
 * Fast path for well-formed DER: slices certificates and CRLs without decoding them and runs the ASN.1 parser
 * only on the SignerInfos and the encapsulated content info. Returns undefined (→ full parser, which also
 * produces the precise error) for anything unusual: BER indefinite lengths, unexpected layout, etc.
 */
function fastParse(der: Uint8Array): ParsedCms | undefined {
  try {
    const ci = readTlv(der, 0);
    if (!ci || ci.cls !== 0 || ci.tag !== 16 || ci.end !== der.length) return undefined;
    const ciKids = children(der, ci);
    if (!ciKids || ciKids.length !== 2 || ciKids[0]!.tag !== 6 || ciKids[1]!.cls !== 2 || ciKids[1]!.tag !== 0) return undefined;
    const oid = der.subarray(ciKids[0]!.start, ciKids[0]!.end);
    if (Buffer.compare(Buffer.from(oid), Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02])) !== 0) return undefined;
    const wrap = children(der, ciKids[1]!);
    if (!wrap || wrap.length !== 1 || wrap[0]!.tag !== 16) return undefined;
    const parts = children(der, wrap[0]!);
    if (!parts || parts.length < 4) return undefined;
    const [version, digestAlgs, encap] = parts;
    const sis = parts[parts.length - 1]!;
    if (version!.tag !== 2 || digestAlgs!.tag !== 17 || encap!.tag !== 16 || sis.tag !== 17 || sis.cls !== 0) return undefined;
    // SignedData version (RFC 5652 §5.1): 1, 3, 4 or 5.
    if (version!.end - version!.valueStart !== 1 || ![1, 3, 4, 5].includes(der[version!.valueStart]!)) throw new CmsFormatError(`SignedData version ${der[version!.valueStart]} is not valid`);
    const certificates: Uint8Array[] = [];
    const crls: Uint8Array[] = [];
    const ocsps: Uint8Array[] = [];
    for (const part of parts.slice(3, -1)) {
      if (part.cls !== 2 || part.tag > 1) return undefined;
      const items = children(der, part);
      if (!items) return undefined;
      for (const it of items) {
        const bytes = der.slice(it.start, it.end);
        if (it.cls === 0 && it.tag === 16) (part.tag === 0 ? certificates : crls).push(bytes);
        else if (part.tag === 1 && it.cls === 2 && it.tag === 1) {
          const asn = asn1js.fromBER(bytes);
          if (asn.offset === -1) return undefined;
          const v = (asn.result as asn1js.Constructed).valueBlock.value;
          if (v[0] instanceof asn1js.ObjectIdentifier && v[0].valueBlock.toString() === OIDS.otherRevInfoOcsp && v[1]) ocsps.push(new Uint8Array(v[1].valueBeforeDecodeView));
        }
      }
    }
    const encapAsn = asn1js.fromBER(der.slice(encap!.start, encap!.end));
    if (encapAsn.offset === -1) return undefined;
    const eci = new pkijs.EncapsulatedContentInfo({ schema: encapAsn.result });
    const signerInfos: pkijs.SignerInfo[] = [];
    for (const t of children(der, sis) ?? []) {
      const bytes = der.slice(t.start, t.end);
      const fast = parseSignerInfoFast(bytes);
      if (fast) {
        signerInfos.push(fast);
        continue;
      }
      const asn = asn1js.fromBER(bytes);
      if (asn.offset === -1) return undefined;
      signerInfos.push(new pkijs.SignerInfo({ schema: asn.result }));
    }
    if (signerInfos.length === 0) return undefined;
    const out: ParsedCms = { signedData: { signerInfos }, contentType: eci.eContentType, certificates, crls, ocsps };
    const ec = eci.eContent;
    if (ec) {
      out.eContent = ec.idBlock.isConstructed
        ? Buffer.concat(ec.valueBlock.value.map((v) => Buffer.from((v as asn1js.OctetString).valueBlock.valueHexView)))
        : new Uint8Array(ec.valueBlock.valueHexView);
    }
    return out;
  } catch (e) {
    if (e instanceof CmsFormatError) throw e;
    return undefined;
  }
}

function parseSignedDataUncached(der: Uint8Array): ParsedCms {
  if (der.length === 0) throw new CmsFormatError('the signature value (/Contents) is empty');
  if (der.length > MAX_CMS) throw new CmsFormatError(`CMS of ${der.length} bytes exceeds the ${MAX_CMS}-byte limit`);

  const asn = asn1js.fromBER(ownBuffer(der));
  if (asn.offset === -1) throw new CmsFormatError(`CMS is not valid BER/DER: ${asn.result.error || 'decoding failed'}`);
  let ci: pkijs.ContentInfo;
  try {
    ci = new pkijs.ContentInfo({ schema: asn.result });
  } catch (e) {
    throw new CmsFormatError(`CMS ContentInfo is malformed: ${(e as Error).message}`);
  }
  if (ci.contentType !== OIDS.signedData) throw new CmsFormatError(`CMS content type is ${ci.contentType}, expected SignedData (${OIDS.signedData})`);
  // pkijs parses every embedded certificate with its full schema, which dominates the cost; certificates and
  // CRLs are taken raw below (and parsed once, cached, where needed), so the SignedData is parsed without them.
  const sdFull = ci.content as asn1js.Sequence;
  if (!(sdFull instanceof asn1js.Sequence)) throw new CmsFormatError('CMS SignedData is not a SEQUENCE');
  const lean = new asn1js.Sequence({ value: sdFull.valueBlock.value.filter((v) => v.idBlock.tagClass !== 3) });
  let sd: pkijs.SignedData;
  try {
    sd = new pkijs.SignedData({ schema: lean });
  } catch (e) {
    throw new CmsFormatError(`CMS SignedData is malformed: ${(e as Error).message}`);
  }
  if (sd.signerInfos.length === 0) throw new CmsFormatError('CMS SignedData has no SignerInfo');
  if (![1, 3, 4, 5].includes(sd.version)) throw new CmsFormatError(`SignedData version ${sd.version} is not valid`);
  // Certificates and revocation data as their original bytes (re-encoding could alter non-DER input and with
  // it the certificate hashes that signing-certificate-v2 binds).
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  const ocsps: Uint8Array[] = [];
  const sdBlock = sdFull;
  for (const part of sdBlock?.valueBlock?.value ?? []) {
    if (part.idBlock.tagClass !== 3) continue;
    const items = (part as asn1js.Constructed).valueBlock?.value ?? [];
    if (part.idBlock.tagNumber === 0) {
      for (const c of items) if (c.idBlock.tagClass === 1 && c.idBlock.tagNumber === 16) certificates.push(new Uint8Array(c.valueBeforeDecodeView));
    } else if (part.idBlock.tagNumber === 1) {
      for (const c of items) {
        if (c.idBlock.tagClass === 1 && c.idBlock.tagNumber === 16) crls.push(new Uint8Array(c.valueBeforeDecodeView));
        else if (c.idBlock.tagClass === 3 && c.idBlock.tagNumber === 1) {
          const v = (c as asn1js.Constructed).valueBlock?.value ?? [];
          const oid = v[0] instanceof asn1js.ObjectIdentifier ? v[0].valueBlock.toString() : '';
          if (oid === OIDS.otherRevInfoOcsp && v[1]) ocsps.push(new Uint8Array(v[1].valueBeforeDecodeView));
        }
      }
    }
  }
  const out: ParsedCms = { signedData: { signerInfos: sd.signerInfos }, contentType: sd.encapContentInfo.eContentType, certificates, crls, ocsps };
  const ec = sd.encapContentInfo.eContent;
  if (ec) {
    // Constructed (BER) OCTET STRINGs are concatenated.
    out.eContent = ec.idBlock.isConstructed
      ? Buffer.concat(ec.valueBlock.value.map((v) => Buffer.from((v as asn1js.OctetString).valueBlock.valueHexView)))
      : new Uint8Array(ec.valueBlock.valueHexView);
  }
  return out;
}

/** Values of one attribute in a SignerInfo attribute set. */
export function attrValues(attrs: pkijs.SignedAndUnsignedAttributes | undefined, oid: string): asn1js.AsnType[] | undefined {
  const all = attrs?.attributes.filter((a) => a.type === oid) ?? [];
  if (all.length === 0) return undefined;
  return all.flatMap((a) => a.values);
}

/** Number of attributes of a given type (CMS requires exactly one for messageDigest/contentType). */
export function attrCount(attrs: pkijs.SignedAndUnsignedAttributes | undefined, oid: string): number {
  return attrs?.attributes.filter((a) => a.type === oid).length ?? 0;
}

/**
 * Adobe's revocation archival attribute (signed): RevocationInfoArchival ::= SEQUENCE {
 *   crl [0] EXPLICIT SEQUENCE OF CRLs OPTIONAL, ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL, otherRevInfo [2] ... }
 */
export function adobeRevocationInfo(attrs: pkijs.SignedAndUnsignedAttributes | undefined): { crls: Uint8Array[]; ocsps: Uint8Array[] } {
  const out = { crls: [] as Uint8Array[], ocsps: [] as Uint8Array[] };
  for (const v of attrValues(attrs, OIDS.adbeRevocationInfoArchival) ?? []) {
    const seq = v as asn1js.Sequence;
    for (const tagged of seq.valueBlock?.value ?? []) {
      const t = tagged as asn1js.Constructed;
      const inner = t.valueBlock?.value?.[0] as asn1js.Sequence | undefined;
      const items = inner?.valueBlock?.value ?? [];
      for (const item of items) {
        const der = new Uint8Array(item.toBER(false));
        if (t.idBlock.tagNumber === 0) out.crls.push(der);
        else if (t.idBlock.tagNumber === 1) out.ocsps.push(der);
      }
    }
  }
  return out;
}

/** Parses a DER TSTInfo (RFC 3161 §2.4.2), the encapsulated content of a timestamp token; undefined if malformed. */
export function parseTstInfo(der: Uint8Array): pkijs.TSTInfo | undefined {
  try {
    const asn = asn1js.fromBER(ownBuffer(der));
    if (asn.offset === -1) return undefined;
    return new pkijs.TSTInfo({ schema: asn.result });
  } catch {
    return undefined;
  }
}

/**
 * CAdES validation data carried in unsigned attributes (EN 319 122-1 §5.5): certificate-values (SEQUENCE OF
 * Certificate) and revocation-values (crlVals [0] SEQUENCE OF CertificateList, ocspVals [1] SEQUENCE OF
 * BasicOCSPResponse). Items are returned as DER; unreadable values are skipped.
 */
export function cadesValidationValues(attrs: pkijs.SignedAndUnsignedAttributes | undefined): { certs: Uint8Array[]; crls: Uint8Array[]; ocsps: Uint8Array[] } {
  const out = { certs: [] as Uint8Array[], crls: [] as Uint8Array[], ocsps: [] as Uint8Array[] };
  for (const v of attrValues(attrs, OIDS.certificateValues) ?? []) {
    for (const c of (v as asn1js.Sequence).valueBlock?.value ?? []) out.certs.push(new Uint8Array(c.toBER(false)));
  }
  for (const v of attrValues(attrs, OIDS.revocationValues) ?? []) {
    for (const tagged of (v as asn1js.Sequence).valueBlock?.value ?? []) {
      const t = tagged as asn1js.Constructed;
      const items = (t.valueBlock?.value?.[0] as asn1js.Sequence | undefined)?.valueBlock?.value ?? [];
      for (const item of items) {
        if (t.idBlock.tagNumber === 0) out.crls.push(new Uint8Array(item.toBER(false)));
        else if (t.idBlock.tagNumber === 1) out.ocsps.push(new Uint8Array(item.toBER(false)));
      }
    }
  }
  return out;
}
