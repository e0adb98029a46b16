import { PkiClientError, digest, hashFromOid, requestTimestamp, type HashName, type TimestampRequestOptions, type TimestampToken } from '@kyso/pki';
import * as asn1js from 'asn1js';
import { SignerError } from '../errors.js';
import { attribute } from './attributes.js';
import { OID } from './oids.js';
import { assembleSignedData, parseSignedData } from './signed-data.js';

/** Where and how to get a signature timestamp. */
export interface SignatureTimestampOptions extends TimestampRequestOptions {
  /** TSA URL (RFC 3161 over HTTP). */
  url: string;
  /** Imprint hash (default: the signature's digest algorithm). */
  hash?: HashName;
}

/** Hash of the SignerInfo's signature value: the imprint of a CAdES signature-time-stamp. */
export function signatureTimestampImprint(cms: Uint8Array, hash?: HashName): { imprint: Uint8Array; hash: HashName } {
  const p = parseSignedData(cms);
  const h = hash ?? (hashFromOid(((asn1js.fromBER(p.digestAlgorithm).result as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString()) as HashName | undefined) ?? 'SHA-256';
  if (h === ('SHA-1' as string)) return { imprint: digest('SHA-256', p.signature), hash: 'SHA-256' };
  return { imprint: digest(h, p.signature), hash: h };
}

/** Add a time-stamp token as the signature-time-stamp unsigned attribute (1.2.840.113549.1.9.16.2.14). */
export function embedSignatureTimestamp(cms: Uint8Array, token: Uint8Array): Uint8Array {
  const p = parseSignedData(cms);
  p.unsignedAttrs.push(attribute(OID.signatureTimeStampToken, token));
  return assembleSignedData(p);
}

/**
 * CAdES/PAdES B-T: time-stamp the signature value at `opts.url` and add the token as an
 * unsigned attribute. TSA failures become SignerError TSA_FAILED carrying the client's code in the message
 * and the PkiClientError as `cause`.
 */
export async function addSignatureTimestamp(cms: Uint8Array, opts: SignatureTimestampOptions): Promise<Uint8Array> {
  const { imprint, hash } = signatureTimestampImprint(cms, opts.hash);
  let tok: TimestampToken;
  try {
    tok = await requestTimestamp(opts.url, imprint, hash, opts);
  } catch (e) {
    if (e instanceof PkiClientError) throw new SignerError('TSA_FAILED', `signature timestamp failed: ${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
  return embedSignatureTimestamp(cms, tok.token);
}

/**
 * Ask the TSA once for a token over a dummy imprint and return its size plus a small allowance
 * for varying serial / nonce / time lengths: an exact basis for sizing a PDF /Contents placeholder
 * (pass it to estimateCmsSize as `timestamp`).
 */
export async function probeTimestampTokenSize(url: string, hash: HashName = 'SHA-256', opts: TimestampRequestOptions = {}): Promise<number> {
  try {
    const tok = await requestTimestamp(url, digest(hash, new TextEncoder().encode('kyso placeholder probe')), hash, opts);
    return tok.token.length + 64;
  } catch (e) {
    if (e instanceof PkiClientError) throw new SignerError('TSA_FAILED', `timestamp size probe failed: ${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
}
