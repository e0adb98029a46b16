import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as pkijs from 'pkijs';
import { SignerError } from '../errors.js';
import { ensurePkijsEngine } from '../engine.js';
import { orderChain } from './chain.js';
import { SoftwareKeyBackend } from './software.js';

/** Parsed content of a PKCS#12 file. */
export interface Pkcs12Contents {
  key: KeyObject;
  certificates: Uint8Array[];
}

/**
 * Open a PKCS#12 (PFX) with PKI.js: checks the MAC with the password (wrong password →
 * BAD_PASSWORD, missing → KEY_LOCKED), decrypts the certificate safe and the shrouded key bag.
 * Legacy RC2-40 encrypted certificate safes are refused with PKCS12_UNSUPPORTED.
 */
export async function parsePkcs12(data: Uint8Array, password: string | Uint8Array | undefined): Promise<Pkcs12Contents> {
  ensurePkijsEngine();
  if (password === undefined) throw new SignerError('KEY_LOCKED', 'PKCS#12 file is password-protected: a password is required (environment or prompt)');
  const pwBytes = typeof password === 'string' ? new TextEncoder().encode(password) : password;
  const pwd = pwBytes.slice().buffer as ArrayBuffer;
  let pfx: pkijs.PFX;
  try { pfx = pkijs.PFX.fromBER(new Uint8Array(data)); } catch (e) { throw new SignerError('KEY_PARSE', `not a PKCS#12 file: ${(e as Error).message}`, { cause: e }); }
  try {
    await pfx.parseInternalValues({ password: pwd, checkIntegrity: true });
  } catch (e) {
    const m = (e as Error).message ?? '';
    if (/integrity/i.test(m)) throw new SignerError('BAD_PASSWORD', 'PKCS#12: wrong password (MAC check failed)', { cause: e });
    throw new SignerError('PKCS12_UNSUPPORTED', `PKCS#12 could not be opened: ${m}`, { cause: e });
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new SignerError('KEY_PARSE', 'PKCS#12 has no authenticated safe');
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pwd })) });
  } catch (e) {
    throw new SignerError('PKCS12_UNSUPPORTED', `PKCS#12 safe could not be decrypted (${(e as Error).message}); legacy RC2/3DES files: re-export with \`openssl pkcs12 -export\` without -legacy`, { cause: e });
  }
  let key: KeyObject | undefined;
  const certificates: Uint8Array[] = [];
  const passphrase = Buffer.from(pwBytes);
  for (const sc of safe.parsedValue?.safeContents ?? []) {
    for (const bag of sc.value.safeBags) {
      const v = bag.bagValue;
      if (v instanceof pkijs.PKCS8ShroudedKeyBag) {
        // Node (OpenSSL) decrypts EncryptedPrivateKeyInfo itself (PBES2 and PKCS#12 PBE schemes).
        const der = Buffer.from(v.toSchema().toBER(false));
        try { key ??= createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase }); } catch (e) {
          throw new SignerError('BAD_PASSWORD', 'PKCS#12: the private key could not be decrypted with this password', { cause: e });
        }
      } else if (v instanceof pkijs.PrivateKeyInfo) {
        key ??= createPrivateKey({ key: Buffer.from(v.toSchema().toBER(false)), format: 'der', type: 'pkcs8' });
      } else if (v instanceof pkijs.CertBag && v.parsedValue instanceof pkijs.Certificate) {
        certificates.push(new Uint8Array(v.parsedValue.toSchema().toBER(false)));
      }
    }
  }
  if (!key) throw new SignerError('KEY_NOT_FOUND', 'PKCS#12 holds no private key');
  if (certificates.length === 0) throw new SignerError('CERT_PARSE', 'PKCS#12 holds no certificate');
  return { key, certificates };
}

/** A key backend over a PKCS#12 file's key; the signer certificate is the one matching the key, the rest is chain. */
export async function loadPkcs12Backend(data: Uint8Array, password: string | Uint8Array | undefined): Promise<SoftwareKeyBackend> {
  const { key, certificates } = await parsePkcs12(data, password);
  let lastErr: unknown;
  for (const c of certificates) {
    try {
      const probe = new SoftwareKeyBackend('pkcs12', key, c, []);
      await probe.close();
      return new SoftwareKeyBackend('pkcs12', key, c, orderChain(c, certificates.filter((x) => x !== c)));
    } catch (e) { lastErr = e; }
  }
  throw lastErr instanceof SignerError ? lastErr : new SignerError('KEY_CERT_MISMATCH', 'no certificate in the PKCS#12 matches its key');
}

/** {@link loadPkcs12Backend} from a file path. */
export async function loadPkcs12File(path: string, password: string | Uint8Array | undefined): Promise<SoftwareKeyBackend> {
  let data: Uint8Array;
  try { data = new Uint8Array(await readFile(path)); } catch (e) { throw new SignerError('INPUT_READ', `cannot read PKCS#12 file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e }); }
  return loadPkcs12Backend(data, password);
}
