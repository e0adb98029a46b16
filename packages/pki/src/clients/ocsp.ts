import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { HASH_OIDS, digest } from './algorithms.js';
import { resolveScheme, verifyWithScheme } from '../algorithms/scheme.js';
import { RevocationCache, defaultRevocationCache, ttlUntil } from './cache.js';
import { algId, ctx, nul, octets, oid, seq, tlv } from './der.js';
import { PkiClientError } from './errors.js';
import { httpFetch } from './http.js';
import { CertInfo, bytesEqual, tryCert } from './x509.js';

const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused)', 'sigRequired', 'unauthorized'];

/** Revocation status of one certificate. */
export type CertStatus = 'good' | 'revoked' | 'unknown';

/** A checked OCSP answer for one certificate. */
export interface OcspResult {
  status: CertStatus;
  revocationTime?: Date;
  revocationReason?: number;
  thisUpdate: Date;
  nextUpdate?: Date;
  producedAt: Date;
  /** DER OCSPResponse as received (embed this in DSS / CMS). */
  der: Uint8Array;
  /** Certificate that signed the response (the issuer itself or a delegated responder). */
  responderCertificate: Uint8Array;
  /** Whether the response echoed our nonce (false when the responder ignores nonces). */
  nonceChecked: boolean;
  url?: string;
}

/** Options of {@link fetchOcsp}. */
export interface OcspOptions {
  /** Responder URL; default the certificate's AIA OCSP URL. */
  url?: string;
  /** Send a nonce (default true); the answer must echo it if it has one. */
  nonce?: boolean;
  /** Refuse answers without the nonce (default false: many responders pre-sign answers). */
  requireNonce?: boolean;
  timeoutMs?: number;
  /** Allowed clock skew (default 5 min). */
  skewMs?: number;
  /** Time at which the answer must be current (default now). */
  at?: Date;
  cache?: RevocationCache | false;
  /** Extra locally trusted responder certificates (DER). */
  trustedResponders?: Uint8Array[];
}

/** DER CertID (SHA-1, as most responders index by it) of `cert` under `issuer`. */
export function ocspCertId(cert: CertInfo, issuer: CertInfo): Uint8Array {
  return seq(algId(HASH_OIDS['SHA-1'], nul()), octets(digest('SHA-1', issuer.subjectDer)), octets(digest('SHA-1', issuer.publicKeyBits)), tlv(0x02, cert.serialDer));
}

/** DER OCSPRequest for one certificate, with an RFC 8954 nonce extension when `nonce` is given. */
export function buildOcspRequest(cert: CertInfo, issuer: CertInfo, nonce?: Uint8Array): Uint8Array {
  const request = seq(ocspCertId(cert, issuer));
  const exts = nonce ? [ctx(2, true, seq(seq(oid(OID_NONCE), octets(octets(nonce)))))] : [];
  return seq(seq(seq(request), ...exts));
}

const toDate = (t: Date | { value: Date } | undefined): Date | undefined => (t ? (t instanceof Date ? t : t.value) : undefined);

/**
 * Parse and check an OCSPResponse for `cert`: status successful, a SingleResponse for exactly this
 * CertID, a signature by the issuer or by a responder certificate the issuer delegated
 * (id-kp-OCSPSigning), matching nonce, and current thisUpdate/nextUpdate.
 */
export function checkOcspResponse(der: Uint8Array, cert: CertInfo, issuer: CertInfo, opts: OcspCheckOptions = {}): OcspResult {
  try { return checkOcspResponseUnchecked(der, cert, issuer, opts); } catch (e) {
    if (e instanceof PkiClientError) throw e;
    throw new PkiClientError('OCSP_BAD_RESPONSE', `${opts.where ?? 'OCSP response'}: malformed (${(e as Error).message})`, { cause: e });
  }
}

/** Options of {@link checkOcspResponse}. */
export interface OcspCheckOptions {
  nonce?: Uint8Array; requireNonce?: boolean; skewMs?: number;
  /** Time at which the answer must be current (default now); `false` leaves freshness to the caller. */
  at?: Date | false;
  /** Oldest acceptable thisUpdate when the answer has no nextUpdate (default 24 h). */
  maxAgeMs?: number;
  trustedResponders?: Uint8Array[]; where?: string;
  /** More candidate responder certificates (e.g. from the CMS or DSS); they must still be delegated by the issuer. */
  extraCerts?: CertInfo[];
  /** Accept a bare BasicOCSPResponse (as some signers embed it) as well as an OCSPResponse. */
  allowBare?: boolean;
}

function checkOcspResponseUnchecked(der: Uint8Array, cert: CertInfo, issuer: CertInfo, opts: OcspCheckOptions): OcspResult {
  const where = opts.where ?? 'OCSP response';
  const bad = (why: string): never => { throw new PkiClientError('OCSP_BAD_RESPONSE', `${where}: ${why}`); };
  let basicDer: Uint8Array;
  let resp: pkijs.OCSPResponse | undefined;
  try { resp = pkijs.OCSPResponse.fromBER(new Uint8Array(der)); } catch (e) {
    if (!opts.allowBare) return bad(`not an OCSPResponse (${(e as Error).message})`);
  }
  if (resp) {
    const st = resp.responseStatus.valueBlock.valueDec;
    if (st !== 0) throw new PkiClientError('OCSP_ERROR_STATUS', `${where}: responder answered ${STATUS[st] ?? st}`);
    if (!resp.responseBytes || resp.responseBytes.responseType !== OID_BASIC) bad('not a basic OCSP response');
    basicDer = resp.responseBytes!.response.valueBlock.valueHexView;
  } else {
    basicDer = der;
  }
  const parsed = asn1js.fromBER(new Uint8Array(basicDer));
  if (parsed.offset === -1) bad('basic response is not DER');
  const seqItems = (parsed.result as asn1js.Sequence).valueBlock.value;
  const tbsDer = seqItems[0]!.valueBeforeDecodeView;
  let basic: pkijs.BasicOCSPResponse;
  try { basic = new pkijs.BasicOCSPResponse({ schema: parsed.result }); } catch (e) { return bad(`malformed basic response (${(e as Error).message})`); }
  const rd = basic.tbsResponseData;
  // Responder: issuer, or a delegated responder certificate issued by the issuer.
  const included = [
    ...(basic.certs ?? []).map((c) => tryCert(new Uint8Array(c.toSchema().toBER(false)))).filter((c): c is CertInfo => !!c),
    ...(opts.extraCerts ?? []),
  ];
  const trusted = (opts.trustedResponders ?? []).map((d) => new CertInfo(d));
  const rid = rd.responderID;
  const matchesRid = (c: CertInfo): boolean => rid instanceof asn1js.OctetString
    ? bytesEqual(rid.valueBlock.valueHexView, digest('SHA-1', c.publicKeyBits))
    : bytesEqual(new Uint8Array((rid as pkijs.RelativeDistinguishedNames).toSchema().toBER(false)), c.subjectDer) ||
      (rid as pkijs.RelativeDistinguishedNames).isEqual(c.pkijs.subject);
  const scheme = resolveScheme(basic.signatureAlgorithm);
  const sig = basic.signature.valueBlock.valueHexView;
  const verifies = (c: CertInfo): boolean => { try { return verifyWithScheme(scheme, c.publicKey, tbsDer, sig); } catch { return false; } };
  let responder: CertInfo | undefined;
  for (const cand of [issuer, ...trusted, ...included]) {
    if (!matchesRid(cand)) continue;
    const producedAt = rd.producedAt.getTime();
    const delegatedOk = cand.isIssuedBy(issuer) && cand.extKeyUsages.includes(OID_KP_OCSP_SIGNING) &&
      cand.notBefore.getTime() <= producedAt + (opts.skewMs ?? 5 * 60_000) && producedAt <= cand.notAfter.getTime();
    const authorised = cand === issuer || trusted.includes(cand) || delegatedOk;
    if (!authorised) continue;
    if (verifies(cand)) { responder = cand; break; }
  }
  if (!responder) {
    const anyVerifies = [...included].some(verifies);
    throw new PkiClientError(anyVerifies ? 'OCSP_UNAUTHORIZED_RESPONDER' : 'OCSP_BAD_SIGNATURE',
      anyVerifies ? `${where}: signed by a certificate the issuer ${issuer.subject} did not authorise for OCSP` : `${where}: signature does not verify with the issuer or a delegated responder`);
  }
  // Nonce.
  let nonceChecked = false;
  const nonceExt = rd.responseExtensions?.find((e) => e.extnID === OID_NONCE);
  if (opts.nonce) {
    if (nonceExt) {
      const v = nonceExt.extnValue.valueBlock.valueHexView;
      const inner = asn1js.fromBER(v);
      const val = inner.offset !== -1 && inner.result instanceof asn1js.OctetString ? inner.result.valueBlock.valueHexView : v;
      if (!bytesEqual(val, opts.nonce) && !bytesEqual(v, opts.nonce)) throw new PkiClientError('OCSP_NONCE_MISMATCH', `${where}: nonce differs from the request (replayed response?)`);
      nonceChecked = true;
    } else if (opts.requireNonce) {
      throw new PkiClientError('OCSP_NONCE_MISMATCH', `${where}: responder did not echo the nonce`);
    }
  }
  // Matching SingleResponse.
  const nameHash = digest('SHA-1', issuer.subjectDer);
  const keyHash = digest('SHA-1', issuer.publicKeyBits);
  const single = rd.responses.find((r) => {
    const id = r.certID;
    if (!bytesEqual(id.serialNumber.valueBlock.valueHexView, cert.serialDer) &&
        !bytesEqual(new Uint8Array(id.serialNumber.toBER(false)), tlv(0x02, cert.serialDer))) return false;
    const h = id.hashAlgorithm.algorithmId;
    const hn = h === HASH_OIDS['SHA-1'] ? 'SHA-1' : h === HASH_OIDS['SHA-256'] ? 'SHA-256' : h === HASH_OIDS['SHA-384'] ? 'SHA-384' : h === HASH_OIDS['SHA-512'] ? 'SHA-512' : undefined;
    if (!hn) return false;
    const nh = hn === 'SHA-1' ? nameHash : digest(hn, issuer.subjectDer);
    const kh = hn === 'SHA-1' ? keyHash : digest(hn, issuer.publicKeyBits);
    return bytesEqual(id.issuerNameHash.valueBlock.valueHexView, nh) && bytesEqual(id.issuerKeyHash.valueBlock.valueHexView, kh);
  });
  if (!single) throw new PkiClientError('OCSP_NO_MATCHING_RESPONSE', `${where}: no answer for serial ${cert.serialHex} of ${issuer.subject}`);
  const skew = opts.skewMs ?? 5 * 60_000;
  const thisUpdate = toDate(single.thisUpdate)!;
  const nextUpdate = toDate(single.nextUpdate as Date | undefined);
  if (opts.at !== false) checkOcspFreshness(where, thisUpdate, nextUpdate, (opts.at ?? new Date()).getTime(), skew, opts.maxAgeMs);
  const cs = single.certStatus as asn1js.BaseBlock;
  const tag = cs.idBlock.tagNumber;
  const status: CertStatus = tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown';
  let revocationTime: Date | undefined;
  let revocationReason: number | undefined;
  if (status === 'revoked') {
    const inner = (cs as asn1js.Constructed).valueBlock.value ?? [];
    const t = inner[0] as asn1js.GeneralizedTime | undefined;
    revocationTime = t?.toDate?.();
    const r = inner[1] as asn1js.Constructed | undefined;
    const en = r?.valueBlock?.value?.[0] as asn1js.Enumerated | undefined;
    if (en) revocationReason = en.valueBlock.valueDec;
  }
  return {
    status, thisUpdate, producedAt: rd.producedAt, der, responderCertificate: responder.der, nonceChecked,
    ...(nextUpdate ? { nextUpdate } : {}), ...(revocationTime ? { revocationTime } : {}), ...(revocationReason !== undefined ? { revocationReason } : {}),
  };
}

/**
 * Ask the OCSP responder (default: from the certificate's AIA) about `cert`, with a nonce,
 * and check the answer ({@link checkOcspResponse}). Results are cached until nextUpdate (max 10 min).
 */
export async function fetchOcsp(certDer: Uint8Array | CertInfo, issuerDer: Uint8Array | CertInfo, opts: OcspOptions = {}): Promise<OcspResult> {
  const cert = certDer instanceof CertInfo ? certDer : new CertInfo(certDer);
  const issuer = issuerDer instanceof CertInfo ? issuerDer : new CertInfo(issuerDer);
  const url = opts.url ?? cert.ocspUrls.find((u) => /^https?:/i.test(u));
  if (!url) throw new PkiClientError('OCSP_UNREACHABLE', `certificate ${cert.subject} names no OCSP responder (AIA)`);
  const run = async (): Promise<OcspResult> => {
    const nonce = opts.nonce === false ? undefined : new Uint8Array(randomBytes(16));
    const req = buildOcspRequest(cert, issuer, nonce);
    const res = await httpFetch(url, { method: 'POST', body: req, contentType: 'application/ocsp-request', accept: 'application/ocsp-response', timeoutMs: opts.timeoutMs ?? 10_000 }, 'OCSP');
    const r = checkOcspResponse(res.body, cert, issuer, {
      where: `OCSP response from ${url}`, ...(nonce ? { nonce } : {}), ...(opts.requireNonce ? { requireNonce: true } : {}),
      ...(opts.skewMs !== undefined ? { skewMs: opts.skewMs } : {}), ...(opts.at ? { at: opts.at } : {}),
      ...(opts.trustedResponders ? { trustedResponders: opts.trustedResponders } : {}),
    });
    return { ...r, url };
  };
  if (opts.cache === false || opts.at) return run();
  const cache = opts.cache ?? defaultRevocationCache;
  return cache.get(`ocsp|${url}|${Buffer.from(ocspCertId(cert, issuer)).toString('base64')}`, run, (r) => ttlUntil(r.nextUpdate));
}

function checkOcspFreshness(where: string, thisUpdate: Date, nextUpdate: Date | undefined, at: number, skew: number, maxAgeMs?: number): void {
  if (thisUpdate.getTime() > at + skew) throw new PkiClientError('OCSP_STALE', `${where}: thisUpdate ${thisUpdate.toISOString()} is in the future`);
  if (nextUpdate && nextUpdate.getTime() < at - skew) throw new PkiClientError('OCSP_STALE', `${where}: expired at ${nextUpdate.toISOString()} (nextUpdate)`);
  const maxAge = maxAgeMs ?? 24 * 3600_000;
  if (!nextUpdate && at - thisUpdate.getTime() > maxAge) throw new PkiClientError('OCSP_STALE', `${where}: no nextUpdate and thisUpdate ${thisUpdate.toISOString()} is older than ${Math.round(maxAge / 60_000)} min`);
}

/**
 * Evaluate an OCSP response (OCSPResponse or bare BasicOCSPResponse) for `cert` issued by `issuer` with the
 * rules of {@link checkOcspResponse} (matching CertID, signature by the issuer or a responder it delegated with
 * id-kp-OCSPSigning, valid at producedAt), leaving freshness to the caller's policy. `extraCerts` are further
 * candidate responder certificates. Returns undefined when the response does not apply or does not verify.
 */
export function evaluateOcsp(der: Uint8Array, cert: CertInfo, issuer: CertInfo, extraCerts: CertInfo[] = []): OcspResult | undefined {
  try { return checkOcspResponse(der, cert, issuer, { at: false, allowBare: true, extraCerts }); } catch { return undefined; }
}

/** Certificates embedded in an OCSP response (delegated responders), as DER; empty when it does not parse. */
export function ocspResponseCertificates(der: Uint8Array): Uint8Array[] {
  try {
    let basicDer: Uint8Array = der;
    try {
      const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
      if (resp.responseBytes) basicDer = new Uint8Array(resp.responseBytes.response.valueBlock.valueHexView);
    } catch { /* bare BasicOCSPResponse */ }
    const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(basicDer));
    return (basic.certs ?? []).map((c) => new Uint8Array(c.toSchema().toBER(false)));
  } catch {
    return [];
  }
}
