import { CertInfo } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { collectValidationData, type CollectOptions, type CertValidationStatus, type ValidationData } from './collect.js';

/** Options of {@link checkSignerCertificate}. */
export interface SignerCheckOptions extends CollectOptions {
  /** Time of signing (default now). */
  at?: Date;
  /** Sign even with an expired / not yet valid certificate (default false). */
  allowExpired?: boolean;
  /** Sign even with a revoked certificate or revoked CA (default false). */
  allowRevoked?: boolean;
  /** Refuse when no revocation information can be obtained (default false). */
  requireRevocationInfo?: boolean;
  /** Skip the online revocation check entirely (default false). */
  offline?: boolean;
}

/** Result of {@link checkSignerCertificate}. */
export interface SignerCheckResult {
  /** Status of the signer certificate itself. */
  signer: CertValidationStatus | undefined;
  /** Everything collected on the way (reusable for B-LT). */
  validationData?: ValidationData;
}

/**
 * Refuse to sign with a certificate that is expired, not yet valid or revoked (or whose CA is
 * revoked) unless overridden. Errors: CERT_EXPIRED, CERT_NOT_YET_VALID, CERT_REVOKED,
 * REVOCATION_UNKNOWN (only with requireRevocationInfo).
 */
export async function checkSignerCertificate(certificate: Uint8Array, chain: Uint8Array[], opts: SignerCheckOptions = {}): Promise<SignerCheckResult> {
  const cert = new CertInfo(certificate);
  const at = opts.at ?? new Date();
  if (!opts.allowExpired) {
    if (at < cert.notBefore) throw new SignerError('CERT_NOT_YET_VALID', `signer certificate ${cert.subject} is valid only from ${cert.notBefore.toISOString()}`);
    if (at > cert.notAfter) throw new SignerError('CERT_EXPIRED', `signer certificate ${cert.subject} expired on ${cert.notAfter.toISOString()} (override to sign anyway)`);
  }
  if (opts.offline) return { signer: undefined };
  const vd = await collectValidationData([certificate, ...chain], [], opts);
  const signer = vd.details.find((d) => d.sha1 === cert.sha1Hex);
  const revoked = vd.details.filter((d) => d.status === 'revoked');
  if (revoked.length && !opts.allowRevoked) {
    const r = revoked[0]!;
    throw new SignerError('CERT_REVOKED', `${r.sha1 === cert.sha1Hex ? 'signer certificate' : 'CA certificate'} ${r.subject} is revoked${r.revocationTime ? ` since ${r.revocationTime.toISOString()}` : ''} (${r.source}); override to sign anyway`);
  }
  if (opts.requireRevocationInfo) {
    const unk = vd.details.filter((d) => d.status === 'unavailable' || d.status === 'unknown');
    if (unk.length) throw new SignerError('REVOCATION_UNKNOWN', `revocation status unknown for ${unk.map((u) => `${u.subject}${u.errors ? ` (${u.errors.join('; ')})` : ''}`).join(', ')}`);
  }
  return { signer, validationData: vd };
}
