/** What the route modules share: current provider, storage, records, CSRF, logger. */
import type Provider from 'oidc-provider';
import type { Context } from 'koa';
import type { AuditEvent, IdpStorage, RateLimiter } from '../contracts.js';
import type { Records } from './records.js';
import type { Csrf } from './web.js';
import type { Logger } from './logger.js';

/** A CIBA request to deliver to the citizen's phone. */
export interface CibaNotification {
  accountId: string;
  clientId: string;
  clientName: string;
  bindingMessage?: string;
  /** The CIBA request's auth_req_id (as the client knows it), to link the client's own pages to this approval. */
  authReqId: string;
  /** The client's `request_context` (CIBA), as sent: the notifier may turn it into a details link. */
  requestContext?: string;
  /** Page where the citizen approves with TOTP. */
  approvalUrl: string;
}

/**
 * What the deployment's notifier may answer: a page of the requesting service with the details of the request
 * (e.g. the signing service's documents and digests), linked from the approval page. Only the notifier decides
 * this (it is deployment configuration), never the client.
 */
export interface CibaDelivery { detailsUrl?: string }

export interface RouteDeps {
  provider(): Provider;
  storage: IdpStorage;
  /** Rate limiter used by the pages (`ip:` keys may go to a separate, more lenient limiter). */
  limiter: RateLimiter;
  records: Records;
  csrf: Csrf;
  log: Logger;
  issuer: string;
  ttl: { consent: number; ciba: number; session: number };
  notifyCiba(n: CibaNotification): void | CibaDelivery | Promise<void | CibaDelivery>;
  /** The client's address (rate limits, audit), from `X-Forwarded-For` only as far as the trusted proxy hops go. */
  clientIp(ctx: Context): string;
  /** Signs and checks device cookies (browsers where an account logged in before). */
  devices: import('./devices.js').DeviceCookies;
}

/** Appends an audit event; a failing audit store is logged, never shown to the user. */
export async function audit(deps: RouteDeps, ctx: Context | undefined, event: AuditEvent): Promise<void> {
  try {
    await deps.storage.audit.append({ ...event, ...(ctx ? { ip: deps.clientIp(ctx) } : {}) });
  } catch (err) {
    deps.log.error({ err: (err as Error).message, type: event.type }, 'audit append failed');
  }
}

/** Revokes every token and code issued under a grant, then the grant itself. */
export async function revokeGrant(deps: RouteDeps, grantId: string): Promise<void> {
  for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'BackchannelAuthenticationRequest', 'DeviceCode']) {
    await new deps.storage.Adapter(model).revokeByGrantId(grantId);
  }
  const grant = await deps.provider().Grant.find(grantId);
  if (grant) await grant.destroy();
}

/**
 * Routes `ip:` keys to `ipLimiter` and every other key to `main`: many citizens can share one address
 * (carrier-grade NAT), so the per-address policy should be more lenient than the per-account one.
 */
export function splitLimiter(main: RateLimiter, ipLimiter?: RateLimiter): RateLimiter {
  if (!ipLimiter || ipLimiter === main) return main;
  const part = (keys: string[]) => [keys.filter((k) => k.startsWith('ip:')), keys.filter((k) => !k.startsWith('ip:'))] as const;
  return {
    async check(keys) {
      const [ip, other] = part(keys);
      const [a, b] = await Promise.all([ipLimiter.check(ip), main.check(other)]);
      return { allowed: a.allowed && b.allowed, retryAfterSeconds: Math.max(a.retryAfterSeconds, b.retryAfterSeconds) };
    },
    async recordFailure(keys) {
      const [ip, other] = part(keys);
      await Promise.all([ipLimiter.recordFailure(ip), main.recordFailure(other)]);
    },
    async recordSuccess(keys) {
      const [ip, other] = part(keys);
      await Promise.all([ipLimiter.recordSuccess(ip), main.recordSuccess(other)]);
    },
  };
}
