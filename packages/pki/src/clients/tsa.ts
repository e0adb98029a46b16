import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { HASH_LENGTHS, hashAlgorithmIdentifier, hashFromOid, type HashName } from './algorithms.js';
import { bool, int, octets, oid, seq } from './der.js';
import { PkiClientError } from './errors.js';
import { httpFetch } from './http.js';
import { CertInfo, bytesEqual, tryCert } from './x509.js';
import { parseSignedData, type ParsedCms } from '../cms/parse.js';
import { checkMessageDigestSync, identifySigner, verifySignedAttributes } from '../cms/signer.js';
import { hash } from '../util/bytes.js';

/** Options of {@link requestTimestamp}. */
export interface TimestampRequestOptions {
  /** Send a random 64-bit nonce and require it back (default true); or give one. */
  nonce?: boolean | bigint;
  /** Ask the TSA to include its certificate (default true). */
  certReq?: boolean;
  /** TSA policy OID to request. */
  policy?: string;
  /** Timeout of the HTTP exchange (default 10 s). */
  timeoutMs?: number;
  /** Extra HTTP headers (e.g. Authorization); never logged. */
  headers?: Record<string, string>;
  /** TSA certificate(s) to verify the token with when it carries none (DER). */
  tsaCertificates?: Uint8Array[];
  /** Verify the token's signature (default true). */
  verify?: boolean;
}

/** A verified RFC 3161 time-stamp token. */
export interface TimestampToken {
  /** DER ContentInfo(SignedData) of the token, ready to embed. */
  token: Uint8Array;
  genTime: Date;
  serialHex: string;
  policy: string;
  hash: HashName | 'SHA-1';
  imprint: Uint8Array;
  nonce?: bigint;
  /** Certificate that signed the token (DER), when found. */
  signerCertificate?: Uint8Array;
  /** All certificates carried by the token (DER). */
  certificates: Uint8Array[];
}

/** DER TimeStampReq (RFC 3161 2.4.1). */
export function buildTimestampRequest(imprint: Uint8Array, hash: HashName, opts: { nonce?: bigint; certReq?: boolean; policy?: string } = {}): Uint8Array {
  return seq(
    int(1),
    seq(hashAlgorithmIdentifier(hash), octets(imprint)),
    ...(opts.policy ? [oid(opts.policy)] : []),
    ...(opts.nonce !== undefined ? [int(opts.nonce)] : []),
    ...(opts.certReq ? [bool(true)] : []),
  );
}

const STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];
const FAIL_TEXT: Record<number, string> = { 0: 'badAlg', 2: 'badRequest', 5: 'badDataFormat', 14: 'timeNotAvailable', 15: 'unacceptedPolicy', 16: 'unacceptedExtension', 17: 'addInfoNotAvailable', 25: 'systemFailure' };

/**
 * Ask a TSA for a time-stamp token over `imprint` (the hash of the data, under `hash`).
 * Checks the PKIStatus, that the token's imprint and nonce are the ones requested and that the
 * token's signature verifies. Unreachable TSA → TSA_UNREACHABLE, timeout → TSA_TIMEOUT.
 */
export async function requestTimestamp(url: string, imprint: Uint8Array, hash: HashName, opts: TimestampRequestOptions = {}): Promise<TimestampToken> {
  if (imprint.length !== HASH_LENGTHS[hash]) throw new PkiClientError('ALG_UNSUPPORTED', `timestamp imprint has ${imprint.length} bytes, ${hash} needs ${HASH_LENGTHS[hash]}`);
  const nonce = opts.nonce === false ? undefined : typeof opts.nonce === 'bigint' ? opts.nonce : BigInt('0x' + randomBytes(8).toString('hex'));
  const req = buildTimestampRequest(imprint, hash, { ...(nonce !== undefined ? { nonce } : {}), certReq: opts.certReq ?? true, ...(opts.policy ? { policy: opts.policy } : {}) });
  const res = await httpFetch(url, {
    method: 'POST', body: req, contentType: 'application/timestamp-query', accept: 'application/timestamp-reply',
    timeoutMs: opts.timeoutMs ?? 10_000, ...(opts.headers ? { headers: opts.headers } : {}),
  }, 'TSA');
  const tok = parseTimestampResponse(res.body, url);
  if (!bytesEqual(tok.imprint, imprint) || tok.hash !== hash) throw new PkiClientError('TSA_IMPRINT_MISMATCH', `TSA at ${url} time-stamped a different imprint than requested`);
  if (opts.policy && tok.policy !== opts.policy) throw new PkiClientError('TSA_BAD_RESPONSE', `TSA at ${url} used policy ${tok.policy}, not the requested ${opts.policy}`);
  if (nonce !== undefined && tok.nonce !== nonce) throw new PkiClientError('TSA_NONCE_MISMATCH', `TSA at ${url} answered with ${tok.nonce === undefined ? 'no' : 'a different'} nonce (replayed or foreign response)`);
  if (opts.verify !== false) verifyTimestampToken(tok.token, opts.tsaCertificates);
  return tok;
}

/** Parse a TimeStampResp: status must be granted / grantedWithMods; returns the token's content. */
export function parseTimestampResponse(der: Uint8Array, where = 'TSA'): TimestampToken {
  try { return parseTimestampResponseUnchecked(der, where); } catch (e) {
    if (e instanceof PkiClientError) throw e;
    throw new PkiClientError('TSA_BAD_RESPONSE', `${where}: malformed time-stamp response (${(e as Error).message})`, { cause: e });
  }
}

function parseTimestampResponseUnchecked(der: Uint8Array, where: string): TimestampToken {
  const bad = (why: string): never => { throw new PkiClientError('TSA_BAD_RESPONSE', `${where}: malformed time-stamp response (${why})`); };
  const res = asn1js.fromBER(der);
  if (res.offset === -1) bad('not DER');
  const items = (res.result as asn1js.Sequence).valueBlock?.value;
  if (!Array.isArray(items) || items.length < 1) bad('not a TimeStampResp');
  const statusInfo = (items![0] as asn1js.Sequence).valueBlock.value;
  const status = (statusInfo[0] as asn1js.Integer)?.valueBlock?.valueDec;
  if (status !== 0 && status !== 1) {
    const texts: string[] = [];
    for (const x of statusInfo.slice(1)) {
      if (x instanceof asn1js.Sequence) for (const s of x.valueBlock.value) texts.push(String((s as asn1js.Utf8String).valueBlock.value));
      if (x instanceof asn1js.BitString) {
        const bits = x.valueBlock.valueHexView;
        for (let i = 0; i < bits.length * 8; i++) if (bits[i >> 3]! & (0x80 >> (i & 7))) texts.push(FAIL_TEXT[i] ?? `failInfo bit ${i}`);
      }
    }
    throw new PkiClientError('TSA_REJECTED', `${where} refused the request: ${STATUS_TEXT[status ?? -1] ?? `status ${status}`}${texts.length ? ` (${texts.join('; ')})` : ''}`);
  }
  if (!items![1]) bad('granted but no token');
  return parseTimestampToken(items![1]!.valueBeforeDecodeView.slice(), where);
}

/** Read a TimeStampToken (ContentInfo(SignedData) with TSTInfo). Does not verify it. */
export function parseTimestampToken(token: Uint8Array, where = 'token'): TimestampToken {
  try {
    const ci = pkijs.ContentInfo.fromBER(new Uint8Array(token));
    const sd = new pkijs.SignedData({ schema: ci.content });
    if (sd.encapContentInfo.eContentType !== '1.2.840.113549.1.9.16.1.4') throw new Error('eContentType is not id-ct-TSTInfo');
    const econ = sd.encapContentInfo.eContent;
    if (!econ) throw new Error('no TSTInfo');
    const tstDer = econ.getValue();
    const tst = pkijs.TSTInfo.fromBER(tstDer);
    const h = hashFromOid(tst.messageImprint.hashAlgorithm.algorithmId);
    if (!h) throw new Error(`unsupported imprint hash ${tst.messageImprint.hashAlgorithm.algorithmId}`);
    const certificates = (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate).map((c) => new Uint8Array(c.toSchema().toBER(false)));
    return {
      token,
      genTime: tst.genTime,
      serialHex: Buffer.from(tst.serialNumber.valueBlock.valueHexView).toString('hex'),
      policy: tst.policy,
      hash: h,
      imprint: tst.messageImprint.hashedMessage.valueBlock.valueHexView.slice(),
      ...(tst.nonce ? { nonce: BigInt('0x' + (Buffer.from(tst.nonce.valueBlock.valueHexView).toString('hex') || '0')) } : {}),
      certificates,
    };
  } catch (e) {
    if (e instanceof PkiClientError) throw e;
    throw new PkiClientError('TSA_BAD_RESPONSE', `${where}: malformed time-stamp token (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Verify a time-stamp token's CMS signature: message-digest over the TSTInfo, signature over the
 * signed attributes with the signer certificate (from the token or `extraCerts`), which must
 * carry the id-kp-timeStamping EKU. Returns the signer certificate. Chain trust is the verifier's job.
 */
export function verifyTimestampToken(token: Uint8Array, extraCerts: Uint8Array[] = []): CertInfo {
  try { return verifyTimestampTokenUnchecked(token, extraCerts); } catch (e) {
    if (e instanceof PkiClientError) throw e;
    throw new PkiClientError('TSA_BAD_SIGNATURE', `time-stamp token: malformed (${(e as Error).message})`, { cause: e });
  }
}

function verifyTimestampTokenUnchecked(token: Uint8Array, extraCerts: Uint8Array[]): CertInfo {
  // The same CMS reading and signature check as the verifier's (cms/), plus the TSA usage rule.
  const fail = (why: string): never => { throw new PkiClientError('TSA_BAD_SIGNATURE', `time-stamp token: ${why}`); };
  let cms: ParsedCms;
  try { cms = parseSignedData(token); } catch (e) { return fail(`unparseable (${(e as Error).message})`); }
  const si = cms.signedData.signerInfos[0] ?? fail('no SignerInfo');
  if (!si.signedAttrs) fail('no signed attributes');
  const tstDer = cms.eContent ?? fail('no TSTInfo');
  if (!hashFromOid(si.digestAlgorithm.algorithmId)) fail(`unsupported digest ${si.digestAlgorithm.algorithmId}`);
  const md = checkMessageDigestSync(si, (alg) => hash(alg, tstDer));
  if (md.status !== 'match') fail(md.status === 'mismatch' ? 'message-digest does not match the TSTInfo' : md.message);
  const certs = [
    ...cms.certificates.map((d) => tryCert(d)).filter((c): c is CertInfo => !!c),
    ...extraCerts.map((d) => new CertInfo(d)),
  ];
  const signer = identifySigner(si, certs) ?? fail('the TSA certificate is neither in the token nor given (request it with certReq)');
  if (!signer.extKeyUsages.includes('1.3.6.1.5.5.7.3.8')) fail(`certificate ${signer.subject} lacks the id-kp-timeStamping extended key usage`);
  let ok = false;
  try { ok = verifySignedAttributes(si, signer); } catch (e) { fail(`signature cannot be verified (${(e as Error).message})`); }
  if (!ok) fail(`signature does not verify with ${signer.subject}`);
  return signer;
}
