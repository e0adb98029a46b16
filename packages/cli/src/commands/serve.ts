import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { EXIT_CODES_HELP, nonEmpty, parseCommand, port } from '../args.js';

const HELP = `Usage: kyso serve idp --port N [--seed FILE] [--host H] [--proxy]

Runs the citizen identity provider (OpenID Connect).
  --port N     listen port (0 = any free port)
  --seed FILE  JSON { "clients": [...], "users": [...] } loaded at start
  --host H     listen address (default 127.0.0.1)
  --proxy      trust X-Forwarded-* headers (behind a load balancer)
Environment:
  KYSO_ISSUER          issuer URL (default http://127.0.0.1:N)
  REDIS_URL            store everything in Redis (several processes can share it); default in-memory
  REDIS_SENTINELS / REDIS_SENTINEL_NAME, REDIS_CLUSTER, KYSO_IDP_REDIS_PREFIX: Sentinel / Cluster / key prefix
  KYSO_IDP_SECRET_KEY  at-rest key for account secrets (required for real accounts in Redis)
  KYSO_LOG_LEVEL       pino level (default info)
  KYSO_OUTBOUND_CA     PEM file of CA certificates trusted (besides the system roots) for outgoing HTTPS:
                       back-channel logout and CIBA ping notifications to services on a private PKI
Every option takes --opt VALUE or --opt=VALUE.
${EXIT_CODES_HELP}`;

/** The PEM certificates of a CA bundle file (UsageError when it holds none). */
async function readCaBundle(path: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) { throw new UsageError(`KYSO_OUTBOUND_CA: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`); }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!pems.length) throw new UsageError(`KYSO_OUTBOUND_CA: ${path} holds no PEM certificate`);
  return pems;
}

const SERVE_OPTIONS = {
  port: { type: 'string', parse: port() },
  seed: { type: 'string' },
  host: { type: 'string', parse: nonEmpty },
  proxy: { type: 'boolean' },
} as const;

function parse(args: string[]): { help: true } | { help: false; port?: number; seed?: string; host?: string; proxy: boolean } {
  const p = parseCommand(args, SERVE_OPTIONS, { see: 'kyso serve' });
  if (p.help) return { help: true };
  const v = p.values;
  return { help: false, proxy: v.proxy, ...(v.port !== undefined ? { port: v.port } : {}), ...(v.seed !== undefined ? { seed: v.seed } : {}), ...(v.host !== undefined ? { host: v.host } : {}) };
}

/** `kyso serve idp --port N [--seed FILE]`: the identity provider until SIGINT/SIGTERM. */
export const command: Command = {
  summary: 'run a service: `kyso serve idp --port N [--seed FILE]`',
  async run(args) {
    const [service, ...rest] = args;
    if (service === '--help' || service === '-h') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (service !== 'idp') throw new UsageError(`unknown service '${service ?? ''}' (available: idp; see kyso serve --help)`);
    const opts = parse(rest);
    if (opts.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (opts.port === undefined) throw new UsageError('--port is required (see kyso serve --help)');
    const { createStorage, redisConfigFromEnv } = await import('@kyso/idp');
    const { createIdpServer } = await import('@kyso/service-idp');
    const outboundCa = process.env.KYSO_OUTBOUND_CA ? await readCaBundle(process.env.KYSO_OUTBOUND_CA) : undefined;
    const redis = redisConfigFromEnv();
    const storage = await createStorage(redis ? { redis } : {});
    let server;
    try {
      server = await createIdpServer({
        port: opts.port, storage, proxy: opts.proxy,
        // a loopback issuer is a demo: let back-channel logout reach loopback relying parties
        allowLoopbackFetch: !process.env.KYSO_ISSUER || /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(process.env.KYSO_ISSUER),
        ...(opts.host ? { host: opts.host } : {}),
        ...(outboundCa ? { outboundCa } : {}),
        ...(opts.seed ? { seed: opts.seed } : {}),
        ...(process.env.KYSO_ISSUER ? { issuer: process.env.KYSO_ISSUER } : {}),
      });
    } catch (e) {
      await storage.close();
      throw e;
    }
    process.stdout.write(`kyso idp listening on ${server.issuer} (storage: ${storage.kind})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await storage.close();
    return 0;
  },
};
