import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertInfo, tryCert, verifyCertificateSignature } from './certificate.js';
import { OIDS } from '../oids.js';
import { ownBuffer } from '../util/bytes.js';

/** Why a path could not be built or is structurally invalid (ETSI EN 319 102-1 sub-indication names). */
export type PathFailure = 'NO_CERTIFICATE_CHAIN_FOUND' | 'CHAIN_CONSTRAINTS_FAILURE' | 'CRYPTO_CONSTRAINTS_FAILURE';

/** Outcome of path building + structural validation (time and revocation are checked by the caller). */
export type PathResult =
  | { ok: true; chain: CertInfo[] }
  | { ok: false; subIndication: PathFailure; message: string; partial: CertInfo[] };

/** What path building may use besides the certificates: network access and the caller's algorithm policy. */
export interface PathOptions {
  /** Download AIA caIssuers (undefined result = unavailable); absent = offline. */
  fetchIssuers?: (url: string) => Promise<Uint8Array | undefined>;
  /**
   * The caller's cryptographic constraints on the signature of `cert` made with `issuer`'s key: returns the
   * violation as a message, or undefined when allowed.
   */
  signatureConstraint?: (cert: CertInfo, issuer: CertInfo) => string | undefined;
}

/** Critical extensions this validator processes (or that carry no constraint for it). Name constraints and policy
 *  constraints are not enforced, so a certificate marking them critical fails closed. */
const KNOWN_CRITICAL = new Set<string>([OIDS.keyUsage, OIDS.basicConstraints, OIDS.extKeyUsage, OIDS.subjectAltName,
  OIDS.certificatePolicies, OIDS.subjectKeyIdentifier, OIDS.authorityKeyIdentifier, OIDS.cRLDistributionPoints, OIDS.authorityInfoAccess,
  OIDS.qcStatements, OIDS.ocspNoCheck]);

const MAX_DEPTH = 10;

/** Does `issuer` plausibly issue `cert` (name chaining + key identifiers)? */
function mayIssue(issuer: CertInfo, cert: CertInfo): boolean {
  if (issuer.subjectKey !== cert.issuerKey) return false;
  if (cert.aki && issuer.ski && cert.aki !== issuer.ski) return false;
  return true;
}

/** Verifies `cert`'s signature with `issuer`'s key (see {@link verifyCertificateSignature}). */
export const signedBy = verifyCertificateSignature;

/** Certificates from a caIssuers response: one DER certificate or a certs-only CMS (PKCS#7). */
function parseCaIssuers(body: Uint8Array): CertInfo[] {
  const one = tryCert(body);
  if (one) return [one];
  try {
    const asn = asn1js.fromBER(ownBuffer(body));
    const ci = new pkijs.ContentInfo({ schema: asn.result });
    const sd = new pkijs.SignedData({ schema: ci.content });
    return (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
      .map((c) => tryCert(new Uint8Array(c.toSchema().toBER(false)))).filter((c): c is CertInfo => !!c);
  } catch {
    return [];
  }
}

/**
 * Builds a path from `leaf` to one of `anchors` using `pool` (CMS, DSS, policy intermediates) and, when online,
 * AIA caIssuers. Every link is checked by signature. Then validates the structure per RFC 5280 §6.1 (without
 * time and revocation): basicConstraints, pathLen, keyUsage keyCertSign, unknown critical extensions, and the
 * policy's cryptographic constraints on each certificate signature.
 */
export async function buildAndValidatePath(leaf: CertInfo, pool: CertInfo[], anchors: CertInfo[], opts: PathOptions = {}): Promise<PathResult> {
  const anchorSet = new Set(anchors.map((a) => a.sha256));
  const isAnchor = (c: CertInfo) => anchorSet.has(c.sha256) || anchors.some((a) => a.subjectKey === c.subjectKey && Buffer.compare(Buffer.from(a.spkiDer), Buffer.from(c.spkiDer)) === 0);
  const known = new Map<string, CertInfo>();
  for (const c of pool) known.set(c.sha256, c);
  const fetched = new Set<string>();
  let best: CertInfo[] = [leaf];
  const chains: CertInfo[][] = [];

  const dfs = async (path: CertInfo[]): Promise<CertInfo[] | undefined> => {
    const cur = path[path.length - 1]!;
    if (isAnchor(cur)) return path;
    if (path.length > best.length) best = path;
    if (path.length > MAX_DEPTH) return undefined;
    const candidates = (): CertInfo[] => [
      ...anchors.filter((a) => mayIssue(a, cur)),
      ...[...known.values()].filter((c) => mayIssue(c, cur) && !anchors.includes(c)),
    ].filter((c) => !path.some((p) => p.sha256 === c.sha256) || (isAnchor(c) && c.sha256 !== cur.sha256));
    let cands = candidates();
    if (cands.length === 0 && opts.fetchIssuers) {
      for (const url of cur.aiaUrls(OIDS.caIssuersAccess)) {
        if (fetched.has(url)) continue;
        fetched.add(url);
        const body = await opts.fetchIssuers(url);
        if (body) for (const c of parseCaIssuers(body)) known.set(c.sha256, c);
      }
      cands = candidates();
    }
    for (const c of cands) {
      if (c.sha256 === cur.sha256) continue;
      if (!signedBy(cur, c)) continue;
      const r = await dfs([...path, c]);
      if (r) {
        chains.push(r);
        return r;
      }
    }
    return undefined;
  };

  const chain = await dfs([leaf]);
  if (!chain) {
    const top = best[best.length - 1]!;
    return { ok: false, subIndication: 'NO_CERTIFICATE_CHAIN_FOUND', partial: best,
      message: anchors.length === 0 ? 'no trust anchor is configured (use --trust ROOT.pem or a policy)'
        : `no path from "${leaf.subject}" to a trust anchor: "${top.subject}" has no trusted issuer "${top.issuer}"` };
  }
  return validateStructure(chain, opts);
}

/** RFC 5280 §6.1 structural checks on a built chain (leaf first, anchor last). */
export function validateStructure(chain: CertInfo[], opts: PathOptions = {}): PathResult {
  const n = chain.length;
  for (let i = 0; i < n; i++) {
    const c = chain[i]!;
    const isLast = i === n - 1;
    if (!isLast) {
      const issuer = chain[i + 1]!;
      const v = opts.signatureConstraint?.(c, issuer);
      if (v) return { ok: false, subIndication: 'CRYPTO_CONSTRAINTS_FAILURE', message: v, partial: chain };
      if (c.cert.version !== 2 && i > 0) return { ok: false, subIndication: 'CHAIN_CONSTRAINTS_FAILURE', message: `CA certificate "${c.subject}" is not X.509 v3`, partial: chain };
      for (const e of c.extensions) {
        if (e.critical && !KNOWN_CRITICAL.has(e.extnID)) {
          return { ok: false, subIndication: 'CHAIN_CONSTRAINTS_FAILURE', message: `certificate "${c.subject}" has an unsupported critical extension ${e.extnID}`, partial: chain };
        }
      }
    }
    if (i > 0) {
      const bc = c.basicConstraints;
      // The trust anchor is accepted as configured, but an anchor that says it is not a CA is refused.
      if (!bc?.ca && !(isLast && !bc)) {
        return { ok: false, subIndication: 'CHAIN_CONSTRAINTS_FAILURE', message: `issuer certificate "${c.subject}" is not a CA (basicConstraints cA is not set)`, partial: chain };
      }
      const ku = c.keyUsage;
      if (ku && !ku.has('keyCertSign')) {
        return { ok: false, subIndication: 'CHAIN_CONSTRAINTS_FAILURE', message: `issuer certificate "${c.subject}" may not sign certificates (keyUsage lacks keyCertSign)`, partial: chain };
      }
      if (bc?.pathLen !== undefined) {
        // Non-self-issued intermediates between this CA and the leaf.
        let below = 0;
        for (let j = 1; j < i; j++) if (!chain[j]!.isSelfIssued) below++;
        if (below > bc.pathLen) {
          return { ok: false, subIndication: 'CHAIN_CONSTRAINTS_FAILURE', message: `pathLenConstraint ${bc.pathLen} of "${c.subject}" is exceeded (${below} CA certificates below it)`, partial: chain };
        }
      }
    }
  }
  return { ok: true, chain };
}
