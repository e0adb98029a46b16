import { readFileSync } from 'node:fs';
import type { Rule as ModificationRule } from './pdf/rules/context.js';
import { isAbsolute, resolve, dirname } from 'node:path';
import { VerifierError } from './errors.js';
import { parseCertificates } from '@kyso/pki';

/**
 * Validation policy: everything that decides a verdict besides the file itself. Passed in, never global.
 * All fields are optional; `resolvePolicy` fills the defaults.
 */
export interface Policy {
  /** Trust anchors: DER certificates or PEM text (a PEM may hold several certificates). */
  trustAnchors?: (Uint8Array | string)[];
  /** Extra intermediate certificates usable for path building (DER or PEM). */
  intermediates?: (Uint8Array | string)[];
  /** Digest algorithms accepted for signatures, message digests and certificate signatures.
   *  Default SHA-256, SHA-384, SHA-512, SHA3-256/384/512 (SHA-1 and MD5 rejected). */
  allowedDigests?: string[];
  /** Minimum RSA modulus size in bits (default 2048). */
  minRsaBits?: number;
  /** Accepted elliptic curves (default P-256, P-384, P-521). */
  allowedCurves?: string[];
  /** Accept Ed25519 signatures (default true). Ed448 is not supported by this verifier. */
  allowEd25519?: boolean;
  /** Whether revocation status of the signer chain must be established (default true). */
  revocationRequired?: boolean;
  /** Whether a timestamp's TSA chain must have revocation status too (default false: soft-fail). */
  timestampRevocationRequired?: boolean;
  /** Validation time ("now" by default). */
  validationTime?: Date;
  /** Never touch the network (no OCSP/CRL/AIA fetch). Default false. */
  offline?: boolean;
  /** Per-request network timeout in ms (default 3000). */
  networkTimeoutMs?: number;
  /** Upper bound for validating one signature in ms (default 30000); beyond it the signature is INDETERMINATE. */
  signatureTimeoutMs?: number;
  /** Verdict for modifications that no rule allows after a signature: 'fail' (TOTAL_FAILED, default) or 'indeterminate'. */
  disallowedModifications?: 'fail' | 'indeterminate';
  /** Require the ESS signing-certificate(-v2) attribute binding the signer certificate (default false:
   *  its absence only lowers the detected level; a present attribute that does not match always fails). */
  requireSigningCertificateAttribute?: boolean;
  /** PDF modification-analysis rules (pyHanko-style diff policy), in the order they run; default: `PDF_MODIFICATION_RULES`. */
  modificationRules?: readonly ModificationRule[];
  /**
   * Extended key usages that allow a certificate to sign documents (RFC 5280 §4.2.1.12): a signer certificate
   * whose extendedKeyUsage lists none of them is CHAIN_CONSTRAINTS_FAILURE; one without the extension is accepted.
   * Default {@link DEFAULT_SIGNING_EKUS}.
   */
  signingExtendedKeyUsages?: string[];
}

/** A policy with every default filled in and certificates parsed. */
export interface ResolvedPolicy {
  trustAnchors: Uint8Array[];
  intermediates: Uint8Array[];
  allowedDigests: string[];
  minRsaBits: number;
  allowedCurves: string[];
  allowEd25519: boolean;
  revocationRequired: boolean;
  timestampRevocationRequired: boolean;
  validationTime: Date;
  offline: boolean;
  networkTimeoutMs: number;
  signatureTimeoutMs: number;
  disallowedModifications: 'fail' | 'indeterminate';
  requireSigningCertificateAttribute: boolean;
  modificationRules?: readonly ModificationRule[];
  signingExtendedKeyUsages: string[];
}

/**
 * Document-signing purposes accepted by default: anyExtendedKeyUsage, emailProtection (S/MIME signing; most
 * citizen certificates carry it), id-kp-documentSigning (RFC 9336), Adobe Authentic Documents Trust and Microsoft
 * Document Signing. serverAuth, clientAuth, codeSigning, timeStamping or OCSPSigning alone do not allow it.
 */
export const DEFAULT_SIGNING_EKUS: readonly string[] = ['2.5.29.37.0', '1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.36', '1.2.840.113583.1.1.5', '1.3.6.1.4.1.311.10.3.12'];

export const DEFAULT_ALLOWED_DIGESTS = ['SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'SHA3-384', 'SHA3-512'];

function toDerList(items: (Uint8Array | string)[] | undefined, what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const item of items ?? []) {
    try {
      out.push(...parseCertificates(item));
    } catch (e) {
      throw new VerifierError('TRUST_ANCHOR_UNREADABLE', `policy: a ${what} certificate could not be read (${(e as Error).message})`);
    }
  }
  return out;
}

/** Fills defaults. Throws VerifierError(POLICY_INVALID) on nonsense values. */
export function resolvePolicy(p: Policy = {}): ResolvedPolicy {
  const validationTime = p.validationTime ?? new Date();
  if (!(validationTime instanceof Date) || Number.isNaN(validationTime.getTime())) {
    throw new VerifierError('POLICY_INVALID', 'policy: validationTime is not a valid date');
  }
  const minRsaBits = p.minRsaBits ?? 2048;
  if (!Number.isInteger(minRsaBits) || minRsaBits < 512) throw new VerifierError('POLICY_INVALID', 'policy: minRsaBits must be an integer ≥ 512');
  return {
    trustAnchors: toDerList(p.trustAnchors, 'trust anchor'),
    intermediates: toDerList(p.intermediates, 'intermediate'),
    allowedDigests: (p.allowedDigests ?? DEFAULT_ALLOWED_DIGESTS).map((d) => d.toUpperCase()),
    minRsaBits,
    allowedCurves: p.allowedCurves ?? ['P-256', 'P-384', 'P-521'],
    allowEd25519: p.allowEd25519 ?? true,
    revocationRequired: p.revocationRequired ?? true,
    timestampRevocationRequired: p.timestampRevocationRequired ?? false,
    validationTime,
    offline: p.offline ?? false,
    networkTimeoutMs: p.networkTimeoutMs ?? 3000,
    signatureTimeoutMs: p.signatureTimeoutMs ?? 30000,
    disallowedModifications: p.disallowedModifications ?? 'fail',
    requireSigningCertificateAttribute: p.requireSigningCertificateAttribute ?? false,
    ...(p.modificationRules ? { modificationRules: p.modificationRules } : {}),
    signingExtendedKeyUsages: p.signingExtendedKeyUsages ?? [...DEFAULT_SIGNING_EKUS],
  };
}

/**
 * Reads a policy JSON file (`--policy FILE`). Fields as in {@link Policy}; `trustAnchors` and `intermediates`
 * are file paths (relative to the policy file) or inline PEM; `validationTime` is an ISO 8601 string.
 */
export function loadPolicyFile(path: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new VerifierError('POLICY_INVALID', `policy file ${path}: ${(e as Error).message}`);
  }
  return policyFromJson(raw, dirname(resolve(path)));
}

/** Converts a JSON policy object (see {@link loadPolicyFile}) to a {@link Policy}. */
export function policyFromJson(raw: unknown, baseDir = process.cwd()): Policy {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new VerifierError('POLICY_INVALID', 'policy: expected a JSON object');
  const o = raw as Record<string, unknown>;
  const known = new Set(['trustAnchors', 'intermediates', 'allowedDigests', 'minRsaBits', 'allowedCurves', 'allowEd25519', 'revocationRequired',
    'timestampRevocationRequired', 'validationTime', 'offline', 'networkTimeoutMs', 'signatureTimeoutMs', 'disallowedModifications', 'requireSigningCertificateAttribute', 'signingExtendedKeyUsages']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new VerifierError('POLICY_INVALID', `policy: unknown field "${k}"`);
  const certs = (v: unknown, name: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new VerifierError('POLICY_INVALID', `policy: ${name} must be an array of strings`);
    return (v as string[]).map((s) => (s.includes('-----BEGIN') ? s : readFileSync(isAbsolute(s) ? s : resolve(baseDir, s), 'latin1')));
  };
  const bool = (k: string): boolean | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'boolean') throw new VerifierError('POLICY_INVALID', `policy: ${k} must be true or false`);
    return o[k] as boolean;
  };
  const num = (k: string): number | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new VerifierError('POLICY_INVALID', `policy: ${k} must be a number`);
    return o[k] as number;
  };
  const strs = (k: string): string[] | undefined => {
    if (o[k] === undefined) return undefined;
    if (!Array.isArray(o[k]) || (o[k] as unknown[]).some((x) => typeof x !== 'string')) throw new VerifierError('POLICY_INVALID', `policy: ${k} must be an array of strings`);
    return o[k] as string[];
  };
  let validationTime: Date | undefined;
  if (o.validationTime !== undefined) {
    validationTime = new Date(String(o.validationTime));
    if (Number.isNaN(validationTime.getTime())) throw new VerifierError('POLICY_INVALID', 'policy: validationTime is not an ISO 8601 date');
  }
  const dm = o.disallowedModifications;
  if (dm !== undefined && dm !== 'fail' && dm !== 'indeterminate') throw new VerifierError('POLICY_INVALID', 'policy: disallowedModifications must be "fail" or "indeterminate"');
  const p: Policy = {};
  const set = <K extends keyof Policy>(k: K, v: Policy[K] | undefined) => { if (v !== undefined) p[k] = v; };
  set('trustAnchors', certs(o.trustAnchors, 'trustAnchors'));
  set('intermediates', certs(o.intermediates, 'intermediates'));
  set('allowedDigests', strs('allowedDigests'));
  set('minRsaBits', num('minRsaBits'));
  set('allowedCurves', strs('allowedCurves'));
  set('allowEd25519', bool('allowEd25519'));
  set('revocationRequired', bool('revocationRequired'));
  set('timestampRevocationRequired', bool('timestampRevocationRequired'));
  set('validationTime', validationTime);
  set('offline', bool('offline'));
  set('networkTimeoutMs', num('networkTimeoutMs'));
  set('signatureTimeoutMs', num('signatureTimeoutMs'));
  set('disallowedModifications', dm as Policy['disallowedModifications']);
  set('requireSigningCertificateAttribute', bool('requireSigningCertificateAttribute'));
  set('signingExtendedKeyUsages', strs('signingExtendedKeyUsages'));
  return p;
}
