import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignerError } from '../errors.js';
import type { CmsState } from './two-step.js';

/**
 * Protect a two-step state that travels through untrusted hands (a phone, a browser, a queue):
 * the result is JSON `{ state, mac }` with an HMAC-SHA256 under a server-side secret, so that
 * nobody can swap the certificate or the signed attributes before {@link finalizeCms}.
 */
export function sealCmsState(state: CmsState, secret: Uint8Array): string {
  if (secret.length < 16) throw new SignerError('STATE_INVALID', 'state sealing secret must be at least 16 bytes');
  const body = JSON.stringify(state);
  const mac = createHmac('sha256', secret).update(body).digest('base64');
  return JSON.stringify({ state: body, mac });
}

/** Check and open a sealed state (STATE_INVALID if it was altered or sealed under another secret). */
export function unsealCmsState(sealed: string, secret: Uint8Array): CmsState {
  let outer: { state?: unknown; mac?: unknown };
  try { outer = JSON.parse(sealed) as { state?: unknown; mac?: unknown }; } catch { throw new SignerError('STATE_INVALID', 'sealed state is not JSON'); }
  if (typeof outer?.state !== 'string' || typeof outer.mac !== 'string') throw new SignerError('STATE_INVALID', 'sealed state lacks state or mac');
  const expected = createHmac('sha256', secret).update(outer.state).digest();
  const given = Buffer.from(outer.mac, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SignerError('STATE_INVALID', 'sealed state was altered or sealed with another secret');
  return JSON.parse(outer.state) as CmsState;
}
