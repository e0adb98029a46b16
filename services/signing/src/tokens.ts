/**
 * Bearer tokens from the kyso identity provider, checked by RFC 7662 introspection (the signing service is a
 * confidential client of the provider). Results are cached in process for at most `cacheMs` and never past the
 * token's expiry — a cache, not state: another instance simply introspects again.
 */
import { createHash } from 'node:crypto';
import { invalidToken } from './errors.js';

/** Who is calling, with what rights. */
export interface Caller {
  /** The citizen / officer: personal number. */
  subject: string;
  /** The calling service (OAuth client id). */
  clientId: string;
  scopes: Set<string>;
  /** Token expiry, seconds since the epoch. */
  exp: number;
  /** RFC 9396 authorization_details of the token (oauth2code credential tokens). */
  authorizationDetails?: unknown[];
  /** Hash of the token (binds a credential-scoped token's use). */
  tokenHash: string;
}

export interface TokenVerifier {
  /** Throws CscError invalid_token when the token is not active. */
  verify(token: string): Promise<Caller>;
}

interface Metadata { introspection_endpoint: string; userinfo_endpoint: string; token_endpoint: string; backchannel_authentication_endpoint?: string; jwks_uri: string }

const metadataCache = new Map<string, Promise<Metadata>>();
/** The provider's discovery document (cached per issuer). */
export function discover(issuer: string): Promise<Metadata> {
  let m = metadataCache.get(issuer);
  if (!m) {
    m = (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`identity provider discovery failed: HTTP ${res.status}`);
      return await res.json() as Metadata;
    })();
    m.catch(() => metadataCache.delete(issuer));
    metadataCache.set(issuer, m);
  }
  return m;
}

export function basicAuth(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

/** Introspection-based verifier. */
export class IntrospectionVerifier implements TokenVerifier {
  #cache = new Map<string, { caller: Caller; until: number }>();
  constructor(readonly opts: { issuer: string; clientId: string; clientSecret: string; cacheMs?: number; maxEntries?: number }) {}

  async verify(token: string): Promise<Caller> {
    if (!/^[\x21-\x7e]{8,4096}$/.test(token)) throw invalidToken('malformed bearer token');
    const tokenHash = createHash('sha256').update(token).digest('base64url');
    const now = Date.now();
    const hit = this.#cache.get(tokenHash);
    if (hit && hit.until > now) return hit.caller;
    const md = await discover(this.opts.issuer);
    const res = await fetch(md.introspection_endpoint, {
      method: 'POST',
      headers: { authorization: basicAuth(this.opts.clientId, this.opts.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
    if (!res.ok) throw new Error(`token introspection failed: HTTP ${res.status}`);
    const info = await res.json() as { active?: boolean; sub?: string; client_id?: string; scope?: string; exp?: number; token_type?: string; authorization_details?: unknown[] };
    if (!info.active) throw invalidToken('the access token is not active (expired, revoked or unknown)');
    if (info.token_type && info.token_type !== 'Bearer') throw invalidToken('not a bearer access token');
    if (!info.sub) throw invalidToken('the access token has no subject (a citizen or officer token is needed)');
    let subject = info.sub;
    if (!/^[0-9]{12}$/.test(subject)) {
      // pairwise subject: the personal number comes with the `citizen` scope through userinfo
      const ui = await fetch(md.userinfo_endpoint, { headers: { authorization: `Bearer ${token}` } });
      const claims = ui.ok ? await ui.json() as { personal_number?: string } : {};
      if (!claims.personal_number) throw invalidToken('the token names the citizen by a pairwise identifier and does not carry the citizen scope');
      subject = claims.personal_number;
    }
    const caller: Caller = {
      subject, clientId: info.client_id ?? '', scopes: new Set((info.scope ?? '').split(' ').filter(Boolean)), exp: info.exp ?? 0, tokenHash,
      ...(Array.isArray(info.authorization_details) ? { authorizationDetails: info.authorization_details } : {}),
    };
    const until = Math.min(now + (this.opts.cacheMs ?? 30_000), (caller.exp || 0) * 1000);
    if (until > now) {
      if (this.#cache.size >= (this.opts.maxEntries ?? 50_000)) this.#cache.clear();
      this.#cache.set(tokenHash, { caller, until });
    }
    return caller;
  }
}
