/**
 * services/idp — the runnable identity provider: a koa shell around `createKysoIdp` (oidc-provider + pages),
 * with request ids, access logs without secrets, and the seed file.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createKysoIdp, createLogger, requestContext, IdpProtocolError, type CibaNotification, type IdpStorage, type KysoIdp, type Logger, type RateLimiter } from '@kyso/idp';
import { applySeedUsers, readSeed, parseSeed, type SeedFile } from './seed.js';

export { parseSeed, readSeed, applySeedUsers, type SeedFile };

export interface IdpServerOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  /** Default `http://127.0.0.1:<port>`. */
  issuer?: string;
  /** Seed file path or parsed seed. */
  seed?: string | SeedFile;
  storage: IdpStorage;
  proxy?: boolean;
  /**
   * Proxies in front that append to `X-Forwarded-For` (default `KYSO_IDP_PROXY_HOPS`, else 1 with `proxy`, else 0);
   * the client address is taken that many entries from the right, anything further left is ignored.
   */
  trustedProxyHops?: number;
  logger?: Logger;
  notifyCiba?: (n: CibaNotification) => void | Promise<void>;
  /** Separate (more lenient) limiter for per-address keys; see `KysoIdpOptions.ipRateLimiter`. */
  ipRateLimiter?: RateLimiter;
  /** Allow back-channel logout to loopback relying parties (tests, demos). */
  allowLoopbackFetch?: boolean;
  /** PEM trust anchors for outgoing HTTPS besides the system roots (see `KysoIdpOptions.outboundCa`). */
  outboundCa?: string[];
  /** How often to re-read the shared key set (rotation done by another process); default 30 s, 0 = never. */
  keyReloadMs?: number;
  /**
   * How often to drop retired signing keys whose tokens have all expired (any process may do it; concurrent
   * prunes are safe); default 1 h, 0 = never (then only `kyso idp keys rotate` prunes).
   */
  keyPruneMs?: number;
  /** Token lifetimes override (tests). */
  ttl?: Parameters<typeof createKysoIdp>[0]['ttl'];
}

export interface IdpServer {
  url: string;
  port: number;
  issuer: string;
  idp: KysoIdp;
  server: Server;
  close(): Promise<void>;
}

/** Starts the identity provider on `host:port` (127.0.0.1 by default). */
export async function createIdpServer(opts: IdpServerOptions): Promise<IdpServer> {
  const log = opts.logger ?? createLogger();
  const seed = typeof opts.seed === 'string' ? await readSeed(opts.seed) : opts.seed ? parseSeed(opts.seed) : undefined;
  if (seed) {
    const r = await applySeedUsers(opts.storage, seed);
    log.info({ clients: seed.clients.length, ...r }, 'seed loaded');
  }
  if (opts.issuer !== undefined) {
    let u: URL | undefined;
    try { u = new URL(opts.issuer); } catch { /* reported below */ }
    if (!u || !/^https?:$/.test(u.protocol) || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
      throw new IdpProtocolError('IDP_CONFIG_INVALID', `issuer must be an http(s) origin without path, query or fragment (e.g. https://id.example.vn), got '${opts.issuer}'`);
    }
  }
  const host = opts.host ?? '127.0.0.1';
  // The server accepts connections only once it can answer them: the request handler is attached before listening,
  // and the socket is bound after the provider is ready — except with port 0 and no issuer, where the issuer names
  // the port, so the port is bound first and requests arriving before the provider is ready wait for it.
  const server = createServer();
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const early: [IncomingMessage, ServerResponse][] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => { if (handle) handle(req, res); else early.push([req, res]); });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const listen = () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => { server.off('error', reject); resolve(); });
  });
  const bindFirst = opts.port === 0 && opts.issuer === undefined;
  if (bindFirst) await listen();
  const port = bindFirst ? (server.address() as AddressInfo).port : opts.port;
  const issuer = (opts.issuer ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(/\/+$/, '');
  const abandon = async () => {
    for (const [, res] of early.splice(0)) { res.statusCode = 503; res.end(); }
    if (server.listening) await new Promise((r) => server.close(r));
  };
  let idp: KysoIdp;
  try {
    idp = await createKysoIdp({
      issuer, storage: opts.storage, clients: seed?.clients ?? [], proxy: opts.proxy, ...(opts.trustedProxyHops !== undefined ? { trustedProxyHops: opts.trustedProxyHops } : {}), logger: log, allowLoopbackFetch: opts.allowLoopbackFetch ?? false, ...(opts.outboundCa ? { outboundCa: opts.outboundCa } : {}), ...(opts.ipRateLimiter ? { ipRateLimiter: opts.ipRateLimiter } : {}),
      ...(opts.notifyCiba ? { notifyCiba: opts.notifyCiba } : {}), ...(opts.ttl ? { ttl: opts.ttl } : {}),
    });
  } catch (e) {
    await abandon();
    throw e;
  }

  const app = new Koa();
  app.proxy = idp.provider.proxy;
  app.maxIpsCount = idp.provider.maxIpsCount;
  app.keys = idp.keys.cookieKeys();
  app.silent = true;
  const accessLog = log.level === 'debug' || log.level === 'trace';
  app.use(async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    ctx.res.setHeader('X-Request-Id', id);
    const start = process.hrtime.bigint();
    try {
      await requestContext.run({ reqId: id }, next);
    } finally {
      // path only: the query string carries codes, states and tokens
      if (accessLog) log.debug({ reqId: id, method: ctx.method, path: ctx.path, status: ctx.res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }, 'request');
    }
  });
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') { ctx.body = { status: 'ok' }; return; }
    await next();
  });
  app.use(idp.middleware);
  app.on('error', (err: Error) => log.error({ err: err.message }, 'koa error'));
  // fast path: protocol endpoints (token, introspection, userinfo, ...) skip the outer koa app, which only adds
  // the request id, the access log and the security headers — done here the same way
  const koaHandler = app.callback();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/healthz' || !path.startsWith('/') || !idp.isProtocolPath(path)) { void koaHandler(req, res); return; }
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    const start = accessLog ? process.hrtime.bigint() : 0n;
    requestContext.run({ reqId: id }, () => idp.handleProtocol(req, res)).catch((err: Error) => {
      log.error({ err: err.message }, 'protocol handler error');
      if (!res.headersSent) { res.statusCode = 500; res.end(); }
    }).finally(() => {
      if (accessLog) log.debug({ reqId: id, method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }, 'request');
    });
  };
  handle = handler;
  for (const [req, res] of early.splice(0)) handler(req, res);
  if (!bindFirst) {
    try { await listen(); } catch (e) {
      await idp.close();
      throw e;
    }
  }

  const reloadMs = opts.keyReloadMs ?? 30_000;
  const reloader = reloadMs > 0 ? setInterval(() => {
    idp.reloadKeys().catch((err: Error) => log.warn({ err: err.message }, 'key set reload failed'));
  }, reloadMs) : undefined;
  reloader?.unref();
  const pruneMs = opts.keyPruneMs ?? 3_600_000;
  const pruner = pruneMs > 0 ? setInterval(() => {
    idp.keys.pruneRetired().then((n) => { if (n) log.info({ removed: n }, 'retired signing keys removed from the JWKS'); },
      (err: Error) => log.warn({ err: err.message }, 'retired key pruning failed'));
  }, pruneMs) : undefined;
  pruner?.unref();
  log.info({ issuer }, 'identity provider listening');
  const boundPort = (server.address() as AddressInfo).port;
  return {
    url: issuer, port: boundPort, issuer, idp, server,
    async close() {
      if (reloader) clearInterval(reloader);
      if (pruner) clearInterval(pruner);
      await idp.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
