import { certInfoOf, type CertInfo } from '@kyso/pki';

/**
 * Order certificates as a chain above `leaf` (issuer first, up to the root) using name matching
 * and signature checks; certificates that are not part of the path are appended at the end
 * (they may be useful as validation data), duplicates and the leaf itself are dropped.
 */
export function orderChain(leaf: Uint8Array, others: Uint8Array[]): Uint8Array[] {
  const leafInfo = certInfoOf(leaf);
  const seen = new Set<string>([leafInfo.sha1Hex]);
  const pool: CertInfo[] = [];
  for (const d of others) {
    const c = certInfoOf(d);
    if (seen.has(c.sha1Hex)) continue;
    seen.add(c.sha1Hex);
    pool.push(c);
  }
  const out: CertInfo[] = [];
  let cur = leafInfo;
  for (;;) {
    if (cur.isSelfSigned) break;
    const next = pool.find((c) => !out.includes(c) && cur.isIssuedBy(c));
    if (!next) break;
    out.push(next);
    cur = next;
  }
  for (const c of pool) if (!out.includes(c)) out.push(c);
  return out.map((c) => c.der);
}
