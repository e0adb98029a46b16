/** Small HTTP helpers for the interaction pages: security headers, CSRF tokens, form bodies. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { IdpProtocolError } from './errors.js';

/** Headers on every response: no framing, no sniffing, no referrer leaks. */
export async function baseSecurityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.res.setHeader('X-Frame-Options', 'DENY');
  ctx.res.setHeader('X-Content-Type-Options', 'nosniff');
  ctx.res.setHeader('Referrer-Policy', 'no-referrer');
  ctx.res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  await next();
}

/** Sends one of kyso's own pages with a strict CSP (no script at all; one nonce-bound style block). */
export function sendPage(ctx: Context, status: number, render: (nonce: string) => string): void {
  const nonce = randomBytes(16).toString('base64');
  ctx.status = status;
  ctx.set('Content-Security-Policy',
    `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = render(nonce);
}

const CSRF_COOKIE = 'kyso.csrf';

/**
 * CSRF protection: a random HttpOnly SameSite=Lax cookie, and on each form a token that is the HMAC of that
 * cookie and the form's scope (e.g. the interaction uid). A cross-site page can neither read the cookie nor
 * compute the token.
 */
export class Csrf {
  constructor(private readonly secret: () => string, private readonly secure: boolean) {}

  private cookieValue(ctx: Context): string {
    let v = ctx.cookies.get(CSRF_COOKIE);
    if (!v || !/^[A-Za-z0-9_-]{43}$/.test(v)) {
      v = randomBytes(32).toString('base64url');
      ctx.cookies.set(CSRF_COOKIE, v, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/', overwrite: true });
    }
    return v;
  }

  private mac(cookie: string, scope: string, secret = this.secret()): string {
    return createHmac('sha256', secret).update(`${cookie}|${scope}`).digest('base64url');
  }

  /** Token to embed in a form bound to `scope`. */
  token(ctx: Context, scope: string): string {
    return this.mac(this.cookieValue(ctx), scope);
  }

  /** Throws IDP_CSRF_INVALID unless the submitted token matches (constant-time comparison). */
  verify(ctx: Context, scope: string, submitted: string | undefined): void {
    const cookie = ctx.cookies.get(CSRF_COOKIE);
    if (!cookie || !submitted) throw new IdpProtocolError('IDP_CSRF_INVALID', 'form token missing: reload the page and try again');
    const expected = Buffer.from(this.mac(cookie, scope));
    const got = Buffer.from(submitted);
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
      throw new IdpProtocolError('IDP_CSRF_INVALID', 'form token does not match: reload the page and try again');
    }
  }
}

/** Reads an application/x-www-form-urlencoded body (at most `limit` bytes). */
export async function readForm(ctx: Context, limit = 16 * 1024): Promise<Record<string, string>> {
  const type = ctx.get('content-type');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new IdpProtocolError('IDP_FORM_INVALID', 'expected an application/x-www-form-urlencoded form submission');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new IdpProtocolError('IDP_BODY_TOO_LARGE', `form body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

/** The trusted-hop count from `KYSO_IDP_PROXY_HOPS` (a whole number 0-10), or undefined when unset. */
export function proxyHopsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.KYSO_IDP_PROXY_HOPS;
  if (v === undefined || v === '') return undefined;
  if (!/^(?:[0-9]|10)$/.test(v)) throw new IdpProtocolError('IDP_CONFIG_INVALID', `KYSO_IDP_PROXY_HOPS must be a whole number of trusted proxies from 0 to 10, got '${v}'`);
  return Number(v);
}

function plainAddress(a: string): string {
  let t = a.trim();
  // some proxies write the client's port too: 203.0.113.7:51234, [2001:db8::1]:51234
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(t);
  const v6port = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(t);
  if (v4port) t = v4port[1]!;
  else if (v6port) t = v6port[1]!;
  return t.startsWith('::ffff:') && isIP(t.slice(7)) === 4 ? t.slice(7) : t;
}

/**
 * The client's address for rate limits and the audit. With `trustedHops` = 0 the peer of the TCP connection. With
 * N trusted proxies in front (each appending the address it saw to `X-Forwarded-For`), the client is the N-th
 * entry from the right: entries further left were written by the client itself and are ignored, so nobody can
 * choose their own rate-limit bucket or audit address. An entry that is not an IP address is not believed.
 */
export function clientAddress(req: { socket: { remoteAddress?: string | undefined }; headers: Record<string, string | string[] | undefined> }, trustedHops: number): string {
  const peer = plainAddress(req.socket.remoteAddress ?? '');
  if (trustedHops <= 0) return peer;
  const raw = req.headers['x-forwarded-for'];
  const list = (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (!list.length) return peer;
  const chosen = plainAddress(list[Math.max(0, list.length - trustedHops)]!);
  return isIP(chosen) ? chosen : peer;
}
