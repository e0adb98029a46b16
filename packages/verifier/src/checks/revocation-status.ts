import { OIDS, buildOcspRequest, crlReasonName, evaluateCrl, evaluateOcsp, tryCert, type CertInfo, type OcspResult } from '@kyso/pki';
import type { Fetcher } from '../util/fetch.js';

/** An OCSP answer in the verifier's terms (revocation time, reason name, responder name). */
function ocspFacts(r: OcspResult): { revokedAt?: Date; reason?: string; responder: string } {
  const out: { revokedAt?: Date; reason?: string; responder: string } = { responder: r.responderCertificate ? responderName(r.responderCertificate) : 'unknown responder' };
  if (r.revocationTime) out.revokedAt = r.revocationTime;
  const reason = crlReasonName(r.revocationReason);
  if (reason) out.reason = reason;
  return out;
}

function responderName(der: Uint8Array): string {
  return tryCert(der)?.subject ?? 'unknown responder';
}

/** Revocation data available without the network (CMS, Adobe attribute, PDF DSS/VRI). */
export interface RevocationMaterial {
  ocsps: Uint8Array[];
  crls: Uint8Array[];
}

/** Revocation status of one certificate and where it came from. */
export interface RevocationEntry {
  certificate: string;
  status: 'good' | 'revoked' | 'unknown';
  /** e.g. 'embedded OCSP', 'online CRL http://...', 'none'. */
  source: string;
  revokedAt?: Date;
  reason?: string;
  /** When the status information was produced (OCSP producedAt / CRL thisUpdate). */
  issuedAt?: Date;
}

/** Clock tolerance between a timestamp and revocation data collected right after it (seconds granularity). */
const TOLERANCE_MS = 5_000;

/**
 * Freshness of a "good" answer (EN 319 102-1 §5.2.5, simplified): the data is current at the validation time
 * (thisUpdate ≤ T ≤ nextUpdate) or at the best signature time, or it was issued after the best signature time
 * (so it proves the certificate was not revoked when the signature provably existed). An old CRL or OCSP
 * response embedded by the signer therefore cannot hide a later revocation.
 */
export function isFresh(thisUpdate: Date, nextUpdate: Date | undefined, times: { validationTime: Date; bestTime: Date }): boolean {
  const T = times.validationTime.getTime();
  if (thisUpdate.getTime() - TOLERANCE_MS <= T && nextUpdate && T <= nextUpdate.getTime()) return true;
  if (!nextUpdate && thisUpdate.getTime() - TOLERANCE_MS <= T && T - thisUpdate.getTime() <= 24 * 3600_000) return true;
  const B = times.bestTime.getTime();
  if (nextUpdate && thisUpdate.getTime() - TOLERANCE_MS <= B && B <= nextUpdate.getTime()) return true;
  return thisUpdate.getTime() + TOLERANCE_MS >= times.bestTime.getTime() && thisUpdate.getTime() - TOLERANCE_MS <= T;
}

/**
 * Establishes the revocation status of `cert` (issued by `issuer`): embedded OCSP, embedded CRLs, then — unless
 * offline — OCSP from AIA and CRLs from the distribution points. Responses that do not verify are ignored; a
 * "good" answer must be fresh (see {@link isFresh}); a "revoked" answer from any verified source wins.
 */
export async function revocationStatus(cert: CertInfo, issuer: CertInfo, material: RevocationMaterial, pool: CertInfo[], fetcher: Fetcher, offline: boolean,
  times: { validationTime: Date; bestTime: Date }): Promise<RevocationEntry> {
  const base = { certificate: cert.subject };
  let good: RevocationEntry | undefined;
  let stale = 0;
  for (const der of material.ocsps) {
    const r = evaluateOcsp(der, cert, issuer, pool);
    if (!r || r.status === 'unknown') continue;
    const f = ocspFacts(r);
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: 'embedded OCSP', ...(f.revokedAt ? { revokedAt: f.revokedAt } : {}), ...(f.reason ? { reason: f.reason } : {}), issuedAt: r.producedAt };
    if (!isFresh(r.thisUpdate, r.nextUpdate, times)) { stale++; continue; }
    good ??= { ...base, status: 'good', source: `embedded OCSP (${f.responder})`, issuedAt: r.producedAt };
  }
  for (const der of material.crls) {
    const r = evaluateCrl(der, cert, issuer);
    if (!r) continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: 'embedded CRL', ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}), ...(r.reason ? { reason: r.reason } : {}), issuedAt: r.thisUpdate };
    if (!isFresh(r.thisUpdate, r.nextUpdate, times)) { stale++; continue; }
    good ??= { ...base, status: 'good', source: 'embedded CRL', issuedAt: r.thisUpdate };
  }
  if (good) return good;
  const staleNote = stale ? ` (${stale} embedded answer(s) too old for the validation time)` : '';
  if (offline) return { ...base, status: 'unknown', source: `none (offline: no fresh embedded revocation data)${staleNote}` };
  for (const url of cert.aiaUrls(OIDS.ocspAccess)) {
    const body = await fetcher.fetch(url, { contentType: 'application/ocsp-request', data: buildOcspRequest(cert, issuer) });
    if (!body) continue;
    const r = evaluateOcsp(body, cert, issuer, pool);
    if (!r || r.status === 'unknown') continue;
    const f = ocspFacts(r);
    if (r.status === 'good' && !isFresh(r.thisUpdate, r.nextUpdate, times)) continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: `online OCSP ${url}`, ...(f.revokedAt ? { revokedAt: f.revokedAt } : {}), ...(f.reason ? { reason: f.reason } : {}), issuedAt: r.producedAt };
    return { ...base, status: 'good', source: `online OCSP ${url}`, issuedAt: r.producedAt };
  }
  for (const url of cert.crlUrls) {
    const body = await fetcher.fetch(url);
    if (!body) continue;
    const r = evaluateCrl(body, cert, issuer);
    if (!r) continue;
    if (r.status === 'good' && !isFresh(r.thisUpdate, r.nextUpdate, times)) continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: `online CRL ${url}`, ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}), ...(r.reason ? { reason: r.reason } : {}), issuedAt: r.thisUpdate };
    return { ...base, status: 'good', source: `online CRL ${url}`, issuedAt: r.thisUpdate };
  }
  return { ...base, status: 'unknown', source: `none (no fresh embedded data and no responder answered)${staleNote}` };
}
