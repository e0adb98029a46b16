/**
 * The koa shell: `/csc/v2/*` (JSON in, JSON out, CSC/OAuth error bodies), `GET /healthz`, request ids, access
 * logs without secrets, rate limits, idempotency keys on signing calls, 503 + Retry-After while the shared store
 * is unreachable, and a drain switch for graceful shutdown.
 */
import { createHash, randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { Logger } from 'pino';
import { CscError, StoreUnavailable, invalidRequest, invalidToken } from './errors.js';
import { approvalIndexPage, approvalPage } from './phone.js';
import type { SigningService } from './service.js';
import type { SigningStore } from './store.js';
import type { Caller, TokenVerifier } from './tokens.js';

export interface RateLimits {
  /** Signing calls (signHash, signDoc) per subject per second [200]. */
  signPerSecond: number;
  /** authorize calls per subject per minute [20]. */
  authorizePerMinute: number;
  /** Any call per client address per second [1000]. */
  perAddressPerSecond: number;
}
export const DEFAULT_LIMITS: RateLimits = { signPerSecond: 200, authorizePerMinute: 20, perAddressPerSecond: 1000 };

export interface AppOptions {
  service: SigningService;
  store: SigningStore;
  tokens: TokenVerifier;
  log: Logger;
  limits?: Partial<RateLimits>;
  /** Idempotency records live this long [24 h]. */
  idempotencyTtlMs?: number;
  /** Seconds told to retry after while the store is down [2]. */
  retryAfterSeconds?: number;
  /** Largest JSON body (signDoc carries documents) [64 MiB]. */
  maxBody?: number;
}

/** State shared with the server for graceful shutdown. */
export interface AppControl { inFlight: number; draining: boolean; idle(): Promise<void> }

async function readForm(ctx: Koa.Context): Promise<{ raw: string }> {
  if (!/^application\/x-www-form-urlencoded/i.test(ctx.get('content-type'))) throw new CscError(415, 'invalid_request', 'a form is expected');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req) {
    size += (c as Buffer).length;
    if (size > 4096) throw new CscError(413, 'invalid_request', 'form too large');
    chunks.push(c as Buffer);
  }
  return { raw: Buffer.concat(chunks).toString('utf8') };
}

/** The request body, at most `max` bytes (a larger one is refused: 413, and the connection closes). */
function readBody(ctx: Koa.Context, max: number): Promise<Buffer> {
  const req = ctx.req;
  if (req.destroyed) return Promise.reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (e?: unknown, body?: Buffer) => {
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (e) reject(e); else resolve(body!);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      // the rest is not read: the 413 goes out and the connection closes
      if (size > max) { req.pause(); done(new CscError(413, 'invalid_request', `request body larger than ${max} bytes`, { Connection: 'close' })); return; }
      chunks.push(c);
    };
    const onEnd = () => done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onClose = () => { if (!req.complete) done(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })); };
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

async function readJson(ctx: Koa.Context, max: number): Promise<{ raw: Buffer; body: Record<string, unknown> }> {
  const raw = await readBody(ctx, max);
  if (raw.length === 0) return { raw, body: {} };
  if (!/json/i.test(ctx.get('content-type') || 'application/json')) throw invalidRequest('the body must be application/json');
  let body: unknown;
  try { body = JSON.parse(raw.toString('utf8')); } catch { throw invalidRequest('the body is not valid JSON'); }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('the body must be a JSON object');
  return { raw, body: body as Record<string, unknown> };
}

export function createSigningApp(opts: AppOptions): { app: Koa; control: AppControl } {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const retryAfter = String(opts.retryAfterSeconds ?? 2);
  const idemTtl = opts.idempotencyTtlMs ?? 24 * 3600_000;
  const maxBody = opts.maxBody ?? 64 * 1024 * 1024;
  const { service, store, tokens, log } = opts;
  let waiters: (() => void)[] = [];
  const control: AppControl = {
    inFlight: 0, draining: false,
    idle: () => (control.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
  const app = new Koa();
  app.silent = true;

  const ops: Record<string, (c: Caller, b: Record<string, unknown>, id: string) => Promise<unknown>> = {
    'credentials/list': (c, b) => service.list(c, b),
    'credentials/info': (c, b) => service.credentialInfo(c, b),
    'credentials/authorize': (c, b, id) => service.authorize(c, b, id),
    'credentials/extendTransaction': (c, b, id) => service.extendTransaction(c, b, id),
    'signatures/signHash': (c, b, id) => service.signHash(c, b, id),
    'signatures/signDoc': (c, b, id) => service.signDoc(c, b, id),
  };

  const limit = async (key: string, windowMs: number, max: number) => {
    const n = await store.rateHit(key, windowMs);
    if (n > max) throw new CscError(429, 'too_many_requests', 'rate limit exceeded, retry later', { 'Retry-After': String(Math.max(1, Math.ceil(windowMs / 1000))) });
  };

  app.use(async (ctx, next) => {
    control.inFlight++;
    const requestId = (ctx.get('x-request-id').replace(/[^A-Za-z0-9._-]/g, '') || randomUUID()).slice(0, 64);
    ctx.state.requestId = requestId;
    const started = process.hrtime.bigint();
    ctx.set('X-Request-Id', requestId);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (control.draining) ctx.set('Connection', 'close');
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new CscError(404, 'invalid_request', `no such endpoint: ${ctx.method} ${ctx.path}`);
    } catch (e) {
      let err: CscError;
      if (e instanceof CscError) err = e;
      else if (e instanceof StoreUnavailable) err = new CscError(503, 'temporarily_unavailable', 'the signing service state store is unreachable; retry later', { 'Retry-After': retryAfter });
      else if (ctx.req.destroyed && (!ctx.req.complete || (e as { code?: string }).code === 'ECONNRESET')) {
        // the client went away while sending its request (nothing was read, nothing was signed): not a server fault
        log.debug({ reqId: requestId }, 'client closed the connection before sending the whole request');
        err = new CscError(400, 'invalid_request', 'the request was not received completely');
      } else {
        log.error({ reqId: requestId, err: (e as Error).message }, 'request failed');
        err = new CscError(500, 'server_error', `internal error (request id ${requestId})`);
      }
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.body = { error: err.error, error_description: err.description };
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (ctx.status >= 500 || log.isLevelEnabled('debug')) log[ctx.status >= 500 ? 'warn' : 'debug']({ reqId: requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
      if (--control.inFlight === 0 && waiters.length) { const w = waiters; waiters = []; w.forEach((f) => f()); }
    }
  });

  app.use(async (ctx) => {
    if (ctx.path === '/healthz' && ctx.method === 'GET') {
      const ok = await store.ping();
      ctx.status = ok && !control.draining ? 200 : 503;
      if (!ok) ctx.set('Retry-After', retryAfter);
      ctx.body = { status: ok && !control.draining ? 'ok' : control.draining ? 'draining' : 'unavailable' };
      return;
    }
    if (ctx.path === '/' && ctx.method === 'GET') {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'kyso remote signing service — CSC API v2 at /csc/v2/ (info, credentials/list|info|authorize|extendTransaction, signatures/signHash|signDoc)\n';
      return;
    }
    if ((ctx.path === '/approve' || ctx.path === '/approve/') && ctx.method === 'GET') {
      ctx.set({ 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'", 'Referrer-Policy': 'no-referrer' });
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = approvalIndexPage(`${service.opts.oauth2Issuer.replace(/\/$/, '')}/account`);
      return;
    }
    const phone = /^\/approve\/([^/]{1,100})$/.exec(ctx.path);
    if (phone) {
      // the citizen's phone page (HTML, no script); the reference in the path must not leak through Referer
      ctx.set({
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY',
      });
      ctx.type = 'text/html; charset=utf-8';
      const ref = phone[1]!;
      if (ctx.method === 'POST') {
        const { raw } = await readForm(ctx);
        if (new URLSearchParams(raw).get('decision') === 'refuse') {
          await service.phone.refuse(ref);
        }
        ctx.redirect(`/approve/${encodeURIComponent(ref)}`);
        ctx.status = 303;
        return;
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new CscError(405, 'invalid_request', 'use GET or POST');
      const rec = await service.phone.get(ref);
      const out = approvalPage(rec, rec ? await service.phone.approvalUrl(rec) : undefined, ref);
      ctx.status = out.status;
      ctx.body = out.html;
      return;
    }
    if (!ctx.path.startsWith('/csc/v2/')) return;
    const method = ctx.path.slice('/csc/v2/'.length);
    if (method === 'info') {
      if (ctx.method !== 'GET' && ctx.method !== 'POST') throw new CscError(405, 'invalid_request', 'use GET or POST');
      if (ctx.method === 'POST') await readJson(ctx, 64 * 1024);
      ctx.body = service.info();
      return;
    }
    const op = Object.hasOwn(ops, method) ? ops[method] : undefined;
    if (!op) return;
    if (ctx.method !== 'POST') throw new CscError(405, 'invalid_request', 'use POST');
    await limit(`ip:${ctx.ip}`, 1000, limits.perAddressPerSecond);
    const m = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'));
    if (!m) throw invalidToken('missing bearer token (Authorization: Bearer …)');
    const caller = await tokens.verify(m[1]!);
    const signing = method.startsWith('signatures/');
    // rate limits before the body is read (a flood of large bodies is refused before it is buffered); only signDoc
    // carries documents, every other body is small
    if (signing) await limit(`sign:${caller.subject}`, 1000, limits.signPerSecond);
    if (method === 'credentials/authorize') await limit(`auth:${caller.subject}`, 60_000, limits.authorizePerMinute);
    const { raw, body } = await readJson(ctx, method === 'signatures/signDoc' ? maxBody : 1024 * 1024);
    const requestId = ctx.state.requestId as string;
    const idemKey = ctx.get('idempotency-key');
    if (!signing || !idemKey) {
      ctx.body = await op(caller, body, requestId);
      return;
    }
    if (!/^[\x21-\x7e]{1,128}$/.test(idemKey)) throw invalidRequest('Idempotency-Key must be 1-128 visible ASCII characters');
    // a retried signing call with the same key and body gets the first answer; it never signs twice
    const key = createHash('sha256').update(`${caller.subject}\n${caller.clientId}\n${idemKey}`).digest('hex');
    const fp = createHash('sha256').update(method).update('\n').update(raw).digest('hex');
    // an attempt cut off by an outage blocks its key only briefly; the SAD (each hash once) is the guard anyway
    const st = await store.idemBegin(key, fp, method === 'signatures/signHash' ? 10_000 : 180_000);
    if (st.state === 'conflict') throw new CscError(422, 'invalid_request', 'Idempotency-Key already used with a different request');
    if (st.state === 'pending') throw new CscError(409, 'invalid_request', 'a request with this Idempotency-Key is still in progress; retry later', { 'Retry-After': '1' });
    if (st.state === 'done') {
      ctx.status = st.status;
      ctx.set('Idempotent-Replayed', 'true');
      ctx.body = JSON.parse(st.body);
      return;
    }
    try {
      const result = await op(caller, body, requestId);
      // signed and audited: the signatures go back even if the replay record cannot be written (a retry then
      // finds the hashes used up, but this answer is not lost)
      await store.idemFinish(key, fp, 200, JSON.stringify(result), idemTtl).catch((err: unknown) => {
        log.warn({ reqId: requestId, err: (err as Error).message }, 'idempotency record not written; the answer is returned anyway');
      });
      ctx.body = result;
      return;
    } catch (e) {
      if (e instanceof CscError && e.status < 500) {
        // a definite refusal is remembered too (the retry gets the same answer)
        await store.idemFinish(key, fp, e.status, JSON.stringify({ error: e.error, error_description: e.description }), idemTtl).catch(() => {});
      } else {
        await store.idemAbort(key).catch(() => {});
      }
      throw e;
    }
  });

  return { app, control };
}
