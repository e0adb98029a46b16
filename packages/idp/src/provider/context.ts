/** What the route modules share: current provider, storage, records, CSRF, logger. */
import type Provider from 'oidc-provider';
import type { Context } from 'koa';
import type { AuditEvent, IdpStorage } from '../contracts.js';
import type { Records } from './records.js';
import type { Csrf } from './web.js';
import type { Logger } from './logger.js';

/** A CIBA request to deliver to the citizen's phone. */
export interface CibaNotification {
  accountId: string;
  clientId: string;
  clientName: string;
  bindingMessage?: string;
  /** Page where the citizen approves with TOTP. */
  approvalUrl: string;
}

export interface RouteDeps {
  provider(): Provider;
  storage: IdpStorage;
  records: Records;
  csrf: Csrf;
  log: Logger;
  issuer: string;
  ttl: { consent: number; ciba: number; session: number };
  notifyCiba(n: CibaNotification): void | Promise<void>;
}

/** Appends an audit event; a failing audit store is logged, never shown to the user. */
export async function audit(deps: RouteDeps, ctx: Context | undefined, event: AuditEvent): Promise<void> {
  try {
    await deps.storage.audit.append({ ...event, ...(ctx ? { ip: ctx.ip } : {}) });
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
