import { X509Certificate, constants, createHash, createPrivateKey, createPublicKey, privateEncrypt, randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CertInfo, HASH_LENGTHS, HASH_OIDS, OID_RSA_ENCRYPTION, algId, int, nodeHashName, nul, octets, seq, type HashName, type SignatureAlgorithm } from '@kyso/pki';
import { SignerError } from '../errors.js';
import type { KeyAlgorithmInfo, KeyBackend, ToBeSigned } from './types.js';

const described = new WeakMap<KeyObject, KeyAlgorithmInfo>();

/** Describe a Node KeyObject (private or public) as a {@link KeyAlgorithmInfo} (memoised per KeyObject). */
export function describeKey(key: KeyObject): KeyAlgorithmInfo {
  const hit = described.get(key);
  if (hit) return hit;
  const info = describeKeyNow(key);
  described.set(key, info);
  return info;
}

function describeKeyNow(key: KeyObject): KeyAlgorithmInfo {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': return { type: 'RSA', bits: d.modulusLength ?? 0 };
    case 'rsa-pss': return { type: 'RSA-PSS', bits: d.modulusLength ?? 0 };
    case 'ec': {
      const c = d.namedCurve;
      const namedCurve = c === 'prime256v1' || c === 'P-256' ? 'P-256' : c === 'secp384r1' || c === 'P-384' ? 'P-384' : c === 'secp521r1' || c === 'P-521' ? 'P-521' : undefined;
      if (!namedCurve) throw new SignerError('KEY_UNSUPPORTED', `EC curve ${c ?? '?'} is not supported (use P-256 or P-384)`);
      return { type: 'EC', bits: namedCurve === 'P-256' ? 256 : namedCurve === 'P-384' ? 384 : 521, namedCurve };
    }
    default: throw new SignerError('KEY_UNSUPPORTED', `key type ${key.asymmetricKeyType ?? '?'} is not supported (use RSA, RSA-PSS or EC)`);
  }
}

/** Check that an algorithm fits a key (RSA schemes on RSA keys, ECDSA on EC keys, PSS-only keys only with PSS). */
export function assertAlgorithmFitsKey(key: KeyAlgorithmInfo, alg: SignatureAlgorithm): void {
  const ok = alg.scheme === 'ECDSA' ? key.type === 'EC' : alg.scheme === 'RSA-PSS' ? key.type !== 'EC' : key.type === 'RSA';
  if (!ok) throw new SignerError('ALG_KEY_MISMATCH', `${alg.scheme} cannot be used with a ${key.type} key`);
}

/** Throw KEY_CERT_MISMATCH unless the private key belongs to the certificate. */
export function assertKeyMatchesCert(privateKey: KeyObject, certificate: Uint8Array): void {
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // the usual case natively; the certificate model (which says precisely what is wrong with a certificate) for the rest
  let fromCert: Buffer | undefined;
  try { fromCert = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' }); } catch { /* below */ }
  if (fromCert && fromKey.equals(fromCert)) return;
  const cert = new CertInfo(certificate);
  if (!fromKey.equals(cert.x509.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new SignerError('KEY_CERT_MISMATCH', `the private key does not belong to the certificate of ${cert.subject}`);
  }
}

/** DigestInfo (RFC 8017 9.2) for PKCS#1 v1.5 signing of a precomputed digest. */
function digestInfo(alg: SignatureAlgorithm, digest: Uint8Array): Uint8Array {
  return seq(algId(HASH_OIDS[alg.hash], nul()), octets(digest));
}

/** An RSA-PSS-typed key re-labelled as rsaEncryption (same RSAPrivateKey), so the raw RSA operation is allowed. */
function asPlainRsaKey(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType === 'rsa') return key;
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const pki = asn1js.fromBER(new Uint8Array(der)).result as asn1js.Sequence;
  const rsaPrivateKey = (pki.valueBlock.value[2] as asn1js.OctetString).valueBlock.valueHexView;
  const plain = seq(int(0), algId(OID_RSA_ENCRYPTION, nul()), octets(rsaPrivateKey));
  return createPrivateKey({ key: Buffer.from(plain), format: 'der', type: 'pkcs8' });
}

/** MGF1 (RFC 8017 B.2.1). */
function mgf1(seed: Uint8Array, length: number, hash: HashName): Uint8Array {
  const out = new Uint8Array(length);
  const h = nodeHashName(hash);
  for (let counter = 0, off = 0; off < length; counter++) {
    const c = Buffer.alloc(4); c.writeUInt32BE(counter);
    const block = createHash(h).update(seed).update(c).digest();
    out.set(block.subarray(0, Math.min(block.length, length - off)), off);
    off += block.length;
  }
  return out;
}

/** EMSA-PSS-ENCODE (RFC 8017 9.1.1) of a message hash, left-padded to the modulus length. */
function emsaPssEncode(mHash: Uint8Array, hash: HashName, sLen: number, modBits: number): Uint8Array {
  const hLen = HASH_LENGTHS[hash];
  if (mHash.length !== hLen) throw new SignerError('ALG_UNSUPPORTED', `digest has ${mHash.length} bytes, ${hash} needs ${hLen}`);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new SignerError('ALG_UNSUPPORTED', 'RSA key too small for this PSS salt length');
  const salt = randomBytes(sLen);
  const h = createHash(nodeHashName(hash)).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = new Uint8Array(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  db.set(salt, emLen - sLen - hLen - 1);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const k = Math.ceil(modBits / 8);
  const out = new Uint8Array(k);
  out.set(db, k - emLen);
  out.set(h, k - emLen + db.length);
  out[k - 1] = 0xbc;
  return out;
}

/**
 * A key backend over a Node private KeyObject (used by the PEM and PKCS#12 backends).
 * The key stays inside Node's crypto (OpenSSL); it is never exported.
 */
export class SoftwareKeyBackend implements KeyBackend {
  readonly keyAlgorithm: KeyAlgorithmInfo;
  #key: KeyObject | undefined;
  #rawRsa: KeyObject | undefined;

  constructor(readonly kind: 'pem' | 'pkcs12', privateKey: KeyObject, readonly certificate: Uint8Array, readonly chain: Uint8Array[]) {
    if (privateKey.type !== 'private') throw new SignerError('KEY_PARSE', 'a private key is required');
    this.keyAlgorithm = describeKey(privateKey);
    assertKeyMatchesCert(privateKey, certificate);
    this.#key = privateKey;
  }

  async sign(input: ToBeSigned, alg: SignatureAlgorithm): Promise<Uint8Array> {
    const key = this.#key;
    if (!key) throw new SignerError('KEY_LOCKED', `${this.kind} key backend is closed`);
    assertAlgorithmFitsKey(this.keyAlgorithm, alg);
    const h = nodeHashName(alg.hash);
    try {
      if (input.data) {
        if (alg.scheme === 'ECDSA') return new Uint8Array(nodeSign(h, input.data, { key, dsaEncoding: 'der' }));
        if (alg.scheme === 'RSA-PSS') {
          return new Uint8Array(nodeSign(h, input.data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength ?? HASH_LENGTHS[alg.hash] }));
        }
        return new Uint8Array(nodeSign(h, input.data, { key, padding: constants.RSA_PKCS1_PADDING }));
      }
      if (alg.scheme === 'RSA-PKCS1') {
        return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(alg, input.digest)));
      }
      if (alg.scheme === 'RSA-PSS') {
        const raw = (this.#rawRsa ??= asPlainRsaKey(key));
        const em = emsaPssEncode(input.digest, alg.hash, alg.saltLength ?? HASH_LENGTHS[alg.hash], this.keyAlgorithm.bits);
        return new Uint8Array(privateEncrypt({ key: raw, padding: constants.RSA_NO_PADDING }, em));
      }
    } catch (e) {
      throw new SignerError('SIGN_FAILED', `${this.kind} key could not sign with ${alg.scheme}/${alg.hash}: ${(e as Error).message}`, { cause: e });
    }
    throw new SignerError('ALG_UNSUPPORTED', `${this.kind} key backend needs the data to be signed for ${alg.scheme} (digest-only signing of software keys is supported for RSA PKCS#1 v1.5 and PSS)`);
  }

  async close(): Promise<void> { this.#key = undefined; this.#rawRsa = undefined; }
}

