import type { HashName, SignatureAlgorithm } from '@kyso/pki';

/** Type of the signing key. */
export type KeyType = 'RSA' | 'RSA-PSS' | 'EC';

/** What the key is: its type, size and (EC) curve. */
export interface KeyAlgorithmInfo {
  type: KeyType;
  /** Modulus bits (RSA) or field size (EC). */
  bits: number;
  namedCurve?: 'P-256' | 'P-384' | 'P-521';
}

/**
 * What to sign: the DER bytes to be signed (for CMS, the signed attributes as a SET OF) and
 * their digest under the algorithm's hash. Backends that sign data (software keys) use `data`;
 * backends that sign digests (HSM raw mechanisms, remote signHash services) use `digest`.
 */
export interface ToBeSigned {
  data?: Uint8Array;
  digest: Uint8Array;
}

/**
 * A signing key with its certificate. Every backend (PEM, PKCS#12, PKCS#11, external) has this
 * shape; the CMS builder only talks to this interface.
 */
export interface KeyBackend {
  /** Which implementation this is. */
  readonly kind: 'pem' | 'pkcs12' | 'pkcs11' | 'external';
  /** Signer certificate (DER). */
  readonly certificate: Uint8Array;
  /** Chain above the signer, issuer first, up to (optionally including) the root (DER). */
  readonly chain: Uint8Array[];
  /** The key's algorithm. */
  readonly keyAlgorithm: KeyAlgorithmInfo;
  /**
   * Produce the signature value: RSA PKCS#1 v1.5 or PSS octets, or a DER-encoded ECDSA
   * Ecdsa-Sig-Value (as CMS wants it).
   */
  sign(input: ToBeSigned, algorithm: SignatureAlgorithm): Promise<Uint8Array>;
  /** Release sessions / handles. Safe to call twice. */
  close(): Promise<void>;
}

/** The algorithm a backend uses when the caller does not choose: PKCS#1 v1.5 for RSA, PSS for RSA-PSS keys, ECDSA with the curve's hash. */
export function defaultSignatureAlgorithm(key: KeyAlgorithmInfo, hash?: HashName): SignatureAlgorithm {
  if (key.type === 'EC') {
    const h = hash ?? (key.namedCurve === 'P-384' ? 'SHA-384' : key.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256');
    return { scheme: 'ECDSA', hash: h };
  }
  if (key.type === 'RSA-PSS') return { scheme: 'RSA-PSS', hash: hash ?? 'SHA-256' };
  return { scheme: 'RSA-PKCS1', hash: hash ?? 'SHA-256' };
}
