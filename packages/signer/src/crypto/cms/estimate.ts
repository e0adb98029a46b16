import { certInfoOf, HASH_LENGTHS, hashAlgorithmIdentifier, signatureAlgorithmIdentifier, type HashName, type SignatureAlgorithm } from '@kyso/pki';
import { describeKey } from '../keys/software.js';
import { defaultSignatureAlgorithm } from '../keys/types.js';
import { prepareCms } from './two-step.js';
import { assembleSignedData, issuerAndSerial } from './signed-data.js';
import { OID } from './oids.js';

/** Inputs of {@link estimateCmsSize}. */
export interface EstimateCmsOptions {
  certificate: Uint8Array;
  chain?: Uint8Array[];
  hash?: HashName;
  signatureAlgorithm?: SignatureAlgorithm;
  signingTime?: boolean;
  /** A signature timestamp will be added: true (default token estimate of 8 KiB) or the expected token size in bytes. */
  timestamp?: boolean | number;
  /** Bytes of revocation data (CRLs / OCSP responses) and extra certificates that go inside the CMS. */
  revocationBytes?: number;
  extraCertificates?: Uint8Array[];
  /** Safety margin in bytes (default 2048). */
  margin?: number;
}

/** Default size assumed for an RFC 3161 token (with the TSA certificate) when the caller does not know it. */
export const DEFAULT_TIMESTAMP_TOKEN_SIZE = 8192;

/**
 * Upper bound of the DER size of the CMS that {@link buildCms} will produce, to size a PDF
 * /Contents placeholder (hex doubles it). Exact for the signed part, estimated for the
 * timestamp and revocation data, plus a margin.
 */
export function estimateCmsSize(opts: EstimateCmsOptions): number {
  const cert = certInfoOf(opts.certificate);
  const key = describeKey(cert.publicKey);
  const hash = opts.hash ?? opts.signatureAlgorithm?.hash ?? 'SHA-256';
  const alg = opts.signatureAlgorithm ?? defaultSignatureAlgorithm(key, hash);
  const prepared = prepareCms({
    contentDigest: new Uint8Array(HASH_LENGTHS[alg.hash]), hash: alg.hash, certificate: opts.certificate,
    signatureAlgorithm: alg, ...(opts.signingTime ? { signingTime: new Date() } : {}),
  });
  const sigLen = key.type === 'EC' ? 2 * Math.ceil(key.bits / 8) + 9 : Math.ceil(key.bits / 8);
  const base = assembleSignedData({
    signedAttrs: prepared.toBeSigned,
    sid: issuerAndSerial(cert.issuerDer, cert.serialDer),
    digestAlgorithm: hashAlgorithmIdentifier(alg.hash),
    signatureAlgorithm: signatureAlgorithmIdentifier(alg),
    signature: new Uint8Array(sigLen),
    unsignedAttrs: [],
    certificates: [opts.certificate, ...(opts.chain ?? []), ...(opts.extraCertificates ?? [])],
    crls: [],
    eContentType: OID.data,
  }).length;
  const ts = opts.timestamp === undefined || opts.timestamp === false ? 0 : (opts.timestamp === true ? DEFAULT_TIMESTAMP_TOKEN_SIZE : opts.timestamp) + 32;
  const rev = opts.revocationBytes ? opts.revocationBytes + 32 : 0;
  return base + ts + rev + (opts.margin ?? 2048);
}
