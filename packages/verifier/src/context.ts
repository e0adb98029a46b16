import { CertInfo, tryCert, ocspResponseCertificates } from '@kyso/pki';
import type { ResolvedPolicy } from './policy.js';
import { defaultFetcher, type Fetcher } from './util/fetch.js';
import type { CertContext } from './checks/certificate-validation.js';

/** Builds the certificate-validation context: anchors, candidate intermediates and embedded revocation data. */
export function buildCertContext(policy: ResolvedPolicy, extra: { certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[] }, fetcher?: Fetcher): CertContext {
  const anchors = policy.trustAnchors.map((d) => tryCert(d)).filter((c): c is CertInfo => !!c);
  const seen = new Set<string>();
  const pool: CertInfo[] = [];
  const add = (der: Uint8Array) => {
    const c = tryCert(der);
    if (c && !seen.has(c.sha256)) {
      seen.add(c.sha256);
      pool.push(c);
    }
  };
  for (const d of policy.intermediates) add(d);
  for (const d of extra.certs) add(d);
  // Certificates embedded in OCSP responses (delegated responders) help path building and responder checks.
  for (const o of extra.ocsps) for (const c of ocspResponseCertificates(o)) add(c);
  return { policy, anchors, pool, material: { ocsps: extra.ocsps, crls: extra.crls }, fetcher: fetcher ?? defaultFetcher(policy) };
}
