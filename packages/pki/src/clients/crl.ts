import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { resolveScheme, verifyWithScheme } from '../algorithms/scheme.js';
import { OIDS, crlReasonName } from '../oids.js';
import { nameKey } from '../x509/name.js';
import { RevocationCache, defaultRevocationCache, ttlUntil } from './cache.js';
import { PkiClientError } from './errors.js';
import { httpFetch } from './http.js';
import { CertInfo, bytesEqual, pemToDerList } from './x509.js';
import type { CertStatus } from './ocsp.js';

/** A CRL whose signature was checked against its issuer. */
export interface CrlInfo {
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  url?: string;
  /** Serial (hex, no leading zeros) → revocation time and reason. */
  revoked: Map<string, { time: Date; reason?: number }>;
  /** Scope from the issuing-distribution-point extension (RFC 5280 5.2.5). */
  scope: { onlyUserCerts: boolean; onlyCACerts: boolean; onlySomeReasons: boolean; onlyAttributeCerts?: boolean };
}

const OID_IDP = '2.5.29.28';
const OID_DELTA = '2.5.29.27';
const OID_CRL_NUMBER = '2.5.29.20';
const OID_AKI = '2.5.29.35';
const OID_FRESHEST = '2.5.29.46';
const OID_AUTH_INFO = '1.3.6.1.5.5.7.1.1';
const KNOWN_CRL_EXTS = new Set([OID_IDP, OID_CRL_NUMBER, OID_AKI, OID_FRESHEST, OID_AUTH_INFO]);
/** CRL entry extensions this evaluator understands (reason, invalidity date, hold instruction). */
const KNOWN_ENTRY_EXTS = new Set([OIDS.cRLReason, OIDS.invalidityDate, '2.5.29.23']);

/** Options of {@link fetchCrl}. */
export interface CrlOptions {
  timeoutMs?: number;
  maxBytes?: number;
  skewMs?: number;
  /** Time at which the CRL must be current (default now); `false` skips the freshness check. */
  at?: Date | false;
  cache?: RevocationCache | false;
}

function normSerial(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

/** Parse a CRL (DER or PEM) and check its issuer name and signature against `issuer`, and its freshness. */
export function checkCrl(input: Uint8Array, issuerIn: Uint8Array | CertInfo, opts: { skewMs?: number; at?: Date | false; where?: string } = {}): CrlInfo {
  try { return checkCrlUnchecked(input, issuerIn, opts); } catch (e) {
    if (e instanceof PkiClientError) throw e;
    throw new PkiClientError('CRL_BAD_RESPONSE', `${opts.where ?? 'CRL'}: malformed (${(e as Error).message})`, { cause: e });
  }
}

function checkCrlUnchecked(input: Uint8Array, issuerIn: Uint8Array | CertInfo, opts: { skewMs?: number; at?: Date | false; where?: string }): CrlInfo {
  const where = opts.where ?? 'CRL';
  let der = input;
  if (input[0] === 0x2d) der = pemToDerList(Buffer.from(input).toString('latin1'), 'X509 CRL')[0] ?? new Uint8Array();
  const issuer = issuerIn instanceof CertInfo ? issuerIn : new CertInfo(issuerIn);
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new PkiClientError('CRL_BAD_RESPONSE', `${where}: not DER`);
  let crl: pkijs.CertificateRevocationList;
  try { crl = new pkijs.CertificateRevocationList({ schema: parsed.result }); } catch (e) { throw new PkiClientError('CRL_BAD_RESPONSE', `${where}: not a CRL (${(e as Error).message})`, { cause: e }); }
  const items = (parsed.result as asn1js.Sequence).valueBlock.value;
  const tbs = items[0]!;
  const tbsItems = (tbs as asn1js.Sequence).valueBlock.value;
  const off = tbsItems[0] instanceof asn1js.Integer ? 1 : 0;
  const issuerName = tbsItems[off + 1]!.valueBeforeDecodeView;
  if (!bytesEqual(issuerName, issuer.subjectDer) && !crl.issuer.isEqual(issuer.pkijs.subject) && nameKey(crl.issuer) !== issuer.subjectKey) {
    throw new PkiClientError('CRL_WRONG_ISSUER', `${where}: issued by someone else than ${issuer.subject}`);
  }
  // RFC 5280 §4.2.1.3: a CA key that signs CRLs has cRLSign when keyUsage is present.
  const ku = issuer.keyUsage;
  if (ku && !ku.has('cRLSign')) throw new PkiClientError('CRL_WRONG_ISSUER', `${where}: ${issuer.subject} may not sign CRLs (keyUsage lacks cRLSign)`);
  let sigOk = false;
  try {
    sigOk = verifyWithScheme(resolveScheme(crl.signatureAlgorithm), issuer.publicKey, tbs.valueBeforeDecodeView, (items[2] as asn1js.BitString).valueBlock.valueHexView);
  } catch { sigOk = false; }
  if (!sigOk) {
    throw new PkiClientError('CRL_BAD_SIGNATURE', `${where}: signature does not verify with ${issuer.subject}`);
  }
  const thisUpdate = crl.thisUpdate.value;
  const nextUpdate = crl.nextUpdate?.value;
  if (opts.at !== false) {
    const at = (opts.at ?? new Date()).getTime();
    const skew = opts.skewMs ?? 5 * 60_000;
    if (thisUpdate.getTime() > at + skew) throw new PkiClientError('CRL_STALE', `${where}: thisUpdate ${thisUpdate.toISOString()} is in the future`);
    if (nextUpdate && nextUpdate.getTime() < at - skew) throw new PkiClientError('CRL_STALE', `${where}: expired at ${nextUpdate.toISOString()} (nextUpdate)`);
  }
  const scope: CrlInfo['scope'] = { onlyUserCerts: false, onlyCACerts: false, onlySomeReasons: false };
  for (const ext of crl.crlExtensions?.extensions ?? []) {
    if (ext.extnID === OID_DELTA) throw new PkiClientError('CRL_BAD_RESPONSE', `${where}: delta CRLs are not supported`);
    if (ext.extnID === OID_IDP) {
      const idp = ext.parsedValue as pkijs.IssuingDistributionPoint | undefined;
      if (idp?.indirectCRL) throw new PkiClientError('CRL_BAD_RESPONSE', `${where}: indirect CRLs are not supported`);
      scope.onlyUserCerts = !!idp?.onlyContainsUserCerts;
      scope.onlyCACerts = !!idp?.onlyContainsCACerts;
      scope.onlySomeReasons = idp?.onlySomeReasons !== undefined;
      if (idp?.onlyContainsAttributeCerts) scope.onlyAttributeCerts = true;
    } else if (ext.critical && !KNOWN_CRL_EXTS.has(ext.extnID)) {
      throw new PkiClientError('CRL_BAD_RESPONSE', `${where}: unknown critical extension ${ext.extnID}`);
    }
  }
  const revoked = new Map<string, { time: Date; reason?: number }>();
  for (const rc of crl.revokedCertificates ?? []) {
    for (const e of rc.crlEntryExtensions?.extensions ?? []) {
      // RFC 5280 §5.3: an unrecognised critical entry extension makes the CRL unusable.
      if (e.critical && !KNOWN_ENTRY_EXTS.has(e.extnID)) throw new PkiClientError('CRL_BAD_RESPONSE', `${where}: unknown critical entry extension ${e.extnID}`);
    }
    const reasonExt = rc.crlEntryExtensions?.extensions.find((e) => e.extnID === OIDS.cRLReason);
    const reason = reasonExt?.parsedValue instanceof asn1js.Enumerated ? reasonExt.parsedValue.valueBlock.valueDec : undefined;
    revoked.set(normSerial(rc.userCertificate.valueBlock.valueHexView), { time: rc.revocationDate.value, ...(reason !== undefined ? { reason } : {}) });
  }
  return { der, thisUpdate, revoked, scope, ...(nextUpdate ? { nextUpdate } : {}) };
}

/** Status of `cert` in a checked CRL. */
export function crlStatus(crl: CrlInfo, cert: CertInfo): { status: CertStatus; revocationTime?: Date; revocationReason?: number } {
  const r = crl.revoked.get(cert.serialHex);
  if (!r) {
    // Absence only means "good" when the CRL covers this kind of certificate for all reasons.
    const isCa = cert.basicConstraints?.ca === true;
    if ((crl.scope.onlyCACerts && !isCa) || (crl.scope.onlyUserCerts && isCa) || crl.scope.onlySomeReasons || crl.scope.onlyAttributeCerts) return { status: 'unknown' };
    return { status: 'good' };
  }
  if (r.reason === 8) return { status: 'good' }; // removeFromCRL
  return { status: 'revoked', revocationTime: r.time, ...(r.reason !== undefined ? { revocationReason: r.reason } : {}) };
}

/** Download a CRL (HTTP GET) and check it against `issuer` ({@link checkCrl}); cached until nextUpdate (max 10 min). */
export async function fetchCrl(url: string, issuer: Uint8Array | CertInfo, opts: CrlOptions = {}): Promise<CrlInfo> {
  const iss = issuer instanceof CertInfo ? issuer : new CertInfo(issuer);
  const run = async (): Promise<CrlInfo> => {
    const res = await httpFetch(url, { method: 'GET', accept: 'application/pkix-crl', timeoutMs: opts.timeoutMs ?? 10_000, maxBytes: opts.maxBytes ?? 50 * 1024 * 1024 }, 'CRL');
    return { ...checkCrl(res.body, iss, { where: `CRL from ${url}`, ...(opts.skewMs !== undefined ? { skewMs: opts.skewMs } : {}), ...(opts.at !== undefined ? { at: opts.at } : {}) }), url };
  };
  if (opts.cache === false || opts.at !== undefined) return run();
  return (opts.cache ?? defaultRevocationCache).get(`crl|${url}|${iss.sha1Hex}`, run, (c) => ttlUntil(c.nextUpdate));
}

/** Status of one certificate according to one CRL (see {@link evaluateCrl}). */
export interface CrlStatus {
  status: 'good' | 'revoked';
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedAt?: Date;
  reason?: string;
}

/**
 * Evaluate a CRL for `cert` issued by `issuer`, with the same rules as {@link checkCrl} (issuer name and
 * signature, cRLSign, no delta / indirect CRLs, unknown critical extensions refuse the CRL, scope) but without
 * the freshness check, which is the caller's policy. Returns undefined when the CRL does not apply, does not
 * verify or cannot be used; it never throws.
 */
export function evaluateCrl(der: Uint8Array, cert: CertInfo, issuer: CertInfo): CrlStatus | undefined {
  if (cert.issuerKey !== issuer.subjectKey && !bytesEqual(cert.issuerDer, issuer.subjectDer)) return undefined;
  let info: CrlInfo;
  try { info = checkCrl(der, issuer, { at: false }); } catch { return undefined; }
  const st = crlStatus(info, cert);
  if (st.status === 'unknown') return undefined;
  const out: CrlStatus = { status: st.status, thisUpdate: info.thisUpdate };
  if (info.nextUpdate) out.nextUpdate = info.nextUpdate;
  if (st.revocationTime) out.revokedAt = st.revocationTime;
  const reason = crlReasonName(st.revocationReason);
  if (reason) out.reason = reason;
  return out;
}
