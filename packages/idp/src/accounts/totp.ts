/**
 * TOTP (RFC 6238) with otplib v13: SHA-1, 6 digits, 30-second period, ±1 step accepted.
 * Replay protection is the caller's: remember the last accepted time step and require a greater one.
 */
import { generateSecret, generateURI, verify, generate } from 'otplib';
import QRCode from 'qrcode';

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;

/** New random base32 secret (20 bytes = 160 bits, RFC 4226's recommended size). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** Fewest bits a TOTP secret may have (RFC 4226 §4 requires 128; new secrets have 160). */
export const TOTP_SECRET_MIN_BITS = 128;
/** Base32 characters of a new secret (160 bits). */
export const TOTP_SECRET_NEW_CHARS = 32;

/**
 * What is wrong with a base32 TOTP secret, or undefined when it is usable: RFC 4648 alphabet (spaces and `=`
 * padding ignored, case-insensitive), at least 128 bits (26 characters), at most 640 bits (128 characters).
 */
export function totpSecretProblem(s: unknown): string | undefined {
  if (typeof s !== 'string') return 'must be a base32 string';
  const t = normaliseBase32(s);
  if (!/^[A-Z2-7]+$/.test(t)) return 'must be base32 (RFC 4648: letters A-Z and digits 2-7)';
  // a base32 text ends on a whole byte: its length modulo 8 is 0, 2, 4, 5 or 7, and the unused low bits are zero
  if ([1, 3, 6].includes(t.length % 8)) return `has an impossible base32 length (${t.length} characters)`;
  const spare = (t.length * 5) % 8;
  if (spare && ('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(t[t.length - 1]!) & ((1 << spare) - 1)) !== 0) return 'is not canonical base32 (the last character carries bits beyond the last byte)';
  const bits = Math.floor((t.length * 5) / 8) * 8;
  if (bits < TOTP_SECRET_MIN_BITS) return `is ${bits} bits (${t.length} base32 characters); at least ${TOTP_SECRET_MIN_BITS} bits (26 characters) are required, new secrets have 160 bits (${TOTP_SECRET_NEW_CHARS} characters)`;
  if (t.length > 128) return 'is longer than 128 base32 characters';
  return undefined;
}

/** Base32 secret check: {@link totpSecretProblem} finds nothing wrong. */
export function isBase32Secret(s: string): boolean {
  return totpSecretProblem(s) === undefined;
}

/** Normalises a base32 secret (upper case, no spaces/padding). */
export function normaliseBase32(s: string): string {
  return s.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase();
}

/** otpauth:// URL for authenticator apps. */
export function totpUri(issuer: string, label: string, secret: string): string {
  return generateURI({ issuer, label, secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD });
}

/** The otpauth URL as an SVG QR code. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * Checks a code at `nowMs` within ±1 step. Returns the matched time step, or undefined. Never throws for bad input.
 */
export async function matchTotp(secret: string, code: string, nowMs: number): Promise<number | undefined> {
  const token = typeof code === 'string' ? code.replace(/\s+/g, '') : '';
  if (!/^[0-9]{6}$/.test(token)) return undefined;
  try {
    const r = await verify({ secret, token, epoch: Math.floor(nowMs / 1000), epochTolerance: TOTP_PERIOD, period: TOTP_PERIOD, digits: TOTP_DIGITS, algorithm: 'sha1' });
    return r.valid && 'timeStep' in r ? r.timeStep : undefined;
  } catch {
    return undefined;
  }
}

/** The code for a secret at a time (tests, demos). */
export function totpCode(secret: string, nowMs: number = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD, digits: TOTP_DIGITS, algorithm: 'sha1' });
}
