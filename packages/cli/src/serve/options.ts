/** Options shared by every `kyso serve <service>`, and the run loop of a service process. */
import { EXIT_CODES_HELP, nonEmpty, parseCommand, port, url, type OptionSpecs } from '../args.js';
import { UsageError } from '../command.js';
import type { JsonLog } from './log.js';

/** What every service accepts: where to listen and whether a load balancer's X-Forwarded-* headers are trusted. */
export interface CommonServeOptions {
  port: number;
  host: string;
  proxy: boolean;
}

/** Help lines of the common options (each service's help starts with these). */
export const COMMON_HELP = `  --port N     listen port (0 = any free port); required
  --host H     listen address (default 127.0.0.1)
  --proxy      trust X-Forwarded-* headers (behind a load balancer)
  -h, --help   this help
Every service answers GET /healthz with {"status":"ok"} once it can serve requests (it accepts connections only
then), logs JSON lines on stderr (level: KYSO_LOG_LEVEL, default info), prints one "kyso <service> listening on
URL" line on stdout, and stops gracefully on SIGINT / SIGTERM.
Every option takes --opt VALUE or --opt=VALUE.
${EXIT_CODES_HELP}`;

type Extra = OptionSpecs;

/**
 * Parses the common options plus a service's own through the shared parser (`parseCommand`: the same --opt=value
 * support, messages, refusal of secrets and exit codes as every other command); UsageError (exit 2) on anything else.
 */
export function parseServeArgs<E extends Extra>(args: string[], extra: E, help: string): { common: CommonServeOptions; values: Record<string, string | string[] | boolean | undefined> } {
  const specs = { port: { type: 'string', parse: port() }, host: { type: 'string', parse: nonEmpty }, proxy: { type: 'boolean' }, ...extra } satisfies OptionSpecs;
  const parsed = parseCommand(args, specs, { see: 'kyso serve' });
  if (parsed.help) throw new UsageError(help);
  const v = parsed.values as Record<string, unknown>;
  if (v.port === undefined) throw new UsageError(`--port is required\n${help}`);
  return { common: { port: v.port as number, host: (v.host as string | undefined) ?? '127.0.0.1', proxy: v.proxy === true }, values: v as Record<string, string | string[] | boolean | undefined> };
}

/** An http(s) URL option, or a UsageError naming it. */
export function urlOption(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} URL is required`);
  // the shared URL validator: http(s) only, and no credentials on the command line (they would be echoed)
  try { return url()(value).replace(/\/+$/, ''); } catch (e) { throw new UsageError(`--${name}: ${(e as Error).message}`); }
}

/** Prints the listening line, waits for SIGINT / SIGTERM, then closes the service. */
export async function runUntilStopped(name: string, url: string, log: JsonLog, close: () => Promise<void>, detail = ''): Promise<number> {
  log.info({ url }, 'listening');
  process.stdout.write(`kyso ${name} listening on ${url}${detail ? ` ${detail}` : ''}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info({ signal }, 'stopping');
  await close();
  return 0;
}

/** GET /healthz → 200 {"status":"ok"}: the one health answer of every kyso service. Returns true when answered. */
export function answerHealth(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean {
  const url = req.url ?? '';
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (url !== '/healthz' && !url.startsWith('/healthz?')) return false;
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : '{"status":"ok"}');
  return true;
}

type Handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;

/** The URL of a listening address (IPv6 hosts in brackets; 0.0.0.0 / :: shown as loopback). */
export function urlOf(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/**
 * Starts an HTTP server that accepts connections only once it can answer them: `build(url)` makes the request
 * handler first and the port is bound after. With port 0 the URL is only known once bound, so the port is bound
 * first and requests that arrive before the handler is ready wait for it (none is left unanswered). GET /healthz
 * is answered by {@link answerHealth}.
 */
export async function listenWhenReady(common: CommonServeOptions, build: (url: string) => Promise<Handler>, fixedUrl?: string): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  let handle: Handler | undefined;
  const early: Parameters<Handler>[] = [];
  const server = createServer((req, res) => {
    if (!handle) { early.push([req, res]); return; }
    if (!answerHealth(req, res)) handle(req, res);
  });
  server.requestTimeout = 120_000;
  const listen = () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(common.port, common.host, () => { server.off('error', reject); resolve(); });
  });
  const close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  const bindFirst = common.port === 0 && fixedUrl === undefined;
  if (bindFirst) await listen();
  const url = fixedUrl ?? urlOf(common.host, bindFirst ? (server.address() as import('node:net').AddressInfo).port : common.port);
  try {
    const h = await build(url);
    handle = h;
  } catch (e) {
    for (const [, res] of early.splice(0)) { res.statusCode = 503; res.end(); }
    if (server.listening) await close();
    throw e;
  }
  for (const [req, res] of early.splice(0)) if (!answerHealth(req, res)) handle(req, res);
  if (!bindFirst) await listen();
  return { url: bindFirst || fixedUrl !== undefined ? url : urlOf(common.host, (server.address() as import('node:net').AddressInfo).port), close };
}
