/**
 * Throwaway PKI for the crypto unit tests, made with the openssl CLI in a temp dir: a root CA and
 * leaf certificates for RSA-2048, RSA-PSS-2048, ECDSA P-256 and P-384 (TEST KEYS ONLY).
 * Server-backed tests (TSA / OCSP / CRL) use getTestPki() from @kyso/fixtures instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type LeafName = 'rsa' | 'pss' | 'ec256' | 'ec384';

export interface LocalLeaf { name: LeafName; keyPath: string; keyPem: string; certPath: string; certPem: string; encKeyPath: string; p12Path: string }
export interface LocalPki { dir: string; rootPath: string; rootPem: string; leaves: Record<LeafName, LocalLeaf>; password: string; cleanup(): void }

const GENPKEY: Record<LeafName, string[]> = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  pss: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
  ec256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ec384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
};

let cached: LocalPki | undefined;

/** Create (once per process) the throwaway PKI. */
export function localPki(): LocalPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'kyso-crypto-'));
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
  const password = 'test-password-only';
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=kyso crypto test root', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(join(dir, 'leaf.ext'), 'keyUsage=critical,digitalSignature,nonRepudiation\n');
  const leaves = {} as Record<LeafName, LocalLeaf>;
  for (const name of Object.keys(GENPKEY) as LeafName[]) {
    run('genpkey', ...GENPKEY[name], '-out', `${name}.key`);
    run('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=kyso ${name} signer`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', String(1000 + Object.keys(leaves).length), '-out', `${name}.pem`, '-days', '10', '-extfile', 'leaf.ext');
    run('pkcs8', '-topk8', '-in', `${name}.key`, '-out', `${name}.enc.key`, '-passout', `pass:${password}`);
    run('pkcs12', '-export', '-in', `${name}.pem`, '-inkey', `${name}.key`, '-certfile', 'root.pem', '-out', `${name}.p12`, '-passout', `pass:${password}`);
    leaves[name] = {
      name, keyPath: join(dir, `${name}.key`), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'),
      certPath: join(dir, `${name}.pem`), certPem: readFileSync(join(dir, `${name}.pem`), 'utf8'),
      encKeyPath: join(dir, `${name}.enc.key`), p12Path: join(dir, `${name}.p12`),
    };
  }
  writeFileSync(join(dir, 'content.bin'), Buffer.from('kyso detached content\n'.repeat(100)));
  cached = { dir, rootPath: join(dir, 'root.pem'), rootPem: readFileSync(join(dir, 'root.pem'), 'utf8'), leaves, password, cleanup: () => { rmSync(dir, { recursive: true, force: true }); cached = undefined; } };
  return cached;
}

/** `openssl cms -verify` of a detached DER CMS over `contentPath`; returns [ok, output]. */
export function opensslVerifyCms(cms: Uint8Array, contentPath: string, caPath: string): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-cmsv-'));
  try {
    const p = join(dir, 'sig.p7s');
    writeFileSync(p, cms);
    try {
      const out = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p, '-content', contentPath, '-CAfile', caPath, '-purpose', 'any', '-out', '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
      return { ok: true, out: out.toString() };
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer };
      return { ok: false, out: `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}` };
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/* ------------------------------------------------------------------------------------------ */
/* A second throwaway PKI whose services are answered by the openssl CLI itself (ts -reply,    */
/* ocsp, ca -gencrl) behind a loopback HTTP server: an independent peer for the kyso clients. */
/* ------------------------------------------------------------------------------------------ */
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import * as pkijs from 'pkijs';

const execFileAsync = promisify(execFile);

export interface OpensslServices {
  dir: string;
  baseUrl: string;
  tsaUrl: string;
  ocspUrl: string;
  crlUrl: string;
  rootPath: string;
  /** Leaves (RSA, with AIA OCSP + caIssuers and CRLDP): good, revoked; and the TSA / OCSP responder certs. */
  good: { keyPath: string; certPath: string };
  revoked: { keyPath: string; certPath: string };
  tsa: { keyPath: string; certPath: string };
  ocsp: { keyPath: string; certPath: string };
  /** Count of requests per path. */
  hits: Record<string, number>;
  /** Make the OCSP responder answer with a stale / foreign response (for negative tests). */
  mode: { ocsp: 'normal' | 'no-nonce' | 'wrong-signer'; tsa: 'normal' | 'reject' };
  close(): Promise<void>;
}

function idxTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** Start the openssl-backed TSA / OCSP / CRL / AIA services and issue certificates pointing at them. */
export async function startOpensslServices(): Promise<OpensslServices> {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-osvc-'));
  const hits: Record<string, number> = {};
  const mode: OpensslServices['mode'] = { ocsp: 'normal', tsa: 'normal' };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      hits[path] = (hits[path] ?? 0) + 1;
      const body = Buffer.concat(chunks);
      const reply = (status: number, type: string, data: Buffer): void => { res.writeHead(status, { 'content-type': type }); res.end(data); };
      void (async () => {
        try {
          const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
          if (req.method === 'POST' && path === '/tsa') {
            const q = join(dir, `q-${tag}.tsq`); const r = join(dir, `r-${tag}.tsr`);
            writeFileSync(q, body);
            if (mode.tsa === 'reject') {
              // TimeStampResp { status rejection(2), statusString "policy not accepted", failInfo unacceptedPolicy(15) }
              const text = Buffer.from('policy not accepted');
              const statusInfo = Buffer.concat([Buffer.from([0x02, 0x01, 0x02, 0x30, text.length + 2, 0x0c, text.length]), text, Buffer.from([0x03, 0x03, 0x00, 0x00, 0x01])]);
              reply(200, 'application/timestamp-reply', Buffer.concat([Buffer.from([0x30, statusInfo.length + 2, 0x30, statusInfo.length]), statusInfo]));
              return;
            }
            await execFileAsync('openssl', ['ts', '-reply', '-config', join(dir, 'ts.cnf'), '-queryfile', q, '-signer', join(dir, 'tsa.pem'), '-inkey', join(dir, 'tsa.key'), '-out', r]);
            reply(200, 'application/timestamp-reply', readFileSync(r));
          } else if (req.method === 'POST' && path === '/ocsp') {
            const q = join(dir, `q-${tag}.ocq`); const r = join(dir, `r-${tag}.ocr`);
            if (mode.ocsp === 'no-nonce') {
              // A responder that ignores nonces: drop the request extensions before answering.
              const req = pkijs.OCSPRequest.fromBER(new Uint8Array(body));
              delete req.tbsRequest.requestExtensions;
              writeFileSync(q, Buffer.from(req.toSchema(true).toBER(false)));
            } else writeFileSync(q, body);
            const signer = mode.ocsp === 'wrong-signer' ? ['-rsigner', join(dir, 'good.pem'), '-rkey', join(dir, 'good.key')] : ['-rsigner', join(dir, 'ocsp.pem'), '-rkey', join(dir, 'ocsp.key')];
            const nonce = mode.ocsp === 'no-nonce' ? ['-no_nonce'] : [];
            await execFileAsync('openssl', ['ocsp', '-index', join(dir, 'index.txt'), '-CA', join(dir, 'root.pem'), ...signer, '-reqin', q, '-respout', r, '-ndays', '1', ...nonce]);
            reply(200, 'application/ocsp-response', readFileSync(r));
          } else if (path === '/crl/root.crl') {
            reply(200, 'application/pkix-crl', readFileSync(join(dir, 'root.crl')));
          } else if (path === '/ca/root.cer') {
            reply(200, 'application/pkix-cert', readFileSync(join(dir, 'root.der')));
          } else if (path === '/garbage') {
            reply(200, 'text/html', Buffer.from('<html>proxy error</html>'));
          } else if (path === '/huge') {
            res.writeHead(200, { 'content-type': 'application/octet-stream' });
            const chunk = Buffer.alloc(1 << 20, 0x30);
            let sent = 0;
            const push = (): void => { while (sent < 64 && res.write(chunk)) sent++; if (sent >= 64) res.end(); else res.once('drain', push); };
            push();
          } else if (path === '/slow') {
            setTimeout(() => reply(200, 'text/plain', Buffer.from('late')), 5000).unref();
          } else reply(404, 'text/plain', Buffer.from('not found'));
        } catch (e) { reply(500, 'text/plain', Buffer.from(String((e as Error).message))); }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=kyso openssl-services root', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash');
  run('x509', '-in', 'root.pem', '-outform', 'DER', '-out', 'root.der');
  writeFileSync(join(dir, 'leaf.ext'), [
    'keyUsage=critical,digitalSignature,nonRepudiation',
    `authorityInfoAccess=OCSP;URI:${baseUrl}/ocsp,caIssuers;URI:${baseUrl}/ca/root.cer`,
    `crlDistributionPoints=URI:${baseUrl}/crl/root.crl`, '',
  ].join('\n'));
  writeFileSync(join(dir, 'tsa.ext'), ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping', `crlDistributionPoints=URI:${baseUrl}/crl/root.crl`, ''].join('\n'));
  writeFileSync(join(dir, 'ocsp.ext'), ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=OCSPSigning', 'noCheck=ignored', ''].join('\n'));
  const index: string[] = [];
  const expiry = idxTime(new Date(Date.now() + 10 * 86400_000));
  const issue = (name: string, serial: number, ext: string, revoked?: Date): void => {
    run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`);
    run('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=kyso ${name}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', String(serial), '-out', `${name}.pem`, '-days', '10', '-extfile', ext);
    const hex = serial.toString(16).toUpperCase().padStart(2, '0');
    index.push(`${revoked ? 'R' : 'V'}\t${expiry}\t${revoked ? `${idxTime(revoked)},keyCompromise` : ''}\t${hex}\tunknown\t/CN=kyso ${name}`);
  };
  issue('good', 0x1001, 'leaf.ext');
  issue('revoked', 0x1002, 'leaf.ext', new Date(Date.now() - 3600_000));
  issue('tsa', 0x1003, 'tsa.ext');
  issue('ocsp', 0x1004, 'ocsp.ext');
  writeFileSync(join(dir, 'index.txt'), index.join('\n') + '\n');
  writeFileSync(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(join(dir, 'tsaserial'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = CA_default', '[ CA_default ]', `dir = ${dir}`, 'database = $dir/index.txt', 'crlnumber = $dir/crlnumber',
    'default_md = sha256', 'default_crl_days = 7', 'certificate = $dir/root.pem', 'private_key = $dir/root.key', '',
  ].join('\n'));
  run('ca', '-gencrl', '-config', 'ca.cnf', '-out', 'root.crl.pem');
  run('crl', '-in', 'root.crl.pem', '-outform', 'DER', '-out', 'root.crl');
  writeFileSync(join(dir, 'ts.cnf'), [
    '[ tsa ]', 'default_tsa = tsa_config', '[ tsa_config ]', `dir = ${dir}`, 'serial = $dir/tsaserial', 'crypto_device = builtin',
    'default_policy = 1.3.6.1.4.1.99999.1.1', 'digests = sha256, sha384, sha512', 'accuracy = secs:1', 'ordering = no', 'tsa_name = no',
    'ess_cert_id_chain = no', 'ess_cert_id_alg = sha256', 'signer_digest = sha256', '',
  ].join('\n'));
  const files = (n: string): { keyPath: string; certPath: string } => ({ keyPath: join(dir, `${n}.key`), certPath: join(dir, `${n}.pem`) });
  return {
    dir, baseUrl, tsaUrl: `${baseUrl}/tsa`, ocspUrl: `${baseUrl}/ocsp`, crlUrl: `${baseUrl}/crl/root.crl`, rootPath: join(dir, 'root.pem'),
    good: files('good'), revoked: files('revoked'), tsa: files('tsa'), ocsp: files('ocsp'), hits, mode,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
