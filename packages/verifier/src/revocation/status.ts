import { CertInfo } from '../x509/cert.js';
import { OID } from '../util/oids.js';
import type { Fetcher } from '../util/fetch.js';
import { buildOcspRequest, evaluateOcsp } from './ocsp.js';
import { evaluateCrl } from './crl.js';

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

/**
 * Establishes the revocation status of `cert` (issued by `issuer`): embedded OCSP, embedded CRLs, then — unless
 * the fetcher is offline — OCSP from AIA and CRLs from the distribution points. Responses that do not verify are
 * ignored. A "revoked" answer from any verified source wins over "good".
 */
export async function revocationStatus(cert: CertInfo, issuer: CertInfo, material: RevocationMaterial, pool: CertInfo[], fetcher: Fetcher, offline: boolean): Promise<RevocationEntry> {
  const base = { certificate: cert.subject };
  let good: RevocationEntry | undefined;
  for (const der of material.ocsps) {
    const r = evaluateOcsp(der, cert, issuer, pool);
    if (!r || r.status === 'unknown') continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: 'embedded OCSP', ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}), ...(r.reason ? { reason: r.reason } : {}), issuedAt: r.producedAt };
    good ??= { ...base, status: 'good', source: `embedded OCSP (${r.responder})`, issuedAt: r.producedAt };
  }
  for (const der of material.crls) {
    const r = evaluateCrl(der, cert, issuer);
    if (!r) continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: 'embedded CRL', ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}), ...(r.reason ? { reason: r.reason } : {}), issuedAt: r.thisUpdate };
    good ??= { ...base, status: 'good', source: 'embedded CRL', issuedAt: r.thisUpdate };
  }
  if (good) return good;
  if (offline) return { ...base, status: 'unknown', source: 'none (offline: no embedded revocation data)' };
  for (const url of cert.aiaUrls(OID.aiaOcsp)) {
    const body = await fetcher.fetch(url, { contentType: 'application/ocsp-request', data: buildOcspRequest(cert, issuer) });
    if (!body) continue;
    const r = evaluateOcsp(body, cert, issuer, pool);
    if (!r || r.status === 'unknown') continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: `online OCSP ${url}`, ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}), ...(r.reason ? { reason: r.reason } : {}), issuedAt: r.producedAt };
    return { ...base, status: 'good', source: `online OCSP ${url}`, issuedAt: r.producedAt };
  }
  for (const url of cert.crlUrls()) {
    const body = await fetcher.fetch(url);
    if (!body) continue;
    const r = evaluateCrl(body, cert, issuer);
    if (!r) continue;
    if (r.status === 'revoked') return { ...base, status: 'revoked', source: `online CRL ${url}`, ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}), ...(r.reason ? { reason: r.reason } : {}), issuedAt: r.thisUpdate };
    return { ...base, status: 'good', source: `online CRL ${url}`, issuedAt: r.thisUpdate };
  }
  return { ...base, status: 'unknown', source: 'none (no embedded data and no responder answered)' };
}
