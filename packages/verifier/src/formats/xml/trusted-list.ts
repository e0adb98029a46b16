import { childElements, decodeBase64, parseXml } from '@kyso/signer/xml';
import type { XmlElement as Element } from '@kyso/signer/xml';
import { VerifierError } from '../../errors.js';
import type { Policy } from '../../policy.js';
import type { ValidationReport } from '../../report/model.js';
import { verifyXmlSigned } from './verify-xml.js';

/** ETSI TS 119 612 namespace. */
export const TSL_NS = 'http://uri.etsi.org/02231/v2#';
/** Service types whose certificates can anchor signature validation (CA issuing qualified / other certificates). */
export const CA_SERVICE_TYPES = ['http://uri.etsi.org/TrstSvc/Svctype/CA/QC', 'http://uri.etsi.org/TrstSvc/Svctype/CA/PKC'];
/** Service types of time-stamping authorities. */
export const TSA_SERVICE_TYPES = ['http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST', 'http://uri.etsi.org/TrstSvc/Svctype/TSA'];
/** Statuses under which a service is trusted (current ETSI TS 119 612 v2 values and the pre-2016 ones). */
export const GRANTED_STATUSES = [
  'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted', 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel',
  'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/accredited', 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/undersupervision',
];

/** Options of {@link loadTrustedList}. */
export interface TrustedListOptions {
  /** Certificates allowed to sign the list (the scheme operator's, e.g. pinned from the LOTL), DER or PEM. */
  signers: (Uint8Array | string)[];
  /** Service types to take anchors from (default CA/QC and CA/PKC, plus TSA services when `includeTsa`). */
  serviceTypes?: string[];
  includeTsa?: boolean;
  /** Validation time of the list's signature and freshness (default now). */
  validationTime?: Date;
  /** Refuse a list whose NextUpdate has passed (default true). */
  requireFresh?: boolean;
}

/** A trusted list whose signature was verified, and the anchors taken from it. */
export interface TrustedList {
  operator?: string;
  sequenceNumber?: string;
  issued?: Date;
  nextUpdate?: Date;
  /** Certificates (DER) of the granted services of the chosen types. */
  anchors: Uint8Array[];
  services: { provider?: string; name?: string; type: string; status: string; certificates: number }[];
  /** Validation report of the list's own signature. */
  signatureReport: ValidationReport;
}

const t = (p: Element | undefined, name: string): string | undefined => { const c = p ? childElements(p, TSL_NS, name)[0] : undefined; return c ? (c.textContent ?? '').trim() : undefined; };
const nameOf = (p: Element | undefined, name: string): string | undefined => { const c = p ? childElements(p, TSL_NS, name)[0] : undefined; return c ? t(c, 'Name') : undefined; };

/**
 * Read an ETSI TS 119 612 trusted list: its XML signature is verified FIRST (TOTAL_PASSED against `signers`,
 * covering the whole list), then the certificates of granted services of the chosen types become trust anchors.
 * Throws VerifierError TRUSTED_LIST_INVALID otherwise. Only the signed octets of the list are read.
 */
export async function loadTrustedList(xml: Uint8Array, opts: TrustedListOptions): Promise<TrustedList> {
  const fail = (m: string): never => { throw new VerifierError('TRUSTED_LIST_INVALID', `trusted list: ${m}`); };
  const v = await verifyXmlSigned(xml, { trustAnchors: opts.signers, revocationRequired: false, offline: true, ...(opts.validationTime ? { validationTime: opts.validationTime } : {}) }, { name: 'trusted-list.xml' });
  const r = v.report;
  if (r.signatures.length !== 1) fail(`expected one signature, found ${r.signatures.length}`);
  const sig = r.signatures[0]!;
  if (r.documentIndication !== 'TOTAL_PASSED') fail(`its signature is not valid: ${sig?.indication}/${sig?.subIndication}: ${sig?.message}`);
  if (sig.coverage.xml?.scope !== 'FULL') fail('its signature does not cover the whole list');
  const whole = v.signed[0]!.references.find((x) => x.target === 'document');
  if (!whole) fail('no whole-document reference');
  // Read the list from the signed octets only.
  const doc = parseXml(whole!.octets);
  const root = doc.documentElement!;
  if (root.namespaceURI !== TSL_NS || root.localName !== 'TrustServiceStatusList') fail('root is not tsl:TrustServiceStatusList');
  const si = childElements(root, TSL_NS, 'SchemeInformation')[0];
  const issued = t(si, 'ListIssueDateTime');
  const nu = si ? childElements(si, TSL_NS, 'NextUpdate')[0] : undefined;
  const next = t(nu, 'dateTime');
  const now = opts.validationTime ?? new Date();
  const nextUpdate = next ? new Date(next) : undefined;
  if ((opts.requireFresh ?? true) && (!nextUpdate || Number.isNaN(nextUpdate.getTime()) || nextUpdate < now)) fail(`NextUpdate ${next ?? '(none)'} has passed or is missing: the list is stale`);
  const types = opts.serviceTypes ?? [...CA_SERVICE_TYPES, ...(opts.includeTsa ? TSA_SERVICE_TYPES : [])];
  const anchors: Uint8Array[] = [];
  const services: TrustedList['services'] = [];
  const list = childElements(root, TSL_NS, 'TrustServiceProviderList')[0];
  for (const tsp of list ? childElements(list, TSL_NS, 'TrustServiceProvider') : []) {
    const provider = nameOf(childElements(tsp, TSL_NS, 'TSPInformation')[0], 'TSPName');
    const svcs = childElements(tsp, TSL_NS, 'TSPServices')[0];
    for (const s of svcs ? childElements(svcs, TSL_NS, 'TSPService') : []) {
      const info = childElements(s, TSL_NS, 'ServiceInformation')[0];
      const type = t(info, 'ServiceTypeIdentifier') ?? '';
      const status = t(info, 'ServiceStatus') ?? '';
      const sdi = info ? childElements(info, TSL_NS, 'ServiceDigitalIdentity')[0] : undefined;
      const certs = (sdi ? childElements(sdi, TSL_NS, 'DigitalId') : []).flatMap((d) => childElements(d, TSL_NS, 'X509Certificate')).map((c) => decodeBase64(c.textContent ?? '')).filter((b): b is Uint8Array => !!b);
      services.push({ ...(provider ? { provider } : {}), ...(nameOf(info, 'ServiceName') ? { name: nameOf(info, 'ServiceName')! } : {}), type, status, certificates: certs.length });
      if (types.includes(type) && GRANTED_STATUSES.includes(status)) anchors.push(...certs);
    }
  }
  return {
    ...(nameOf(si, 'SchemeOperatorName') ? { operator: nameOf(si, 'SchemeOperatorName')! } : {}),
    ...(t(si, 'TSLSequenceNumber') ? { sequenceNumber: t(si, 'TSLSequenceNumber')! } : {}),
    ...(issued ? { issued: new Date(issued) } : {}), ...(nextUpdate ? { nextUpdate } : {}),
    anchors, services, signatureReport: r,
  };
}

/** A copy of `policy` whose trust anchors also include the anchors of a verified trusted list. */
export async function withTrustedList(policy: Policy, xml: Uint8Array, opts: TrustedListOptions): Promise<Policy> {
  const tl = await loadTrustedList(xml, { ...(policy.validationTime ? { validationTime: policy.validationTime } : {}), ...opts });
  return { ...policy, trustAnchors: [...(policy.trustAnchors ?? []), ...tl.anchors] };
}
