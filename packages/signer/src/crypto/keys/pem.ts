import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pemToDerList } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { orderChain } from './chain.js';
import { SoftwareKeyBackend } from './software.js';

/** Options of {@link loadPemBackend}: PEM texts (or bytes) of key, certificate and chain. */
export interface PemBackendOptions {
  /** Private key: PKCS#8 (plain or ENCRYPTED PRIVATE KEY), or traditional RSA/EC PEM; DER PKCS#8 also accepted. */
  key: string | Uint8Array;
  /** Signer certificate (PEM or DER). If the PEM holds several certificates, the first one that matches the key is the signer and the rest are chain. */
  cert: string | Uint8Array;
  /** Chain certificates (PEM, any order). */
  chain?: string | Uint8Array;
  /** Password of an encrypted key (from the environment or a prompt, never argv). */
  password?: string | Uint8Array;
}

function certsFrom(input: string | Uint8Array, what: string): Uint8Array[] {
  if (typeof input !== 'string' && input[0] === 0x30) return [input];
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const ders = pemToDerList(text);
  if (ders.length === 0) throw new SignerError('CERT_PARSE', `${what}: no PEM CERTIFICATE block found`);
  return ders;
}

/** Parse a private key, mapping a missing / wrong password to KEY_LOCKED / BAD_PASSWORD. */
export function parsePrivateKey(key: string | Uint8Array, password: string | Uint8Array | undefined, where = 'key'): KeyObject {
  const isDer = typeof key !== 'string' && key[0] === 0x30;
  const text = isDer ? '' : typeof key === 'string' ? key : Buffer.from(key).toString('latin1');
  const encrypted = isDer ? false : /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text);
  if (encrypted && (password === undefined || password.length === 0)) {
    throw new SignerError('KEY_LOCKED', `${where} is encrypted: a password is required (give it through the environment or a prompt)`);
  }
  try {
    const passphrase = password === undefined ? undefined : typeof password === 'string' ? password : Buffer.from(password);
    return isDer
      ? createPrivateKey({ key: Buffer.from(key as Uint8Array), format: 'der', type: 'pkcs8', ...(passphrase !== undefined ? { passphrase } : {}) })
      : createPrivateKey({ key: text, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch (e) {
    if (encrypted || (isDer && password)) throw new SignerError('BAD_PASSWORD', `${where}: wrong password (the key could not be decrypted)`, { cause: e });
    throw new SignerError('KEY_PARSE', `${where}: not a readable private key (PKCS#8, RSA or EC PEM expected)`, { cause: e });
  }
}

/** A key backend over a PEM / PKCS#8 private key and its certificates (`--key/--cert/--chain`). */
export async function loadPemBackend(opts: PemBackendOptions): Promise<SoftwareKeyBackend> {
  const key = parsePrivateKey(opts.key, opts.password);
  const certs = certsFrom(opts.cert, 'certificate');
  const chainCerts = opts.chain ? certsFrom(opts.chain, 'chain') : [];
  // The signer is the certificate of the key; in a bundle it need not come first.
  let signer: Uint8Array | undefined;
  let lastErr: unknown;
  for (const c of certs) {
    try { const b = new SoftwareKeyBackend('pem', key, c, []); await b.close(); signer = c; break; } catch (e) { lastErr = e; }
  }
  if (!signer) throw lastErr instanceof SignerError ? lastErr : new SignerError('KEY_CERT_MISMATCH', 'no certificate matches the private key');
  const rest = [...certs.filter((c) => c !== signer), ...chainCerts];
  return new SoftwareKeyBackend('pem', key, signer, orderChain(signer, rest));
}

/** {@link loadPemBackend} from files (`--key KEY.pem --cert CERT.pem [--chain CHAIN.pem]`). */
export async function loadPemFiles(opts: { keyPath: string; certPath: string; chainPath?: string; password?: string | Uint8Array }): Promise<SoftwareKeyBackend> {
  const read = async (p: string, what: string): Promise<Uint8Array> => {
    try { return new Uint8Array(await readFile(p)); } catch (e) { throw new SignerError('INPUT_READ', `cannot read ${what} file ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e }); }
  };
  return loadPemBackend({
    key: await read(opts.keyPath, 'key'),
    cert: await read(opts.certPath, 'certificate'),
    ...(opts.chainPath ? { chain: await read(opts.chainPath, 'chain') } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
  });
}
