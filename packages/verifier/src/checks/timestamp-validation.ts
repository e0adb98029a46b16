import {
  CmsFormatError, DIGEST_OIDS, OIDS, bytesEqual, checkContentType, checkMessageDigest, checkSigningCertificate, hash, identifySigner,
  parseSignedData, parseTstInfo, signerScheme, toHex, tryCert, verifySignerSignature, type CertInfo,
} from '@kyso/pki';
import { validateCertificate, type CertContext, type CertValidation } from './certificate-validation.js';
import { cryptoConstraintViolation } from './crypto-policy.js';
import type { Indication, SubIndication } from '../report/model.js';

/** Validation result of one RFC 3161 timestamp token. */
export interface TimestampValidation {
  valid: boolean;
  genTime?: Date;
  tsa?: CertInfo;
  message: string;
  /** Hash algorithm of the message imprint. */
  imprintAlg?: string;
  certValidation?: CertValidation;
  /** Verdict of the token as a signature (document timestamps are reported with it). */
  indication: Indication;
  subIndication: SubIndication | null;
}

/**
 * Validates a TimeStampToken as a signature in its own right: TSTInfo structure, message imprint over
 * `imprintOf(alg)`, the TSA's CMS signature (message-digest, content-type, ESS signing certificate), crypto
 * constraints, TSA certificate usage (EKU timeStamping), validity at genTime, and its chain to a trust anchor
 * (with `poe` from later timestamps when the TSA certificate expired since).
 */
export async function validateTimestampToken(der: Uint8Array, imprintOf: (alg: string) => Promise<Uint8Array>, ctx: CertContext, poe: Date | undefined): Promise<TimestampValidation> {
  try {
    let cms;
    try {
      cms = parseSignedData(der);
    } catch (e) {
      return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', message: e instanceof CmsFormatError ? `timestamp token: ${e.message}` : 'timestamp token is malformed' };
    }
    if (cms.contentType !== OIDS.tstInfo || !cms.eContent) return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', message: 'timestamp token does not encapsulate a TSTInfo' };
    const tst = parseTstInfo(cms.eContent);
    if (!tst) return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', message: 'TSTInfo is not valid DER or not a TSTInfo' };
    const genTime = tst.genTime;
    const imprintAlg = DIGEST_OIDS[tst.messageImprint.hashAlgorithm.algorithmId];
    if (!imprintAlg) return { valid: false, indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE', genTime, message: `timestamp imprint uses unknown hash ${tst.messageImprint.hashAlgorithm.algorithmId}` };
    const expected = await imprintOf(imprintAlg);
    if (!bytesEqual(expected, tst.messageImprint.hashedMessage.valueBlock.valueHexView)) {
      return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE', genTime, imprintAlg, message: `timestamp imprint (${imprintAlg}) does not match the timestamped data` };
    }
    if (!ctx.policy.allowedDigests.includes(imprintAlg)) return { valid: false, indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE', genTime, imprintAlg, message: `timestamp imprint hash ${imprintAlg} is not allowed by the policy` };
    const si = cms.signedData.signerInfos[0]!;
    const certs = [...cms.certificates.map((d) => tryCert(d)).filter((c): c is CertInfo => !!c), ...ctx.pool];
    const tsa = identifySigner(si, certs);
    if (!tsa) return { valid: false, indication: 'INDETERMINATE', subIndication: 'NO_SIGNING_CERTIFICATE_FOUND', genTime, message: 'the TSA certificate is not found in the timestamp token' };
    const content = { digest: async (alg: string) => hash(alg, cms.eContent!) };
    const md = await checkMessageDigest(si, content);
    if (md.status !== 'match') return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE', genTime, tsa, message: `timestamp token: ${md.message}` };
    const ct = checkContentType(si, OIDS.tstInfo);
    if (ct) return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', genTime, tsa, message: `timestamp token: ${ct}` };
    const sc = checkSigningCertificate(si, tsa);
    if (sc.status === 'mismatch') return { valid: false, indication: 'INDETERMINATE', subIndication: 'NO_SIGNING_CERTIFICATE_FOUND', genTime, tsa, message: `timestamp token: ${sc.message}` };
    const scheme = signerScheme(si);
    const violation = cryptoConstraintViolation(scheme, tsa.publicKey, ctx.policy, 'timestamp signature');
    if (violation) return { valid: false, indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE', genTime, tsa, message: violation };
    let ok = false;
    try {
      ok = await verifySignerSignature(si, tsa, content);
    } catch (e) {
      return { valid: false, indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE', genTime, tsa, message: `timestamp signature cannot be verified: ${(e as Error).message}` };
    }
    if (!ok) return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE', genTime, tsa, message: 'timestamp signature value does not verify with the TSA certificate' };
    if (genTime < tsa.notBefore || genTime > tsa.notAfter) {
      return { valid: false, indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE', genTime, tsa, message: `timestamp genTime ${genTime.toISOString()} is outside the TSA certificate validity` };
    }
    if (genTime > new Date(ctx.policy.validationTime.getTime() + 5 * 60_000)) {
      return { valid: false, indication: 'INDETERMINATE', subIndication: 'TIMESTAMP_ORDER_FAILURE', genTime, tsa, message: `timestamp genTime ${genTime.toISOString()} is after the validation time` };
    }
    const tsaCtx: CertContext = { ...ctx, pool: [...certs, ...ctx.pool] };
    const cv = await validateCertificate(tsa, 'timestamp', tsaCtx, poe, ctx.policy.timestampRevocationRequired);
    if (cv.indication !== 'TOTAL_PASSED') {
      return { valid: false, indication: cv.indication, subIndication: cv.subIndication, genTime, tsa, certValidation: cv, message: `TSA certificate: ${cv.message}` };
    }
    // The TSA must not have been revoked before it produced the token.
    return { valid: true, indication: 'TOTAL_PASSED', subIndication: null, genTime, tsa, imprintAlg, certValidation: cv, message: `timestamp by "${tsa.subject}" at ${genTime.toISOString()} (serial ${toHex(tst.serialNumber.valueBlock.valueHexView)})` };
  } catch (e) {
    return { valid: false, indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', message: `timestamp token could not be validated: ${(e as Error).message}` };
  }
}
