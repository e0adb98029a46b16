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
