import { buildAndValidatePath, oidName, resolveScheme, OIDS, type CertInfo } from '@kyso/pki';
import { cryptoConstraintViolation } from './crypto-policy.js';
import type { ResolvedPolicy } from '../policy.js';
import type { Fetcher } from '../util/fetch.js';
import type { Indication, SubIndication } from '../report/model.js';
import { revocationStatus, type RevocationEntry, type RevocationMaterial } from './revocation-status.js';

/** Everything certificate validation needs besides the certificate itself. */
export interface CertContext {
  policy: ResolvedPolicy;
  anchors: CertInfo[];
  /** Candidate intermediates (CMS, DSS, OCSP responses, policy). */
  pool: CertInfo[];
  material: RevocationMaterial;
  fetcher: Fetcher;
}

/** Result of X.509 validation (XCV) including time and revocation. */
export interface CertValidation {
  indication: Indication;
  subIndication: SubIndication | null;
  message: string;
  chain: CertInfo[];
  revocation: RevocationEntry[];
  warnings: string[];
}

/**
 * Whether the end-entity certificate may be used for `purpose` (undefined) or why not. A signing certificate needs
 * digitalSignature or nonRepudiation when keyUsage is present, and an extendedKeyUsage (when present) that lists at
 * least one of `signingEkus` (the policy's document-signing purposes; anyExtendedKeyUsage included by default).
 * A TSA certificate needs id-kp-timeStamping (RFC 3161 §2.3) and a signing keyUsage when keyUsage is present.
 */
export function usageViolation(leaf: CertInfo, purpose: 'signature' | 'timestamp', signingEkus: readonly string[]): string | undefined {
  const who = purpose === 'timestamp' ? 'TSA certificate' : 'signer certificate';
  const ku = leaf.keyUsage;
  if (ku && !ku.has('digitalSignature') && !ku.has('nonRepudiation')) {
    return `${who} "${leaf.subject}" keyUsage allows neither digitalSignature nor nonRepudiation (it has ${[...ku].join(', ') || 'no bit set'})`;
  }
  const eku = leaf.extKeyUsage;
  if (purpose === 'timestamp') {
    if (!(eku ?? []).includes(OIDS.ekuTimeStamping)) return `${who} "${leaf.subject}" lacks extended key usage timeStamping`;
    return undefined;
  }
  if (eku && !eku.some((p) => signingEkus.includes(p))) {
    return `${who} "${leaf.subject}" extendedKeyUsage (${eku.map(oidName).join(', ') || 'empty'}) does not allow document signing`;
  }
  return undefined;
}

/**
 * Validates `leaf` for `purpose` at the policy's validation time, accepting an expired certificate when a proof
 * of existence (`poe`, e.g. a validated timestamp) earlier than its expiry exists (past signature validation,
 * EN 319 102-1 §5.6.2.4). `poe` undefined means "no proof of existence": the signature time is the validation time.
 */
export async function validateCertificate(leaf: CertInfo, purpose: 'signature' | 'timestamp', ctx: CertContext, poe: Date | undefined, revocationRequired: boolean): Promise<CertValidation> {
  const T = ctx.policy.validationTime;
  const bestTime = poe && poe < T ? poe : T;
  const warnings: string[] = [];
  const fail = (indication: Indication, sub: SubIndication, message: string, chain: CertInfo[] = [leaf], revocation: RevocationEntry[] = []): CertValidation =>
    ({ indication, subIndication: sub, message, chain, revocation, warnings });

  const path = await buildAndValidatePath(leaf, ctx.pool, ctx.anchors, {
    ...(ctx.policy.offline ? {} : { fetchIssuers: (url: string) => ctx.fetcher.fetch(url) }),
    signatureConstraint: (c, issuer) => cryptoConstraintViolation(resolveScheme(c.cert.signatureAlgorithm), issuer.publicKey, ctx.policy, `signature of certificate "${c.subject}"`),
  });
  if (!path.ok) return fail('INDETERMINATE', path.subIndication, path.message, path.partial);
  const chain = path.chain;

  // Usage of the end-entity certificate (RFC 5280 §4.2.1.3 and §4.2.1.12).
  const usage = usageViolation(leaf, purpose, ctx.policy.signingExtendedKeyUsages);
  if (usage) return fail('INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE', usage, chain);
  // EKU chaining (as CA/Browser Forum and Mozilla practise it): a CA certificate whose extendedKeyUsage is present
  // restricts what it certifies; one that excludes the purpose cannot vouch for a signing (or TSA) certificate.
  const wanted = purpose === 'timestamp' ? [OIDS.ekuTimeStamping, OIDS.ekuAny] : ctx.policy.signingExtendedKeyUsages;
  for (const ca of chain.slice(1, -1)) {
    const eku = ca.extKeyUsage;
    if (eku && !eku.some((p) => wanted.includes(p))) {
      return fail('INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE', `CA certificate "${ca.subject}" restricts extendedKeyUsage to ${eku.map(oidName).join(', ') || 'nothing'}, which excludes ${purpose === 'timestamp' ? 'time-stamping' : 'document signing'}`, chain);
    }
  }

  // Validity periods.
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    const who = i === 0 ? (purpose === 'timestamp' ? 'TSA certificate' : 'signer certificate') : i === chain.length - 1 ? 'trust anchor' : 'CA certificate';
    if (bestTime < c.notBefore) {
      if (i === 0) return fail('TOTAL_FAILED', 'NOT_YET_VALID', `${who} "${c.subject}" is not valid before ${c.notBefore.toISOString()} (signature time ${bestTime.toISOString()})`, chain);
      return fail('INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE', `${who} "${c.subject}" is not valid before ${c.notBefore.toISOString()}`, chain);
    }
    if (T > c.notAfter) {
      if (poe && poe <= c.notAfter) {
        warnings.push(`${who} "${c.subject}" expired on ${c.notAfter.toISOString()}; accepted because the signature existed at ${poe.toISOString()}`);
        continue;
      }
      if (poe && i === 0 && purpose === 'signature') {
        return fail('TOTAL_FAILED', 'EXPIRED', `${who} "${c.subject}" expired on ${c.notAfter.toISOString()}, before the earliest proof of existence ${poe.toISOString()}`, chain);
      }
      return fail('INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE', `${who} "${c.subject}" expired on ${c.notAfter.toISOString()} and no proof of existence before that date was found`, chain);
    }
  }

  // Revocation (every certificate except the trust anchor).
  const revocation: RevocationEntry[] = [];
  for (let i = 0; i < chain.length - 1; i++) {
    const c = chain[i]!;
    const issuer = chain[i + 1]!;
    const entry = await revocationStatus(c, issuer, ctx.material, ctx.pool, ctx.fetcher, ctx.policy.offline, { validationTime: T, bestTime });
    revocation.push(entry);
    if (entry.status === 'revoked') {
      const at = entry.revokedAt ?? new Date(0);
      if (at > bestTime && poe) {
        warnings.push(`"${c.subject}" was revoked on ${at.toISOString()}, after the proven signature time ${bestTime.toISOString()}`);
        continue;
      }
      const why = `"${c.subject}" was revoked on ${at.toISOString()}${entry.reason ? ` (${entry.reason})` : ''} according to ${entry.source}`;
      if (i === 0) return fail('TOTAL_FAILED', 'REVOKED', `${purpose === 'timestamp' ? 'TSA' : 'signer'} certificate ${why}`, chain, revocation);
      return fail('INDETERMINATE', 'REVOKED_CA_NO_POE', `CA certificate ${why}`, chain, revocation);
    }
    if (entry.status === 'unknown') {
      if (c.ext(OIDS.ocspNoCheck)) continue;
      if (revocationRequired) {
        return fail('INDETERMINATE', 'TRY_LATER', `revocation status of "${c.subject}" could not be established: ${entry.source}`, chain, revocation);
      }
      warnings.push(`revocation status of "${c.subject}" is unknown (${entry.source}); accepted by policy`);
    }
  }
  return { indication: 'TOTAL_PASSED', subIndication: null, message: `certificate chain to "${chain[chain.length - 1]!.subject}" is valid`, chain, revocation, warnings };
}
