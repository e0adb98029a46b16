import { constants, sign as nodeSign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OIDS } from './oids.js';
import { PkiClientError } from './clients/errors.js';

/** Hash algorithms kyso signs with. */
export type SigningHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

const HASH_OID: Record<SigningHash, string> = { 'SHA-256': OIDS.sha256, 'SHA-384': OIDS.sha384, 'SHA-512': OIDS.sha512 };
const HASH_LEN: Record<SigningHash, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const RSA_OID: Record<SigningHash, string> = {
  'SHA-256': OIDS.sha256WithRSAEncryption, 'SHA-384': OIDS.sha384WithRSAEncryption, 'SHA-512': OIDS.sha512WithRSAEncryption,
};
const EC_OID: Record<SigningHash, string> = { 'SHA-256': OIDS.ecdsaWithSHA256, 'SHA-384': OIDS.ecdsaWithSHA384, 'SHA-512': OIDS.ecdsaWithSHA512 };

/** How to sign with a key: scheme and hash. */
export interface SigningScheme {
  hash: SigningHash;
  /** RSA keys only: RSASSA-PSS (salt = hash length, MGF1 with the same hash) instead of PKCS#1 v1.5. */
  pss?: boolean;
}

/** AlgorithmIdentifier of a hash (parameters absent, as RFC 5754 recommends). */
export function pkijsHashAlgorithm(hash: SigningHash): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OID[hash] });
}

/** RSASSA-PSS-params for a hash (saltLength = hash length, trailerField 1). */
export function pssParams(hash: SigningHash): pkijs.RSASSAPSSParams {
  const h = new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OID[hash], algorithmParams: new asn1js.Null() });
  return new pkijs.RSASSAPSSParams({
    hashAlgorithm: h,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.mgf1, algorithmParams: h.toSchema() }),
    saltLength: HASH_LEN[hash],
  });
}

/** Key family of a Node private or public key. */
export function keyFamily(key: KeyObject): 'RSA' | 'EC' {
  const t = key.asymmetricKeyType;
  if (t === 'rsa' || t === 'rsa-pss') return 'RSA';
  if (t === 'ec') return 'EC';
  throw new PkiClientError('ALG_UNSUPPORTED', `unsupported key type ${String(t)} (RSA and EC keys only)`);
}

/** The signature AlgorithmIdentifier that {@link signBytes} produces for this key and scheme. */
export function pkijsSignatureAlgorithm(key: KeyObject, scheme: SigningScheme): pkijs.AlgorithmIdentifier {
  if (keyFamily(key) === 'EC') {
    if (scheme.pss) throw new PkiClientError('ALG_UNSUPPORTED', 'RSASSA-PSS needs an RSA key');
    return new pkijs.AlgorithmIdentifier({ algorithmId: EC_OID[scheme.hash] });
  }
  if (scheme.pss) return new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.rsassaPss, algorithmParams: pssParams(scheme.hash).toSchema() });
  return new pkijs.AlgorithmIdentifier({ algorithmId: RSA_OID[scheme.hash], algorithmParams: new asn1js.Null() });
}

/**
 * Sign `data` (the whole to-be-signed bytes, hashed here) with a Node private key. ECDSA signatures
 * come out DER-encoded (Ecdsa-Sig-Value), as X.509 / CMS / OCSP expect.
 */
export function signBytes(key: KeyObject, scheme: SigningScheme, data: Uint8Array): Uint8Array {
  const alg = scheme.hash.replace('-', '').toLowerCase();
  if (keyFamily(key) === 'RSA' && scheme.pss) {
    return new Uint8Array(nodeSign(alg, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[scheme.hash] }));
  }
  if (keyFamily(key) === 'RSA') return new Uint8Array(nodeSign(alg, data, { key, padding: constants.RSA_PKCS1_PADDING }));
  return new Uint8Array(nodeSign(alg, data, { key, dsaEncoding: 'der' }));
}
