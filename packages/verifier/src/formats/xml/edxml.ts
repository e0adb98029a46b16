import type { XmlDocument as Document, XmlElement as Element } from '@kyso/signer/xml';
import { DIGEST_BY_URI, EDXML_NS, NS, childElements, decodeBase64, forEachElement, hashBytes, isStrictBase64, parseXml } from '@kyso/signer/xml';
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
 * signed envelope (and no attachment is unlisted, no listed one missing). The message must have exactly the
 * profile's structure (see messageStructure: one envelope, at most one AttachmentEncoded, one text-only ContentId
 * and ContentTransferEncoded per Attachment, elements matched by namespace and local name, nothing else), and the
 * signed envelope must be unambiguous (see signedEnvelopeProblems). A failure adds a failed 'edxml-profile' check and
 * lowers the report's indication (INDETERMINATE / SIGNED_DATA_NOT_FOUND for content outside the signed scope,
 * TOTAL_FAILED / HASH_FAILURE for an attachment that does not match, TOTAL_FAILED / FORMAT_FAILURE for an ambiguous
 * signed envelope). Returns what the signed envelope says, or undefined when the message is not of the profile.
 */
export function checkEdxmlSignature(doc: Document, sig: Element, report: SignatureReport, signed: SignedReference[],
  known?: ReadonlyMap<Element, readonly { alg: string; digest: Uint8Array; size: number }[]>, streamed?: ReadonlyMap<Element, StreamedBase64>): EdxmlSignedInfo | undefined {
  const root = doc.documentElement!;
  const header = sig.parentNode as Element | null;
  const env = header?.parentNode as Element | null;
  if (!header || header.namespaceURI !== EDXML_NS || header.localName !== 'edXMLHeader' || !env || env.namespaceURI !== EDXML_NS || env.localName !== 'edXMLEnvelope' || env.parentNode !== root) {
    worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', 'edXML: the signature is not in edXML:edXMLHeader of the message envelope');
    return undefined;
  }
  // the message outside the signed envelope: exactly the structure the profile defines, nothing a consumer could
  // read instead of (or besides) the signed content
  const shape = messageStructure(root);
  if ('problems' in shape) {
    for (const p of shape.problems) worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: ${p}`);
    return undefined;
  }
  if (shape.envelope !== env || childElements(env, EDXML_NS, 'edXMLHeader').length !== 1) {
    worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', 'edXML: the signature is not in the one edXML:edXMLHeader of the message envelope');
    return undefined;
  }
  const inSig = signatureContentProblems(sig);
  if (inSig.length) {
    for (const p of inSig) worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: ${p}`);
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
  const ambiguous = signedEnvelopeProblems(se);
  if (ambiguous.length) {
    for (const p of ambiguous) worsen(report, 'TOTAL_FAILED', 'FORMAT_FAILURE', `edXML: signed envelope: ${p}`);
    return undefined;
  }
  const sh = childElements(se, EDXML_NS, 'edXMLHeader')[0];
  const mh = sh ? childElements(sh, EDXML_NS, 'MessageHeader')[0] : undefined;
  const body = childElements(se, EDXML_NS, 'edXMLBody')[0];
  const manifest = body ? childElements(body, EDXML_NS, 'edXMLManifest')[0] : undefined;
  const listed = new Map<string, { alg?: string; digest?: Uint8Array; name?: string; contentType?: string }>();
  for (const r of manifest ? childElements(manifest, EDXML_NS, 'Reference') : []) {
    const cid = text(r, 'ContentId') ?? '';
    const alg = DIGEST_BY_URI[text(r, 'DigestMethod') ?? ''];
    const d = decodeBase64(text(r, 'DigestValue') ?? '');
    const name = text(r, 'AttachmentName');
    const ct = text(r, 'ContentType');
    listed.set(cid, { ...(alg ? { alg } : {}), ...(d ? { digest: d } : {}), ...(name ? { name } : {}), ...(ct !== undefined ? { contentType: ct } : {}) });
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
  for (const { cid, cte, name, contentType } of shape.attachments) {
    const entry = listed.get(cid);
    // the digest a reference already computed over the same element's decoded text (same data: strict base64
    // decodes alike either way), else decode here
    // (the edXML fast path read the attachment as it streamed by: strict base64, digested, not in the tree)
    const st = streamed ? streamed.get(cte) : undefined;
    const b64 = st ? '' : cte.textContent ?? '';
    const strict = st ? true : isStrictBase64(b64);
    const stDigest = st && entry?.alg ? st.digests.get(entry.alg) : undefined;
    if (st && entry?.alg && !stDigest) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)}: internal: no digest for ${entry.alg}`); continue; }
    const hit = stDigest ? { digest: stDigest, size: st!.size } : strict && entry?.alg ? known?.get(cte)?.find((k) => k.alg === entry.alg) : undefined;
    const data = hit || !strict ? undefined : new Uint8Array(Buffer.from(b64, 'base64')); // = decodeBase64(b64)
    if (seen.has(cid)) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)} appears twice`); continue; }
    seen.add(cid);
    // what a consumer reads beside the data (unsigned copies) says what the signed manifest says
    if (entry && name !== undefined && name !== (entry.name ?? '')) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)}: AttachmentName differs from the signed manifest`); continue; }
    if (entry && contentType !== undefined && contentType !== (entry.contentType ?? '')) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)}: ContentType differs from the signed manifest`); continue; }
    if (!entry) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid.slice(0, 60)} is not listed in the signed manifest`); continue; }
    const good = hit ? !!entry.digest && Buffer.from(hit.digest).equals(Buffer.from(entry.digest))
      : !!data && !!entry.alg && !!entry.digest && Buffer.from(hashBytes(entry.alg, data)).equals(Buffer.from(entry.digest));
    info.attachments.push({ contentId: cid, ...(entry.name ? { name: entry.name } : {}), size: hit ? hit.size : st ? st.size : data?.length ?? 0, digestOk: good });
    if (!good) { ok = false; worsen(report, 'TOTAL_FAILED', 'HASH_FAILURE', `edXML: attachment ${cid} does not match the digest in the signed manifest`); }
  }
  for (const cid of listed.keys()) if (!seen.has(cid)) { ok = false; worsen(report, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `edXML: attachment ${cid} listed in the manifest is missing`); }
  if (ok) report.checks.push({ check: 'edxml-profile', block: 'CV', status: 'passed', message: `edXML: envelope signed, ${info.attachments.length} attachment(s) match the signed manifest` });
  return info;
}

// ---- the message's structure (QCVN 102 as kyso's profile writes it; README "edXML signature profile") ----------

const TEXT = 3, CDATA = 4, ELEMENT = 1, COMMENT = 8;
const XML_SPACE = /^[ \t\r\n]*$/;
const MAX_PROBLEMS = 5;

/** One attachment of a well-formed message: its ContentId, the ContentTransferEncoded element and the unsigned copies of name and type. */
interface AttachmentShape { cid: string; cte: Element; name?: string; contentType?: string }

/** An element's name for a finding (namespace shown unless edXML's; cut short: it comes from the document). */
const label = (n: Element): string => (n.namespaceURI === EDXML_NS ? n.localName : `{${(n.namespaceURI ?? '').slice(0, 80)}}${n.localName}`).slice(0, 120);

/**
 * Only element children and whitespace (comments allowed) between them: text, CDATA or processing instructions
 * there would be content outside the signed structure. Returns the element children.
 */
function elementsOnly(p: Element, where: string, problems: string[]): Element[] {
  const out: Element[] = [];
  for (let c = p.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT) out.push(c as Element);
    else if (c.nodeType === COMMENT) continue;
    else if ((c.nodeType === TEXT || c.nodeType === CDATA) && XML_SPACE.test((c as unknown as { data: string }).data)) continue;
    else problems.push(`${where} holds ${c.nodeType === TEXT || c.nodeType === CDATA ? 'text' : 'a processing instruction'} outside its elements`);
  }
  return out;
}

/**
 * Attributes outside the signed envelope: namespace declarations only, and the Id that the signature's reference
 * selects on ContentTransferEncoded (an attribute a consumer might read, say a ContentId="…", is not signed).
 */
function foreignAttributes(e: Element, where: string, problems: string[], allowId = false): void {
  for (const a of e.attributeArray) {
    if (a.namespaceURI === NS.xmlns || (allowId && a.namespaceURI === null && a.localName === 'Id')) continue;
    problems.push(`${where} has an unexpected attribute ${(a.namespaceURI ? `{${a.namespaceURI.slice(0, 80)}}` : '') + a.localName.slice(0, 80)}`);
  }
}

/** True if the element holds only text and CDATA (no elements, comments or processing instructions). */
function isTextOnly(e: Element): boolean {
  for (let c = e.firstChild; c; c = c.nextSibling) if (c.nodeType !== TEXT && c.nodeType !== CDATA) return false;
  return true;
}

/** The text of an element that holds text only (no elements, comments or processing instructions); undefined otherwise. */
function textOnly(e: Element): string | undefined {
  return isTextOnly(e) ? e.textContent ?? '' : undefined;
}

const ATTACHMENT_FIELDS = new Set(['ContentId', 'AttachmentName', 'ContentType', 'ContentTransferEncoded']);

/**
 * The message outside the envelope, checked against the profile: the root holds exactly one
 * edXML:edXMLEnvelope, then at most one AttachmentEncoded (none in a status message), nothing else; AttachmentEncoded
 * holds only Attachment elements; each Attachment holds exactly one ContentId and one ContentTransferEncoded, at
 * most one AttachmentName and ContentType, nothing else, each text only; no attributes there but namespace
 * declarations (and the Id of ContentTransferEncoded). Every element is matched by namespace and
 * local name. A message with anything else (a second envelope, content the manifest does not cover, an attachment
 * with two ContentIds or two data elements, markup inside the base64) is not an edXML message of the profile: a
 * consumer could read that content instead of the signed one.
 */
function messageStructure(root: Element): { envelope: Element; attachments: AttachmentShape[] } | { problems: string[] } {
  const problems: string[] = [];
  const kids = elementsOnly(root, 'the edXML root', problems);
  const envs = kids.filter((k) => k.namespaceURI === EDXML_NS && k.localName === 'edXMLEnvelope');
  const aes = kids.filter((k) => k.namespaceURI === EDXML_NS && k.localName === 'AttachmentEncoded');
  if (envs.length !== 1) problems.push(`the message has ${envs.length} edXML:edXMLEnvelope elements (exactly one allowed)`);
  if (aes.length > 1) problems.push(`the message has ${aes.length} AttachmentEncoded elements (at most one allowed)`);
  for (const k of kids) if (!envs.includes(k) && !aes.includes(k)) problems.push(`unexpected element ${label(k)} in the edXML root (only edXMLEnvelope and AttachmentEncoded)`);
  if (envs.length === 1 && kids[0] !== envs[0]) problems.push('edXML:edXMLEnvelope is not the first element of the message');
  const attachments: AttachmentShape[] = [];
  let count = 0;
  for (const ae of aes) {
    foreignAttributes(ae, 'AttachmentEncoded', problems);
    for (const a of elementsOnly(ae, 'AttachmentEncoded', problems)) {
      if (a.namespaceURI !== EDXML_NS || a.localName !== 'Attachment') { problems.push(`unexpected element ${label(a)} in AttachmentEncoded (only Attachment)`); continue; }
      const n = ++count;
      foreignAttributes(a, `Attachment ${n}`, problems);
      const fields = new Map<string, Element[]>();
      for (const f of elementsOnly(a, `Attachment ${n}`, problems)) {
        if (f.namespaceURI !== EDXML_NS || !ATTACHMENT_FIELDS.has(f.localName)) { problems.push(`unexpected element ${label(f)} in Attachment ${n}`); continue; }
        foreignAttributes(f, `Attachment ${n}: ${f.localName}`, problems, f.localName === 'ContentTransferEncoded');
        const l = fields.get(f.localName) ?? [];
        l.push(f);
        fields.set(f.localName, l);
      }
      const values: Record<string, string | undefined> = {};
      for (const name of ATTACHMENT_FIELDS) {
        const l = fields.get(name) ?? [];
        const required = name === 'ContentId' || name === 'ContentTransferEncoded';
        if (l.length > 1 || (required && l.length === 0)) { problems.push(`Attachment ${n} has ${l.length} ${name} elements (${required ? 'exactly' : 'at most'} one allowed)`); continue; }
        if (!l[0]) continue;
        // (the base64 data is only checked, not copied: it can be tens of megabytes)
        const t = name === 'ContentTransferEncoded' ? (isTextOnly(l[0]) ? '' : undefined) : textOnly(l[0]);
        if (t === undefined) problems.push(`Attachment ${n}: ${name} holds markup, comments or processing instructions (text only allowed)`);
        values[name] = t;
      }
      const cte = fields.get('ContentTransferEncoded')?.[0];
      if (cte && values.ContentId !== undefined && values.ContentTransferEncoded !== undefined) {
        attachments.push({
          cid: values.ContentId.trim(), cte,
          ...(values.AttachmentName !== undefined ? { name: values.AttachmentName.trim() } : {}),
          ...(values.ContentType !== undefined ? { contentType: values.ContentType.trim() } : {}),
        });
      } // else: the problem is reported
    }
  }
  if (problems.length) return { problems: problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more structure problem(s)`] : problems };
  return { envelope: envs[0]!, attachments };
}

/**
 * The signed envelope must say one thing: one edXMLHeader with one MessageHeader or one Status, one edXMLBody with
 * at most one edXMLManifest; a manifest Reference has exactly one ContentId, DigestMethod and DigestValue (at most
 * one AttachmentName / ContentType), ContentIds unique; the MessageHeader at most one From, Subject, DocumentId.
 */
function signedEnvelopeProblems(se: Element): string[] {
  const problems: string[] = [];
  const count = (p: Element, name: string): number => childElements(p, EDXML_NS, name).length;
  if (se.namespaceURI !== EDXML_NS || se.localName !== 'edXMLEnvelope') return ['not an edXML:edXMLEnvelope'];
  const hs = childElements(se, EDXML_NS, 'edXMLHeader');
  const bs = childElements(se, EDXML_NS, 'edXMLBody');
  if (hs.length !== 1) problems.push(`${hs.length} edXMLHeader elements (exactly one allowed)`);
  if (bs.length !== 1) problems.push(`${bs.length} edXMLBody elements (exactly one allowed)`);
  const h = hs[0];
  if (h) {
    const mh = count(h, 'MessageHeader'), st = count(h, 'Status');
    if (mh + st !== 1) problems.push(`edXMLHeader has ${mh} MessageHeader and ${st} Status elements (exactly one of them allowed)`);
    const m = childElements(h, EDXML_NS, 'MessageHeader')[0];
    if (m) for (const n of ['From', 'Subject', 'DocumentId']) if (count(m, n) > 1) problems.push(`MessageHeader has ${count(m, n)} ${n} elements (at most one allowed)`);
  }
  const b = bs[0];
  if (b) {
    const ms = childElements(b, EDXML_NS, 'edXMLManifest');
    if (ms.length > 1) problems.push(`edXMLBody has ${ms.length} edXMLManifest elements (at most one allowed)`);
    const cids = new Set<string>();
    for (const r of ms[0] ? childElements(ms[0], EDXML_NS, 'Reference') : []) {
      for (const n of ['ContentId', 'DigestMethod', 'DigestValue']) if (count(r, n) !== 1) problems.push(`a manifest Reference has ${count(r, n)} ${n} elements (exactly one allowed)`);
      for (const n of ['AttachmentName', 'ContentType']) if (count(r, n) > 1) problems.push(`a manifest Reference has ${count(r, n)} ${n} elements (at most one allowed)`);
      const cid = text(r, 'ContentId') ?? '';
      if (cids.has(cid)) problems.push(`the manifest lists ${cid.slice(0, 60)} twice`);
      cids.add(cid);
    }
  }
  return problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more`] : problems;
}

/**
 * The signature sits inside the envelope but is left out of what it signs (enveloped transform): in kyso's edXML
 * profile its ds:Object elements hold only XAdES QualifyingProperties, and no edXML element appears anywhere in it
 * (a second envelope, Subject or attachment in a ds:Object or KeyInfo would be unsigned content a consumer reading the
 * message by element name could take for the signed one).
 */
function signatureContentProblems(sig: Element): string[] {
  const problems: string[] = [];
  for (const o of childElements(sig, NS.ds, 'Object')) {
    for (const k of elementsOnly(o, 'a ds:Object of the signature', problems)) {
      if (k.namespaceURI !== NS.xades || k.localName !== 'QualifyingProperties') problems.push(`unexpected element ${label(k)} in a ds:Object of the signature (only XAdES QualifyingProperties)`);
    }
  }
  forEachElement(sig, (e) => {
    if (e.namespaceURI !== EDXML_NS) return false;
    problems.push(`edXML element ${e.localName.slice(0, 80)} inside the signature (unsigned)`);
    return true;
  });
  return problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more`] : problems;
}
