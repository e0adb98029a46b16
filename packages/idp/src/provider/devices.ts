/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): after a successful login the
 * browser gets a signed cookie naming the account. Password attempts from a browser holding a valid device cookie
 * for the account are throttled under that device's own key (`dev:`), while attempts from unknown browsers share
 * the per-account key (`acct:`). So an attacker who spreads wrong passwords over many addresses can block the
 * account for unknown browsers, but not the citizen at her own browser.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

const COOKIE = 'kyso.device';
/** Accounts remembered per browser (a shared family computer), newest kept. */
const MAX_ENTRIES = 5;
/** Lifetime of a device cookie entry. */
export const DEVICE_COOKIE_DAYS = 180;

interface Entry { accountId: string; nonce: string; issued: number; mac: string }

/** Issues and checks the signed device cookie. */
export class DeviceCookies {
  constructor(
    /** Signing keys, newest first (the provider's cookie keys: rotation keeps older cookies valid). */
    private readonly keys: () => string[],
    private readonly secure: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  private sign(key: string, accountId: string, nonce: string, issued: number): string {
    return createHmac('sha256', key).update(`kyso-device|${accountId}|${nonce}|${issued}`).digest('base64url').slice(0, 32);
  }

  private entries(ctx: Context): Entry[] {
    const raw = ctx.cookies.get(COOKIE) ?? '';
    if (raw.length > 1024) return [];
    const out: Entry[] = [];
    for (const part of raw.split('.')) {
      const m = /^([0-9]{12})_([A-Za-z0-9_-]{22})_([0-9]{1,12})_([A-Za-z0-9_-]{32})$/.exec(part);
      if (m) out.push({ accountId: m[1]!, nonce: m[2]!, issued: Number(m[3]), mac: m[4]! });
    }
    return out;
  }

  private valid(e: Entry): boolean {
    if (e.issued * 1000 + DEVICE_COOKIE_DAYS * 86_400_000 < this.now()) return false;
    const got = Buffer.from(e.mac);
    return this.keys().some((k) => {
      const want = Buffer.from(this.sign(k, e.accountId, e.nonce, e.issued));
      return want.length === got.length && timingSafeEqual(want, got);
    });
  }

  /** The device id (nonce) of this browser for `accountId`, when it holds a valid device cookie for it. */
  deviceFor(ctx: Context, accountId: string): string | undefined {
    const e = this.entries(ctx).find((x) => x.accountId === accountId && this.valid(x));
    return e?.nonce;
  }

  /** After a successful login: (re)issues this browser's device cookie entry for `accountId`. */
  remember(ctx: Context, accountId: string): void {
    const key = this.keys()[0];
    if (!key) return;
    const keep = this.entries(ctx).filter((x) => x.accountId !== accountId && this.valid(x)).slice(-(MAX_ENTRIES - 1));
    const nonce = this.deviceFor(ctx, accountId) ?? randomBytes(16).toString('base64url');
    const issued = Math.floor(this.now() / 1000);
    const entry = `${accountId}_${nonce}_${issued}_${this.sign(key, accountId, nonce, issued)}`;
    const value = [...keep.map((x) => `${x.accountId}_${x.nonce}_${x.issued}_${x.mac}`), entry].join('.');
    ctx.cookies.set(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/', maxAge: DEVICE_COOKIE_DAYS * 86_400_000, overwrite: true, signed: false });
  }
}
