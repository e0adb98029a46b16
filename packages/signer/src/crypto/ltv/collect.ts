import {
  CertInfo, PkiClientError, fetchCaIssuers, fetchCrl, fetchOcsp, crlStatus,
  type CertStatus, type RevocationCache,
} from '@kyso/pki';
import { SignerError } from '../errors.js';

/** What was found for one certificate while collecting validation data. */
export interface CertValidationStatus {
  subject: string;
  /** SHA-1 of the certificate, hex. */
  sha1: string;
  /** good / revoked / unknown from OCSP or CRL; `trust-anchor` for self-signed roots; `no-check` for OCSP responders with id-pkix-ocsp-nocheck; `unavailable` when nothing could be fetched. */
  status: CertStatus | 'trust-anchor' | 'no-check' | 'unavailable';
  source?: 'ocsp' | 'crl';
  revocationTime?: Date;
  /** Why nothing could be fetched (client error codes and messages). */
  errors?: string[];
}

/** Certificates and revocation data for long-term validation (PAdES DSS, CAdES B-LT). */
export interface ValidationData {
  /** Certificates of all paths (signer, CAs, TSA, OCSP responders), DER, deduplicated. */
  certs: Uint8Array[];
  /** DER OCSPResponse of each OCSP answer. */
  ocsps: Uint8Array[];
  /** DER CertificateList of each CRL. */
  crls: Uint8Array[];
  /** Per certificate: what was found. */
  details: CertValidationStatus[];
}

/** Options of {@link collectValidationData}. */
export interface CollectOptions {
  /** Which source to try first; 'both' fetches OCSP and CRL (default 'ocsp', CRL as fallback). */
  prefer?: 'ocsp' | 'crl' | 'both';
  timeoutMs?: number;
  cache?: RevocationCache | false;
  /** Fetch missing issuers from AIA caIssuers (default true). */
  fetchMissingIssuers?: boolean;
  /** Throw LTV_FAILED if some certificate ends with status `unavailable` (default false). */
  strict?: boolean;
}

/**
 * Gather what a verifier needs years later: the full certificate paths of `chain[0]` (the signer;
 * the rest of `chain` are candidate issuers) and of each certificate in `extraCerts` (e.g. the
 * TSA's), missing issuers via AIA, and for every non-root certificate an OCSP response (checked
 * against its issuer or delegated responder) or a CRL (checked signature), following CRLDP /
 * AIA URLs. Responder certificates are added and their own revocation data collected unless
 * they carry id-pkix-ocsp-nocheck.
 */
export async function collectValidationData(chain: Uint8Array[], extraCerts: Uint8Array[] = [], opts: CollectOptions = {}): Promise<ValidationData> {
  const pool = new Map<string, CertInfo>();
  const add = (d: Uint8Array | CertInfo): CertInfo => {
    const c = d instanceof CertInfo ? d : new CertInfo(d);
    const have = pool.get(c.sha1Hex);
    if (have) return have;
    pool.set(c.sha1Hex, c);
    return c;
  };
  const all = [...chain, ...extraCerts].map(add);
  const targets: CertInfo[] = [];
  if (all[0]) targets.push(all[0]);
  for (const d of extraCerts) targets.push(add(d));
  const common = { ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.cache !== undefined ? { cache: opts.cache } : {}) };

  const findIssuer = async (c: CertInfo): Promise<CertInfo | undefined> => {
    for (const p of pool.values()) if (p !== c && c.isIssuedBy(p)) return p;
    if (opts.fetchMissingIssuers === false) return undefined;
    for (const url of c.caIssuersUrls) {
      try {
        for (const d of await fetchCaIssuers(url, common)) {
          const cand = new CertInfo(d);
          if (c.isIssuedBy(cand)) return add(cand);
        }
      } catch { /* try the next URL */ }
    }
    return undefined;
  };

  const ocsps: Uint8Array[] = [];
  const crls = new Map<string, Uint8Array>();
  const details = new Map<string, CertValidationStatus>();
  const queue: CertInfo[] = [...targets];
  const visited = new Set<string>();

  while (queue.length) {
    const c = queue.shift()!;
    if (visited.has(c.sha1Hex)) continue;
    visited.add(c.sha1Hex);
    const base = { subject: c.subject, sha1: c.sha1Hex };
    if (c.isSelfSigned) { details.set(c.sha1Hex, { ...base, status: 'trust-anchor' }); continue; }
    const issuer = await findIssuer(c);
    if (!issuer) { details.set(c.sha1Hex, { ...base, status: 'unavailable', errors: ['issuer certificate not found'] }); continue; }
    queue.push(issuer);
    if (c.hasOcspNoCheck) { details.set(c.sha1Hex, { ...base, status: 'no-check' }); continue; }
    const errors: string[] = [];
    let result: CertValidationStatus | undefined;
    const tryOcsp = async (): Promise<boolean> => {
      if (c.ocspUrls.length === 0) return false;
      try {
        const r = await fetchOcsp(c, issuer, common);
        ocsps.push(r.der);
        const responder = add(r.responderCertificate);
        if (responder !== issuer) queue.push(responder);
        result ??= { ...base, status: r.status, source: 'ocsp', ...(r.revocationTime ? { revocationTime: r.revocationTime } : {}) };
        return true;
      } catch (e) { errors.push(e instanceof PkiClientError ? `${e.code}: ${e.message}` : String(e)); return false; }
    };
    const tryCrl = async (): Promise<boolean> => {
      for (const url of c.crlUrls) {
        try {
          const crl = await fetchCrl(url, issuer, common);
          crls.set(Buffer.from(crl.der).toString('base64'), crl.der);
          const s = crlStatus(crl, c);
          if (s.status === 'unknown') { errors.push(`CRL ${url} does not cover this certificate (issuing distribution point scope)`); continue; }
          result ??= { ...base, status: s.status, source: 'crl', ...(s.revocationTime ? { revocationTime: s.revocationTime } : {}) };
          return true;
        } catch (e) { errors.push(e instanceof PkiClientError ? `${e.code}: ${e.message}` : String(e)); }
      }
      return false;
    };
    const prefer = opts.prefer ?? 'ocsp';
    if (prefer === 'both') { await tryOcsp(); await tryCrl(); }
    else if (prefer === 'crl') { if (!(await tryCrl())) await tryOcsp(); }
    else if (!(await tryOcsp())) await tryCrl();
    details.set(c.sha1Hex, result ?? { ...base, status: 'unavailable', errors: errors.length ? errors : ['certificate names no OCSP responder or CRL distribution point'] });
  }

  const out: ValidationData = { certs: [...pool.values()].map((c) => c.der), ocsps, crls: [...crls.values()], details: [...details.values()] };
  if (opts.strict) {
    const missing = out.details.filter((d) => d.status === 'unavailable');
    if (missing.length) throw new SignerError('LTV_FAILED', `no revocation data for ${missing.map((m) => `${m.subject} (${(m.errors ?? []).join('; ')})`).join(', ')}`);
  }
  return out;
}
