import Koa from 'koa';
import { randomUUID } from 'node:crypto';
import { renderHtml, renderText, toJsonReport, verifyPdf, type Policy } from '@kyso/verifier';
import { Problem, sendProblem } from './problem.js';
import { spoolBody } from './upload.js';
import { boundaryOf, extractFirstFile } from './multipart.js';
import { uploadPage } from './page.js';

/** Options of the validation service. */
export interface ValidationAppOptions {
  /** Validation policy (trust anchors, offline, algorithms...). */
  policy: Policy;
  /** Largest accepted upload in bytes (default 100 MiB). */
  maxBytes?: number;
  /** Where uploads are spooled (default the OS temp dir). */
  spoolDir?: string;
  /** Called for each request with non-secret facts (access log). */
  log?: (entry: Record<string, unknown>) => void;
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The validation service as a koa app: `GET /` upload form, `POST /validate` (multipart form → HTML report),
 * `POST /api/v1/validate` (raw PDF body → JSON, or text/HTML with `?format=`), `GET /healthz`.
 * Errors are RFC 9457 problem+json. Uploads are spooled to disk and removed after validation.
 */
export function createValidationApp(opts: ValidationAppOptions): Koa {
  const maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
  const app = new Koa();
  app.silent = true;

  app.use(async (ctx, next) => {
    const id = (ctx.get('x-request-id') || randomUUID()).slice(0, 64);
    const started = Date.now();
    ctx.set('X-Request-Id', id);
    ctx.set(SECURITY_HEADERS);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new Problem(404, 'not-found', 'Not found');
    } catch (e) {
      if (e instanceof Problem) sendProblem(ctx, e);
      else sendProblem(ctx, new Problem(500, 'internal', 'Internal error', 'the document could not be processed; see the request id in the logs'));
      if (!(e instanceof Problem)) opts.log?.({ requestId: id, error: (e as Error).message });
    }
    opts.log?.({ requestId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - started });
  });

  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = uploadPage(maxBytes);
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/api/v1/validate' || ctx.path === '/validate') {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        throw new Problem(405, 'method-not-allowed', 'Method not allowed');
      }
      const form = ctx.path === '/validate';
      const boundary = form ? boundaryOf(ctx.get('content-type')) : undefined;
      const body = await spoolBody(ctx.req, maxBytes + (form ? 64 * 1024 : 0), opts.spoolDir);
      try {
        if (body.size === 0) throw new Problem(400, 'empty-file', 'Bad request', 'send the signed PDF as the request body');
        const file = boundary ? await extractFirstFile(body, boundary) : { ...body, filename: ctx.get('x-file-name').slice(0, 255) || 'document.pdf' };
        try {
          const report = await verifyPdf(file.path, opts.policy, { name: file.filename });
          const format = form ? 'html' : String(ctx.query.format ?? 'json');
          if (format === 'html') {
            ctx.type = 'text/html; charset=utf-8';
            ctx.body = renderHtml([report]);
          } else if (format === 'text') {
            ctx.type = 'text/plain; charset=utf-8';
            ctx.body = renderText(report);
          } else if (format === 'json') {
            ctx.type = 'application/json';
            ctx.body = toJsonReport(report);
          } else {
            throw new Problem(400, 'bad-format', 'Bad request', "format must be json, text or html");
          }
        } finally {
          if (file.path !== body.path) await file.remove();
        }
      } finally {
        await body.remove();
      }
      return;
    }
  });
  return app;
}
