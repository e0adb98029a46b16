import { parseTimestampToken, type HashName, type SignatureAlgorithm, type TimestampRequestOptions } from '@kyso/pki';
import { SignerError } from '../errors.js';
import type { KeyBackend } from '../keys/types.js';
import { defaultSignatureAlgorithm } from '../keys/types.js';
import { OID } from '../cms/oids.js';
import { addSignatureTimestamp } from '../cms/timestamp.js';
import { addArchiveTimestampV3 } from '../cms/archive.js';
import { assembleSignedData, attributeValues, parseSignedData } from '../cms/signed-data.js';
import { finalizeCms, ocspRevocationInfo, prepareCms } from '../cms/two-step.js';
import { collectValidationData, type CollectOptions, type ValidationData } from '../ltv/collect.js';
import { checkSignerCertificate } from '../ltv/signer-status.js';
import { digestContent, type DetachedInput } from './digest.js';

/** CAdES baseline levels (ETSI EN 319 122-1). */
export type CadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

/** Options of {@link signDetached}. */
export interface SignDetachedOptions {
  backend: KeyBackend;
  /** Default B-B; B-T and above need `tsaUrl`. */
  level?: CadesLevel;
  hash?: HashName;
  signatureAlgorithm?: SignatureAlgorithm;
  /** signing-time signed attribute: a date, or false to omit (default: now). */
  signingTime?: Date | false;
  tsaUrl?: string;
  tsa?: TimestampRequestOptions;
  /** Refuse expired / revoked signer certificates unless overridden (default: check). */
  allowExpired?: boolean;
  allowRevoked?: boolean;
  /** Skip the online revocation check of the signer before signing. */
  skipRevocationCheck?: boolean;
  /** Options for fetching validation data (B-LT / revocation check). */
  validation?: CollectOptions;
}

/** A detached CAdES signature and what went into it. */
export interface DetachedSignature {
  /** DER ContentInfo(SignedData), the `.p7s` file content. */
  cms: Uint8Array;
  level: CadesLevel;
  contentDigest: Uint8Array;
  contentLength: number;
  /** Validation data embedded (B-LT and above). */
  validationData?: ValidationData;
}

/** Certificates carried by the signature-time-stamp tokens of a CMS (for their validation data). */
export function timestampCertificates(cms: Uint8Array): Uint8Array[] {
  const p = parseSignedData(cms);
  const out: Uint8Array[] = [];
  for (const tok of attributeValues(p.unsignedAttrs, OID.signatureTimeStampToken)) out.push(...parseTimestampToken(tok).certificates);
  return out;
}

/**
 * Add B-LT validation data to a CMS: certificates into SignedData.certificates, CRLs into
 * SignedData.crls and OCSP responses as id-ri-ocsp-response RevocationInfoChoices (RFC 5940).
 * The signature is untouched (these fields are not signed).
 */
export function embedValidationData(cms: Uint8Array, vd: Pick<ValidationData, 'certs' | 'ocsps' | 'crls'>): Uint8Array {
  const p = parseSignedData(cms);
  p.certificates.push(...vd.certs);
  p.crls.push(...vd.crls, ...vd.ocsps.map(ocspRevocationInfo));
  return assembleSignedData(p);
}

/**
 * Sign any content as a detached CAdES signature (`.p7s`) at B-B, B-T, B-LT or B-LTA, streaming
 * the content digest. Refuses expired or revoked signer certificates by default. B-LT embeds
 * certificates and OCSP/CRL data for the signer and the TSA in SignedData; B-LTA then adds an
 * archive-time-stamp-v3 with its ats-hash-index-v3. (The archive timestamp's own TSA validation
 * data is not added: that is the next renewal's job.)
 */
export async function signDetached(input: DetachedInput, opts: SignDetachedOptions): Promise<DetachedSignature> {
  const level = opts.level ?? 'B-B';
  if (level !== 'B-B' && !opts.tsaUrl) throw new SignerError('TSA_FAILED', `level ${level} needs a TSA URL`);
  const backend = opts.backend;
  const alg = opts.signatureAlgorithm ?? defaultSignatureAlgorithm(backend.keyAlgorithm, opts.hash);
  const hash = alg.hash;
  await checkSignerCertificate(backend.certificate, backend.chain, {
    ...(opts.validation ?? {}),
    ...(opts.allowExpired ? { allowExpired: true } : {}), ...(opts.allowRevoked ? { allowRevoked: true } : {}),
    ...(opts.skipRevocationCheck ? { offline: true } : {}),
  });
  const { digest, length } = await digestContent(input, hash);
  const signingTime = opts.signingTime === false ? undefined : (opts.signingTime ?? new Date());
  const prepared = prepareCms({ contentDigest: digest, hash, certificate: backend.certificate, chain: backend.chain, signatureAlgorithm: alg, ...(signingTime ? { signingTime } : {}) });
  const sig = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digestToSign }, alg);
  let cms = finalizeCms(prepared.state, sig);
  if (level === 'B-B') return { cms, level, contentDigest: digest, contentLength: length };
  cms = await addSignatureTimestamp(cms, { ...(opts.tsa ?? {}), url: opts.tsaUrl! });
  if (level === 'B-T') return { cms, level, contentDigest: digest, contentLength: length };
  const vd = await collectValidationData([backend.certificate, ...backend.chain], timestampCertificates(cms), { strict: true, ...(opts.validation ?? {}) });
  cms = embedValidationData(cms, vd);
  if (level === 'B-LT') return { cms, level, contentDigest: digest, contentLength: length, validationData: vd };
  cms = await addArchiveTimestampV3(cms, { ...(opts.tsa ?? {}), url: opts.tsaUrl!, hash, contentDigest: digest });
  return { cms, level, contentDigest: digest, contentLength: length, validationData: vd };
}
