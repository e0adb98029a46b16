import type { XmlElement as Element } from '@kyso/signer/xml';
import { NS, childElements, decodeBase64, onlyChild, qualifyingPropertiesOf } from '@kyso/signer/xml';

/** Validation material carried by an XML signature (KeyInfo, CertificateValues, RevocationValues, TimeStampValidationData). */
export interface XmlMaterial { certs: Uint8Array[]; crls: Uint8Array[]; ocsps: Uint8Array[] }

function values(parent: Element | undefined, ns: string, name: string): Uint8Array[] {
  if (!parent) return [];
  return childElements(parent, ns, name).map((e) => decodeBase64(e.textContent ?? '')).filter((b): b is Uint8Array => !!b && b.length > 0);
}

function fromValuesContainers(c: Element, out: XmlMaterial): void {
  for (const cv of childElements(c, NS.xades, 'CertificateValues')) out.certs.push(...values(cv, NS.xades, 'EncapsulatedX509Certificate'));
  for (const rv of childElements(c, NS.xades, 'RevocationValues')) {
    for (const l of childElements(rv, NS.xades, 'CRLValues')) out.crls.push(...values(l, NS.xades, 'EncapsulatedCRLValue'));
    for (const l of childElements(rv, NS.xades, 'OCSPValues')) out.ocsps.push(...values(l, NS.xades, 'EncapsulatedOCSPValue'));
  }
}

/** Certificates of ds:KeyInfo/ds:X509Data. */
export function keyInfoCertificates(sig: Element): Uint8Array[] {
  const ki = onlyChild(sig, NS.ds, 'KeyInfo');
  if (!ki) return [];
  return childElements(ki, NS.ds, 'X509Data').flatMap((x) => values(x, NS.ds, 'X509Certificate'));
}

/** The UnsignedSignatureProperties element, if any. */
export function unsignedSignatureProperties(sig: Element): Element | undefined {
  const qp = qualifyingPropertiesOf(sig);
  const up = qp ? onlyChild(qp, NS.xades, 'UnsignedProperties') : undefined;
  return up ? onlyChild(up, NS.xades, 'UnsignedSignatureProperties') : undefined;
}

/** All validation material of one signature. */
export function materialOf(sig: Element): XmlMaterial {
  const out: XmlMaterial = { certs: keyInfoCertificates(sig), crls: [], ocsps: [] };
  const ki = onlyChild(sig, NS.ds, 'KeyInfo');
  if (ki) for (const x of childElements(ki, NS.ds, 'X509Data')) out.crls.push(...values(x, NS.ds, 'X509CRL'));
  const usp = unsignedSignatureProperties(sig);
  if (usp) {
    fromValuesContainers(usp, out);
    for (const t of childElements(usp, NS.xades141, 'TimeStampValidationData')) fromValuesContainers(t, out);
  }
  return out;
}
