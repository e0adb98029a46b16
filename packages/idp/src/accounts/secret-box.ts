/**
 * Encryption at rest for account secrets (TOTP seeds) and keyed hashing of recovery codes.
 * Key: `KYSO_IDP_SECRET_KEY` = 32 bytes, base64. Without it a development key is used, with a warning.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { IdpError } from '../storage/errors.js';

/** AES-256-GCM sealed secrets bound to their owner and purpose (additional authenticated data). */
export class SecretBox {
  private constructor(private readonly key: Buffer, private readonly macKey: Buffer) {}

  /** From 32 raw bytes. */
  static fromKey(key: Uint8Array): SecretBox {
    if (key.length !== 32) throw new IdpError('IDP_SECRET_KEY', `secret key must be 32 bytes, got ${key.length}`);
    const k = Buffer.from(key);
    const mac = createHmac('sha256', k).update('kyso-idp recovery-code mac key').digest();
    return new SecretBox(k, mac);
  }

  /** Seals plaintext; `aad` binds it to (account id, field) so a ciphertext cannot be moved between records. */
  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${ct.toString('base64url')}.${c.getAuthTag().toString('base64url')}`;
  }

  /** Opens a sealed value; throws IDP_SECRET_KEY when the key is wrong or the value was altered. */
  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new IdpError('IDP_STORAGE_CORRUPT', 'sealed secret has an unknown format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(parts[1]!, 'base64url'));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(parts[2]!, 'base64url')), d.final()]).toString('utf8');
    } catch (err) {
      throw new IdpError('IDP_SECRET_KEY', 'cannot decrypt a stored secret: KYSO_IDP_SECRET_KEY differs from the key it was sealed with, or the record was altered', { cause: err });
    }
  }

  /** Keyed hash (HMAC-SHA-256, hex) for lookup of high-entropy one-time values such as recovery codes. */
  mac(value: string, context: string): string {
    return createHmac('sha256', this.macKey).update(context).update('\0').update(value).digest('hex');
  }
}

/** Fixed, public development key used with Redis when no key is configured outside production. */
const SHARED_DEV_KEY = Buffer.from('kyso-idp-development-key-NOT-SECRET!').subarray(0, 32);
let warned = false;

/**
 * Resolves the at-rest key: explicit option, else `KYSO_IDP_SECRET_KEY` (base64, 32 bytes). Without either:
 * NODE_ENV=production → IDP_SECRET_KEY error; otherwise a development key with a one-time warning — random for the
 * in-memory store (nothing survives the process anyway), a fixed public one for Redis so the CLI and the service
 * can read each other's records.
 */
export function resolveSecretBox(opts: { key?: Uint8Array | string; persistent: boolean; env?: NodeJS.ProcessEnv }): SecretBox {
  const env = opts.env ?? process.env;
  const raw = opts.key ?? env.KYSO_IDP_SECRET_KEY;
  if (raw !== undefined && raw !== '') {
    const key = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;
    if (key.length !== 32) throw new IdpError('IDP_SECRET_KEY', `KYSO_IDP_SECRET_KEY must be 32 bytes in base64 (e.g. \`openssl rand -base64 32\`), got ${key.length} bytes`);
    return SecretBox.fromKey(key);
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
  return SecretBox.fromKey(opts.persistent ? SHARED_DEV_KEY : randomBytes(32));
}
