/**
 * Fast path of report-only XML verification for the common large case: one enveloped signature over the whole
 * document (Reference URI="" with the enveloped-signature transform), the signature being the document element's
 * child. Instead of a tree of the whole document, it builds a skeleton (the document element's start tag and the
 * signature subtree, parsed from the same characters) and computes the whole-document digest in one streaming
 * canonicalization pass that leaves the signature subtree out. The usual validation (validateXmlSignature) then
 * runs on the skeleton with that digest.
 *
 * It only answers when it can prove that the skeleton is faithful, i.e. that the full path would see the same
 * signature, the same IDs and the same data: exactly one ds:Signature in the document, at the offsets the skeleton
 * was cut from, as a child of the document element; no duplicate ID anywhere; every other reference resolves inside
 * the signature; no archive timestamp (its input needs the whole-document octets); the document is read by the fast
 * scanner (no DTD, no processing instruction, no carriage return, within the limits). Anything else returns
 * undefined and the caller runs the full path, which then gives the verdict (and the precise error).
 */
import { createHash } from 'node:crypto';
import {
  C14N, C14nDocumentStream, DIGEST_BY_URI, EDXML_NS, NS, TRANSFORM, XmlComment, XmlDocument, XmlElement, XmlText, c14nMethod, childElements,
  decodeXml, forEachElement, indexIds, isWithin, nodeHash, onlyChild, scanXml, type IdIndex, type XmlLimits, type XmlScanEvents,
} from '@kyso/signer';

/** The skeleton document, its signature and ID index, and the precomputed whole-document reference. */
export interface FastWholeDocument {
  doc: XmlDocument;
  sig: XmlElement;
  ids: IdIndex;
  /** The URI="" reference of the signature (in the skeleton) and the digest and length of its data. */
  whole: { ref: XmlElement; digest: Uint8Array; size: number };
}

const STOP = Symbol('stop');

/** Is this attribute one of the ID attributes kyso honours (same rule as indexIds)? */
function isIdAttr(a: { name: string; namespaceURI: string | null; localName: string; value: string }): boolean {
  return a.namespaceURI === null ? a.name === 'Id' || a.name === 'ID' || a.name === 'id' : a.namespaceURI === NS.xml && a.localName === 'id' && a.value !== '';
}

/** Tree of a document read by the fast scanner only (undefined where the strict parser would have to decide). */
function fastTree(text: string, limits?: XmlLimits): XmlDocument | undefined {
  const doc = new XmlDocument();
  let cur: XmlDocument | XmlElement = doc;
  const ok = scanXml(text, {
    open(el, selfClosing) { cur.append(el); if (cur === doc) doc.documentElement = el; if (!selfClosing) cur = el; },
    close(el) { cur = (el.parentNode ?? doc) as XmlDocument | XmlElement; },
    text(data, cdata) { cur.append(new XmlText(data, cdata)); },
    comment(data) { cur.append(new XmlComment(data)); },
  }, limits);
  return ok ? doc : undefined;
}

/**
 * The whole-document reference of `sig`, if the signature's references are of the shapes the fast path handles:
 * exactly one URI="" reference with transforms [enveloped-signature] or [enveloped-signature, a canonicalization],
 * and every other reference a same-document "#id" to an element inside the signature.
 */
function plan(sig: XmlElement, ids: IdIndex): { ref: XmlElement; method: NonNullable<ReturnType<typeof c14nMethod>>; prefixes?: string[]; hash: string } | undefined {
  const si = onlyChild(sig, NS.ds, 'SignedInfo');
  if (!si) return undefined;
  const refs = childElements(si, NS.ds, 'Reference');
  let whole: ReturnType<typeof plan>;
  for (const ref of refs) {
    const uriAttr = ref.getAttributeNode('URI');
    if (!uriAttr) return undefined;
    const uri = uriAttr.value;
    if (uri !== '') {
      if (!uri.startsWith('#') || uri.length < 2 || uri.includes('(')) return undefined;
      let id: string;
      try { id = decodeURIComponent(uri.slice(1)); } catch { return undefined; }
      const el = ids.byId.get(id);
      if (!el || !isWithin(el, sig) || el === sig.parentNode) return undefined;
      continue;
    }
    if (whole) return undefined;
    const tEls = childElements(ref, NS.ds, 'Transforms');
    if (tEls.length !== 1) return undefined;
    const ts = childElements(tEls[0]!);
    if (ts.length < 1 || ts.length > 2 || ts.some((t) => t.namespaceURI !== NS.ds || t.localName !== 'Transform')) return undefined;
    if (ts[0]!.getAttribute('Algorithm') !== TRANSFORM.enveloped) return undefined;
    let method = c14nMethod(C14N.c14n10)!;
    let prefixes: string[] | undefined;
    if (ts[1]) {
      const m = c14nMethod(ts[1].getAttribute('Algorithm') ?? '');
      if (!m) return undefined;
      method = m;
      const incl = onlyChild(ts[1], m.exclusive ? C14N.exc : '\u0000', 'InclusiveNamespaces');
      prefixes = incl?.getAttribute('PrefixList')?.split(/\s+/).filter(Boolean);
    }
    const dmUri = onlyChild(ref, NS.ds, 'DigestMethod')?.getAttribute('Algorithm') ?? '';
    if (!Object.prototype.hasOwnProperty.call(DIGEST_BY_URI, dmUri)) return undefined;
    whole = { ref, method, ...(prefixes ? { prefixes } : {}), hash: DIGEST_BY_URI[dmUri]! };
  }
  return whole;
}

/** Escape a qualified name for a regular expression. */
const reEscape = (s: string): string => s.replace(/[.\\-]/g, '\\$&');

/**
 * Try the fast path on `bytes` (or the document already decoded by decodeXml); undefined when its preconditions do not hold (the caller then runs the full path).
 * Never throws.
 */
export function fastWholeDocument(bytes: Uint8Array | string, limits?: XmlLimits): FastWholeDocument | undefined {
  try {
    return attempt(bytes, limits);
  } catch {
    return undefined;
  }
}

function attempt(bytes: Uint8Array | string, limits?: XmlLimits): FastWholeDocument | undefined {
  const text = decodeXml(bytes, limits); // (a string is the decoded document: only its size is checked)
  if (text.includes('\r')) return undefined;
  // 1. The document element's start tag (read from the head only).
  let root: XmlElement | undefined;
  let rootStart = -1, rootGt = -1, rootEmpty = false;
  try {
    scanXml(text.slice(0, Math.min(text.length, 1 << 16)), {
      open(el, selfClosing, offset, start) { root = el; rootStart = start; rootGt = offset; rootEmpty = selfClosing; throw STOP; },
      close() {}, text() {}, comment() {},
    }, limits);
  } catch (e) { if (e !== STOP) throw e; }
  if (!root || rootEmpty) return undefined;
  if (root.localName === 'edXML' && root.namespaceURI === EDXML_NS) return undefined; // the edXML profile reads the whole message
  // 2. The document element's end tag, and right before it (whitespace apart) the end tag of a *:Signature.
  const rootEndLt = text.lastIndexOf('</' + root.tagName);
  if (rootEndLt <= rootGt) return undefined;
  const m = /<\/((?:[A-Za-z_][\w.-]*:)?Signature)[ \t\n]*>[ \t\n]*$/.exec(text.slice(Math.max(rootGt + 1, rootEndLt - 4096), rootEndLt));
  if (!m) return undefined;
  const sigQName = m[1]!;
  const sigEndLt = rootEndLt - m[0].length;
  const sigEndGt = text.indexOf('>', sigEndLt) + 1;
  // 3. Its start tag: walk back over the start and end tags of that name, pairing them.
  const tagRe = new RegExp(`<(/?)${reEscape(sigQName)}(?=[ \\t\\n/>])`, 'g');
  const marks: { at: number; end: boolean }[] = [];
  const region = text.slice(rootGt + 1, sigEndLt);
  for (let t = tagRe.exec(region); t; t = tagRe.exec(region)) marks.push({ at: rootGt + 1 + t.index, end: t[1] === '/' });
  let depth = 1;
  let sigStart = -1;
  for (let i = marks.length - 1; i >= 0; i--) {
    const k = marks[i]!;
    if (k.end) { depth++; continue; }
    const gt = text.indexOf('>', k.at);
    if (text.charCodeAt(gt - 1) === 0x2f) continue; // empty-element tag (a wrong guess is caught by the scan below)
    if (--depth === 0) { sigStart = k.at; break; }
  }
  if (sigStart < 0) return undefined;
  // 4. The skeleton: the document element's start tag around the signature, as the fast scanner reads it.
  const skeleton = fastTree(text.slice(rootStart, rootGt + 1) + text.slice(sigStart, sigEndGt) + `</${root.tagName}>`, limits);
  const sRoot = skeleton?.documentElement;
  const sig = sRoot?.firstChild;
  if (!skeleton || !sRoot || !sig || sig.nextSibling || sig.nodeType !== 1) return undefined;
  const sigEl = sig as XmlElement;
  if (sigEl.namespaceURI !== NS.ds || sigEl.localName !== 'Signature') return undefined;
  const ids = indexIds(skeleton);
  if (ids.duplicates.size) return undefined;
  let skeletonSigElements = 1; // the signature, then its descendants
  let archive = false;
  forEachElement(sigEl, (e) => { skeletonSigElements++; if (e.localName === 'ArchiveTimeStamp') archive = true; });
  if (archive) return undefined;
  const p = plan(sigEl, ids);
  if (!p) return undefined;

  // 5. One pass over the whole document: canonical form (signature left out) into the digest, and the proof that
  //    the skeleton is what the full parse would see.
  const h = createHash(nodeHash(p.hash));
  let size = 0;
  const c14n = new C14nDocumentStream(p.method, (chunk) => { const b = Buffer.from(chunk, 'utf8'); size += b.length; h.update(b); }, p.prefixes ?? []);
  let d = 0;
  let inSig = 0;
  let sigElements = 0;
  let seenSig = false, sigClosedRight = false, ok = true;
  const outsideIds = new Set<string>();
  const events: XmlScanEvents = {
    open(el, selfClosing, _offset, start) {
      if (inSig) { sigElements++; if (!selfClosing) inSig++; d += selfClosing ? 0 : 1; return; }
      if (d === 0 && start !== rootStart) ok = false;
      if (d === 1 && start === sigStart) {
        if (el.namespaceURI !== NS.ds || el.localName !== 'Signature' || selfClosing || seenSig) ok = false;
        seenSig = true; sigElements = 1; inSig = 1; d++;
        return;
      }
      if (el.namespaceURI === NS.ds && el.localName === 'Signature') ok = false; // another signature
      if (d === 1 && !seenSig && el.tagName === sigEl.tagName) ok = false; // would change the signature's path
      if (d > 0) {
        for (const a of el.attributeArray) {
          if (!isIdAttr(a)) continue;
          if (outsideIds.has(a.value) || ids.byId.has(a.value)) ok = false;
          outsideIds.add(a.value);
        }
      }
      if (!selfClosing) d++;
      c14n.open(el, selfClosing);
    },
    close(el, offset) {
      d--;
      if (inSig) {
        if (--inSig === 0 && offset === sigEndLt) sigClosedRight = true;
        return;
      }
      if (d === 0 && offset !== rootEndLt) ok = false;
      c14n.close(el);
    },
    text(data) { if (!inSig) c14n.text(data); },
    comment() { /* not part of a URI="" reference */ },
  };
  if (!scanXml(text, events, limits)) return undefined;
  if (!ok || !seenSig || !sigClosedRight || sigElements !== skeletonSigElements) return undefined;
  c14n.end();
  return { doc: skeleton, sig: sigEl, ids, whole: { ref: p.ref, digest: new Uint8Array(h.digest()), size } };
}
