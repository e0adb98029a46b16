import { edxmlSignOptions, signXml } from '@kyso/signer';
import type { XmlSigner } from './service.js';

const EDXML_NS = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';

/**
 * signDoc's XML signer (signature_format "X"): an enveloped XAdES signature at the requested baseline level; an
 * edXML message (QCVN 102:2016) is signed after kyso's edXML profile (the signature in its header).
 */
export function kysoXmlSigner(tsaUrl?: string): XmlSigner {
  return async (doc, backend, level) => {
    const head = Buffer.from(doc.subarray(0, 4096)).toString('utf8');
    const profile = head.includes(EDXML_NS) ? edxmlSignOptions(doc) : {};
    return signXml(doc, { backend, level, ...profile, ...(tsaUrl ? { tsa: { url: tsaUrl } } : {}) });
  };
}
