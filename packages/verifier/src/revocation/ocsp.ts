import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertInfo, nameKey } from '../x509/cert.js';
import { DIGEST_OIDS, OID } from '../util/oids.js';
import { bytesEqual, hash, ownBuffer, toHex } from '../util/bytes.js';
import { publicKey, resolveScheme, verifySignature } from '../crypto/signature.js';

/** Status of one certificate according to one OCSP response. */
export interface OcspStatus {
  status: 'good' | 'revoked' | 'unknown';
  producedAt: Date;
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedAt?: Date;
  reason?: string;
  responder: string;
  /** DER of the BasicOCSPResponse's embedded certificates (for the report / DSS). */
  certs: Uint8Array[];
}

const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

/** Builds a DER OCSPRequest for `cert` issued by `issuer` (CertID with SHA-1, as RFC 6960 responders expect). */
export function buildOcspRequest(cert: CertInfo, issuer: CertInfo): Uint8Array {
  const nameHash = hash('SHA-1', new Uint8Array(issuer.cert.subject.toSchema().toBER(false)));
  const keyHash = hash('SHA-1', issuer.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
  const certId = new asn1js.Sequence({ value: [
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '1.3.14.3.2.26' }), new asn1js.Null()] }),
    new asn1js.OctetString({ valueHex: ownBuffer(nameHash) }),
    new asn1js.OctetString({ valueHex: ownBuffer(keyHash) }),
    new asn1js.Integer({ valueHex: ownBuffer(new Uint8Array(cert.cert.serialNumber.valueBlock.valueHexView)) }),
  ] });
  const req = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [certId] })] })] })] });
  return new Uint8Array(req.toBER(false));
}

/** Unwraps an OCSPResponse (or a bare BasicOCSPResponse, as stored in CMS/DSS sometimes) into BasicOCSPResponse. */
export function parseBasicOcsp(der: Uint8Array): pkijs.BasicOCSPResponse | undefined {
  try {
    const asn = asn1js.fromBER(ownBuffer(der));
    if (asn.offset === -1) return undefined;
    try {
      const resp = new pkijs.OCSPResponse({ schema: asn.result });
      if (resp.responseStatus.valueBlock.valueDec !== 0 || !resp.responseBytes) return undefined;
      if (resp.responseBytes.responseType !== OID.ocspBasic) return undefined;
      const inner = asn1js.fromBER(resp.responseBytes.response.valueBlock.valueHexView);
      if (inner.offset === -1) return undefined;
      return new pkijs.BasicOCSPResponse({ schema: inner.result });
    } catch {
      return new pkijs.BasicOCSPResponse({ schema: asn.result });
    }
  } catch {
    return undefined;
  }
}

/**
 * Evaluates an OCSP response for `cert` issued by `issuer`: finds the matching SingleResponse, checks that the
 * response is signed by the issuer or by a delegated responder (issued by the issuer, EKU id-kp-OCSPSigning,
 * valid at producedAt). Returns undefined when the response does not apply or does not verify.
 */
export function evaluateOcsp(der: Uint8Array, cert: CertInfo, issuer: CertInfo, extraCerts: CertInfo[] = []): OcspStatus | undefined {
  const basic = parseBasicOcsp(der);
  if (!basic) return undefined;
  const data = basic.tbsResponseData;
  let single: pkijs.SingleResponse | undefined;
  for (const r of data.responses) {
    const alg = DIGEST_OIDS[r.certID.hashAlgorithm.algorithmId];
    if (!alg) continue;
    const serial = toHex(r.certID.serialNumber.valueBlock.valueHexView).replace(/^(00)+(?=.)/, '');
    if (serial !== cert.serialHex) continue;
    const nameHash = hash(alg, new Uint8Array(issuer.cert.subject.toSchema().toBER(false)));
    const keyHash = hash(alg, issuer.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
    if (bytesEqual(r.certID.issuerNameHash.valueBlock.valueHexView, nameHash) && bytesEqual(r.certID.issuerKeyHash.valueBlock.valueHexView, keyHash)) {
      single = r;
      break;
    }
  }
  if (!single) return undefined;
  const embedded = (basic.certs ?? []).map((c) => new CertInfo(new Uint8Array(c.toSchema().toBER(false))));
  // Responder identification.
  const rid = data.responderID as pkijs.RelativeDistinguishedNames | asn1js.OctetString;
  const matchesResponder = (c: CertInfo): boolean => {
    if (rid instanceof pkijs.RelativeDistinguishedNames) return nameKey(rid) === c.subjectKey;
    const kh = (rid as asn1js.OctetString).valueBlock?.valueHexView;
    if (!kh) return false;
    return bytesEqual(hash('SHA-1', c.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView), kh);
  };
  const candidates = [issuer, ...embedded, ...extraCerts].filter(matchesResponder);
  const tbs = data.tbsView;
  for (const responder of candidates) {
    if (responder !== issuer && responder.sha256 !== issuer.sha256) {
      // Delegated responder: issued by the CA, EKU OCSPSigning, valid when the response was produced.
      if (responder.issuerKey !== issuer.subjectKey) continue;
      if (!(responder.extKeyUsage ?? []).includes(OID.ekuOcspSigning)) continue;
      if (data.producedAt < responder.notBefore || data.producedAt > responder.notAfter) continue;
      try {
        const s = resolveScheme(responder.cert.signatureAlgorithm);
        if (!verifySignature(s, issuer.publicKey, responder.cert.tbsView, responder.cert.signatureValue.valueBlock.valueHexView)) continue;
      } catch {
        continue;
      }
    }
    let ok = false;
    try {
      ok = verifySignature(resolveScheme(basic.signatureAlgorithm), responder.publicKey, tbs, basic.signature.valueBlock.valueHexView);
    } catch {
      ok = false;
    }
    if (!ok) continue;
    const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
    const out: OcspStatus = {
      status: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
      producedAt: data.producedAt,
      thisUpdate: single.thisUpdate,
      responder: responder.subject,
      certs: embedded.map((c) => c.der),
    };
    if (single.nextUpdate) out.nextUpdate = single.nextUpdate;
    if (tag === 1) {
      const inner = (single.certStatus as asn1js.Constructed).valueBlock.value;
      const t = inner?.[0] as asn1js.GeneralizedTime | undefined;
      if (t && typeof t.toDate === 'function') out.revokedAt = t.toDate();
      const r = inner?.[1] as asn1js.Constructed | undefined;
      const e = r?.valueBlock?.value?.[0] as asn1js.Enumerated | undefined;
      if (e) out.reason = REASONS[e.valueBlock.valueDec] ?? String(e.valueBlock.valueDec);
    }
    return out;
  }
  return undefined;
}
