import { createHash, type Hash } from 'node:crypto';
import { CDATA_SECTION_NODE, TEXT_NODE, type XmlDocument as Document, type XmlElement as Element, type XmlNode, type XmlText } from './model.js';
import { canonicalize, c14nMethod, inScopeNamespaces, type C14nMethod } from './c14n.js';
import { C14N, DIGEST_BY_URI, NS, TRANSFORM } from './constants.js';
import { childElements, descendants, isWithin, onlyChild, type IdIndex } from './dom.js';
import { parseXml, type XmlLimits } from './parse.js';
import { XmlError } from './errors.js';
import type { StreamedBase64 } from './stream-tree.js';

/** Node hash name of a hash ('SHA-256' → 'sha256'). */
export function nodeHash(h: string): string { return h.replace('-', '').toLowerCase(); }

/**
 * Whether a signature removed from the signed data (enveloped-signature transform, XPath Filter 2 subtract) sits where
 * a signature goes: a child of the document element (where signers append it, whatever text the root holds), or a
 * child of an element with no text beside it. Moved into mixed content deeper down (`<amount>1<ds:Signature/>00
 * </amount>`), its removal leaves the digest unchanged while every reader of that text reads the signature's own
 * (partly unsigned) content instead: refused.
 */
function placedAsSignature(sig: Element): boolean {
  const p = sig.parentNode as XmlNode | null;
  if (!p) return false;
  if (p.nodeType === 9 || (p.parentNode && p.parentNode.nodeType === 9)) return true;
  for (let c = p.firstChild; c; c = c.nextSibling) {
    if ((c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) && /[^ \t\r\n]/.test((c as XmlText).data)) return false;
  }
  return true;
}

/**
 * Strict base64 as the base64 transform takes it (RFC 2045 alphabet, whitespace between characters, '=' padding
 * only at the end, a whole number of 4-character groups): undefined otherwise. Node's decoder alone is lenient (it
 * skips unknown characters and stops at the first '='), which would let changed data keep its digest.
 */
function strictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/ \t\r\n]*(?:=[ \t\r\n]*){0,2}$/.test(text)) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) { const c = text.charCodeAt(i); if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) n++; }
  if (n % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64');
}

/** Why a reference could not be processed. */
export type ReferenceProblem =
  | { kind: 'not-found'; message: string }
  | { kind: 'ambiguous'; message: string }
  | { kind: 'unsupported'; message: string };

/** A dereferenced, transformed ds:Reference: what it covers and the octets that are digested. */
export interface DereferencedReference {
  uri: string;
  type?: string;
  id?: string;
  /** What the URI selected: the whole document, one element, or detached data given by the caller. */
  target: 'document' | 'element' | 'detached';
  element?: Element;
  /** The enveloped-signature transform removed the signature from the node-set. */
  enveloped: boolean;
  transforms: string[];
  /** The octets the digest is computed over (the signed data after transforms). Empty when the context asked for
   *  digests only and this reference's octets were digested as they were produced ({@link digest} is then set). */
  octets: Uint8Array;
  /** Length of the signed data after transforms (the octets' length, also when they were not kept). */
  size: number;
  /** The digest of the signed data under the DigestMethod, when it was computed while the data was produced
   *  (context `digestOnly`); the octets are then not kept. */
  digest?: Uint8Array;
  digestAlgorithm?: string;
  digestMethodUri: string;
  /** DigestValue as written in the signature. */
  claimedDigest?: Uint8Array;
}

/** What dereferencing needs: the document, the signature, the ID index and detached content (never fetched). */
export interface DereferenceContext {
  doc: Document;
  signature: Element;
  ids: IdIndex;
  /** Detached content by URI, supplied by the caller. Reference URIs are never fetched. */
  detached?: (uri: string) => Uint8Array | undefined;
  /** Canonicalization applied when the transforms end in a node-set (default C14N 1.0). */
  defaultC14n?: C14nMethod;
  limits?: XmlLimits;
  /**
   * Digest whole-document and base64-decoded data as it is produced instead of keeping it (a report-only
   * verification of a large document: no copy of the canonical document is made). Element references keep their
   * octets. The digest, size and every check are the same as without this option.
   */
  digestOnly?: boolean;
  /** The data of this whole-document reference was already digested in a streaming pass over the document (the
   *  report-only fast path, whose `doc` is a skeleton): its digest and length stand for the canonicalization. */
  precomputed?: { ref: Element; digest: Uint8Array; size: number };
  /** With `digestOnly`: receives the digest of each element's base64-decoded text computed here, so that a later
   *  check of the same element's data (the edXML manifest) need not decode it again. */
  base64Digests?: Map<Element, { alg: string; digest: Uint8Array; size: number }[]>;
  /** With `digestOnly`: elements whose text was base64-decoded and digested while the document was read (the
   *  report-only edXML fast path, whose tree leaves that text out): their digests (by hash name) and decoded size. */
  streamedBase64?: ReadonlyMap<Element, StreamedBase64>;
}


/** Same-document reference forms kyso resolves: "", "#id", "#xpointer(/)", "#xpointer(id('id'))". */
function parseSameDocumentUri(uri: string): { whole: true; comments: boolean } | { id: string; comments: boolean } | undefined {
  if (uri === '') return { whole: true, comments: false };
  if (uri === '#xpointer(/)') return { whole: true, comments: true };
  const xp = /^#xpointer\(id\((['"])([^'"]+)\1\)\)$/.exec(uri);
  if (xp) return { id: xp[2]!, comments: true };
  if (uri.startsWith('#') && uri.length > 1 && !uri.includes('(')) return { id: decodeURIComponent(uri.slice(1)), comments: false };
  return undefined;
}

/**
 * Resolve and transform one ds:Reference after the allow-list: same-document URIs (ID must be unique in the
 * document), caller-supplied detached data, and the transforms enveloped-signature, the six canonicalizations
 * (with InclusiveNamespaces) and base64. Everything else (XSLT, XPath, XPath Filter 2, unknown) is refused.
 */
export function dereference(ref: Element, ctx: DereferenceContext): DereferencedReference | ReferenceProblem {
  const uriAttr = ref.getAttributeNode('URI');
  const uri = uriAttr ? uriAttr.value : undefined;
  const dm = onlyChild(ref, NS.ds, 'DigestMethod');
  const dv = onlyChild(ref, NS.ds, 'DigestValue');
  const digestMethodUri = dm?.getAttribute('Algorithm') ?? '';
  if (uri === undefined) return { kind: 'not-found', message: 'a Reference without URI (the data must be supplied by the application) is not accepted' };
  const transformsEl = childElements(ref, NS.ds, 'Transforms');
  if (transformsEl.length > 1) return { kind: 'unsupported', message: 'several Transforms elements' };
  const transforms = transformsEl[0] ? childElements(transformsEl[0], NS.ds, 'Transform') : [];
  if (transformsEl[0] && childElements(transformsEl[0]).length !== transforms.length) return { kind: 'unsupported', message: 'unexpected element inside Transforms' };
  if (transforms.length > 8) return { kind: 'unsupported', message: 'too many transforms' };

  let nodeSet: { root: Document | Element; comments: boolean; exclude?: Element | Set<Element> } | undefined;
  let octets: Uint8Array | undefined;
  let target: DereferencedReference['target'];
  let element: Element | undefined;
  const same = parseSameDocumentUri(uri);
  if (same) {
    if ('whole' in same) {
      nodeSet = { root: ctx.doc, comments: same.comments };
      target = 'document';
    } else {
      if (ctx.ids.duplicates.has(same.id)) return { kind: 'ambiguous', message: `ID "${same.id}" occurs more than once in the document (signature wrapping)` };
      const el = ctx.ids.byId.get(same.id);
      if (!el) return { kind: 'not-found', message: `no element with ID "${same.id}"` };
      nodeSet = { root: el, comments: same.comments };
      target = 'element';
      element = el;
    }
  } else if (uri.startsWith('#')) {
    return { kind: 'unsupported', message: `reference URI ${JSON.stringify(uri.slice(0, 80))} uses an XPointer form that is not supported` };
  } else {
    const data = ctx.detached?.(uri);
    if (!data) return { kind: 'not-found', message: `detached content ${JSON.stringify(uri.slice(0, 200))} was not supplied (reference URIs are never fetched)` };
    octets = data;
    target = 'detached';
  }

  const names: string[] = [];
  let enveloped = false;
  const digestAlg = Object.prototype.hasOwnProperty.call(DIGEST_BY_URI, digestMethodUri) ? DIGEST_BY_URI[digestMethodUri] : undefined;
  // digest-only: the data of a whole-document reference, or the decoded bytes of a final base64 transform
  const streamDigest = !!ctx.digestOnly && !!digestAlg;
  let digest: Uint8Array | undefined;
  let size = -1;
  for (let ti = 0; ti < transforms.length; ti++) {
    const t = transforms[ti]!;
    const last = ti === transforms.length - 1;
    const alg = t.getAttribute('Algorithm') ?? '';
    names.push(alg);
    if (alg === TRANSFORM.enveloped) {
      if (!nodeSet) return { kind: 'unsupported', message: 'enveloped-signature transform on octets' };
      if (!isWithin(ctx.signature, nodeSet.root)) return { kind: 'unsupported', message: 'enveloped-signature transform but the signature is not inside the referenced data' };
      if (!placedAsSignature(ctx.signature)) return { kind: 'unsupported', message: 'enveloped-signature transform: the signature sits inside text (mixed content), where removing it hides what readers of that text see' };
      nodeSet.exclude = ctx.signature;
      enveloped = true;
      continue;
    }
    if (alg === TRANSFORM.xpath2) {
      // The one XPath Filter 2 form kyso evaluates: subtract every ds:Signature (several enveloped signers).
      const xps = childElements(t);
      const x = xps[0];
      const expr = (x?.textContent ?? '').trim();
      const m2 = /^(?:\/\/|\/descendant::)([A-Za-z_][\w.-]*):Signature$/.exec(expr);
      if (!nodeSet || xps.length !== 1 || !x || x.namespaceURI !== TRANSFORM.xpath2 || x.localName !== 'XPath' || x.getAttribute('Filter') !== 'subtract' || !m2
        || inScopeNamespaces(x).get(m2[1]!) !== NS.ds) {
        return { kind: 'unsupported', message: 'XPath Filter 2 is not allowed except as Filter="subtract" of //ds:Signature' };
      }
      const all = new Set<Element>();
      for (const e of descendants(nodeSet.root)) if (e.namespaceURI === NS.ds && e.localName === 'Signature') all.add(e);
      if (!all.has(ctx.signature)) return { kind: 'unsupported', message: 'XPath Filter 2 subtract: the signature is not inside the referenced data' };
      // every signature removed (those not inside another removed one) must sit where signatures go
      for (const e of all) {
        let inner = false;
        for (let p = e.parentNode as Element | null; p && p.nodeType === 1; p = p.parentNode as Element | null) if (all.has(p)) { inner = true; break; }
        if (!inner && !placedAsSignature(e)) return { kind: 'unsupported', message: 'XPath Filter 2 subtract: a ds:Signature sits inside text (mixed content), where removing it hides what readers of that text see' };
      }
      nodeSet.exclude = all;
      enveloped = true;
      continue;
    }
    const m = c14nMethod(alg);
    if (m) {
      const incl = onlyChild(t, m.exclusive ? C14N.exc : '\u0000', 'InclusiveNamespaces');
      const prefixes = incl?.getAttribute('PrefixList')?.split(/\s+/).filter(Boolean);
      if (!nodeSet) {
        try {
          const d = parseXml(octets!, ctx.limits);
          nodeSet = { root: d, comments: true };
        } catch (e) {
          return { kind: 'unsupported', message: `canonicalization of octets that are not XML: ${(e as Error).message}` };
        }
      }
      const o = { comments: m.comments && nodeSet.comments, ...(nodeSet.exclude ? { exclude: nodeSet.exclude } : {}), ...(prefixes ? { inclusivePrefixes: prefixes } : {}) };
      if (last && ctx.precomputed?.ref === ref && target! === 'document') ({ digest, size } = ctx.precomputed);
      else if (last && streamDigest && target! === 'document') ({ digest, size } = c14nDigestSized(digestAlg!, nodeSet.root, m, o));
      else octets = c14nOctets(nodeSet.root, m, o);
      nodeSet = undefined;
      continue;
    }
    if (alg === TRANSFORM.base64) {
      const pre = last && streamDigest && nodeSet && nodeSet.root.nodeType === 1 ? ctx.streamedBase64?.get(nodeSet.root as Element) : undefined;
      if (pre) {
        const d = pre.digests.get(digestAlg!);
        if (!d) throw new XmlError('XML_INPUT', 'internal: no streamed digest for this reference');
        digest = d;
        size = pre.size;
        const el = nodeSet!.root as Element;
        ctx.base64Digests?.set(el, [...(ctx.base64Digests.get(el) ?? []), { alg: digestAlg!, digest, size }]);
        nodeSet = undefined;
        continue;
      }
      const text = nodeSet ? ((nodeSet.root.nodeType === 9 ? (nodeSet.root as Document).documentElement : nodeSet.root as Element)?.textContent ?? '') : Buffer.from(octets!).toString('latin1');
      const decoded = strictBase64(text);
      if (!decoded) return { kind: 'unsupported', message: 'base64 transform: the data is not strict base64 (characters outside the alphabet, data after the padding, or an incomplete group)' };
      if (last && streamDigest) {
        digest = hashBytes(digestAlg!, decoded);
        size = decoded.length;
        if (ctx.base64Digests && nodeSet && nodeSet.root.nodeType === 1) {
          const el = nodeSet.root as Element;
          ctx.base64Digests.set(el, [...(ctx.base64Digests.get(el) ?? []), { alg: digestAlg!, digest, size }]);
        }
      } else octets = new Uint8Array(decoded);
      nodeSet = undefined;
      continue;
    }
    return { kind: 'unsupported', message: `transform ${JSON.stringify(alg.slice(0, 120))} is not allowed (allowed: enveloped-signature, C14N 1.0/1.1/exclusive, base64, XPath Filter 2 subtract //ds:Signature)` };
  }
  if (nodeSet) {
    const m = ctx.defaultC14n ?? c14nMethod(C14N.c14n10)!;
    const o = { comments: m.comments && nodeSet.comments, ...(nodeSet.exclude ? { exclude: nodeSet.exclude } : {}) };
    if (ctx.precomputed?.ref === ref && target! === 'document') ({ digest, size } = ctx.precomputed);
    else if (streamDigest && target! === 'document') ({ digest, size } = c14nDigestSized(digestAlg!, nodeSet.root, m, o));
    else octets = c14nOctets(nodeSet.root, m, o);
  }
  if (digest) octets = EMPTY;
  const claimed = dv ? Buffer.from((dv.textContent ?? '').replace(/\s+/g, ''), 'base64') : undefined;
  const type = ref.getAttribute('Type');
  const id = ref.getAttribute('Id');
  return {
    uri, target: target!, enveloped, transforms: names, octets: octets!, size: digest ? size : octets!.length, digestMethodUri, ...(digest ? { digest } : {}),
    ...(type ? { type } : {}), ...(id ? { id } : {}), ...(element ? { element } : {}),
    ...(DIGEST_BY_URI[digestMethodUri] ? { digestAlgorithm: DIGEST_BY_URI[digestMethodUri] } : {}),
    ...(claimed ? { claimedDigest: new Uint8Array(claimed) } : {}),
  };
}

/** Digest of octets under a hash name ('SHA-256'...). */
export function hashBytes(hash: string, data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash(nodeHash(hash)).update(data).digest());
}

/**
 * A sink for canonical text into a hash: the chunks (~64k UTF-16 units each) are encoded into one reused buffer
 * (3 bytes per unit at most), about twice as fast as hashing the string itself or a new Buffer per chunk.
 * `size` counts the octets.
 */
export function utf8HashSink(h: Hash): { sink: (chunk: string) => void; size: () => number } {
  const scratch = Buffer.allocUnsafe(1 << 18);
  let size = 0;
  return {
    sink(chunk) {
      const b = chunk.length * 3 <= scratch.length ? scratch.subarray(0, scratch.write(chunk, 'utf8')) : Buffer.from(chunk, 'utf8');
      size += b.length;
      h.update(b);
    },
    size: () => size,
  };
}

/** Digest of the canonical form of a node, streamed into the hash (no copy of the canonical text is kept). */
export function c14nDigest(hash: string, node: Document | Element, method: C14nMethod, opts: Parameters<typeof canonicalize>[2] = {}): Uint8Array {
  const h = createHash(nodeHash(hash));
  canonicalize(node, method, opts, utf8HashSink(h).sink);
  return new Uint8Array(h.digest());
}

/** {@link c14nDigest} that also counts the canonical octets. */
export function c14nDigestSized(hash: string, node: Document | Element, method: C14nMethod, opts: Parameters<typeof canonicalize>[2] = {}): { digest: Uint8Array; size: number } {
  const h = createHash(nodeHash(hash));
  const out = utf8HashSink(h);
  canonicalize(node, method, opts, out.sink);
  return { digest: new Uint8Array(h.digest()), size: out.size() };
}

const EMPTY = new Uint8Array(0);

/** Canonical octets of a node, encoded chunk by chunk (no array of small strings for large documents). */
export function c14nOctets(node: Document | Element, method: C14nMethod, opts: Parameters<typeof canonicalize>[2] = {}): Uint8Array {
  const bufs: Buffer[] = [];
  canonicalize(node, method, opts, (chunk) => bufs.push(Buffer.from(chunk, 'utf8')));
  return bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
}
