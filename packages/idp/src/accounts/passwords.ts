/**
 * Password hashing with argon2id (@node-rs/argon2).
 *
 * Default parameters follow the OWASP Password Storage Cheat Sheet's first argon2id option:
 * m = 19456 KiB (19 MiB), t = 2 passes, p = 1 lane, 32-byte output, 16-byte random salt, version 0x13.
 * Hashes made with other parameters still verify and are re-hashed on the next successful login.
 */
import { hash, verify, parseOptions, type Algorithm } from '@node-rs/argon2';
import { IdpError } from '../storage/errors.js';

/** `ARGON2ID` (a const enum, not importable under isolatedModules). */
const ARGON2ID = 2 as Algorithm;

/** argon2id cost parameters. */
export interface Argon2Params {
  /** KiB of memory (default 19456). */
  memoryCost: number;
  /** Passes (default 2). */
  timeCost: number;
  /** Lanes (default 1). */
  parallelism: number;
}

/** OWASP-recommended argon2id parameters used by default. */
export const DEFAULT_ARGON2: Readonly<Argon2Params> = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

/** Password length rules (NIST SP 800-63B: at least 8, allow long passphrases; cap to bound hashing work). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** Throws PASSWORD_POLICY when the password is too short/long or not a string. */
export function assertPasswordPolicy(password: unknown): asserts password is string {
  if (typeof password !== 'string') throw new IdpError('PASSWORD_POLICY', 'password must be a string');
  const len = [...password].length;
  if (len < PASSWORD_MIN) throw new IdpError('PASSWORD_POLICY', `password must have at least ${PASSWORD_MIN} characters`);
  if (len > PASSWORD_MAX) throw new IdpError('PASSWORD_POLICY', `password must have at most ${PASSWORD_MAX} characters`);
}

/** Hashes and verifies passwords with fixed argon2id parameters. */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;
  constructor(readonly params: Argon2Params = DEFAULT_ARGON2) {}

  /** PHC string `$argon2id$v=19$m=...,t=...,p=...$salt$hash`. */
  hash(password: string): Promise<string> {
    return hash(password.normalize('NFC'), { algorithm: ARGON2ID, ...this.params });
  }

  /** Constant-time verification inside argon2; false (never a throw) for malformed stored hashes. */
  async verify(stored: string, password: string): Promise<boolean> {
    if (typeof password !== 'string' || password.length > PASSWORD_MAX * 4) return false;
    try {
      return await verify(stored, password.normalize('NFC'));
    } catch {
      return false;
    }
  }

  /** Same work as a real verification, for unknown accounts (no timing oracle on account existence). */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash('kyso-dummy-password-for-unknown-accounts');
    await this.verify(await this.dummy, typeof password === 'string' ? password : '');
    return false;
  }

  /** True when the stored hash was made with other parameters or another algorithm. */
  needsRehash(stored: string): boolean {
    try {
      const o = parseOptions(stored);
      return o.algorithm !== ARGON2ID || o.memoryCost !== this.params.memoryCost
        || o.timeCost !== this.params.timeCost || o.parallelism !== this.params.parallelism;
    } catch {
      return true;
    }
  }
}
