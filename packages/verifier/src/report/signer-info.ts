import type * as pkijs from 'pkijs';
import { nameAttr, type CertInfo } from '@kyso/pki';
import { OIDS } from '@kyso/pki';
import type { SignerInfo } from './model.js';

const ORG_PREFIXES = /^(MST|MNS|MSNS|TIN|VAT|NTR|PSD|LEI)[:\-]/i;

/** Signer identity for the report: names, serial, personal and organisation identifiers. */
export function signerInfoOf(cert: CertInfo, chain?: CertInfo[]): SignerInfo {
  const subj = cert.cert.subject;
  const personal: string[] = [];
  const orgIds: string[] = [];
  const add = (v: string | undefined) => {
    if (!v) return;
    (ORG_PREFIXES.test(v) ? orgIds : personal).push(v);
  };
  for (const tv of subj.typesAndValues) {
    const v = String(tv.value.valueBlock.value ?? '');
    if (tv.type === '2.5.4.5' || tv.type === '0.9.2342.19200300.100.1.1') add(v);
    if (tv.type === '2.5.4.97') orgIds.push(v);
    if (tv.type === '1.2.840.113549.1.9.1') personal.push(`email:${v}`);
  }
  const san = cert.ext(OIDS.subjectAltName)?.parsedValue as pkijs.AltName | undefined;
  for (const n of san?.altNames ?? []) if (n.type === 1) personal.push(`email:${String(n.value)}`);
  const out: SignerInfo = {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialHex.toUpperCase(),
    personalIdentifiers: [...new Set(personal)],
    organizationIdentifiers: [...new Set(orgIds)],
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    certificateSha256: cert.sha256,
  };
  const cn = nameAttr(subj, '2.5.4.3');
  if (cn) out.commonName = cn;
  const o = nameAttr(subj, '2.5.4.10');
  if (o) out.organization = o;
  if (chain && chain.length > 1) out.chain = chain.map((c) => c.subject);
  return out;
}
