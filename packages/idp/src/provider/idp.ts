/**
 * `createKysoIdp`: oidc-provider + kyso's pages as one koa middleware, with key rotation.
 */
import type { Context, Next } from 'koa';
import Provider, { type ClientMetadata } from 'oidc-provider';
import type { IdpStorage, RateLimiter } from '../contracts.js';
import { accountRoutes } from './account.js';
import { cibaRoutes } from './ciba.js';
import { attachProviderEvents, buildConfiguration, DEFAULT_TTL } from './configuration.js';
import { splitLimiter, type CibaDelivery, type CibaNotification, type RouteDeps } from './context.js';
import { interactionRoutes, pageErrorHandler } from './interactions.js';
import { KeySetManager, type KeySetRecord, type KeySetStore } from './keys.js';
import { createLogger, type Logger } from './logger.js';
import { Records } from './records.js';
import { trimOidcErrorCaptures } from './error-stacks.js';
import { IdpProtocolError } from './errors.js';
import { baseSecurityHeaders, clientAddress, Csrf, proxyHopsFromEnv } from './web.js';
import { DeviceCookies } from './devices.js';
import { hasVersionedUpsert } from '../storage/memory-adapter.js';

export interface KysoIdpOptions {
  /** Issuer URL, e.g. `http://127.0.0.1:4000` (no trailing slash). */
  issuer: string;
  storage: IdpStorage;
  /** Static relying parties (seed); others are looked up through the storage adapter (`Client`). */
  clients?: ClientMetadata[];
  /** Key set; default: shared through the storage adapter (`KysoKeySet`), created on first start. */
  keys?: KeySetManager;
  /** Trust X-Forwarded-Proto/Host (behind a load balancer); alone, it also trusts one `X-Forwarded-For` hop. */
  proxy?: boolean;
  /**
   * How many proxies in front of the service append to `X-Forwarded-For` (default: `KYSO_IDP_PROXY_HOPS`, else 1
   * with `proxy`, else 0). The client address is the entry that many places from the right; entries further left
   * are the client's own words and are ignored (rate limits, audit).
   */
  trustedProxyHops?: number;
  /** Pairwise `sub` per service (default true); the personal number is released only with the `citizen` scope. */
  pairwise?: boolean;
  logger?: Logger;
  ttl?: Partial<Record<keyof typeof DEFAULT_TTL, number>>;
  /**
   * Limiter for per-address (`ip:`) keys; default: the storage's limiter (same policy as accounts). Give a
   * more lenient one (higher threshold) when many citizens share addresses (carrier-grade NAT).
   */
  ipRateLimiter?: RateLimiter;
  /** Let back-channel logout reach loopback relying parties (tests/demos only; default false). */
  allowLoopbackFetch?: boolean;
  /**
   * PEM certificates trusted for outgoing HTTPS (back-channel logout, CIBA ping) besides the system roots, e.g.
   * the private root CA of a government network. Special-use addresses stay refused.
   */
  outboundCa?: string[];
  /** Delivers a CIBA approval request to the citizen's phone (default: logged without secrets). */
  notifyCiba?: (n: CibaNotification) => void | CibaDelivery | Promise<void | CibaDelivery>;
}

/** A running kyso identity provider (protocol + pages), to mount in a koa app. */
export interface KysoIdp {
  /** Koa middleware serving pages and every OIDC endpoint. */
  middleware: (ctx: Context, next: Next) => Promise<void>;
  /**
   * The protocol endpoints without koa around them, for a server's fast path: true when `path` is not one of
   * kyso's pages (`/interaction/`, `/account`, `/ciba/`), i.e. what {@link middleware} hands to oidc-provider.
   */
  isProtocolPath(path: string): boolean;
  /** Serves a protocol request (not a page) straight from node's http objects, with the base security headers. */
  handleProtocol(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void>;
  /** The current oidc-provider instance (replaced when keys rotate). */
  readonly provider: Provider;
  keys: KeySetManager;
  /**
   * Rotates signing keys: publishes new keys (not yet used), waits `publishDelayMs` (relying parties'
   * JWKS cache time), then makes them primary. The old keys stay published until their tokens expire.
   */
  rotateKeys(opts?: { publishDelayMs?: number }): Promise<void>;
  /** Adds a new cookie-signing key; older cookies keep verifying. */
  rotateCookieKeys(): Promise<void>;
  /** Re-reads keys changed by another process (done at once on a change notice; call it to poll). */
  reloadKeys(): Promise<boolean>;
  /** Stops watching for key changes made by other processes. */
  close(): Promise<void>;
}

/** Key set stored through the storage adapter, so every process sharing Redis uses the same keys. */
export function adapterKeySetStore(records: Records, notices?: IdpStorage['notices']): KeySetStore {
  // no expiry: losing the record would mean new keys and a new pairwise salt (every citizen's `sub` would change)
  const a = records.keySet;
  return {
    async load() { return (await a.find('current')) as KeySetRecord | undefined; },
    async save(r) { await a.upsert('current', r as unknown as Record<string, unknown>, undefined as unknown as number); },
    ...(hasVersionedUpsert(a) ? { saveIf: (r: KeySetRecord, expected: string | undefined) => a.upsertIfVersion('current', r as unknown as Record<string, unknown>, undefined, expected) } : {}),
    ...(notices ? { async announce() { await notices.announce(KEY_NOTICE); } } : {}),
  };
}

/** Notice topic of key-set changes. */
const KEY_NOTICE = 'keys';

/**
 * The signing and cookie keys shared by every process on `storage` (what {@link createKysoIdp} uses), e.g. to
 * rotate them from the command line. Changes are announced to the running processes.
 */
export function openSharedKeySet(storage: IdpStorage, ttl: Partial<Record<keyof typeof DEFAULT_TTL, number>> = {}): Promise<KeySetManager> {
  const t = { ...DEFAULT_TTL, ...ttl };
  return KeySetManager.open({ store: adapterKeySetStore(new Records(storage), storage.notices), maxTokenLifetimeSeconds: Math.max(t.IdToken, t.AccessToken) });
}

/** Builds the identity provider. */
export async function createKysoIdp(opts: KysoIdpOptions): Promise<KysoIdp> {
  trimOidcErrorCaptures();
  const issuer = opts.issuer.replace(/\/+$/, '');
  const log = opts.logger ?? createLogger();
  const records = new Records(opts.storage);
  const ttl = { ...DEFAULT_TTL, ...opts.ttl };
  const keys = opts.keys ?? await openSharedKeySet(opts.storage, ttl);
  const secure = issuer.startsWith('https:');
  const hops = opts.trustedProxyHops ?? proxyHopsFromEnv() ?? (opts.proxy ? 1 : 0);
  if (!Number.isInteger(hops) || hops < 0 || hops > 10) throw new IdpProtocolError('IDP_CONFIG_INVALID', `trustedProxyHops must be a whole number from 0 to 10, got ${hops}`);
  let provider!: Provider;
  let callback!: ReturnType<Provider['callback']>;

  const deps: RouteDeps = {
    provider: () => provider,
    storage: opts.storage,
    limiter: splitLimiter(opts.storage.rateLimiter, opts.ipRateLimiter),
    records,
    csrf: new Csrf(() => keys.cookieKeys()[0]!, secure),
    log,
    issuer,
    ttl: { consent: ttl.Grant, ciba: ttl.BackchannelAuthenticationRequest, session: ttl.Session },
    notifyCiba: opts.notifyCiba ?? ((n) => log.info({ accountId: n.accountId, clientId: n.clientId }, 'CIBA request waiting for approval')),
    clientIp: (ctx) => clientAddress(ctx.req, hops),
    devices: new DeviceCookies(() => keys.cookieKeys(), secure),
  };

  const build = () => {
    const p = new Provider(issuer, buildConfiguration({ deps, keys, clients: opts.clients ?? [], ttl: opts.ttl, pairwise: opts.pairwise ?? true, allowLoopbackFetch: opts.allowLoopbackFetch ?? false, ...(opts.outboundCa ? { outboundCa: opts.outboundCa } : {}) }));
    p.proxy = (opts.proxy ?? false) || hops > 0;
    p.maxIpsCount = hops;
    attachProviderEvents(p, deps);
    provider = p;
    callback = p.callback();
  };
  build();
  keys.onChange(build);
  // another process rotated keys: re-read them now, not at the next poll
  const unwatch = opts.keys ? async () => {} : await opts.storage.notices.watch(KEY_NOTICE, () => {
    keys.reload().catch((err: Error) => log.warn({ err: err.message }, 'key set reload after a change notice failed'));
  });

  const routers = [interactionRoutes(deps), accountRoutes(deps), cibaRoutes(deps)];
  const pageMiddleware = [pageErrorHandler(deps), ...routers.map((r) => r.routes()), ...routers.map((r) => r.allowedMethods())];
  const isPage = (path: string) => path.startsWith('/interaction/') || path === '/account' || path.startsWith('/account/') || path.startsWith('/ciba/');

  const compose = async (ctx: Context, i: number): Promise<void> => {
    const mw = pageMiddleware[i];
    if (!mw) return;
    await (mw as (c: Context, n: Next) => Promise<void>)(ctx, () => compose(ctx, i + 1));
  };

  return {
    middleware: async (ctx, next) => {
      await baseSecurityHeaders(ctx, async () => {
        if (isPage(ctx.path)) {
          await compose(ctx, 0);
          if (ctx.status === 404 && !ctx.body) await next();
          return;
        }
        ctx.respond = false;
        await callback(ctx.req, ctx.res);
      });
    },
    isProtocolPath: (path) => !isPage(path),
    async handleProtocol(req, res) {
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
      await callback(req, res);
    },
    get provider() { return provider; },
    keys,
    async rotateKeys(o = {}) {
      await keys.addPending();
      if (o.publishDelayMs) await new Promise((r) => setTimeout(r, o.publishDelayMs));
      await keys.promote();
    },
    async rotateCookieKeys() { await keys.rotateCookieKeys(); },
    reloadKeys: () => keys.reload(),
    close: () => unwatch(),
  };
}
