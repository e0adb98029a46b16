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
import { readSync } from 'node:fs';
import {
  C14N, C14nDocumentStream, DIGEST_BY_URI, EDXML_NS, NS, TRANSFORM, XmlComment, XmlDocument, XmlElement, XmlText, c14nMethod, childElements,
  forEachElement, indexIds, isEdxmlAttachmentText, isWithin, nodeHash, onlyChild, readTreeStreaming, scanXml, XmlChunkScanner, type IdIndex, type StreamedBase64, type XmlLimits,
} from '@kyso/signer/xml';

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

/** Size of the pieces the document is read in: small enough that their strings stay in V8's young generation
 *  (collected at once) instead of piling up as large objects until a full collection. */
const CHUNK = 32 * 1024;

/** Random access to the bytes of a document (a file read piece by piece, or bytes in memory). */
export interface ByteSource { size: number; read(pos: number, len: number): Uint8Array }

/** A ByteSource over bytes in memory. */
export function bytesSource(b: Uint8Array): ByteSource {
  return { size: b.length, read: (pos, len) => b.subarray(pos, Math.min(b.length, pos + len)) };
}

/** A ByteSource over an open file (`size` from fstat). Reads of up to CHUNK bytes return a view of one reused
 *  buffer, valid until the next read (the streaming pass consumes each piece at once: no garbage per piece). */
export function fileSource(fd: number, size: number): ByteSource {
  const scratch = Buffer.allocUnsafe(CHUNK);
  return {
    size,
    read(pos, len) {
      const n = Math.max(0, Math.min(len, size - pos));
      const b = n <= CHUNK ? scratch.subarray(0, n) : Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) { const r = readSync(fd, b, got, n - got, pos + got); if (r <= 0) break; got += r; }
      return b.subarray(0, got);
    },
  };
}


/**
 * Try the fast path on a document (read piece by piece: the head, the tail, then one streaming pass; never decoded
 * whole); undefined when its preconditions do not hold (the caller then runs the full path). Never throws.
 */
export function fastWholeDocument(src: ByteSource, limits?: XmlLimits): FastWholeDocument | undefined {
  try {
    return attempt(src, limits);
  } catch {
    return undefined;
  }
}

function attempt(src: ByteSource, limits?: XmlLimits): FastWholeDocument | undefined {
  const size = src.size;
  if (size > (limits?.maxBytes ?? 256 * 1024 * 1024) || size < 4) return undefined;
  // 1. The document element's start tag (read from the head only).
  const headFull = Buffer.from(src.read(0, Math.min(size, 1 << 16))).toString('utf8');
  const bom = headFull.charCodeAt(0) === 0xfeff ? 1 : 0;
  const head = headFull.slice(bom);
  let root: XmlElement | undefined;
  let rootStart = -1, rootGt = -1, rootEmpty = false;
  try {
    scanXml(head, {
      open(el, selfClosing, offset, start) { root = el; rootStart = start; rootGt = offset; rootEmpty = selfClosing; throw STOP; },
      close() {}, text() {}, comment() {},
    }, limits);
  } catch (e) { if (e !== STOP) throw e; }
  if (!root || rootEmpty) return undefined;
  if (root.localName === 'edXML' && root.namespaceURI === EDXML_NS) return undefined; // the edXML profile reads the whole message
  const rootStartTag = head.slice(rootStart, rootGt + 1);
  const rootStartByte = Buffer.byteLength(headFull.slice(0, bom + rootStart), 'utf8');
  // 2. In the tail: the document element's end tag, right before it (whitespace apart) the end tag of a
  //    *:Signature, and that signature's start tag.
  let found: { tail: string; tailByte: number; rootEndLt: number; sigStart: number; sigEndLt: number; sigEndGt: number } | undefined;
  for (const want of [1 << 20, 16 << 20]) {
    const tailLen = Math.min(size, want);
    const raw = src.read(size - tailLen, tailLen);
    let off = 0;
    while (off < 3 && off < raw.length && (raw[off]! & 0xc0) === 0x80) off++;
    const tail = Buffer.from(raw.buffer, raw.byteOffset + off, raw.length - off).toString('utf8');
    found = locateSignature(tail, root.tagName);
    if (found) { found.tailByte = size - tailLen + off; break; }
    if (tailLen === size) break;
  }
  if (!found) return undefined;
  const { tail, tailByte } = found;
  const byteAt = (k: number): number => tailByte + Buffer.byteLength(tail.slice(0, k), 'utf8');
  const rootEndByte = byteAt(found.rootEndLt), sigStartByte = byteAt(found.sigStart), sigEndByte = byteAt(found.sigEndLt);
  // 3. The skeleton: the document element's start tag around the signature, as the fast scanner reads it.
  const skeleton = fastTree(rootStartTag + tail.slice(found.sigStart, found.sigEndGt) + `</${root.tagName}>`, limits);
  const sRoot = skeleton?.documentElement;
  const sig = sRoot?.firstChild;
  if (!skeleton || !sRoot || !sig || sig.nextSibling || sig.nodeType !== 1) return undefined;
  const sigEl = sig as XmlElement;
  if (sigEl.namespaceURI !== NS.ds || sigEl.localName !== 'Signature') return undefined;
  const ids = indexIds(skeleton);
  if (ids.duplicates.size) return undefined;
  let skeletonSigElements = 1; // the signature, then its descendants
  let archive = false, nested = false;
  forEachElement(sigEl, (e) => {
    skeletonSigElements++;
    if (e.localName === 'ArchiveTimeStamp') archive = true;
    if (e.namespaceURI === NS.ds && e.localName === 'Signature') nested = true; // the full path reports each signature
  });
  if (archive || nested) return undefined;
  const p = plan(sigEl, ids);
  if (!p) return undefined;

  // 4. One pass over the whole document, piece by piece: canonical form (signature left out) into the digest, and
  //    the proof that the skeleton is what the full parse would see.
  const h = createHash(nodeHash(p.hash));
  let csize = 0;
  // the canonical text comes in chunks of ~64k UTF-16 units: encoded into one reused buffer (3 bytes per unit at
  // most), not a new Buffer per chunk
  const scratch = Buffer.allocUnsafe(1 << 18);
  const c14n = new C14nDocumentStream(p.method, (chunk) => {
    const b = chunk.length * 3 <= scratch.length ? scratch.subarray(0, scratch.write(chunk, 'utf8')) : Buffer.from(chunk, 'utf8');
    csize += b.length;
    h.update(b);
  }, p.prefixes ?? []);
  let d = 0;
  let inSig = 0;
  let sigElements = 0;
  let seenSig = false, sigClosedRight = false, ok = true;
  const outsideIds = new Set<string>();
  const scanner: XmlChunkScanner = new XmlChunkScanner({
    open(el, selfClosing, _offset, start) {
      if (inSig) { sigElements++; if (!selfClosing) { inSig++; d++; } return; }
      if (d === 0 && scanner.byteOffset(start) !== rootStartByte) ok = false;
      if (el.namespaceURI === NS.ds && el.localName === 'Signature') {
        if (d !== 1 || selfClosing || seenSig || scanner.byteOffset(start) !== sigStartByte) ok = false; // another signature
        seenSig = true; sigElements = 1; inSig = 1; d++;
        return;
      }
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
        if (--inSig === 0 && scanner.byteOffset(offset) === sigEndByte) sigClosedRight = true;
        return;
      }
      if (d === 0 && scanner.byteOffset(offset) !== rootEndByte) ok = false;
      c14n.close(el);
    },
    text(data) { if (!inSig) c14n.text(data); },
    comment() { /* not part of a URI="" reference */ },
  }, limits);
  for (let pos = 0; pos < size && ok; pos += CHUNK) if (!scanner.push(src.read(pos, CHUNK))) return undefined;
  if (!ok || !scanner.end()) return undefined;
  if (!ok || !seenSig || !sigClosedRight || sigElements !== skeletonSigElements) return undefined;
  c14n.end();
  return { doc: skeleton, sig: sigEl, ids, whole: { ref: p.ref, digest: new Uint8Array(h.digest()), size: csize } };
}

/** In the tail of a document: where its end tag, the signature's end tag right before it, and that signature's start tag are. */
function locateSignature(tail: string, rootTag: string): { tail: string; tailByte: number; rootEndLt: number; sigStart: number; sigEndLt: number; sigEndGt: number } | undefined {
  const rootEndLt = tail.lastIndexOf('</' + rootTag);
  if (rootEndLt < 0) return undefined;
  const m = /<\/((?:[A-Za-z_][\w.-]*:)?Signature)[ \t\n]*>[ \t\n]*$/.exec(tail.slice(Math.max(0, rootEndLt - 4096), rootEndLt));
  if (!m) return undefined;
  const sigQName = m[1]!;
  const sigEndLt = rootEndLt - m[0].length;
  const sigEndGt = tail.indexOf('>', sigEndLt) + 1;
  // walk back over the start and end tags of that name, pairing them
  const tagRe = new RegExp(`<(/?)${reEscape(sigQName)}(?=[ \\t\\n/>])`, 'g');
  const marks: { at: number; end: boolean }[] = [];
  const region = tail.slice(0, sigEndLt);
  for (let t = tagRe.exec(region); t; t = tagRe.exec(region)) marks.push({ at: t.index, end: t[1] === '/' });
  let depth = 1;
  for (let i = marks.length - 1; i >= 0; i--) {
    const k = marks[i]!;
    if (k.end) { depth++; continue; }
    const gt = tail.indexOf('>', k.at);
    if (tail.charCodeAt(gt - 1) === 0x2f) continue; // empty-element tag (a wrong guess is caught by the scan)
    if (--depth === 0) return { tail, tailByte: 0, rootEndLt, sigStart: k.at, sigEndLt, sigEndGt };
  }
  return undefined;
}

// ---- edXML: the tree without the attachments' text, digested as it streams by --------------------------------

/** The edXML fast path's result: the message's tree (attachment text left out) and the attachments' digests. */
export interface FastEdxml { doc: XmlDocument; streamed: Map<XmlElement, StreamedBase64> }

/** Digest algorithms the message names (ds:DigestMethod Algorithm, edXML manifest DigestMethod text), by hash name. */
function digestAlgorithmsIn(doc: XmlDocument): Set<string> {
  const out = new Set<string>();
  const add = (uri: string | null | undefined): void => { if (uri && Object.prototype.hasOwnProperty.call(DIGEST_BY_URI, uri)) out.add(DIGEST_BY_URI[uri]!); };
  forEachElement(doc, (e) => {
    if (e.localName !== 'DigestMethod') return;
    add(e.getAttribute('Algorithm'));
    add((e.textContent ?? '').trim());
  });
  return out;
}

/** Same-document reference forms (as dereference reads them): the ID, 'whole', or undefined (not same-document). */
function sameDocumentTarget(uri: string): string | 'whole' | undefined {
  if (uri === '' || uri === '#xpointer(/)') return 'whole';
  const xp = /^#xpointer\(id\((['"])([^'"]+)\1\)\)$/.exec(uri);
  if (xp) return xp[2]!;
  if (uri.startsWith('#') && uri.length > 1 && !uri.includes('(')) return decodeURIComponent(uri.slice(1));
  return undefined;
}

/**
 * Report-only fast path for an edXML message (kyso's profile, or any signature that reads the attachments only
 * through base64 references): the message is read piece by piece; its tree is built without the text of the
 * attachments (AttachmentEncoded/Attachment/ContentTransferEncoded), which is base64-decoded and digested as it
 * streams by. Undefined (the full path runs) unless that tree gives the same report: the attachments are strict
 * base64, no signature reads them otherwise (whole-document or enveloping references, references to an ancestor,
 * transforms other than base64 alone, archive timestamps), and every digest algorithm needed was computed.
 * Never throws.
 */
export function fastEdxml(src: ByteSource, limits?: XmlLimits): FastEdxml | undefined {
  try {
    return attemptEdxml(src, limits);
  } catch {
    return undefined;
  }
}

function attemptEdxml(src: ByteSource, limits?: XmlLimits): FastEdxml | undefined {
  const size = src.size;
  if (size > (limits?.maxBytes ?? 256 * 1024 * 1024) || size < 4) return undefined;
  let algs: Set<string> | undefined;
  const r = readTreeStreaming((pos, len) => src.read(pos, len), size, CHUNK, {
    stream: isEdxmlAttachmentText,
    algorithms: (doc) => (algs ??= digestAlgorithmsIn(doc)),
    ...(limits ? { limits } : {}),
  });
  if (!r) return undefined;
  const { doc, streamed } = r;
  if (doc.documentElement!.localName !== 'edXML' || doc.documentElement!.namespaceURI !== EDXML_NS) return undefined;
  if (!streamed.size) return undefined;
  // every digest algorithm the message names was computed (the first attachment came after all of them)
  const computed = algs ?? new Set<string>();
  for (const a of digestAlgorithmsIn(doc)) if (!computed.has(a)) return undefined;
  // no signature reads the attachments other than by a base64 reference to the element itself
  const ids = indexIds(doc);
  const isStreamedOrAncestor = (el: XmlElement): 'self' | 'ancestor' | undefined => {
    if (streamed.has(el)) return 'self';
    for (const s of streamed.keys()) if (isWithin(s, el)) return 'ancestor';
    return undefined;
  };
  let fine = true;
  forEachElement(doc, (e) => {
    if (e.localName === 'ArchiveTimeStamp') { fine = false; return true; }
    if (e.namespaceURI !== NS.ds || e.localName !== 'Reference') return false;
    const uri = e.getAttribute('URI');
    if (uri === null) return false;
    let target: string | 'whole' | undefined;
    try { target = sameDocumentTarget(uri); } catch { return false; }
    if (target === undefined) return false; // detached, or a form dereference refuses: no document content read
    if (target === 'whole') { fine = false; return true; }
    if (ids.duplicates.has(target)) return false;
    const el = ids.byId.get(target);
    if (!el) return false;
    const rel = isStreamedOrAncestor(el);
    if (rel === 'ancestor') { fine = false; return true; }
    if (rel === 'self') {
      const dm = onlyChild(e, NS.ds, 'DigestMethod')?.getAttribute('Algorithm') ?? '';
      if (!Object.prototype.hasOwnProperty.call(DIGEST_BY_URI, dm) || !computed.has(DIGEST_BY_URI[dm]!)) { fine = false; return true; }
      const ts = childElements(e, NS.ds, 'Transforms');
      const t = ts.length === 1 ? childElements(ts[0]!) : [];
      if (ts.length !== 1 || t.length !== 1 || t[0]!.namespaceURI !== NS.ds || t[0]!.localName !== 'Transform' || t[0]!.getAttribute('Algorithm') !== TRANSFORM.base64) { fine = false; return true; }
    }
    return false;
  });
  if (!fine) return undefined;
  return { doc, streamed };
}
