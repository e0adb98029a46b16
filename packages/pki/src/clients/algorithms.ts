import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { PkiClientError } from './errors.js';
import { algId, ctx, int, nul, seq } from './der.js';
import { verifyWithScheme, type ResolvedScheme } from '../algorithms/scheme.js';

/** Hash algorithms kyso signs and timestamps with. */
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** OID of each digest algorithm (plus SHA-1, which OCSP CertIDs still use). */
export const HASH_OIDS: Record<HashName | 'SHA-1', string> = {
  'SHA-1': '1.3.14.3.2.26',
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
};

/** Output length in bytes. */
export const HASH_LENGTHS: Record<HashName | 'SHA-1', number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

const NODE_HASH: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** Node's name of a hash ("sha256"). */
export const nodeHashName = (h: HashName | 'SHA-1'): string => NODE_HASH[h]!;

/** Hash bytes. */
export function digest(hash: HashName | 'SHA-1', data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(NODE_HASH[hash]!).update(data).digest());
}

/** Hash name from its OID, or undefined. */
export function hashFromOid(o: string): HashName | 'SHA-1' | undefined {
  return (Object.keys(HASH_OIDS) as (HashName | 'SHA-1')[]).find((k) => HASH_OIDS[k] === o);
}

/** Parse a HashName ("sha256", "SHA-256", "SHA256"). */
export function parseHashName(s: string): HashName {
  const n = s.toUpperCase().replace(/^SHA-?/, 'SHA-');
  if (n === 'SHA-256' || n === 'SHA-384' || n === 'SHA-512') return n;
  throw new PkiClientError('ALG_UNSUPPORTED', `unsupported hash algorithm ${s} (use SHA-256, SHA-384 or SHA-512)`);
}

/** DER AlgorithmIdentifier of a digest algorithm (parameters absent, RFC 5754). */
export const hashAlgorithmIdentifier = (h: HashName | 'SHA-1'): Uint8Array => algId(HASH_OIDS[h]);

export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
export const OID_MGF1 = '1.2.840.113549.1.1.8';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const RSA_PKCS1_OIDS: Record<string, HashName | 'SHA-1'> = {
  '1.2.840.113549.1.1.5': 'SHA-1', '1.2.840.113549.1.1.11': 'SHA-256', '1.2.840.113549.1.1.12': 'SHA-384', '1.2.840.113549.1.1.13': 'SHA-512',
};
const ECDSA_OIDS: Record<string, HashName | 'SHA-1'> = {
  '1.2.840.10045.4.1': 'SHA-1', '1.2.840.10045.4.3.2': 'SHA-256', '1.2.840.10045.4.3.3': 'SHA-384', '1.2.840.10045.4.3.4': 'SHA-512',
};

/** A signature scheme as kyso names it. */
export type SignatureScheme = 'RSA-PKCS1' | 'RSA-PSS' | 'ECDSA';

/** A fully specified signature algorithm. */
export interface SignatureAlgorithm {
  scheme: SignatureScheme;
  hash: HashName;
  /** PSS salt length in bytes (default = hash length). */
  saltLength?: number;
}

/** DER AlgorithmIdentifier of a signature algorithm (explicit RSASSA-PSS-params for PSS). */
export function signatureAlgorithmIdentifier(alg: SignatureAlgorithm): Uint8Array {
  switch (alg.scheme) {
    case 'RSA-PKCS1': {
      const o = Object.keys(RSA_PKCS1_OIDS).find((k) => RSA_PKCS1_OIDS[k] === alg.hash)!;
      return algId(o, nul());
    }
    case 'ECDSA': {
      const o = Object.keys(ECDSA_OIDS).find((k) => ECDSA_OIDS[k] === alg.hash)!;
      return algId(o);
    }
    case 'RSA-PSS': {
      const h = hashAlgorithmIdentifier(alg.hash);
      const salt = alg.saltLength ?? HASH_LENGTHS[alg.hash];
      // RSASSA-PSS-params: hashAlgorithm [0], maskGenAlgorithm [1] (MGF1 with the same hash),
      // saltLength [2]; trailerField [3] left at its default (1).
      return algId(OID_RSASSA_PSS, seq(ctx(0, true, h), ctx(1, true, algId(OID_MGF1, h)), ctx(2, true, int(salt))));
    }
  }
}

/** A signature algorithm decoded from an AlgorithmIdentifier. */
export interface DecodedSignatureAlgorithm {
  scheme: SignatureScheme;
  hash: HashName | 'SHA-1';
  saltLength?: number;
}

/**
 * Decode a signature AlgorithmIdentifier (DER or parsed asn1js sequence). Plain rsaEncryption
 * (as some CMS signers write it) needs the digest algorithm passed in `digestHint`.
 */
export function decodeSignatureAlgorithm(id: Uint8Array | asn1js.Sequence, digestHint?: HashName | 'SHA-1'): DecodedSignatureAlgorithm {
  const node = id instanceof Uint8Array ? (asn1js.fromBER(id).result as asn1js.Sequence) : id;
  const items = node.valueBlock?.value ?? [];
  const o = items[0] instanceof asn1js.ObjectIdentifier ? items[0].valueBlock.toString() : '';
  if (RSA_PKCS1_OIDS[o]) return { scheme: 'RSA-PKCS1', hash: RSA_PKCS1_OIDS[o]! };
  if (ECDSA_OIDS[o]) return { scheme: 'ECDSA', hash: ECDSA_OIDS[o]! };
  if (o === OID_RSA_ENCRYPTION && digestHint) return { scheme: 'RSA-PKCS1', hash: digestHint };
  if (o === OID_RSASSA_PSS) {
    let hash: HashName | 'SHA-1' = 'SHA-1';
    let saltLength = 20;
    const params = items[1] as asn1js.Sequence | undefined;
    for (const p of params?.valueBlock?.value ?? []) {
      const tag = p.idBlock.tagNumber;
      const inner = (p as asn1js.Constructed).valueBlock.value[0];
      if (tag === 0 && inner) {
        const ho = ((inner as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
        const h = hashFromOid(ho);
        if (!h) throw new PkiClientError('ALG_UNSUPPORTED', `RSASSA-PSS with unsupported hash ${ho}`);
        hash = h;
      } else if (tag === 2 && inner) {
        saltLength = (inner as asn1js.Integer).valueBlock.valueDec;
      }
    }
    return { scheme: 'RSA-PSS', hash, saltLength };
  }
  throw new PkiClientError('ALG_UNSUPPORTED', `unsupported signature algorithm ${o || '(unparseable)'}`);
}

/**
 * Verify `signature` over `data` with the public key in `spkiDer` (SubjectPublicKeyInfo DER or
 * a KeyObject) under the algorithm `alg`. ECDSA signatures are DER-encoded (X9.62) as in X.509/CMS.
 * Delegates to {@link verifyWithScheme}, the one signature check of kyso; false on any failure.
 */
export function verifySignature(key: Uint8Array | KeyObject, alg: DecodedSignatureAlgorithm, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const pub = key instanceof Uint8Array ? createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' }) : key;
    const scheme: ResolvedScheme = alg.scheme === 'RSA-PSS'
      ? { key: 'RSA-PSS', digest: alg.hash, saltLength: alg.saltLength ?? HASH_LENGTHS[alg.hash], name: `RSASSA-PSS/${alg.hash}` }
      : alg.scheme === 'RSA-PKCS1' ? { key: 'RSA', digest: alg.hash, name: `RSA/${alg.hash}` } : { key: 'EC', digest: alg.hash, name: `ECDSA/${alg.hash}` };
    return verifyWithScheme(scheme, pub, data, signature);
  } catch {
    return false;
  }
}
