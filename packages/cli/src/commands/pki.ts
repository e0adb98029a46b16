import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { createTestPki, loadTestPki, startFixtureServers, DEFAULT_BASE_URL } from '@kyso/fixtures';

const HELP = `Usage:
  kyso pki init DIR [--base-url URL] [--force]   generate a TEST PKI into DIR (+ DIR/manifest.json)
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

Every key and password of a test PKI is a TEST secret. Exit codes: 0 ok, 1 failure, 2 usage error.`;

interface Parsed { sub: 'init' | 'serve' | 'help'; dir?: string; baseUrl?: string; port?: number; host?: string; force: boolean }

function parse(args: string[]): Parsed {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return { sub: 'help', force: false };
  if (sub !== 'init' && sub !== 'serve') throw new UsageError(`unknown sub-command '${sub}' (init | serve; see kyso pki --help)`);
  const p: Parsed = { sub, force: false };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h': case '--help': return { sub: 'help', force: false };
      case '--base-url': {
        if (sub !== 'init') throw new UsageError('--base-url is an option of `kyso pki init`');
        const v = value();
        let u: URL;
        try { u = new URL(v); } catch { throw new UsageError(`--base-url '${v}' is not a URL`); }
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError('--base-url must be http(s)');
        p.baseUrl = v.replace(/\/+$/, '');
        break;
      }
      case '--port': {
        if (sub !== 'serve') throw new UsageError('--port is an option of `kyso pki serve`');
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port must be 0..65535, got '${v}'`);
        p.port = n;
        break;
      }
      case '--host': if (sub !== 'serve') throw new UsageError('--host is an option of `kyso pki serve`'); p.host = value(); break;
      case '--force': if (sub !== 'init') throw new UsageError('--force is an option of `kyso pki init`'); p.force = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        positional.push(a);
    }
  }
  if (positional.length !== 1) throw new UsageError(`kyso pki ${sub} needs exactly one DIR`);
  p.dir = positional[0]!;
  return p;
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
  const pki = await createTestPki(dir, p.baseUrl ? { baseUrl: p.baseUrl } : {});
  const names = Object.keys(pki.identities);
  process.stdout.write(`test PKI written to ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`  manifest   ${join(dir, 'manifest.json')}\n`);
  process.stdout.write(`  root       ${pki.rootPath}\n  base URL   ${pki.manifest.baseUrl}\n`);
  process.stdout.write(`  identities ${names.join(', ')}\n`);
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
