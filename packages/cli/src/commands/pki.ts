import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { createTestPki, defaultKeyCacheDir, keyCacheDir, loadTestPki, startFixtureServers, DEFAULT_BASE_URL } from '@kyso/fixtures';
import { EXIT_CODES_HELP, nonEmpty, parseCommand, port, url } from '../args.js';

const HELP = `Usage:
  kyso pki init DIR [--base-url URL] [--force] [--reuse-cached-keys]
                                                 generate a TEST PKI into DIR (+ DIR/manifest.json)
  kyso pki serve DIR [--port N] [--host H]       run its TSA / OCSP / CRL servers

init writes: a root CA "Vietnam National Root CA (TEST)", an intermediate "Government CA (TEST)",
identities citizen1 (RSA-2048), citizen2 (ECDSA-P256), agency (RSA-3072), citizenPss (RSA-PSS-2048),
citizenPssKey (id-RSASSA-PSS key), citizenP384 (ECDSA-P384), tsa, ocsp, revoked, expired, shortlived,
notYetValid, impostor (issuer name copied from the intermediate, other key): cert PEM, encrypted
PKCS#8 key, PKCS#12, chain; the CRLs and manifest.json (paths relative to DIR, test passwords inside).
Certificates point their AIA / CRL distribution points at --base-url (default ${DEFAULT_BASE_URL}).

serve answers on 127.0.0.1 (port default: the manifest's baseUrl port):
  POST /tsa                 RFC 3161 (application/timestamp-query)
  POST /ocsp, GET /ocsp/B64 RFC 6960 (good / revoked / unknown, nonce)
  GET  /crl/intermediate.crl, /crl/root.crl, /ca/intermediate.cer, /ca/root.cer

init generates NEW keys every time: two test PKIs are never the same CA. --reuse-cached-keys (for test
suites, where RSA-3072 generation per run is slow) takes the keys from the test key cache instead
(KYSO_PKI_KEY_CACHE=DIR, else .cache/test-pki-keys/ in the repository): PKIs made that way share their CA keys.

Every key and password of a test PKI is a TEST secret. Every option takes --opt VALUE or --opt=VALUE.
${EXIT_CODES_HELP}`;

interface Parsed { sub: 'init' | 'serve' | 'help'; dir?: string; baseUrl?: string; port?: number; host?: string; force: boolean; reuseCachedKeys: boolean }

const INIT_OPTIONS = {
  'base-url': { type: 'string', parse: url() },
  force: { type: 'boolean' },
  'reuse-cached-keys': { type: 'boolean' },
} as const;
const SERVE_OPTIONS = {
  port: { type: 'string', parse: port() },
  host: { type: 'string', parse: nonEmpty },
} as const;

function parse(args: string[]): Parsed {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return { sub: 'help', force: false, reuseCachedKeys: false };
  if (sub !== 'init' && sub !== 'serve') throw new UsageError(`unknown sub-command '${sub}' (init | serve; see kyso pki --help)`);
  if (sub === 'init') {
    const p = parseCommand(rest, INIT_OPTIONS, { positionals: { min: 1, max: 1, name: 'DIR' }, see: 'kyso pki' });
    if (p.help) return { sub: 'help', force: false, reuseCachedKeys: false };
    return {
      sub, dir: p.positionals[0]!, force: p.values.force, reuseCachedKeys: p.values['reuse-cached-keys'],
      ...(p.values['base-url'] !== undefined ? { baseUrl: p.values['base-url'].replace(/\/+$/, '') } : {}),
    };
  }
  const p = parseCommand(rest, SERVE_OPTIONS, { positionals: { min: 1, max: 1, name: 'DIR' }, see: 'kyso pki' });
  if (p.help) return { sub: 'help', force: false, reuseCachedKeys: false };
  return {
    sub, dir: p.positionals[0]!, force: false, reuseCachedKeys: false,
    ...(p.values.port !== undefined ? { port: p.values.port } : {}), ...(p.values.host !== undefined ? { host: p.values.host } : {}),
  };
}

async function init(p: Parsed): Promise<number> {
  const dir = resolve(p.dir!);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
    if (readdirSync(dir).length > 0 && !p.force && !existsSync(join(dir, 'manifest.json'))) {
      throw new UsageError(`${dir} is not empty and holds no test PKI; choose an empty directory or pass --force`);
    }
  }
  const t0 = Date.now();
  // Fresh keys every time, so two test PKIs are never the same CA by accident; the key cache is an
  // explicit opt-in for test suites (--reuse-cached-keys; folder from KYSO_PKI_KEY_CACHE, else .cache/test-pki-keys).
  const keyCache = p.reuseCachedKeys ? (keyCacheDir() ?? defaultKeyCacheDir()) : false;
  const pki = await createTestPki(dir, { ...(p.baseUrl ? { baseUrl: p.baseUrl } : {}), keyCache });
  const names = Object.keys(pki.identities);
  process.stdout.write(`test PKI written to ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`  manifest   ${join(dir, 'manifest.json')}\n`);
  process.stdout.write(`  root       ${pki.rootPath}\n  base URL   ${pki.manifest.baseUrl}\n`);
  process.stdout.write(`  identities ${names.join(', ')}\n`);
  process.stdout.write(`  keys       ${p.reuseCachedKeys ? `REUSED from the test key cache ${keyCache} (--reuse-cached-keys)` : 'freshly generated'}\n`);
  process.stdout.write('TEST ONLY: keys and passwords in this directory are test secrets.\n');
  return 0;
}

async function serve(p: Parsed): Promise<number> {
  const pki = await loadTestPki(p.dir!);
  let port = p.port;
  if (port === undefined) {
    const u = new URL(pki.manifest.baseUrl);
    port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  }
  const servers = await startFixtureServers(pki, {
    port, ...(p.host ? { host: p.host } : {}),
    onRequest: (r) => process.stdout.write(`${new Date().toISOString()} ${r.method} ${r.path} ${r.status}${r.outcome ? ' ' + r.outcome : ''}\n`),
  });
  process.stdout.write(`kyso test PKI servers on ${servers.baseUrl} (TSA ${servers.tsaUrl}, OCSP ${servers.ocspUrl}, CRL ${servers.crlUrl})\n`);
  if (servers.baseUrl !== pki.manifest.baseUrl) {
    process.stdout.write(`note: the certificates point at ${pki.manifest.baseUrl}; clients following AIA / CRLDP will not reach this port\n`);
  }
  await new Promise<void>((resolveStop) => {
    const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); void servers.close().then(resolveStop); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

/** `kyso pki`: generate a test PKI and run its TSA / OCSP / CRL servers. */
export const command: Command = {
  summary: 'test PKI: `kyso pki init DIR`, `kyso pki serve DIR`',
  async run(args) {
    const p = parse(args);
    if (p.sub === 'help') { process.stdout.write(HELP + '\n'); return 0; }
    return p.sub === 'init' ? init(p) : serve(p);
  },
};
