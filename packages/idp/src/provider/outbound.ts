/**
 * Outbound HTTP requests of the identity provider: back-channel logout, CIBA ping notifications, and the
 * fetches oidc-provider makes for clients (sector identifiers, JWKS).
 *
 * Default: Node's fetch with oidc-provider's SSRF-protected dispatcher, which refuses special-use addresses
 * (loopback, private ranges, link-local, ...). `allowLoopback` lets loopback hosts through (tests, demos).
 *
 * With `ca` (extra trust anchors, e.g. the private root CA of a government network whose services receive
 * CIBA pings and logout tokens): requests go through node:http(s) with those roots added to the system ones,
 * and the same address rule is enforced on every resolved address before connecting. Redirects are not
 * followed; answers over 1 MiB are cut off with an error; without a caller's signal a request gives up after 10 s.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

export interface OutboundOptions {
  /** PEM certificates trusted besides the system roots. */
  ca?: string[];
  /** Let requests reach loopback addresses (tests and demos only). */
  allowLoopback?: boolean;
}

/** The fetch signature oidc-provider calls (`options.dispatcher` is its SSRF-protected undici agent). */
export type OutboundFetch = (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => Promise<Response>;

const MAX_BODY = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d or ::ffff:xxxx:yyyy), if it is one. */
function mappedIpv4(address: string): string | undefined {
  const m = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/i.exec(address);
  if (!m) return undefined;
  const rest = m[1]!;
  if (isIP(rest) === 4) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Why an address may not be reached, or undefined when it may. */
export function refusedAddress(address: string, allowLoopback: boolean): string | undefined {
  const v4 = isIP(address) === 4 ? address : mappedIpv4(address);
  if (v4) {
    if (allowLoopback && LOOPBACK.check(v4, 'ipv4')) return undefined;
    return SPECIAL_USE.check(v4, 'ipv4') ? `${address} is a special-use address` : undefined;
  }
  if (isIP(address) !== 6) return `${address} is not an IP address`;
  if (allowLoopback && LOOPBACK.check(address, 'ipv6')) return undefined;
  return SPECIAL_USE.check(address, 'ipv6') ? `${address} is a special-use address` : undefined;
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || (isIP(h) !== 0 && LOOPBACK.check(h, isIP(h) === 6 ? 'ipv6' : 'ipv4'));
}

/** Builds the outbound fetch used as oidc-provider's `fetch` hook. */
export function outboundFetch(o: OutboundOptions = {}): OutboundFetch {
  const allowLoopback = o.allowLoopback ?? false;
  if (!o.ca?.length) {
    return async (url, options) => {
      if (allowLoopback && isLoopbackHost(new URL(String(url)).hostname)) delete options.dispatcher;
      return globalThis.fetch(url, options);
    };
  }
  const ca = [...rootCertificates, ...o.ca];
  const guardedLookup = (hostname: string, opts: LookupOptions, cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      const list = addresses as LookupAddress[];
      const refused = list.map((a) => refusedAddress(a.address, allowLoopback)).find(Boolean);
      if (refused) return cb(Object.assign(new Error(`outbound request refused: ${hostname} resolves to a special-use address`), { code: 'EKYSO_SSRF' }), '');
      if (opts.all) return cb(null, list);
      cb(null, list[0]!.address, list[0]!.family);
    });
  };
  return async (url, options) => {
    const u = new URL(String(url));
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`outbound request refused: ${u.protocol} URL`);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const refused = refusedAddress(host, allowLoopback);
      if (refused) throw new TypeError(`outbound request refused: ${refused}`);
    }
    const headers: Record<string, string> = {};
    new Headers(options.headers).forEach((v, k) => { headers[k] = v; });
    const body = options.body === undefined || options.body === null ? undefined
      : typeof options.body === 'string' ? options.body
        : options.body instanceof URLSearchParams ? options.body.toString()
          : options.body instanceof Uint8Array ? options.body : undefined;
    if (options.body !== undefined && options.body !== null && body === undefined) throw new TypeError('outbound request: unsupported body type');
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(u, {
        method: options.method ?? 'GET', headers, lookup: guardedLookup as never, ...(u.protocol === 'https:' ? { ca } : {}),
        // never wait forever on a service that does not answer (oidc-provider passes its own 2.5 s limit)
        signal: options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
      }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) { res.destroy(); throw new RangeError(`outbound response from ${u.origin} is over ${MAX_BODY} bytes`); }
      chunks.push(chunk as Buffer);
    }
    const status = res.statusCode ?? 502;
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) out.append(k, x);
    }
    const nullBody = status === 204 || status === 205 || status === 304;
    return new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: out });
  };
}
