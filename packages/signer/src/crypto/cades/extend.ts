import * as asn1js from 'asn1js';
import { CertInfo, bytesEqual, parseTimestampToken, type TimestampRequestOptions } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { OID } from '../cms/oids.js';
import { addSignatureTimestamp } from '../cms/timestamp.js';
import { addArchiveTimestampV3 } from '../cms/archive.js';
import { attributeValues, parseSignedData } from '../cms/signed-data.js';
import { collectValidationData, type CollectOptions, type ValidationData } from '../ltv/collect.js';
import { embedValidationData } from './detached.js';

/** Options of {@link extendCades}. */
export interface ExtendCadesOptions {
  /** Target level. */
  level: 'B-T' | 'B-LT' | 'B-LTA';
  tsaUrl: string;
  tsa?: TimestampRequestOptions;
  /** Digest of the detached content under the signature's hash (needed for B-LTA when the message-digest cannot be reused). */
  contentDigest?: Uint8Array;
  validation?: CollectOptions;
}

/** The signer certificate of a one-signer CMS (matched by IssuerAndSerialNumber). */
export function signerCertificateOf(cms: Uint8Array): Uint8Array {
  const p = parseSignedData(cms);
  const sid = asn1js.fromBER(p.sid).result as asn1js.Sequence;
  if (p.sid[0] !== 0x30) throw new SignerError('CMS_PARSE', 'signer identified by subjectKeyIdentifier: not supported for extension');
  const issuer = sid.valueBlock.value[0]!.valueBeforeDecodeView;
  const serial = (sid.valueBlock.value[1] as asn1js.Integer).valueBlock.valueHexView;
  for (const d of p.certificates) {
    if (d[0] !== 0x30) continue;
    const c = new CertInfo(d);
    if (bytesEqual(c.issuerDer, issuer) && bytesEqual(c.serialDer, serial)) return d;
  }
  throw new SignerError('CMS_PARSE', 'the signer certificate is not in the CMS');
}

/**
 * Raise an existing detached CAdES signature to B-T, B-LT or B-LTA: adds the signature timestamp
 * if missing, then certificates and revocation data for the signer and for every timestamp's TSA,
 * then an archive-time-stamp-v3. Run it again on a B-LTA file to renew the archive timestamp
 * (the previous archive TSA's validation data is added first). The signature itself is untouched.
 */
export async function extendCades(cms: Uint8Array, opts: ExtendCadesOptions): Promise<{ cms: Uint8Array; validationData?: ValidationData }> {
  let out = cms;
  const p = parseSignedData(out);
  if (attributeValues(p.unsignedAttrs, OID.signatureTimeStampToken).length === 0) {
    out = await addSignatureTimestamp(out, { ...(opts.tsa ?? {}), url: opts.tsaUrl });
  }
  if (opts.level === 'B-T') return { cms: out };
  const parts = parseSignedData(out);
  const tsCerts: Uint8Array[] = [];
  for (const type of [OID.signatureTimeStampToken, OID.archiveTimeStampV3]) {
    for (const tok of attributeValues(parts.unsignedAttrs, type)) tsCerts.push(...parseTimestampToken(tok).certificates);
  }
  const signer = signerCertificateOf(out);
  const others = parts.certificates.filter((c) => c[0] === 0x30 && !bytesEqual(c, signer));
  const vd = await collectValidationData([signer, ...others], tsCerts, { strict: true, ...(opts.validation ?? {}) });
  out = embedValidationData(out, vd);
  if (opts.level === 'B-LT') return { cms: out, validationData: vd };
  out = await addArchiveTimestampV3(out, { ...(opts.tsa ?? {}), url: opts.tsaUrl, ...(opts.contentDigest ? { contentDigest: opts.contentDigest } : {}) });
  return { cms: out, validationData: vd };
}
