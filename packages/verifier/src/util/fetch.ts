import { httpFetch } from '@kyso/pki';
import type { ResolvedPolicy } from '../policy.js';

/** Maximum body size accepted from the network (certificates, CRLs, OCSP responses). */
const MAX_BODY = 16 * 1024 * 1024;
const CACHE_TTL_MS = 5 * 60 * 1000;
const cache = new Map<string, { at: number; value: Promise<Uint8Array | undefined> }>();

/** Network access used by the validation core. Tests and services can replace it (e.g. to count calls). */
export interface Fetcher {
  /** GET or POST `url`; resolves undefined on any failure (timeout, HTTP error, too large). */
  fetch(url: string, body?: { contentType: string; data: Uint8Array }): Promise<Uint8Array | undefined>;
}

/** Statistics of the default fetcher (for tests and `--offline` assertions). */
export const fetchStats = { requests: 0 };

/** The default fetcher: http(s) only, with timeout, size limit and a 5-minute in-process cache. Offline policy → no I/O. */
export function defaultFetcher(policy: ResolvedPolicy): Fetcher {
  return {
    async fetch(url, body) {
      if (policy.offline) return undefined;
      if (!/^https?:\/\//i.test(url)) return undefined;
      const key = `${url}\n${body ? Buffer.from(body.data).toString('base64') : ''}`;
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.value;
      const value = doFetch(url, body, policy.networkTimeoutMs);
      cache.set(key, { at: Date.now(), value });
      if (cache.size > 1000) cache.delete(cache.keys().next().value!);
      const v = await value;
      if (!v) cache.delete(key);
      return v;
    },
  };
}

async function doFetch(url: string, body: { contentType: string; data: Uint8Array } | undefined, timeoutMs: number): Promise<Uint8Array | undefined> {
  fetchStats.requests++;
  try {
    // Transport from @kyso/pki's clients: hard timeout, size limit, credentials never in messages.
    const r = await httpFetch(url, body
      ? { method: 'POST', body: body.data, contentType: body.contentType, timeoutMs, maxBytes: MAX_BODY }
      : { method: 'GET', timeoutMs, maxBytes: MAX_BODY }, body ? 'OCSP' : 'HTTP');
    return r.status >= 200 && r.status < 300 ? r.body : undefined;
  } catch {
    return undefined;
  }
}
