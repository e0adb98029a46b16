import Koa from 'koa';
import { randomUUID } from 'node:crypto';
import { renderHtml, renderText, toJsonReport, type Policy, type ValidationReport } from '@kyso/verifier';
import { Problem, sendProblem } from './problem.js';
import { spoolBody } from './upload.js';
import { boundaryOf, parseFormData, splitMultipartMixed, type UploadParts, type UploadedFile } from './multipart.js';
import { uploadPage } from './page.js';
import { detectKind, mediaType } from './formats.js';
import { ValidationPool, type PoolOptions } from './pool.js';

/** Options of the validation service. */
export interface ValidationAppOptions extends PoolOptions {
  /** Validation policy (trust anchors, offline, algorithms...). Plain data: it is sent to the worker processes. */
  policy: Policy;
  /** Largest accepted upload in bytes (default 100 MiB). */
  maxBytes?: number;
  /** Where uploads are spooled (default the OS temp dir). */
  spoolDir?: string;
  /** Called for each request with non-secret facts (access log). */
  log?: (entry: Record<string, unknown>) => void;
}

/** The koa app plus the worker pool it validates with (close the pool when the server stops). */
export type ValidationApp = Koa & { pool: ValidationPool };

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The validation service as a koa app: `GET /` upload form, `POST /validate` (multipart form → HTML report),
 * `POST /api/v1/validate` (JSON report, or text/HTML with `?format=`), `GET /healthz`.
 *
 * `POST /api/v1/validate` accepts the same document in three shapes and gives the same report for each:
 * - raw body: `application/pdf` (a signed PDF) or `application/pkcs7-signature` (a CMS with encapsulated content,
 *   or a detached one, reported SIGNED_DATA_NOT_FOUND without its data); `X-File-Name` names it in the report;
 * - raw `multipart/mixed` (RFC 2046) with two parts: the signature (`Content-Type: application/pkcs7-signature`)
 *   and the signed data (any type), in either order: a detached CMS with its data;
 * - `multipart/form-data` (parsed with busboy): field `file` (PDF or CMS), optional `data` (detached data).
 * A body that is not a signed document (not PDF/CMS, declared type contradicting the content, a PDF without any
 * signature, an unreadable PDF, a CMS that is not SignedData) is a 4xx application/problem+json naming what is
 * wrong; never a verdict. Documents are validated in worker processes with a heap limit and a per-request deadline
 * (422 `validation-limit` when exceeded), so a hostile upload cannot stall the process.
 * Errors are RFC 9457 problem+json. Uploads are spooled to disk and removed after validation.
 */
export function createValidationApp(opts: ValidationAppOptions): ValidationApp {
  const maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
  const pool = new ValidationPool(opts.policy, opts);
  const app = new Koa() as ValidationApp;
  app.pool = pool;
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
      const format = form ? 'html' : String(ctx.query.format ?? 'json');
      if (format !== 'json' && format !== 'text' && format !== 'html') throw new Problem(400, 'bad-format', 'Bad request', 'format must be json, text or html');
      const parts = await receive(ctx.req, ctx.get('content-type'), ctx.get('x-file-name'), maxBytes, opts.spoolDir);
      try {
        const report = await validate(pool, parts);
        if (format === 'html') {
          ctx.type = 'text/html; charset=utf-8';
          ctx.body = renderHtml([report]);
        } else if (format === 'text') {
          ctx.type = 'text/plain; charset=utf-8';
          ctx.body = renderText(report);
        } else {
          ctx.type = 'application/json';
          ctx.body = toJsonReport(report);
        }
      } finally {
        await parts.removeAll();
      }
      return;
    }
  });
  return app;
}

/** Reads the request body into spooled parts according to its content type (raw, multipart/mixed, form data). */
async function receive(req: import('node:http').IncomingMessage, contentType: string, fileName: string, maxBytes: number, spoolDir?: string): Promise<UploadParts> {
  const type = mediaType(contentType);
  if (type === 'multipart/form-data') return parseFormData(req, maxBytes, spoolDir);
  const body = await spoolBody(req, maxBytes, spoolDir);
  if (body.size === 0) {
    await body.remove();
    throw new Problem(400, 'empty-file', 'Bad request', 'the request body is empty: send the signed document (application/pdf, application/pkcs7-signature or multipart/form-data)');
  }
  if (type === 'multipart/mixed') {
    const boundary = boundaryOf(contentType);
    if (!boundary) { await body.remove(); throw new Problem(400, 'bad-multipart', 'Bad request', 'multipart/mixed without a boundary parameter'); }
    let mixed: UploadedFile[];
    try { mixed = await splitMultipartMixed(body, boundary, 2, spoolDir); } finally { await body.remove(); }
    const removeAll = async () => { await Promise.all(mixed.map((p) => p.remove())); };
    const sig = mixed.find((p) => /pkcs7|cms/.test(p.contentType)) ?? mixed[0];
    if (!sig || sig.size === 0) { await removeAll(); throw new Problem(400, 'empty-file', 'Bad request', 'multipart/mixed: no signature part'); }
    const data = mixed.find((p) => p !== sig);
    if (!/pkcs7|cms/.test(sig.contentType)) { await removeAll(); throw new Problem(415, 'unsupported-media-type', 'Unsupported media type', 'multipart/mixed: one part must be the signature (Content-Type: application/pkcs7-signature), the other its data'); }
    return { file: sig, ...(data ? { data } : {}), removeAll };
  }
  const file: UploadedFile = { ...body, filename: fileName.replace(/[^\p{L}\p{N}._ -]/gu, '_').slice(0, 255) || '', contentType: type };
  return { file, removeAll: () => body.remove() };
}

/** Validates the spooled parts in the worker pool; 4xx problems for what is not a signed document or exceeds the limits. */
async function validate(pool: ValidationPool, parts: UploadParts): Promise<ValidationReport> {
  const kind = await detectKind(parts.file.path, parts.file.contentType, parts.data ? 'the signature' : 'the body');
  if (kind !== 'cms' && parts.data) throw new Problem(400, 'unexpected-data', 'Bad request', 'a "data" part is only meaningful with a detached CMS signature');
  const name = parts.file.filename || (kind === 'pdf' ? 'document.pdf' : kind === 'xml' ? 'document.xml' : 'signature.p7s');
  const pending = pool.run({ kind, path: parts.file.path, name, ...(parts.data ? { dataPath: parts.data.path } : {}) });
  if ('busy' in pending) throw new Problem(503, 'busy', 'Service unavailable', 'too many documents are being validated; retry later');
  const r = await pending;
  if ('report' in r) return r.report;
  if ('notSigned' in r) throw new Problem(422, r.notSigned.type, 'Not a signed document', r.notSigned.detail);
  if ('limit' in r) throw new Problem(422, 'validation-limit', 'Validation limit exceeded', `${r.detail}; the document was not validated`);
  throw new Problem(500, 'internal', 'Internal error', 'the document could not be processed; see the request id in the logs');
}
