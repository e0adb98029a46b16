import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertInfo, nameKey } from '../x509/cert.js';
import { OID } from '../util/oids.js';
import { ownBuffer, toHex } from '../util/bytes.js';
import { publicKey, resolveScheme, verifySignature } from '../crypto/signature.js';

/** Status of a certificate according to one CRL. */
export interface CrlStatus {
  status: 'good' | 'revoked';
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedAt?: Date;
  reason?: string;
}

const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

/** Parses a DER CRL; undefined if malformed. */
export function parseCrl(der: Uint8Array): pkijs.CertificateRevocationList | undefined {
  try {
    const asn = asn1js.fromBER(ownBuffer(der));
    if (asn.offset === -1) return undefined;
    return new pkijs.CertificateRevocationList({ schema: asn.result });
  } catch {
    return undefined;
  }
}

/**
 * Evaluates a CRL for `cert`: the CRL must be issued (name and signature) by `issuer`, be a complete CRL (no
 * delta indicator) and its scope must include the certificate. Returns undefined when it does not apply.
 */
export function evaluateCrl(der: Uint8Array, cert: CertInfo, issuer: CertInfo): CrlStatus | undefined {
  const crl = parseCrl(der);
  if (!crl) return undefined;
  if (nameKey(crl.issuer) !== issuer.subjectKey || cert.issuerKey !== issuer.subjectKey) return undefined;
  const exts = crl.crlExtensions?.extensions ?? [];
  if (exts.some((e) => e.extnID === OID.extDeltaCrlIndicator)) return undefined;
  const idp = exts.find((e) => e.extnID === OID.extIssuingDistributionPoint)?.parsedValue as pkijs.IssuingDistributionPoint | undefined;
  if (idp) {
    const isCa = cert.basicConstraints?.ca === true;
    if (idp.onlyContainsUserCerts && isCa) return undefined;
    if (idp.onlyContainsCACerts && !isCa) return undefined;
    if (idp.onlyContainsAttributeCerts || idp.onlySomeReasons !== undefined || idp.indirectCRL) return undefined;
  }
  if (issuer.keyUsage && !issuer.keyUsage.has('cRLSign')) return undefined;
  try {
    if (!verifySignature(resolveScheme(crl.signature), issuer.publicKey, crl.tbsView, crl.signatureValue.valueBlock.valueHexView)) return undefined;
  } catch {
    return undefined;
  }
  const out: CrlStatus = { status: 'good', thisUpdate: crl.thisUpdate.value };
  if (crl.nextUpdate) out.nextUpdate = crl.nextUpdate.value;
  for (const rc of crl.revokedCertificates ?? []) {
    if (toHex(rc.userCertificate.valueBlock.valueHexView).replace(/^(00)+(?=.)/, '') !== cert.serialHex) continue;
    out.status = 'revoked';
    out.revokedAt = rc.revocationDate.value;
    const reasonExt = rc.crlEntryExtensions?.extensions.find((e) => e.extnID === OID.extCrlReason);
    const e = reasonExt?.parsedValue as asn1js.Enumerated | undefined;
    if (e?.valueBlock) out.reason = REASONS[e.valueBlock.valueDec] ?? String(e.valueBlock.valueDec);
    if (out.reason === 'removeFromCRL') {
      out.status = 'good';
      delete out.revokedAt;
    }
    break;
  }
  return out;
}
