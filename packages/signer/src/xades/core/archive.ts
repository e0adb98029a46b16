import type { XmlElement as Element } from './model.js';
import { canonicalize, type C14nMethod } from './c14n.js';
import { NS } from './constants.js';
import { childElements, isWithin, onlyChild } from './dom.js';
import { dereference, type DereferenceContext } from './reference.js';
import { XmlError } from './errors.js';

/** The QualifyingProperties of a signature (inside one of its ds:Object), or undefined. */
export function qualifyingPropertiesOf(sig: Element): Element | undefined {
  for (const o of childElements(sig, NS.ds, 'Object')) {
    const qp = childElements(o, NS.xades, 'QualifyingProperties');
    if (qp.length) return qp[0];
  }
  return undefined;
}

/** Input of a XAdES SignatureTimeStamp: the canonicalized ds:SignatureValue element. */
export function xadesSignatureTimestampInput(sig: Element, method: C14nMethod): Uint8Array {
  const sv = onlyChild(sig, NS.ds, 'SignatureValue');
  if (!sv) throw new XmlError('XML_SIGNATURE_NOT_FOUND', 'the signature has no single SignatureValue');
  return Buffer.from(canonicalize(sv, method), 'utf8');
}

/**
 * Input of a XAdES 1.4.1 ArchiveTimeStamp (EN 319 132-1 §5.5.2): the output of every ds:Reference in order,
 * then SignedInfo, SignatureValue and KeyInfo, then each unsigned signature property that precedes `before`
 * (all of them when `before` is undefined), then every ds:Object except the one holding the qualifying
 * properties, each canonicalized with `method`.
 */
export function xadesArchiveTimestampInput(sig: Element, method: C14nMethod, ctx: DereferenceContext, before?: Element): Uint8Array {
  const parts: Uint8Array[] = [];
  const c = (el: Element) => parts.push(Buffer.from(canonicalize(el, method), 'utf8'));
  const si = onlyChild(sig, NS.ds, 'SignedInfo');
  if (!si) throw new XmlError('XML_SIGNATURE_NOT_FOUND', 'no SignedInfo');
  for (const ref of childElements(si, NS.ds, 'Reference')) {
    const r = dereference(ref, { ...ctx, defaultC14n: method });
    if ('kind' in r) throw new XmlError('XML_INPUT', `archive timestamp: reference ${ref.getAttribute('URI')}: ${r.message}`);
    parts.push(r.octets);
  }
  c(si);
  const sv = onlyChild(sig, NS.ds, 'SignatureValue');
  if (sv) c(sv);
  const ki = onlyChild(sig, NS.ds, 'KeyInfo');
  if (ki) c(ki);
  const qp = qualifyingPropertiesOf(sig);
  const usp = qp ? onlyChild(qp, NS.xades, 'UnsignedProperties') : undefined;
  const props = usp ? onlyChild(usp, NS.xades, 'UnsignedSignatureProperties') : undefined;
  if (props) {
    for (const p of childElements(props)) {
      if (p === before) break;
      c(p);
    }
  }
  for (const o of childElements(sig, NS.ds, 'Object')) if (!qp || !isWithin(qp, o)) c(o);
  return Buffer.concat(parts);
}
