import {
  CertInfo, certInfoOf, ctx, oid, HASH_LENGTHS, decodeSignatureAlgorithm, digest, hashAlgorithmIdentifier, int, seq, setOf,
  signatureAlgorithmIdentifier, verifySignature, type HashName, type SignatureAlgorithm,
} from '@kyso/pki';
import { SignerError } from '../errors.js';
import { assertAlgorithmFitsKey, describeKey } from '../keys/software.js';
import { defaultSignatureAlgorithm } from '../keys/types.js';
import { contentTypeAttribute, messageDigestAttribute, signingCertificateV2Attribute, signingTimeAttribute } from './attributes.js';
import { OID } from './oids.js';
import { assembleSignedData, issuerAndSerial } from './signed-data.js';

/** Inputs of {@link prepareCms}. */
export interface PrepareCmsOptions {
  /** Digest of the signed content (for PAdES: of the ByteRange bytes), under `hash`. */
  contentDigest: Uint8Array;
  /** Digest algorithm of the content and of the signature. */
  hash: HashName;
  /** Signer certificate (DER). */
  certificate: Uint8Array;
  /** Chain certificates to embed (DER, issuer first). */
  chain?: Uint8Array[];
  /** Signature algorithm; default from the certificate's key (PKCS#1 v1.5 for RSA, PSS for RSA-PSS keys, ECDSA). */
  signatureAlgorithm?: SignatureAlgorithm;
  /** Adds a signing-time attribute. Leave undefined for PAdES (EN 319 142-1: the time goes in /M). */
  signingTime?: Date;
  /** eContentType / content-type attribute (default id-data). */
  contentType?: string;
  /** Put IssuerSerial in signing-certificate-v2 (default true). */
  includeIssuerSerial?: boolean;
  /** Further signed attributes (DER Attribute), e.g. signature-policy-identifier or commitment type. */
  extraSignedAttributes?: Uint8Array[];
}

/** JSON-serialisable state between {@link prepareCms} and {@link finalizeCms}. All bytes are base64. */
export interface CmsState {
  v: 1;
  hash: HashName;
  signatureAlgorithm: SignatureAlgorithm;
  /** DER SET OF signed attributes (what is signed). */
  signedAttrs: string;
  /** SHA-xxx of signedAttrs under `hash` (what a digest-signing device signs). */
  digestToSign: string;
  certificate: string;
  chain: string[];
  contentType: string;
}

/** Result of {@link prepareCms}. */
export interface PreparedCms {
  /** DER of the signed attributes (SET OF, tag 0x31): the data to be signed. */
  toBeSigned: Uint8Array;
  /** Hash of `toBeSigned` under the chosen hash: what digest-signing backends sign. */
  digestToSign: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  /** Give this (e.g. as JSON) to {@link finalizeCms}, in this process or another. */
  state: CmsState;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: unknown, what: string): Uint8Array => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new SignerError('STATE_INVALID', `two-step state: ${what} is not base64`);
  return new Uint8Array(Buffer.from(s, 'base64'));
};

/**
 * First step of signing: build the CAdES signed attributes (content-type, message-digest,
 * signing-certificate-v2, optional signing-time), DER-sorted, and return them with their digest
 * and a serialisable state. No key is needed.
 */
export function prepareCms(opts: PrepareCmsOptions): PreparedCms {
  if (opts.contentDigest.length !== HASH_LENGTHS[opts.hash]) {
    throw new SignerError('ALG_UNSUPPORTED', `content digest has ${opts.contentDigest.length} bytes, ${opts.hash} needs ${HASH_LENGTHS[opts.hash]}`);
  }
  let cert: CertInfo;
  try { cert = certInfoOf(opts.certificate); } catch (e) { throw new SignerError('CERT_PARSE', `signer certificate: ${(e as Error).message}`, { cause: e }); }
  const keyInfo = describeKey(cert.publicKey);
  const alg = opts.signatureAlgorithm ?? defaultSignatureAlgorithm(keyInfo, opts.hash);
  if (alg.hash !== opts.hash) throw new SignerError('ALG_UNSUPPORTED', `signature hash ${alg.hash} differs from content hash ${opts.hash}`);
  assertAlgorithmFitsKey(keyInfo, alg);
  const contentType = opts.contentType ?? OID.data;
  const attrs = [
    contentTypeAttribute(contentType),
    messageDigestAttribute(opts.contentDigest),
    signingCertificateV2Attribute(opts.certificate, opts.hash, opts.includeIssuerSerial ?? true),
    ...(opts.signingTime ? [signingTimeAttribute(opts.signingTime)] : []),
    ...(opts.extraSignedAttributes ?? []),
  ];
  const toBeSigned = setOf(...attrs);
  const digestToSign = digest(opts.hash, toBeSigned);
  const state: CmsState = {
    v: 1,
    hash: opts.hash,
    signatureAlgorithm: { ...alg },
    signedAttrs: b64(toBeSigned),
    digestToSign: b64(digestToSign),
    certificate: b64(opts.certificate),
    chain: (opts.chain ?? []).map(b64),
    contentType,
  };
  return { toBeSigned, digestToSign, signatureAlgorithm: alg, state };
}

/** Options of {@link finalizeCms}. */
export interface FinalizeCmsOptions {
  /** More certificates to embed (e.g. a chain the remote signer returned), DER. */
  certificates?: Uint8Array[];
  /** Revocation data to embed in SignedData.crls: CRLs (DER CertificateList) and OCSP responses (DER OCSPResponse). */
  crls?: Uint8Array[];
  ocsps?: Uint8Array[];
  /** Unsigned attributes (DER Attribute) to add, e.g. a signature timestamp. */
  unsignedAttributes?: Uint8Array[];
  /** Check the signature value against the certificate before writing (default true). */
  verify?: boolean;
}

/** Convert an IEEE P1363 (r‖s) ECDSA signature to DER Ecdsa-Sig-Value. */
export function ecdsaRawToDer(rawSig: Uint8Array): Uint8Array {
  const n = rawSig.length / 2;
  return seq(int(rawSig.subarray(0, n)), int(rawSig.subarray(n)));
}

function parseState(s: unknown): { state: CmsState; signedAttrs: Uint8Array; certificate: Uint8Array; chain: Uint8Array[] } {
  const st = (typeof s === 'string' ? (() => { try { return JSON.parse(s) as unknown; } catch { throw new SignerError('STATE_INVALID', 'two-step state is not JSON'); } })() : s) as CmsState;
  if (!st || typeof st !== 'object' || st.v !== 1) throw new SignerError('STATE_INVALID', 'two-step state: unknown version');
  if (!['SHA-256', 'SHA-384', 'SHA-512'].includes(st.hash)) throw new SignerError('STATE_INVALID', 'two-step state: bad hash');
  const a = st.signatureAlgorithm;
  if (!a || !['RSA-PKCS1', 'RSA-PSS', 'ECDSA'].includes(a.scheme) || a.hash !== st.hash) throw new SignerError('STATE_INVALID', 'two-step state: bad signature algorithm');
  if (!Array.isArray(st.chain)) throw new SignerError('STATE_INVALID', 'two-step state: chain is not a list');
  if (typeof st.contentType !== 'string' || !/^[0-2](\.(0|[1-9][0-9]*))+$/.test(st.contentType)) throw new SignerError('STATE_INVALID', 'two-step state: bad contentType');
  if (st.signatureAlgorithm.saltLength !== undefined && !(Number.isInteger(st.signatureAlgorithm.saltLength) && st.signatureAlgorithm.saltLength >= 0 && st.signatureAlgorithm.saltLength <= 512)) {
    throw new SignerError('STATE_INVALID', 'two-step state: bad PSS salt length');
  }
  const signedAttrs = unb64(st.signedAttrs, 'signedAttrs');
  if (signedAttrs[0] !== 0x31) throw new SignerError('STATE_INVALID', 'two-step state: signedAttrs is not a SET');
  return { state: st, signedAttrs, certificate: unb64(st.certificate, 'certificate'), chain: st.chain.map((c, i) => unb64(c, `chain[${i}]`)) };
}

/**
 * Second step: wrap the signature value into a CAdES-BES detached ContentInfo(SignedData).
 * `state` is the object from {@link prepareCms} or its JSON text. By default the signature is
 * verified against the certificate first (SIGNATURE_INVALID otherwise), so a wrong or tampered
 * remote answer never produces a file. ECDSA values may be DER or raw r‖s.
 */
export function finalizeCms(state: CmsState | string, signatureValue: Uint8Array, opts: FinalizeCmsOptions = {}): Uint8Array {
  const { state: st, signedAttrs, certificate, chain } = parseState(state);
  let cert: CertInfo;
  try {
    cert = certInfoOf(certificate);
    for (const c of chain) certInfoOf(c);
  } catch (e) { throw new SignerError('STATE_INVALID', `two-step state: certificate unreadable (${(e as Error).message})`, { cause: e }); }
  const algId = signatureAlgorithmIdentifier(st.signatureAlgorithm);
  let sig = signatureValue;
  if (st.signatureAlgorithm.scheme === 'ECDSA' && sig[0] !== 0x30) sig = ecdsaRawToDer(sig);
  if (opts.verify !== false) {
    const decoded = decodeSignatureAlgorithm(algId);
    if (!verifySignature(cert.publicKey, decoded, signedAttrs, sig)) {
      // A raw ECDSA r‖s whose first byte happened to be 0x30.
      const alt = st.signatureAlgorithm.scheme === 'ECDSA' && signatureValue[0] === 0x30 ? ecdsaRawToDer(signatureValue) : undefined;
      if (alt && verifySignature(cert.publicKey, decoded, signedAttrs, alt)) sig = alt;
      else throw new SignerError('SIGNATURE_INVALID', `the signature value does not verify with the key of ${cert.subject} (${st.signatureAlgorithm.scheme}/${st.hash})`);
    }
  }
  const crls = [...(opts.crls ?? []), ...(opts.ocsps ?? []).map(ocspRevocationInfo)];
  return assembleSignedData({
    signedAttrs,
    sid: issuerAndSerial(cert.issuerDer, cert.serialDer),
    digestAlgorithm: hashAlgorithmIdentifier(st.hash),
    signatureAlgorithm: algId,
    signature: sig,
    unsignedAttrs: opts.unsignedAttributes ?? [],
    certificates: [certificate, ...chain, ...(opts.certificates ?? [])],
    crls,
    eContentType: st.contentType,
  });
}

/** RevocationInfoChoice [1] IMPLICIT OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse } (RFC 5940). */
export function ocspRevocationInfo(ocspResponseDer: Uint8Array): Uint8Array {
  return ctx(1, true, oid(OID.ocspResponseRevInfo), ocspResponseDer);
}
