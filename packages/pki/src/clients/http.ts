import { applyDeferredCaCerts } from './deferred-ca.js';
import { PkiClientError, type PkiClientErrorCode } from './errors.js';

/** Options of one HTTP exchange with a TSA / OCSP responder / CRL or AIA server. */
export interface HttpOptions {
  method?: 'GET' | 'POST';
  body?: Uint8Array;
  contentType?: string;
  accept?: string;
  /** Whole-exchange timeout (default 10 s). */
  timeoutMs?: number;
  /** Refuse bodies larger than this (default 20 MiB). */
  maxBytes?: number;
  /** Extra headers (e.g. Authorization for a TSA). Never logged. */
  headers?: Record<string, string>;
}

/** Response of {@link httpFetch}. */
export interface HttpResult { status: number; contentType: string; body: Uint8Array }

/** Prefix for error codes of the service being called ('TSA', 'OCSP', 'CRL', 'AIA' or 'HTTP'). */
export type ServiceKind = 'TSA' | 'OCSP' | 'CRL' | 'AIA' | 'HTTP';

/** Strip credentials and query from a URL before putting it in a message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = ''; u.password = '';
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch { return '<invalid URL>'; }
}

/**
 * One HTTP exchange with a hard timeout and size limit. Network failures become
 * `<KIND>_UNREACHABLE`, timeouts `<KIND>_TIMEOUT` (TSA) or `<KIND>_UNREACHABLE` (others).
 */
export async function httpFetch(url: string, opts: HttpOptions = {}, kind: ServiceKind = 'HTTP'): Promise<HttpResult> {
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw new PkiClientError('HTTP_BAD_URL', `${kind}: not a URL: ${redactUrl(url)}`); }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PkiClientError('HTTP_BAD_URL', `${kind}: only http(s) URLs are supported, got ${parsed.protocol} in ${redactUrl(url)}`);
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  const unreachable = (kind === 'HTTP' ? 'HTTP_UNREACHABLE' : `${kind}_UNREACHABLE`) as PkiClientErrorCode;
  const timeoutCode = (kind === 'TSA' ? 'TSA_TIMEOUT' : kind === 'HTTP' ? 'HTTP_TIMEOUT' : unreachable) as PkiClientErrorCode;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.contentType) headers['content-type'] = opts.contentType;
  if (opts.accept) headers['accept'] = opts.accept;
  await applyDeferredCaCerts(); // an http URL may redirect to https
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(parsed, {
      method: opts.method ?? (opts.body ? 'POST' : 'GET'),
      headers,
      body: opts.body ? Buffer.from(opts.body) : undefined,
      signal,
      redirect: 'follow',
    });
  } catch (e) {
    if (signal.aborted) throw new PkiClientError(timeoutCode, `${kind} at ${redactUrl(url)} did not answer within ${timeoutMs} ms`, { cause: e });
    const reason = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new PkiClientError(unreachable, `${kind} at ${redactUrl(url)} is unreachable (${reason})`, { cause: e });
  }
  try {
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > maxBytes) throw new PkiClientError('HTTP_TOO_LARGE', `${kind} at ${redactUrl(url)}: response of ${declared} bytes exceeds ${maxBytes}`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > maxBytes) throw new PkiClientError('HTTP_TOO_LARGE', `${kind} at ${redactUrl(url)}: response exceeds ${maxBytes} bytes`);
        chunks.push(chunk);
      }
    }
    const body = Buffer.concat(chunks);
    if (res.status < 200 || res.status >= 300) {
      throw new PkiClientError('HTTP_STATUS', `${kind} at ${redactUrl(url)} answered HTTP ${res.status}`);
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: new Uint8Array(body.buffer, body.byteOffset, body.length) };
  } catch (e) {
    if (e instanceof PkiClientError) throw e;
    if (signal.aborted) throw new PkiClientError(timeoutCode, `${kind} at ${redactUrl(url)} did not answer within ${timeoutMs} ms`, { cause: e });
    throw new PkiClientError(unreachable, `${kind} at ${redactUrl(url)}: reading the response failed (${(e as Error).message})`, { cause: e });
  }
}
