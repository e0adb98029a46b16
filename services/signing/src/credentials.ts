/**
 * Enrolment: one key per citizen credential generated inside the vault (HSM), a certificate issued for it by
 * the deployment's CA, and the credential's PIN (kept only as an argon2id hash).
 */
import { randomBytes } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { SigningError } from './errors.js';
import type { KeySpec, KeyVault } from './keys.js';
import type { CredentialRecord, SigningStore } from './store.js';

/** Subject of a certificate to issue. */
export interface CertificateSubject {
  commonName: string;
  /** e.g. `CCCD:001090000001` for a citizen. */
  serialNumber?: string;
  organization?: string;
  organizationIdentifier?: string;
}

/** The deployment's CA (the test CA in the demo): issues a signing certificate for a public key. */
export interface CertificateIssuer {
  /** Returns the new certificate followed by its chain (DER, signer first). */
  issue(spki: Uint8Array, subject: CertificateSubject, kind: 'citizen' | 'seal'): Promise<Uint8Array[]>;
}

/** argon2id cost of PIN hashes (PINs are short: the per-credential attempt limit is what protects them). */
export interface PinHashing { memoryCost: number; timeCost: number; parallelism: number }
export const DEFAULT_PIN_HASHING: PinHashing = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const PIN_RE = /^[0-9]{4,12}$/;

export interface EnrolRequest {
  /** Credential id (default: random). */
  id?: string;
  /** Personal number of the citizen, or the agency id of a seal. */
  owner: string;
  kind: 'citizen' | 'seal';
  /** Officers allowed to use a seal (personal numbers). */
  users?: string[];
  subject: CertificateSubject;
  pin: string;
  key: KeySpec;
  description?: string;
}

export async function enrolCredential(deps: { store: SigningStore; vault: KeyVault; issuer: CertificateIssuer; pinHashing?: PinHashing }, req: EnrolRequest): Promise<CredentialRecord> {
  if (!PIN_RE.test(req.pin)) throw new SigningError('CONFIG_INVALID', 'the PIN must be 4 to 12 digits');
  const id = req.id ?? `cred-${randomBytes(9).toString('base64url')}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new SigningError('CONFIG_INVALID', 'credential ids are 1-64 letters, digits, . _ -');
  if (await deps.store.getCredential(id)) throw new SigningError('CREDENTIAL_EXISTS', `credential ${id} exists`);
  const { ref, spki } = await deps.vault.generate(id, req.key);
  const certificates = await deps.issuer.issue(spki, req.subject, req.kind);
  const rec: CredentialRecord = {
    id, owner: req.owner, kind: req.kind, users: req.users ?? [],
    description: req.description ?? (req.kind === 'seal' ? `Con dấu điện tử của ${req.subject.organization ?? req.owner}` : `Chữ ký số của ${req.subject.commonName}`),
    key: ref, certificates: certificates.map((c) => Buffer.from(c).toString('base64')),
    pinHash: await argonHash(req.pin, { ...(deps.pinHashing ?? DEFAULT_PIN_HASHING), algorithm: 2 }),
    createdAt: new Date().toISOString(),
  };
  if (!(await deps.store.putCredential(rec))) throw new SigningError('CREDENTIAL_EXISTS', `credential ${id} exists`);
  return rec;
}

/** Constant-time PIN check (argon2 verify). */
export async function pinMatches(rec: CredentialRecord, pin: string): Promise<boolean> {
  if (!PIN_RE.test(pin)) return false;
  try { return await argonVerify(rec.pinHash, pin); } catch { return false; }
}
