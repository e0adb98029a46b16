import * as asn1js from 'asn1js';
import {
  PkiClientError, algId, compareDer, concatBytes, digest, hashFromOid, octets, oid, requestTimestamp, seq, HASH_OIDS,
  type HashName, type TimestampRequestOptions,
} from '@kyso/pki';
import { SignerError } from '../errors.js';
import { attribute } from './attributes.js';
import { OID } from './oids.js';
import { assembleSignedData, attributeValues, parseSignedData, type SignedDataParts } from './signed-data.js';

const children = (der: Uint8Array): asn1js.AsnType[] => ((asn1js.fromBER(der).result as asn1js.Sequence).valueBlock.value ?? []) as asn1js.AsnType[];
const raw = (n: asn1js.AsnType): Uint8Array => n.valueBeforeDecodeView.slice();

/**
 * ATSHashIndexV3 (ETSI EN 319 122-1 5.5.2) of a signature as it is now: the hash of every
 * CertificateChoices, every RevocationInfoChoice, and of attrType‖attrValue for every unsigned
 * attribute value, each list sorted; hashIndAlgorithm always present. Returns the DER value.
 */
export function atsHashIndexV3(p: SignedDataParts, hash: HashName): Uint8Array {
  const hashed = (inputs: Uint8Array[]): Uint8Array => seq(...inputs.map((i) => digest(hash, i)).sort(compareDer).map(octets));
  const attrInputs: Uint8Array[] = [];
  for (const a of p.unsignedAttrs) {
    const [type, values] = children(a);
    for (const v of (values as asn1js.Set).valueBlock.value) attrInputs.push(concatBytes([raw(type!), raw(v)]));
  }
  return seq(algId(HASH_OIDS[hash]), hashed(p.certificates), hashed(p.crls), hashed(attrInputs));
}

/**
 * The octets whose hash is the archive-time-stamp-v3 message imprint (EN 319 122-1 5.5.3):
 * eContentType ‖ hash of the signed content ‖ SignerInfo version, sid, digestAlgorithm,
 * signedAttrs, signatureAlgorithm, signature (as encoded) ‖ ATSHashIndexV3.
 */
export function archiveTimestampInput(p: SignedDataParts, contentHash: Uint8Array, atsIndex: Uint8Array): Uint8Array {
  const signedAttrsTagged = concatBytes([Uint8Array.of(0xa0), p.signedAttrs.subarray(1)]);
  return concatBytes([
    oid(p.eContentType), contentHash,
    Uint8Array.of(0x02, 0x01, p.sid[0] === 0x80 ? 3 : 1), p.sid, p.digestAlgorithm, signedAttrsTagged, p.signatureAlgorithm, octets(p.signature),
    atsIndex,
  ]);
}

/** Options of {@link addArchiveTimestampV3}. */
export interface ArchiveTimestampOptions extends TimestampRequestOptions {
  url: string;
  /** Hash of the archive timestamp (default: the signature's digest algorithm). */
  hash?: HashName;
  /** Hash of the detached content under `hash`; default: the message-digest attribute when the hashes agree. */
  contentDigest?: Uint8Array;
}

/**
 * CAdES B-LTA: add an archive-time-stamp-v3 unsigned attribute (0.4.0.1733.2.4) whose token carries
 * the ats-hash-index-v3 (0.4.0.19122.1.5) as an unsigned attribute. Add the B-LT validation data
 * first: what is in the CMS now is what the archive timestamp protects.
 */
export async function addArchiveTimestampV3(cms: Uint8Array, opts: ArchiveTimestampOptions): Promise<Uint8Array> {
  const p = parseSignedData(cms);
  const sigHash = hashFromOid(((asn1js.fromBER(p.digestAlgorithm).result as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString());
  const hash: HashName = opts.hash ?? (sigHash && sigHash !== 'SHA-1' ? sigHash : 'SHA-256');
  let contentHash = opts.contentDigest;
  if (!contentHash) {
    if (p.eContent) contentHash = digest(hash, p.eContent);
    else if (sigHash === hash) {
      const md = attributeValues(p.signedAttrs, OID.messageDigest)[0];
      if (!md) throw new SignerError('CMS_PARSE', 'CMS has no message-digest attribute');
      contentHash = (asn1js.fromBER(md).result as asn1js.OctetString).valueBlock.valueHexView.slice();
    } else throw new SignerError('ALG_UNSUPPORTED', `archive timestamp under ${hash} of a detached signature needs the content digest under ${hash}`);
  }
  const index = atsHashIndexV3(p, hash);
  const imprint = digest(hash, archiveTimestampInput(p, contentHash, index));
  let token: Uint8Array;
  try {
    token = (await requestTimestamp(opts.url, imprint, hash, opts)).token;
  } catch (e) {
    if (e instanceof PkiClientError) throw new SignerError('TSA_FAILED', `archive timestamp failed: ${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
  const tp = parseSignedData(token);
  tp.unsignedAttrs.push(attribute(OID.atsHashIndexV3, index));
  const tokenWithIndex = assembleSignedData(tp);
  p.unsignedAttrs.push(attribute(OID.archiveTimeStampV3, tokenWithIndex));
  return assembleSignedData(p);
}
