import { constants, createPublicKey, publicDecrypt, verify as nodeVerify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { DIGEST_OIDS, OIDS, SIGNATURE_OIDS, nodeDigestName } from '../oids.js';
import { bytesEqual, ownBuffer } from '../util/bytes.js';

/**
 * Signature algorithm resolution and verification: the one place where kyso checks a signature value
 * (certificates, CRLs, OCSP responses, CMS SignerInfos, timestamp tokens).
 */

/** What a signature algorithm identifier resolves to. */
export interface ResolvedScheme {
  key: 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'unknown';
  /** Digest used by the scheme (for RSA/ECDSA), e.g. SHA-256. */
  digest?: string;
  saltLength?: number;
  /** Human-readable name, e.g. RSASSA-PSS/SHA-256. */
  name: string;
  /** Set when the parameters are not supported by this verifier. */
  unsupported?: string;
}

/** Resolves a signature AlgorithmIdentifier (with `fallbackDigest` for bare rsaEncryption/ecPublicKey). */
export function resolveScheme(alg: pkijs.AlgorithmIdentifier, fallbackDigest?: string): ResolvedScheme {
  const known = SIGNATURE_OIDS[alg.algorithmId];
  if (!known) return { key: 'unknown', name: alg.algorithmId, unsupported: `signature algorithm ${alg.algorithmId} is not supported` };
  if (known.key === 'RSA-PSS') {
    let params: pkijs.RSASSAPSSParams;
    try {
      params = alg.algorithmParams ? new pkijs.RSASSAPSSParams({ schema: alg.algorithmParams }) : new pkijs.RSASSAPSSParams();
    } catch {
      return { key: 'RSA-PSS', name: 'RSASSA-PSS', unsupported: 'RSASSA-PSS parameters are malformed' };
    }
    const digest = DIGEST_OIDS[params.hashAlgorithm.algorithmId] ?? params.hashAlgorithm.algorithmId;
    let unsupported: string | undefined;
    if (params.maskGenAlgorithm.algorithmId !== OIDS.mgf1) unsupported = 'RSASSA-PSS mask generation function is not MGF1';
    else {
      try {
        const mgfHash = params.maskGenAlgorithm.algorithmParams ? new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }).algorithmId : '1.3.14.3.2.26';
        if ((DIGEST_OIDS[mgfHash] ?? mgfHash) !== digest) unsupported = 'RSASSA-PSS with an MGF1 hash different from the message hash is not supported';
      } catch {
        unsupported = 'RSASSA-PSS MGF1 parameters are malformed';
      }
    }
    if (params.trailerField !== 1) unsupported = 'RSASSA-PSS trailer field must be 1';
    const s: ResolvedScheme = { key: 'RSA-PSS', digest, saltLength: params.saltLength, name: `RSASSA-PSS/${digest}` };
    if (unsupported) s.unsupported = unsupported;
    return s;
  }
  const params = alg.algorithmParams as asn1js.BaseBlock | undefined;
  if (params && known.key === 'RSA' && !(params instanceof asn1js.Null)) {
    return { key: 'RSA', name: 'RSA', unsupported: 'RSA PKCS#1 v1.5 signature algorithm with parameters other than NULL' };
  }
  if (params && (known.key === 'EC' || known.key === 'Ed25519' || known.key === 'Ed448') && known.digest !== undefined && !(params instanceof asn1js.Null) && params.idBlock?.tagClass !== undefined) {
    return { key: known.key, name: known.key, unsupported: `${known.key} signature algorithm with unexpected parameters` };
  }
  const digest = known.digest ?? (known.key === 'Ed25519' || known.key === 'Ed448' ? undefined : fallbackDigest);
  const name = known.key === 'RSA' ? `RSA/${digest}` : known.key === 'EC' ? `ECDSA/${digest}` : digest ? `${known.key}/${digest}` : known.key;
  const s: ResolvedScheme = { key: known.key, name };
  if (digest) s.digest = digest;
  if (known.key === 'Ed448') s.unsupported = 'Ed448 signatures are not supported';
  if (known.key === 'DSA') s.unsupported = 'DSA signatures are not supported';
  if ((known.key === 'RSA' || known.key === 'EC') && !digest) s.unsupported = 'no digest algorithm for the signature';
  return s;
}

/** Node curve names → NIST names. */
export const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521' };

/** Imports a SubjectPublicKeyInfo. */
export function spkiToKey(spkiDer: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
}

/** A short description of a public key, e.g. "RSA 2048", "EC P-256". */
export function describePublicKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return `RSA ${d.modulusLength}`;
  if (key.asymmetricKeyType === 'ec') return `EC ${CURVES[d.namedCurve ?? ''] ?? d.namedCurve}`;
  return String(key.asymmetricKeyType);
}

/** Verifies `signature` over `data` with the scheme. Returns false for a wrong signature; throws on unusable keys. */
export function verifyWithScheme(scheme: ResolvedScheme, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (scheme.unsupported) throw new Error(scheme.unsupported);
  const sig = Buffer.from(signature);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  switch (scheme.key) {
    case 'RSA':
      if (key.asymmetricKeyType !== 'rsa') throw new Error(`RSA signature with a ${key.asymmetricKeyType} key`);
      return nodeVerify(nodeDigestName(scheme.digest!), buf, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    case 'RSA-PSS':
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') throw new Error(`RSASSA-PSS signature with a ${key.asymmetricKeyType} key`);
      return nodeVerify(nodeDigestName(scheme.digest!), buf, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength ?? 20 }, sig);
    case 'EC':
      if (key.asymmetricKeyType !== 'ec') throw new Error(`ECDSA signature with a ${key.asymmetricKeyType} key`);
      return nodeVerify(nodeDigestName(scheme.digest!), buf, { key, dsaEncoding: 'der' }, sig);
    case 'Ed25519':
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`Ed25519 signature with a ${key.asymmetricKeyType} key`);
      return nodeVerify(null, buf, key, sig);
    default:
      throw new Error(`signature scheme ${scheme.name} is not supported`);
  }
}

const DIGEST_INFO_OIDS: Record<string, string> = Object.fromEntries(Object.entries(DIGEST_OIDS).map(([k, v]) => [v, k]));

/** Verifies an RSA PKCS#1 v1.5 signature over a precomputed digest (CMS without signed attributes). */
export function verifyRsaPrehashed(key: KeyObject, digestAlg: string, digest: Uint8Array, signature: Uint8Array): boolean {
  let decrypted: Buffer;
  try {
    decrypted = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(signature));
  } catch {
    return false;
  }
  const asn = asn1js.fromBER(ownBuffer(new Uint8Array(decrypted)));
  if (asn.offset === -1 || asn.offset !== decrypted.length) return false;
  try {
    const seq = asn.result as asn1js.Sequence;
    const algSeq = seq.valueBlock.value[0] as asn1js.Sequence;
    const oid = (algSeq.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
    const oct = seq.valueBlock.value[1] as asn1js.OctetString;
    if (oid !== DIGEST_INFO_OIDS[digestAlg]) return false;
    return bytesEqual(oct.valueBlock.valueHexView, digest);
  } catch {
    return false;
  }
}
