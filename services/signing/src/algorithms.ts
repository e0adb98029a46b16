/** CSC algorithm identifiers (OIDs) ↔ kyso signature algorithms; hash checks and canonical hash encoding. */
import * as pkijs from 'pkijs';
import type { HashName, SignatureAlgorithm } from '@kyso/pki';
import { invalidRequest } from './errors.js';
import type { KeyRef } from './store.js';

export const HASH_OID: Record<HashName, string> = {
  'SHA-256': '2.16.840.1.101.3.4.2.1', 'SHA-384': '2.16.840.1.101.3.4.2.2', 'SHA-512': '2.16.840.1.101.3.4.2.3',
};
const HASH_BY_OID = new Map(Object.entries(HASH_OID).map(([k, v]) => [v, k as HashName]));
const HASH_LEN: Record<HashName, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

export const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const RSASSA_PSS = '1.2.840.113549.1.1.10';
export const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const RSA_WITH: Record<string, HashName> = { '1.2.840.113549.1.1.11': 'SHA-256', '1.2.840.113549.1.1.12': 'SHA-384', '1.2.840.113549.1.1.13': 'SHA-512' };
const ECDSA_WITH: Record<string, HashName> = { '1.2.840.10045.4.3.2': 'SHA-256', '1.2.840.10045.4.3.3': 'SHA-384', '1.2.840.10045.4.3.4': 'SHA-512' };
export const CURVE_OID = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34' } as const;

/** signAlgo values a key accepts (credentials/info `key.algo`). */
export function keyAlgos(k: KeyRef): string[] {
  return k.type === 'RSA' ? [RSA_ENCRYPTION, ...Object.keys(RSA_WITH), RSASSA_PSS] : [EC_PUBLIC_KEY, ...Object.keys(ECDSA_WITH)];
}
/** Every signAlgo the service supports (info `signAlgorithms.algos`). */
export const ALL_ALGOS = [RSA_ENCRYPTION, ...Object.keys(RSA_WITH), RSASSA_PSS, EC_PUBLIC_KEY, ...Object.keys(ECDSA_WITH)];

export function hashOfOid(oid: unknown): HashName {
  const h = typeof oid === 'string' ? HASH_BY_OID.get(oid) : undefined;
  if (!h) throw invalidRequest(`Invalid parameter hashAlgorithmOID: use ${Object.values(HASH_OID).join(', ')}`);
  return h;
}

/** Parses base64 (or base64url) hashes of the given algorithm into their canonical base64 form. */
export function canonicalHashes(list: unknown, hash: HashName, name = 'hashes'): string[] {
  if (!Array.isArray(list) || list.length === 0) throw invalidRequest(`Missing or invalid parameter ${name}`);
  if (list.length > 1000) throw invalidRequest(`Too many ${name} (at most 1000)`);
  return list.map((h, i) => {
    if (typeof h !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(h)) throw invalidRequest(`Invalid parameter ${name}[${i}]: not base64`);
    const b = Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length !== HASH_LEN[hash]) throw invalidRequest(`Invalid parameter ${name}[${i}]: ${b.length} bytes, ${hash} has ${HASH_LEN[hash]}`);
    return b.toString('base64');
  });
}

/**
 * The signature algorithm of a signHash request: `signAlgo` (+ `hashAlgorithmOID` where the OID names no hash,
 * + `signAlgoParams` for RSASSA-PSS), checked against the key.
 */
export function signatureAlgorithm(key: KeyRef, signAlgo: unknown, hashAlgorithmOID: unknown, signAlgoParams: unknown): { alg: SignatureAlgorithm; hashOid: string } {
  if (typeof signAlgo !== 'string') throw invalidRequest('Missing parameter signAlgo');
  const given = hashAlgorithmOID === undefined ? undefined : hashOfOid(hashAlgorithmOID);
  const pick = (implied: HashName | undefined): HashName => {
    if (implied && given && implied !== given) throw invalidRequest(`signAlgo ${signAlgo} implies ${implied} but hashAlgorithmOID names ${given}`);
    const h = implied ?? given;
    if (!h) throw invalidRequest(`Missing parameter hashAlgorithmOID (signAlgo ${signAlgo} names no hash)`);
    return h;
  };
  let alg: SignatureAlgorithm;
  if (signAlgo === RSA_ENCRYPTION || RSA_WITH[signAlgo]) alg = { scheme: 'RSA-PKCS1', hash: pick(RSA_WITH[signAlgo]) };
  else if (signAlgo === EC_PUBLIC_KEY || ECDSA_WITH[signAlgo]) alg = { scheme: 'ECDSA', hash: pick(ECDSA_WITH[signAlgo]) };
  else if (signAlgo === RSASSA_PSS) {
    if (typeof signAlgoParams !== 'string') throw invalidRequest('Missing parameter signAlgoParams (RSASSA-PSS-params, base64 DER)');
    let p: pkijs.RSASSAPSSParams;
    try { p = pkijs.RSASSAPSSParams.fromBER(Buffer.from(signAlgoParams, 'base64')); } catch { throw invalidRequest('Invalid parameter signAlgoParams: not DER RSASSA-PSS-params'); }
    const ph = HASH_BY_OID.get(p.hashAlgorithm.algorithmId);
    if (!ph) throw invalidRequest('signAlgoParams: the hash must be SHA-256, SHA-384 or SHA-512 (the SHA-1 default is refused)');
    const h = pick(ph);
    let mgfHash: string | undefined;
    try {
      mgfHash = p.maskGenAlgorithm.algorithmParams ? new pkijs.AlgorithmIdentifier({ schema: p.maskGenAlgorithm.algorithmParams }).algorithmId : undefined;
    } catch { throw invalidRequest('Invalid parameter signAlgoParams: the MGF1 parameter is not an AlgorithmIdentifier'); }
    if (p.maskGenAlgorithm.algorithmId !== '1.2.840.113549.1.1.8' || HASH_BY_OID.get(mgfHash ?? '') !== h) throw invalidRequest('signAlgoParams: MGF1 with the same hash is required');
    if (p.trailerField !== 1) throw invalidRequest('signAlgoParams: trailerField must be 1');
    if (p.saltLength < 0 || p.saltLength > 64) throw invalidRequest('signAlgoParams: saltLength out of range');
    alg = { scheme: 'RSA-PSS', hash: h, saltLength: p.saltLength };
  } else throw invalidRequest(`Invalid parameter signAlgo: ${signAlgo} is not supported`);
  if ((alg.scheme === 'ECDSA') !== (key.type === 'EC')) throw invalidRequest(`Invalid parameter signAlgo: ${signAlgo} does not fit the credential's ${key.type} key`);
  return { alg, hashOid: HASH_OID[alg.hash] };
}
