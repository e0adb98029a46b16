/** `kyso serve idp`: the citizen identity provider (OpenID Connect) in its own process. */
import { UsageError } from '../command.js';
import { jsonLog } from './log.js';
import { COMMON_HELP, parseServeArgs, runUntilStopped } from './options.js';

export const HELP = `Usage: kyso serve idp --port N [--seed FILE] [--host H] [--proxy]

Runs the citizen identity provider (OpenID Connect).
${COMMON_HELP}
  --seed FILE  JSON { "clients": [...], "users": [...] } loaded at start
Environment:
  KYSO_ISSUER          issuer URL (default http://127.0.0.1:N)
  REDIS_URL            store everything in Redis (several processes can share it); default in-memory
  REDIS_SENTINELS / REDIS_SENTINEL_NAME, REDIS_CLUSTER, KYSO_IDP_REDIS_PREFIX: Sentinel / Cluster / key prefix
  KYSO_IDP_SECRET_KEY  at-rest key for account secrets (required for real accounts in Redis)
  KYSO_LOG_LEVEL       log level (default info)
  KYSO_OUTBOUND_CA     PEM file of CA certificates trusted (besides the system roots) for outgoing HTTPS:
                       back-channel logout and CIBA ping notifications to services on a private PKI`;

/** The PEM certificates of a CA bundle file (UsageError when it holds none). */
async function readCaBundle(path: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) { throw new UsageError(`KYSO_OUTBOUND_CA: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`); }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!pems.length) throw new UsageError(`KYSO_OUTBOUND_CA: ${path} holds no PEM certificate`);
  return pems;
}

export async function run(args: string[]): Promise<number> {
  const { common, values } = parseServeArgs(args, { seed: { type: 'string' } }, HELP);
  const seed = values.seed as string | undefined;
  const outboundCa = process.env.KYSO_OUTBOUND_CA ? await readCaBundle(process.env.KYSO_OUTBOUND_CA) : undefined;
  const { createLogger, createStorage, redisConfigFromEnv } = await import('@kyso/idp');
  const { createIdpServer } = await import('@kyso/service-idp');
  const redis = redisConfigFromEnv();
  const storage = await createStorage(redis ? { redis } : {});
  let server;
  try {
    server = await createIdpServer({
      port: common.port, host: common.host, storage, proxy: common.proxy, logger: createLogger(),
      // a loopback issuer is a demo: let back-channel logout reach loopback relying parties
      allowLoopbackFetch: !process.env.KYSO_ISSUER || /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(process.env.KYSO_ISSUER),
      ...(outboundCa ? { outboundCa } : {}),
      ...(seed ? { seed } : {}),
      ...(process.env.KYSO_ISSUER ? { issuer: process.env.KYSO_ISSUER } : {}),
    });
  } catch (e) {
    await storage.close();
    throw e;
  }
  const s = server;
  return runUntilStopped('idp', s.issuer, jsonLog('kyso-idp'), async () => { await s.close(); await storage.close(); }, `(storage: ${storage.kind})`);
}
