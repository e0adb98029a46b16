import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { PKCS12_PBE, pkcs12PbeDecrypt } from './pkcs12-legacy.js';
import { pkcs12MacMatches } from './pkcs12-mac.js';
import { openPkcs12Natively } from './pkcs12-native.js';
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
 * Open a PKCS#12 (PFX): with node:crypto alone when the file has the usual shape (see pkcs12-native.ts), else with
 * PKI.js. Checks the MAC with the password (wrong password →
 * BAD_PASSWORD, missing → KEY_LOCKED), decrypts the certificate safe (PBES2, or the legacy
 * PBE-SHA1-3DES / RC2 schemes of older exports) and the shrouded key bag.
 */
export async function parsePkcs12(data: Uint8Array, password: string | Uint8Array | undefined): Promise<Pkcs12Contents> {
  if (password === undefined) throw new SignerError('KEY_LOCKED', 'PKCS#12 file is password-protected: a password is required (environment or prompt)');
  const pwBytes = typeof password === 'string' ? new TextEncoder().encode(password) : password;
  // today's usual files are opened with node:crypto alone; anything else (or any doubt) goes through PKI.js below
  const native = openPkcs12Natively(data, pwBytes);
  if (native) return native;
  ensurePkijsEngine();
  const pwd = pwBytes.slice().buffer as ArrayBuffer;
  let pfx: pkijs.PFX;
  try { pfx = pkijs.PFX.fromBER(new Uint8Array(data)); } catch (e) { throw new SignerError('KEY_PARSE', `not a PKCS#12 file: ${(e as Error).message}`, { cause: e }); }
  try {
    // the MAC checked natively when possible (fast path); otherwise PKI.js checks it
    await pfx.parseInternalValues({ password: pwd, checkIntegrity: !pkcs12MacMatches(pfx, pwBytes) });
  } catch (e) {
    const m = (e as Error).message ?? '';
    if (/integrity/i.test(m)) throw new SignerError('BAD_PASSWORD', 'PKCS#12: wrong password (MAC check failed)', { cause: e });
    throw new SignerError('PKCS12_UNSUPPORTED', `PKCS#12 could not be opened: ${m}`, { cause: e });
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new SignerError('KEY_PARSE', 'PKCS#12 has no authenticated safe');
  let contents: pkijs.SafeContents[];
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pwd })) });
    contents = (safe.parsedValue?.safeContents ?? []).map((sc: { value: pkijs.SafeContents }) => sc.value);
  } catch (e) {
    // PKI.js knows PBES2 only; older files encrypt the certificate safe with PBE-SHA1-RC2/3DES.
    // Parse the safe afresh: PKI.js's failed attempt consumed the parsed schema.
    let fresh: pkijs.AuthenticatedSafe;
    try { fresh = pkijs.AuthenticatedSafe.fromBER(new Uint8Array((pfx.authSafe.content as asn1js.OctetString).getValue())); } catch {
      throw new SignerError('PKCS12_UNSUPPORTED', `PKCS#12 safe could not be read (${(e as Error).message})`, { cause: e });
    }
    contents = decryptLegacySafes(fresh, typeof password === 'string' ? password : Buffer.from(password).toString('utf8'), e);
  }
  let key: KeyObject | undefined;
  const certificates: Uint8Array[] = [];
  const passphrase = Buffer.from(pwBytes);
  for (const sc of contents) {
    for (const bag of sc.safeBags) {
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

function decryptLegacySafes(safe: pkijs.AuthenticatedSafe, password: string, cause: unknown): pkijs.SafeContents[] {
  const out: pkijs.SafeContents[] = [];
  for (const ci of safe.safeContents) {
    if (ci.contentType === pkijs.ContentInfo.DATA) {
      out.push(pkijs.SafeContents.fromBER(new Uint8Array((ci.content as asn1js.OctetString).getValue())));
      continue;
    }
    if (ci.contentType !== pkijs.ContentInfo.ENCRYPTED_DATA) {
      throw new SignerError('PKCS12_UNSUPPORTED', `PKCS#12 safe of type ${ci.contentType} is not supported`, { cause });
    }
    const ed = new pkijs.EncryptedData({ schema: ci.content });
    const eci = ed.encryptedContentInfo;
    const algOid = eci.contentEncryptionAlgorithm.algorithmId;
    if (!Object.values(PKCS12_PBE).includes(algOid as never)) {
      throw new SignerError('PKCS12_UNSUPPORTED', `PKCS#12 safe encrypted with ${algOid}, which kyso does not support`, { cause });
    }
    const params = eci.contentEncryptionAlgorithm.algorithmParams as asn1js.Sequence;
    const salt = (params.valueBlock.value[0] as asn1js.OctetString).valueBlock.valueHexView;
    const iterations = (params.valueBlock.value[1] as asn1js.Integer).valueBlock.valueDec;
    if (!(iterations > 0 && iterations <= 10_000_000)) throw new SignerError('KEY_PARSE', 'PKCS#12: implausible iteration count');
    const enc = eci.encryptedContent;
    if (!enc) throw new SignerError('KEY_PARSE', 'PKCS#12: encrypted safe without content');
    let plain: Uint8Array;
    const octetsOf = (n: asn1js.BaseBlock): Uint8Array => {
      const vb = (n as asn1js.Constructed).valueBlock as { value?: asn1js.BaseBlock[]; valueHexView?: Uint8Array };
      if (Array.isArray(vb.value) && vb.value.length) return Buffer.concat(vb.value.map((c) => octetsOf(c)));
      return (n as asn1js.OctetString).valueBlock.valueHexView;
    };
    try { plain = pkcs12PbeDecrypt(algOid, password, salt, iterations, octetsOf(enc)); } catch (e) {
      throw new SignerError('BAD_PASSWORD', 'PKCS#12: the certificate safe could not be decrypted with this password', { cause: e });
    }
    out.push(pkijs.SafeContents.fromBER(new Uint8Array(plain)));
  }
  return out;
}

/** A key backend over a PKCS#12 file's key; the signer certificate is the one matching the key, the rest is chain. */
export async function loadPkcs12Backend(data: Uint8Array, password: string | Uint8Array | undefined): Promise<SoftwareKeyBackend> {
  const { key, certificates } = await parsePkcs12(data, password);
  // the certificate whose public key is the key's, found natively (a SoftwareKeyBackend per candidate parses each)
  const spki = keySpki(key);
  const own = spki && certificates.find((c) => spki.equals(certSpki(c) ?? Buffer.alloc(0)));
  if (own) return new SoftwareKeyBackend('pkcs12', key, own, orderChain(own, certificates.filter((x) => x !== own)));
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

function keySpki(key: KeyObject): Buffer | undefined {
  try { return createPublicKey(key).export({ type: 'spki', format: 'der' }); } catch { return undefined; }
}
function certSpki(der: Uint8Array): Buffer | undefined {
  try { return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }); } catch { return undefined; }
}

/** {@link loadPkcs12Backend} from a file path. */
export async function loadPkcs12File(path: string, password: string | Uint8Array | undefined): Promise<SoftwareKeyBackend> {
  let data: Uint8Array;
  try { data = new Uint8Array(await readFile(path)); } catch (e) { throw new SignerError('INPUT_READ', `cannot read PKCS#12 file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e }); }
  return loadPkcs12Backend(data, password);
}
