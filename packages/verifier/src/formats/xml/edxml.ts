import type { XmlDocument as Document, XmlElement as Element } from '@kyso/signer/xml';
import { DIGEST_BY_URI, EDXML_NS, childElements, decodeBase64, hashBytes, isStrictBase64, parseXml } from '@kyso/signer/xml';
import type { SignatureReport, SubIndication } from '../../report/model.js';
import type { SignedReference } from './validate.js';
import type { StreamedBase64 } from '@kyso/signer/xml';

/** What an edXML message says, read from the SIGNED envelope octets (never from the document itself). */
export interface EdxmlSignedInfo {
  from?: string;
  to: string[];
  subject?: string;
  documentId?: string;
  attachments: { contentId: string; name?: string; size: number; digestOk: boolean }[];
}

const text = (p: Element | undefined, name: string): string | undefined => {
  const c = p ? childElements(p, EDXML_NS, name)[0] : undefined;
  return c ? (c.textContent ?? '').trim() : undefined;
};

function worsen(r: SignatureReport, indication: 'TOTAL_FAILED' | 'INDETERMINATE', sub: SubIndication, message: string): void {
  r.checks.push({ check: 'edxml-profile', block: indication === 'TOTAL_FAILED' ? 'CV' : 'FC', status: 'failed', message });
  const rank = { TOTAL_PASSED: 0, INDETERMINATE: 1, TOTAL_FAILED: 2 } as const;
  if (rank[indication] > rank[r.indication]) {
    r.indication = indication; r.subIndication = sub; r.block = indication === 'TOTAL_FAILED' ? 'CV' : 'FC'; r.message = message;
    if (sub === 'HASH_FAILURE') r.intact = false;
  }
}

/**
 * kyso's edXML profile checks for one signature: it sits in edXMLHeader, it signs the edXMLEnvelope that is the
 * root's child (enveloped), and every AttachmentEncoded/Attachment matches the digest of its manifest entry in the
 * signed envelope (and no attachment is unlisted, no listed one missing). Returns what the signed envelope says.
 */
export function checkEdxmlSignature(doc: Document, sig: Element, report: SignatureReport, signed: SignedReference[],
  known?: ReadonlyMap<Element, readonly { alg: string; digest: Uint8Array; size: number }[]>, streamed?: ReadonlyMap<Element, StreamedBase64>): EdxmlSignedInfo | undefined {
  const root = doc.documentElement!;
  const header = sig.parentNode as Element | null;
  const env = header?.parentNode as Element | null;
  if (!header || header.namespaceURI !== EDXML_NS || header.localName !== 'edXMLHeader' || !env || env.localName !== 'edXMLEnvelope' || env.parentNode !== root) {
    worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', 'edXML: the signature is not in edXML:edXMLHeader of the message envelope');
    return undefined;
  }
  const envRef = signed.find((s) => s.target === 'element' && s.path === '/edXML[1]/edXML:edXMLEnvelope[1]');
  if (!envRef) {
    worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', 'edXML: the signature does not cover the edXMLEnvelope');
    return undefined;
  }
  let signedEnv: Document;
  try { signedEnv = parseXml(envRef.octets); } catch (e) { worsen(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', `edXML: signed envelope unreadable: ${(e as Error).message}`); return undefined; }
  const se = signedEnv.documentElement!;
  const sh = childElements(se, EDXML_NS, 'edXMLHeader')[0];
  const mh = sh ? childElements(sh, EDXML_NS, 'MessageHeader')[0] : undefined;
  const body = childElements(se, EDXML_NS, 'edXMLBody')[0];
  const manifest = body ? childElements(body, EDXML_NS, 'edXMLManifest')[0] : undefined;
  const listed = new Map<string, { alg?: string; digest?: Uint8Array; name?: string }>();
  for (const r of manifest ? childElements(manifest, EDXML_NS, 'Reference') : []) {
    const cid = text(r, 'ContentId') ?? '';
    const alg = DIGEST_BY_URI[text(r, 'DigestMethod') ?? ''];
    const d = decodeBase64(text(r, 'DigestValue') ?? '');
    listed.set(cid, { ...(alg ? { alg } : {}), ...(d ? { digest: d } : {}), ...(text(r, 'AttachmentName') ? { name: text(r, 'AttachmentName')! } : {}) });
  }
  const info: EdxmlSignedInfo = {
    ...(mh && childElements(mh, EDXML_NS, 'From')[0] ? { from: text(childElements(mh, EDXML_NS, 'From')[0], 'OrganId')! } : {}),
    to: mh ? childElements(mh, EDXML_NS, 'To').map((t) => text(t, 'OrganId') ?? '') : [],
    ...(text(mh, 'Subject') !== undefined ? { subject: text(mh, 'Subject')! } : {}),
    ...(text(mh, 'DocumentId') !== undefined ? { documentId: text(mh, 'DocumentId')! } : {}),
    attachments: [],
  };
  const seen = new Set<string>();
  let ok = true;
  for (const ae of childElements(root).filter((c) => c.localName === 'AttachmentEncoded')) {
    for (const a of childElements(ae).filter((c) => c.localName === 'Attachment')) {
      const cid = (childElements(a).find((c) => c.localName === 'ContentId')?.textContent ?? '').trim();
      const cte = childElements(a).find((c) => c.localName === 'ContentTransferEncoded');
      const entry = listed.get(cid);
      // the digest a reference already computed over the same element's decoded text (same data: strict base64
      // decodes alike either way), else decode here
      // (the edXML fast path read the attachment as it streamed by: strict base64, digested, not in the tree)
      const st = cte && streamed ? streamed.get(cte) : undefined;
      const b64 = st ? '' : cte?.textContent ?? '';
      const strict = st ? true : isStrictBase64(b64);
      const stDigest = st && entry?.alg ? st.digests.get(entry.alg) : undefined;
      if (st && entry?.alg && !stDigest) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)}: internal: no digest for ${entry.alg}`); continue; }
      const hit = stDigest ? { digest: stDigest, size: st!.size } : cte && strict && entry?.alg ? known?.get(cte)?.find((k) => k.alg === entry.alg) : undefined;
      const data = hit || !strict ? undefined : new Uint8Array(Buffer.from(b64, 'base64')); // = decodeBase64(b64)
      if (seen.has(cid)) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid} appears twice`); continue; }
      seen.add(cid);
      if (!entry) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)} is not listed in the signed manifest`); continue; }
      const good = hit ? !!entry.digest && Buffer.from(hit.digest).equals(Buffer.from(entry.digest))
        : !!data && !!entry.alg && !!entry.digest && Buffer.from(hashBytes(entry.alg, data)).equals(Buffer.from(entry.digest));
      info.attachments.push({ contentId: cid, ...(entry.name ? { name: entry.name } : {}), size: hit ? hit.size : st ? st.size : data?.length ?? 0, digestOk: good });
      if (!good) { ok = false; worsen(report, 'TOTAL_FAILED', 'HASH_FAILURE', `edXML: attachment ${cid} does not match the digest in the signed manifest`); }
    }
  }
  for (const cid of listed.keys()) if (!seen.has(cid)) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid} listed in the manifest is missing`); }
  if (ok) report.checks.push({ check: 'edxml-profile', block: 'CV', status: 'passed', message: `edXML: envelope signed, ${info.attachments.length} attachment(s) match the signed manifest` });
  return info;
}
