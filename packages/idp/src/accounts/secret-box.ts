/**
 * Encryption at rest for account secrets (TOTP seeds) and keyed hashing of recovery codes.
 * Key: `KYSO_IDP_SECRET_KEY` = 32 bytes, base64. Without it a development key is used, with a warning.
 * Rotation: put the old key in `KYSO_IDP_SECRET_KEY_PREVIOUS` (comma-separated for several); values sealed with
 * it still open, and the account store re-seals them with the current key when it next reads them successfully.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { IdpError } from '../storage/errors.js';

interface KeyEntry {
  kid: string;
  key: Buffer;
  macKey: Buffer;
}

function entry(key: Uint8Array): KeyEntry {
  if (key.length !== 32) throw new IdpError('IDP_SECRET_KEY', `secret key must be 32 bytes, got ${key.length}`);
  const k = Buffer.from(key);
  return {
    kid: createHash('sha256').update('kyso-idp key id').update(k).digest('hex').slice(0, 8),
    key: k,
    macKey: createHmac('sha256', k).update('kyso-idp recovery-code mac key').digest(),
  };
}

/** AES-256-GCM sealed secrets bound to their owner and purpose (additional authenticated data). */
export class SecretBox {
  private constructor(private readonly current: KeyEntry, private readonly previous: KeyEntry[]) {}

  /** From 32 raw bytes, plus older keys that may still open existing values. */
  static fromKey(key: Uint8Array, previous: Uint8Array[] = []): SecretBox {
    return new SecretBox(entry(key), previous.map(entry));
  }

  /** Identifier of the current key (first 8 hex digits of a hash; not secret). */
  get keyId(): string {
    return this.current.kid;
  }

  /** Seals plaintext; `aad` binds it to (account id, field) so a ciphertext cannot be moved between records. */
  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.current.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `v2.${this.current.kid}.${iv.toString('base64url')}.${ct.toString('base64url')}.${c.getAuthTag().toString('base64url')}`;
  }

  /** True when the value was sealed with an older key (re-seal it). */
  isStale(sealed: string): boolean {
    return !sealed.startsWith(`v2.${this.current.kid}.`);
  }

  /** Opens a sealed value; throws IDP_SECRET_KEY when no configured key opens it or the value was altered. */
  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v2') throw new IdpError('IDP_STORAGE_CORRUPT', 'sealed secret has an unknown format');
    const k = [this.current, ...this.previous].find((e) => e.kid === parts[1]);
    if (!k) throw new IdpError('IDP_SECRET_KEY', `a stored secret was sealed with key ${parts[1]}, which is neither KYSO_IDP_SECRET_KEY nor in KYSO_IDP_SECRET_KEY_PREVIOUS`);
    try {
      const d = createDecipheriv('aes-256-gcm', k.key, Buffer.from(parts[2]!, 'base64url'));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(parts[3]!, 'base64url')), d.final()]).toString('utf8');
    } catch (err) {
      throw new IdpError('IDP_SECRET_KEY', 'cannot decrypt a stored secret: the record was altered or belongs to another account/field', { cause: err });
    }
  }

  /** Keyed hash (HMAC-SHA-256, hex) with the current key, for lookup of high-entropy one-time values. */
  mac(value: string, context: string): string {
    return this.macs(value, context)[0]!;
  }

  /** The keyed hash under the current key and every previous key (current first). */
  macs(value: string, context: string): string[] {
    return [this.current, ...this.previous].map((e) => createHmac('sha256', e.macKey).update(context).update('\0').update(value).digest('hex'));
  }
}

/** Fixed, public development key used with Redis when no key is configured outside production. */
const SHARED_DEV_KEY = Buffer.from('kyso-idp-development-key-NOT-SECRET!').subarray(0, 32);
let warned = false;

function decodeKey(raw: string, name: string): Buffer {
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== 32) throw new IdpError('IDP_SECRET_KEY', `${name} must be 32 bytes in base64 (e.g. \`openssl rand -base64 32\`), got ${key.length} bytes`);
  return key;
}

/**
 * Resolves the at-rest key: explicit option, else `KYSO_IDP_SECRET_KEY` (base64, 32 bytes), with older keys from
 * `KYSO_IDP_SECRET_KEY_PREVIOUS`. Without a key: NODE_ENV=production → IDP_SECRET_KEY error; otherwise a
 * development key with a one-time warning — random for the in-memory store (nothing survives the process anyway),
 * a fixed public one for Redis so the CLI and the service can read each other's records.
 */
export function resolveSecretBox(opts: { key?: Uint8Array | string; previousKeys?: (Uint8Array | string)[]; persistent: boolean; env?: NodeJS.ProcessEnv }): SecretBox {
  const env = opts.env ?? process.env;
  const raw = opts.key ?? env.KYSO_IDP_SECRET_KEY;
  const prevRaw = opts.previousKeys ?? (env.KYSO_IDP_SECRET_KEY_PREVIOUS ? env.KYSO_IDP_SECRET_KEY_PREVIOUS.split(',').filter((x) => x.trim()) : []);
  const previous = prevRaw.map((p) => (typeof p === 'string' ? decodeKey(p, 'KYSO_IDP_SECRET_KEY_PREVIOUS') : Buffer.from(p)));
  if (raw !== undefined && raw !== '') {
    return SecretBox.fromKey(typeof raw === 'string' ? decodeKey(raw, 'KYSO_IDP_SECRET_KEY') : raw, previous);
  }
  if (env.NODE_ENV === 'production') {
    throw new IdpError('IDP_SECRET_KEY', 'KYSO_IDP_SECRET_KEY is required in production (32 bytes, base64: `openssl rand -base64 32`)');
  }
  if (!warned) {
    warned = true;
    process.emitWarning(
      opts.persistent
        ? 'KYSO_IDP_SECRET_KEY is not set: account secrets in Redis are sealed with a public development key. Set it before storing real accounts.'
        : 'KYSO_IDP_SECRET_KEY is not set: using a random development key for the in-memory store.',
      { code: 'KYSO_DEV_SECRET_KEY' },
    );
  }
  return SecretBox.fromKey(opts.persistent ? SHARED_DEV_KEY : randomBytes(32), previous);
}
