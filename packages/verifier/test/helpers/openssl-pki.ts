/**
 * Test-only PKI made with the openssl CLI (root → intermediate → leaves, CRL, CMS signing), used by the
 * verifier's unit tests for CMS/X.509 paths independent of the fixtures package. Test keys only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MiniPki {
  dir: string;
  rootPem: string;
  interPem: string;
  /** leaf name → { cert, key } paths. */
  leaf(name: string): { cert: string; key: string };
  /** Intermediate's CRL (revoked leaf listed) and root's CRL (empty), DER. */
  crlDer: Uint8Array;
  rootCrlDer: Uint8Array;
  /** The intermediate's CRL issued before the `revoked` leaf was revoked (lists nothing). */
  preRevocationCrlDer: Uint8Array;
  /** Issues new CRLs now (intermediate, root). */
  freshCrls(): Uint8Array[];
  /** RFC 3161 token (DER) over a SHA-256 digest, made by the `tsa` leaf. */
  timestamp(digest: Uint8Array): Uint8Array;
  /** Signs `data` (path) as detached CMS; returns DER. */
  signCms(leafName: string, dataPath: string, opts?: { md?: string; cades?: boolean; noattr?: boolean; pss?: boolean; attached?: boolean }): Uint8Array;
}

function run(dir: string, args: string[], input?: string): string {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], input: input ?? '' }).toString('latin1');
}

const CA_CONF = (name: string) => `[ca]
default_ca = ca_${name}
[ca_${name}]
dir = .
database = ${name}-index.txt
new_certs_dir = .
serial = ${name}-serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
default_crl_days = 30
crl_extensions = crl_ext
[pol]
commonName = supplied
organizationName = optional
countryName = optional
serialNumber = optional
[crl_ext]
authorityKeyIdentifier = keyid
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_tsa]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_critext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.4.1.99999.7 = critical,ASN1:NULL
[v3_enc]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Builds the PKI. Leaves: good (RSA-2048), ec (P-256), small (RSA-1024), revoked, expired, enc (wrong keyUsage). */
export function makeMiniPki(): MiniPki {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-verifier-pki-'));
  for (const ca of ['root', 'inter']) {
    writeFileSync(join(dir, `${ca}.cnf`), CA_CONF(ca));
    writeFileSync(join(dir, `${ca}-index.txt`), '');
    writeFileSync(join(dir, `${ca}-serial`), ca === 'root' ? '1000\n' : '2000\n');
  }
  run(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'root.key']);
  run(dir, ['req', '-new', '-x509', '-key', 'root.key', '-subj', '/CN=Kyso Test Root/O=kyso', '-days', '3650', '-config', 'root.cnf', '-extensions', 'v3_ca', '-out', 'root.pem', '-sha256']);
  run(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'inter.key']);
  run(dir, ['req', '-new', '-key', 'inter.key', '-subj', '/CN=Kyso Test Intermediate/O=kyso', '-out', 'inter.csr']);
  run(dir, ['ca', '-batch', '-config', 'root.cnf', '-cert', 'root.pem', '-keyfile', 'root.key', '-extensions', 'v3_ca', '-days', '3000', '-in', 'inter.csr', '-out', 'inter.pem', '-notext']);
  const leaves: Record<string, { alg: string[]; ext: string; dates?: string[] }> = {
    good: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ext: 'v3_leaf' },
    ec: { alg: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], ext: 'v3_leaf' },
    small: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], ext: 'v3_leaf' },
    revoked: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ext: 'v3_leaf' },
    expired: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ext: 'v3_leaf', dates: ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'] },
    enc: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ext: 'v3_enc' },
    critext: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ext: 'v3_critext' },
    tsa: { alg: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ext: 'v3_tsa', dates: ['-days', '2900'] },
  };
  for (const [name, l] of Object.entries(leaves)) {
    run(dir, ['genpkey', ...l.alg, '-out', `${name}.key`]);
    run(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=Leaf ${name}/O=kyso/serialNumber=CCCD:00109${name.length}`, '-out', `${name}.csr`]);
    run(dir, ['ca', '-batch', '-config', 'inter.cnf', '-cert', 'inter.pem', '-keyfile', 'inter.key', '-extensions', l.ext, ...(l.dates ?? ['-days', '365']), '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext']);
  }
  writeFileSync(join(dir, 'ts.cnf'), `[tsa_config]
dir = .
serial = ts-serial
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
ess_cert_id_chain = no
`);
  writeFileSync(join(dir, 'ts-serial'), '01\n');
  run(dir, ['ca', '-batch', '-config', 'inter.cnf', '-cert', 'inter.pem', '-keyfile', 'inter.key', '-gencrl', '-out', 'inter-pre.crl.pem']);
  run(dir, ['crl', '-in', 'inter-pre.crl.pem', '-outform', 'DER', '-out', 'inter-pre.crl']);
  run(dir, ['ca', '-batch', '-config', 'inter.cnf', '-cert', 'inter.pem', '-keyfile', 'inter.key', '-revoke', 'revoked.pem', '-crl_reason', 'keyCompromise']);
  run(dir, ['ca', '-batch', '-config', 'inter.cnf', '-cert', 'inter.pem', '-keyfile', 'inter.key', '-gencrl', '-out', 'inter.crl.pem']);
  run(dir, ['crl', '-in', 'inter.crl.pem', '-outform', 'DER', '-out', 'inter.crl']);
  const crlDer = new Uint8Array(readFileSync(join(dir, 'inter.crl')));
  run(dir, ['ca', '-batch', '-config', 'root.cnf', '-cert', 'root.pem', '-keyfile', 'root.key', '-gencrl', '-out', 'root.crl.pem']);
  run(dir, ['crl', '-in', 'root.crl.pem', '-outform', 'DER', '-out', 'root.crl']);
  const rootCrlDer = new Uint8Array(readFileSync(join(dir, 'root.crl')));
  return {
    dir,
    rootPem: readFileSync(join(dir, 'root.pem'), 'latin1'),
    interPem: readFileSync(join(dir, 'inter.pem'), 'latin1'),
    leaf: (name) => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }),
    crlDer,
    rootCrlDer,
    preRevocationCrlDer: new Uint8Array(readFileSync(join(dir, 'inter-pre.crl'))),
    freshCrls() {
      const out: Uint8Array[] = [];
      for (const ca of ['inter', 'root']) {
        run(dir, ['ca', '-batch', '-config', `${ca}.cnf`, '-cert', `${ca}.pem`, '-keyfile', `${ca}.key`, '-gencrl', '-out', `${ca}-fresh.crl.pem`]);
        run(dir, ['crl', '-in', `${ca}-fresh.crl.pem`, '-outform', 'DER', '-out', `${ca}-fresh.crl`]);
        out.push(new Uint8Array(readFileSync(join(dir, `${ca}-fresh.crl`))));
      }
      return out;
    },
    timestamp(digest) {
      const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      run(dir, ['ts', '-query', '-digest', Buffer.from(digest).toString('hex'), '-sha256', '-cert', '-out', `q-${id}.tsq`]);
      run(dir, ['ts', '-reply', '-queryfile', `q-${id}.tsq`, '-inkey', 'tsa.key', '-signer', 'tsa.pem', '-chain', 'inter.pem', '-config', 'ts.cnf', '-section', 'tsa_config', '-token_out', '-out', `t-${id}.der`]);
      return new Uint8Array(readFileSync(join(dir, `t-${id}.der`)));
    },
    signCms(leafName, dataPath, opts = {}) {
      const out = join(dir, `sig-${leafName}-${Date.now()}-${Math.random().toString(36).slice(2)}.p7s`);
      const args = ['cms', '-sign', '-binary', '-in', dataPath, '-signer', `${leafName}.pem`, '-inkey', `${leafName}.key`, '-certfile', 'inter.pem',
        '-outform', 'DER', '-out', out, '-md', opts.md ?? 'sha256'];
      if (opts.cades !== false) args.push('-cades');
      if (opts.noattr) args.push('-noattr');
      if (opts.attached) args.push('-nodetach');
      if (opts.pss) args.push('-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:32');
      run(dir, args);
      return new Uint8Array(readFileSync(out));
    },
  };
}

/** Adds a signature-time-stamp unsigned attribute (token DER) to the first SignerInfo of a CMS. */
export async function addSignatureTimestamp(cmsDer: Uint8Array, token: (sigValue: Uint8Array) => Uint8Array): Promise<Uint8Array> {
  const asn1js = await import('asn1js');
  const pkijs = await import('pkijs');
  const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(cmsDer.slice().buffer).result });
  const sd = new pkijs.SignedData({ schema: ci.content });
  const si = sd.signerInfos[0]!;
  const tok = token(new Uint8Array(si.signature.valueBlock.valueHexView));
  si.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({ type: 1, attributes: [
    new pkijs.Attribute({ type: '1.2.840.113549.1.9.16.2.14', values: [asn1js.fromBER(tok.slice().buffer).result] }),
  ] });
  return new Uint8Array(new pkijs.ContentInfo({ contentType: ci.contentType, content: sd.toSchema(true) }).toSchema().toBER(false));
}
