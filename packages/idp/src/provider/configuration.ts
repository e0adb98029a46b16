/** oidc-provider configuration for kyso: features, PKCE, claims, acr step-up policy, TTLs, pages. */
import { createHmac } from 'node:crypto';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { interactionPolicy } from 'oidc-provider';
import { ACR_VALUES, levelOfAcr, requiredLevelOf } from './acr.js';
import { outboundFetch } from './outbound.js';
import { GrantActors, makeFindAccount, mintedAct, SCOPE_CLAIMS, SCOPES, type GuardianGuard, type SubjectNaming } from './claims.js';
import { guardianMayAct } from './guardians.js';
import { cibaFeature } from './ciba.js';
import { resourceIndicatorsFeature, richAuthorizationFeature } from './rar.js';
import { audit, type RouteDeps } from './context.js';
import type { KeySetManager } from './keys.js';
import { errorPage, loggedOutPage, logoutConfirmPage } from './pages.js';
import { sendPage } from './web.js';

/** Token and session lifetimes (seconds). */
export const DEFAULT_TTL = {
  AccessToken: 600,
  AuthorizationCode: 60,
  ClientCredentials: 600,
  IdToken: 3600,
  RefreshToken: 14 * 24 * 3600,
  Interaction: 3600,
  Session: 14 * 24 * 3600,
  Grant: 14 * 24 * 3600,
  BackchannelAuthenticationRequest: 600,
} as const;

/** Login prompt with kyso's ordered-acr step-up check added after the stock checks. */
export function buildPolicy() {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  // essential acr requests are compared by order (level2 satisfies level1), not by string equality
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(new Check('acr_step_up', 'a higher assurance level (acr) is required', 'login_required', (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    if (!oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
    const need = requiredLevelOf({ acr_values: oidc.params?.acr_values, claims: oidc.params?.claims });
    const have = levelOfAcr(oidc.session.acr as string | undefined);
    if (need > have && !oidc.result?.login) return Check.REQUEST_PROMPT;
    return Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

/** Pairwise subject: HMAC of the sector and the account under the shared secret salt. */
export function pairwiseSub(keys: KeySetManager, sector: string, accountId: string): string {
  return createHmac('sha256', keys.pairwiseSalt()).update(`${sector}|${accountId}`).digest('base64url');
}

/** Fills the defaults of a seeded client (code flow + refresh, secret → client_secret_basic, ES256). */
export function normalizeClient(c: ClientMetadata, pairwise = true): ClientMetadata {
  const out: ClientMetadata = { ...c };
  out.grant_types ??= ['authorization_code', 'refresh_token'];
  const codeFlow = (out.grant_types as string[]).includes('authorization_code');
  out.response_types ??= codeFlow ? ['code'] : [];
  out.redirect_uris ??= [];
  out.token_endpoint_auth_method ??= c.client_secret ? 'client_secret_basic' : 'none';
  out.id_token_signed_response_alg ??= 'ES256';
  // pairwise `sub` where oidc-provider can derive the sector without a sector_identifier_uri
  const grants = out.grant_types as string[];
  const hosts = new Set((out.redirect_uris as string[]).map((u) => { try { return new URL(u).host; } catch { return u; } }));
  const eligible = !grants.some((g) => g.endsWith(':ciba') || g.endsWith(':device_code')) && hosts.size <= 1;
  out.subject_type ??= pairwise && eligible ? 'pairwise' : 'public';
  return out;
}

export function buildConfiguration(opts: {
  deps: RouteDeps;
  keys: KeySetManager;
  clients: ClientMetadata[];
  ttl?: Partial<Record<keyof typeof DEFAULT_TTL, number>>;
  pairwise: boolean;
  /** Allow back-channel logout / CIBA ping to loopback addresses (tests, demos); SSRF protection stays for others. */
  allowLoopbackFetch?: boolean;
  /** PEM trust anchors for outgoing HTTPS besides the system roots. */
  outboundCa?: string[];
}): Configuration {
  const { deps, keys } = opts;
  const ttl = { ...DEFAULT_TTL, ...opts.ttl };
  const actors = new GrantActors(deps.records, (client, guardianId) =>
    client?.subjectType === 'pairwise' ? pairwiseSub(keys, String(client.sectorIdentifier ?? ''), guardianId) : guardianId);
  const guard = guardianGuard(deps);
  /** Introspection: a token issued while a guardian acted is active only while the guardian may still act. */
  const actingTokenValid = async (ctx: KoaContextWithOIDC, token: { kind?: string; grantId?: string; accountId?: string; extra?: unknown }) => {
    if (!token.grantId || !token.accountId) return true;
    if (token.kind === 'AccessToken' && !mintedAct(token)) return true;
    const actor = await actors.actorOf(ctx, token.grantId);
    if (!actor) return token.kind !== 'AccessToken';
    return guard.mayAct(ctx, actor, token.accountId);
  };
  return {
    adapter: deps.storage.Adapter,
    clients: opts.clients.map((c) => normalizeClient(c, opts.pairwise)),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    jwks: keys.providerJwks() as never,
    cookies: {
      keys: keys.cookieKeys(),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: makeFindAccount(deps.storage, actors, guard) as never,
    // an access token given under a guardian's grant carries the `act` claim it was minted with (RFC 8693):
    // introspection shows it, and userinfo answers without reading the actor record again
    async extraTokenClaims(ctx, token) {
      const t = token as unknown as { kind: string; grantId?: string; clientId?: string; scope?: string };
      if (t.kind !== 'AccessToken' || !t.grantId) return undefined;
      const actor = await actors.actorOf(ctx, t.grantId);
      if (!actor) return undefined;
      const client = ctx?.oidc?.client?.clientId === t.clientId ? ctx.oidc.client : t.clientId ? await deps.provider().Client.find(t.clientId) : undefined;
      return { act: actors.claim(actor, client as SubjectNaming | undefined, t.scope ?? '') };
    },
    claims: { sid: null, iss: null, ...SCOPE_CLAIMS },
    scopes: SCOPES,
    acrValues: [...ACR_VALUES],
    subjectTypes: ['public', 'pairwise'],
    async pairwiseIdentifier(_ctx, accountId, client) {
      return pairwiseSub(keys, String(client.sectorIdentifier ?? ''), accountId);
    },
    pkce: { required: () => true },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'PS256', 'RS256'],
    },
    responseTypes: ['code'],
    // outgoing requests (back-channel logout, CIBA ping, client fetches) never reach special-use addresses
    // (loopback can be allowed for demos); extra trust anchors for relying parties on a private PKI
    fetch: outboundFetch({ allowLoopback: opts.allowLoopbackFetch ?? false, ...(opts.outboundCa ? { ca: opts.outboundCa } : {}) }) as never,
    rotateRefreshToken: true,
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const accountId = oidc.session!.accountId as string;
      const clientId = oidc.client!.clientId;
      const uid = (oidc.session as unknown as { uid?: string }).uid;
      // who acts in this session: decided by a fresh login (its result says whether a guardian chose to act), else
      // kept for the session; findAccount has already refused a session whose guardian may no longer act
      const result = oidc.result as { login?: unknown; kyso?: { guardianId?: string } } | undefined;
      let guardianId: string | undefined;
      if (result?.login) {
        guardianId = result.kyso?.guardianId;
        if (uid) {
          if (guardianId) await deps.records.putActing(`sid:${uid}`, { guardianId, minorId: accountId }, deps.ttl.session);
          else await deps.records.deleteActing(`sid:${uid}`);
        }
      } else if (uid) {
        const acting = await deps.records.getActing(`sid:${uid}`);
        guardianId = acting && acting.minorId === accountId ? acting.guardianId : undefined;
        // single sign-on reuse while acting (the link was checked by findAccount): audited with the guardian named
        if (guardianId) await audit(deps, ctx as never, { type: 'guardian.acting', accountId, clientId, detail: { actor: guardianId, where: 'sso' } });
      }
      // a guardian's consent for the minor and the minor's own are separate records: never one for the other
      const candidates = [oidc.result?.consent?.grantId as string | undefined, oidc.session!.grantIdFor(clientId)];
      if (!candidates.some(Boolean)) {
        candidates.push(guardianId
          ? (await deps.records.getGuardianConsent(guardianId, accountId, clientId))?.grantId
          : (await deps.records.getConsent(accountId, clientId))?.grantId);
      }
      for (const grantId of candidates) {
        if (!grantId) continue;
        const [grant, actor] = await Promise.all([oidc.provider.Grant.find(grantId), deps.records.getActor(grantId)]);
        if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) continue;
        if (guardianId ? actor?.guardianId !== guardianId : !!actor) continue;
        return grant;
      }
      return undefined;
    },
    interactions: {
      policy: buildPolicy(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      // a client may introspect/revoke its own tokens; confidential service clients (client_credentials,
      // i.e. resource servers) may introspect any token presented to them
      introspection: {
        enabled: true,
        async allowedPolicy(ctx: KoaContextWithOIDC, client: { clientId: string; clientAuthMethod: string; grantTypeAllowed(g: string): boolean }, token: { clientId?: string; kind?: string; grantId?: string; accountId?: string; extra?: unknown }) {
          const mayIntrospect = token.clientId === client.clientId || (client.clientAuthMethod !== 'none' && client.grantTypeAllowed('client_credentials'));
          // false answers `active: false`
          return mayIntrospect && actingTokenValid(ctx, token);
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }) {
          return token.clientId === client.clientId;
        },
      },
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      backchannelLogout: { enabled: true },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          sendPage(ctx as never, 200, (nonce) => logoutConfirmPage({ nonce, form }));
        },
        async postLogoutSuccessSource(ctx) {
          sendPage(ctx as never, 200, (nonce) => loggedOutPage({ nonce }));
        },
      },
      ciba: cibaFeature(deps) as never,
      // CSC `oauth2code`: tokens for exactly these document digests with this credential (RFC 9396)
      richAuthorizationRequests: richAuthorizationFeature() as never,
      resourceIndicators: resourceIndicatorsFeature() as never,
    },
    async renderError(ctx, out) {
      sendPage(ctx as never, ctx.status >= 400 ? ctx.status : 400, (nonce) => errorPage({
        nonce, title: ['Yêu cầu không hợp lệ', 'Invalid request'], code: String(out.error), detail: out.error_description as string | undefined,
      }));
    },
    ttl: ttl as never,
    allowOmittingSingleRegisteredRedirectUri: false,
  } as Configuration;
}

/** The guardian checks of `findAccount`: the link as it stands now, refusals audited with the guardian named. */
function guardianGuard(deps: RouteDeps): GuardianGuard {
  const refuse = async (ctx: KoaContextWithOIDC, guardianId: string, minorId: string, where: string) => {
    await audit(deps, undefined, { type: 'guardian.refused', accountId: minorId, ...(ctx.oidc?.client ? { clientId: ctx.oidc.client.clientId } : {}), detail: { actor: guardianId, where } });
    return false;
  };
  return {
    async mayAct(ctx, actor, minorId) {
      if (actor.minorId && actor.minorId !== minorId) return refuse(ctx, actor.guardianId, minorId, String(ctx.oidc?.route ?? ''));
      return (await guardianMayAct(deps.storage.accounts, actor.guardianId, minorId)) ? true : refuse(ctx, actor.guardianId, minorId, String(ctx.oidc?.route ?? ''));
    },
    released(ctx, actor, minorId, use) {
      void audit(deps, undefined, { type: 'guardian.token', accountId: minorId, ...(ctx.oidc?.client ? { clientId: ctx.oidc.client.clientId } : {}), detail: { actor: actor.guardianId, use } });
    },
    async sessionMayAct(ctx, accountId) {
      if ((ctx.oidc?.result as { login?: unknown } | undefined)?.login) return true; // a fresh login decides anew
      const uid = (ctx.oidc!.session as unknown as { uid: string }).uid;
      const acting = await deps.records.getActing(`sid:${uid}`);
      if (!acting || acting.minorId !== accountId) return true;
      return (await guardianMayAct(deps.storage.accounts, acting.guardianId, accountId)) ? true : refuse(ctx, acting.guardianId, accountId, 'session');
    },
  };
}

/** Hooks audit events and error logging onto a provider instance. */
export function attachProviderEvents(provider: import('oidc-provider').default, deps: RouteDeps): void {
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc?.session?.accountId as string | undefined;
    void audit(deps, ctx as never, { type: 'logout', ...(accountId ? { accountId } : {}), ...(ctx.oidc?.client ? { clientId: ctx.oidc.client.clientId } : {}) });
  });
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc?.session as unknown as { accountId?: string; uid?: string; loginTs?: number; acr?: string; authorizations?: Record<string, unknown> } | undefined;
    if (!session?.accountId || !session.uid) return;
    void deps.records.touchSession(session.accountId, {
      uid: session.uid, loginTs: session.loginTs, acr: session.acr, clients: Object.keys(session.authorizations ?? {}), lastSeen: Math.floor(Date.now() / 1000),
    }, deps.ttl.session).catch((err: Error) => deps.log.warn({ err: err.message }, 'session index update failed'));
  });
  // tokens issued while a guardian acts: audited with the guardian named (the actor was read for this request)
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const actor = GrantActors.seen(ctx);
    if (!actor) return;
    const accountId = (ctx.oidc?.entities?.Grant as { accountId?: string } | undefined)?.accountId;
    void audit(deps, ctx as never, { type: 'guardian.token', ...(accountId ? { accountId } : {}), ...(ctx.oidc?.client ? { clientId: ctx.oidc.client.clientId } : {}), detail: { actor: actor.guardianId, grant_type: String(ctx.oidc?.params?.grant_type ?? '') } });
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => deps.log.error({ err: err.message }, 'oidc-provider server_error'));
  provider.on('backchannel.error', (_ctx: unknown, err: Error, client: { clientId: string }) => deps.log.warn({ err: err.message, clientId: client.clientId }, 'back-channel logout delivery failed'));
}
