/** A throwaway RSA-2048 root + leaf (openssl CLI) for PAdES tests that need no TSA/OCSP. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalPki {
  dir: string;
  rootPath: string;
  leafKey: string;
  leafCert: string;
  p12: string;
  p12Password: string;
  /** A second signer. */
  leaf2Key: string;
  leaf2Cert: string;
  /** Expired certificate of the `leaf` key. */
  expiredCert: string;
}

function ossl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates the PKI in `dir` (about 0.3 s). */
export function makeLocalPki(dir: string): LocalPki {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ext.cnf'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n');
  ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650', '-subj', '/CN=kyso test root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  for (const [n, cn] of [['leaf', 'Nguyễn Văn An'], ['leaf2', 'Trần Thị Bình']] as const) {
    ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${cn}`, '-utf8'], dir);
    ossl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', '365', '-extfile', 'ext.cnf'], dir);
  }
  // same key, certificate already expired (notAfter yesterday)
  ossl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'expired.pem', '-days', '-1', '-extfile', 'ext.cnf'], dir);
  ossl(['pkcs12', '-export', '-inkey', 'leaf.key', '-in', 'leaf.pem', '-certfile', 'root.pem', '-out', 'leaf.p12', '-passout', 'pass:test-only'], dir);
  return {
    dir, rootPath: join(dir, 'root.pem'), leafKey: join(dir, 'leaf.key'), leafCert: join(dir, 'leaf.pem'), p12: join(dir, 'leaf.p12'), p12Password: 'test-only',
    leaf2Key: join(dir, 'leaf2.key'), leaf2Cert: join(dir, 'leaf2.pem'), expiredCert: join(dir, 'expired.pem'),
  };
}
