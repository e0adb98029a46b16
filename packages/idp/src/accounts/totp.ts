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

/** Base32 secret check (RFC 4648 alphabet, at least 80 bits). */
export function isBase32Secret(s: string): boolean {
  const t = s.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase();
  return /^[A-Z2-7]+$/.test(t) && t.length >= 16 && t.length <= 128;
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
