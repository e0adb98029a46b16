import type { KeyObject } from 'node:crypto';
import { CURVES, type ResolvedScheme } from '@kyso/pki';
import type { ResolvedPolicy } from '../policy.js';

/** Checks a key and scheme against the policy's cryptographic constraints; returns the violation or undefined. */
export function cryptoConstraintViolation(scheme: ResolvedScheme, key: KeyObject | undefined, policy: ResolvedPolicy, what: string): string | undefined {
  if (scheme.unsupported) return `${what}: ${scheme.unsupported}`;
  if (scheme.key === 'Ed25519' && !policy.allowEd25519) return `${what}: Ed25519 is not allowed by the policy`;
  if (scheme.digest && !policy.allowedDigests.includes(scheme.digest.toUpperCase())) return `${what}: digest ${scheme.digest} is not allowed by the policy`;
  if (key) {
    const d = key.asymmetricKeyDetails ?? {};
    if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && (d.modulusLength ?? 0) < policy.minRsaBits) {
      return `${what}: RSA key of ${d.modulusLength} bits is below the policy minimum of ${policy.minRsaBits}`;
    }
    if (key.asymmetricKeyType === 'ec') {
      const c = CURVES[d.namedCurve ?? ''] ?? d.namedCurve ?? '?';
      if (!policy.allowedCurves.includes(c)) return `${what}: elliptic curve ${c} is not allowed by the policy`;
    }
    if (key.asymmetricKeyType === 'ed448') return `${what}: Ed448 keys are not supported`;
    if (key.asymmetricKeyType === 'dsa') return `${what}: DSA keys are not supported`;
  }
  return undefined;
}
