// The canonicalizer as it was before review 15 (quadratic in namespace declarations, kept verbatim): the oracle of
// the differential test in xades-c14n-dos.test.ts. Test code only.
/* eslint-disable */
import type { XmlAttr as Attr, XmlDocument as Document, XmlElement as Element, XmlNode as Node } from '../src/xades/core/model.js';
import { C14N, NS } from '../src/xades/core/constants.js';
import { XmlError } from '../src/xades/core/errors.js';
import type { XmlScanEvents } from '../src/xades/core/fastparse.js';

/** A canonicalization method (W3C C14N 1.0, C14N 1.1, Exclusive C14N 1.0; each with or without comments). */
export interface C14nMethod {
  uri: string;
  exclusive: boolean;
  comments: boolean;
  /** C14N 1.1 (xml:id not inherited, xml:base fixed up, no xml:base copying). */
  v11: boolean;
}

const METHODS: Record<string, C14nMethod> = {
  [C14N.c14n10]: { uri: C14N.c14n10, exclusive: false, comments: false, v11: false },
  [C14N.c14n10Comments]: { uri: C14N.c14n10Comments, exclusive: false, comments: true, v11: false },
  [C14N.c14n11]: { uri: C14N.c14n11, exclusive: false, comments: false, v11: true },
  [C14N.c14n11Comments]: { uri: C14N.c14n11Comments, exclusive: false, comments: true, v11: true },
  [C14N.exc]: { uri: C14N.exc, exclusive: true, comments: false, v11: false },
  [C14N.excComments]: { uri: C14N.excComments, exclusive: true, comments: true, v11: false },
};

/** The method for a URI, or undefined when it is not a canonicalization method kyso implements. */
export function c14nMethod(uri: string): C14nMethod | undefined { return METHODS[uri]; }

/** Options of {@link canonicalize}. */
export interface C14nOptions {
  /** Exclusive C14N InclusiveNamespaces PrefixList ('#default' for the default namespace). */
  inclusivePrefixes?: string[];
  /** Subtrees left out of the node-set (the enveloped-signature transform's ds:Signature, or every ds:Signature
   *  for the XPath Filter 2 "subtract //ds:Signature" kyso accepts). */
  exclude?: Node | ReadonlySet<Node>;
  /** Force comment handling (a same-document "#id" reference drops comments even for #WithComments). */
  comments?: boolean;
}

const ELEMENT = 1, TEXT = 3, CDATA = 4, PI = 7, COMMENT = 8, DOCUMENT = 9;

function escText(s: string): string {
  if (!/[&<>\r]/.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}
function escAttr(s: string): string {
  if (!/[&<"\t\n\r]/.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}

/** Output sink that batches strings (hashing many small strings one by one is slow). */
class Out {
  private buf = '';
  private parts: string[] = [];
  constructor(private readonly flush?: (s: string) => void) {}
  w(s: string): void {
    this.buf += s;
    if (this.buf.length > 1 << 16) {
      if (this.flush) this.flush(this.buf); else this.parts.push(this.buf);
      this.buf = '';
    }
  }
  drain(): void { if (this.flush && this.buf) { this.flush(this.buf); this.buf = ''; } }
  text(): string { return this.parts.join('') + this.buf; }
}

type NsMap = Map<string, string>;
/** Namespaces rendered by the output ancestors: a persistent list (nearest first), shared by siblings. */
type Rendered = { p: string; u: string; next: Rendered } | null;
function renderedGet(r: Rendered, p: string): string | undefined {
  for (let n = r; n; n = n.next) if (n.p === p) return n.u;
  return undefined;
}

/** Namespace declarations made on one element: prefix ('' for default) → URI. */
function declarations(el: Element): [string, string][] | undefined {
  let out: [string, string][] | undefined;
  for (const a of el.attributeArray) {
    if (a.namespaceURI === NS.xmlns) (out ??= []).push([a.prefix === 'xmlns' ? a.localName! : '', a.value]);
  }
  return out;
}

/** In-scope namespaces of `el` from its ancestors and itself (nearest declaration wins). */
export function inScopeNamespaces(el: Element | null): NsMap {
  const chain: Element[] = [];
  for (let n: Node | null = el; n && n.nodeType === ELEMENT; n = n.parentNode) chain.push(n as Element);
  const m: NsMap = new Map();
  for (let i = chain.length - 1; i >= 0; i--) for (const [p, u] of declarations(chain[i]!) ?? []) m.set(p, u);
  return m;
}

function xmlAttrsOfAncestors(el: Element, v11: boolean): Map<string, string> {
  const m = new Map<string, string>();
  for (let n = el.parentNode; n && n.nodeType === ELEMENT; n = n.parentNode) {
    for (const a of (n as Element).attributeArray) {
      if (a.namespaceURI !== NS.xml) continue;
      const ln = a.localName!;
      if (v11 && (ln === 'id' || ln === 'base')) continue;
      if (!m.has(ln)) m.set(ln, a.value);
    }
  }
  return m;
}

/** Inclusive C14N: the namespace nodes of an element that differ from what its output ancestors rendered, as
 *  a flat [prefix, uri, ...] list sorted by prefix; undefined when there are none. */
function inclusiveNamespaces(here: NsMap, rendered: Rendered): string[] | undefined {
  let out: string[] | undefined;
  for (const [p, u] of here) {
    if (p === 'xml') continue;
    if (p === '') {
      if ((renderedGet(rendered, '') ?? '') !== u) (out ??= []).push('', u);
    } else if (renderedGet(rendered, p) !== u) (out ??= []).push(p, u);
  }
  if (!here.has('') && (renderedGet(rendered, '') ?? '') !== '') (out ??= []).push('', '');
  return out && sortPairs(out);
}

/** Exclusive C14N: the visibly utilized namespaces (element and attribute prefixes, InclusiveNamespaces) that
 *  differ from what the output ancestors rendered, as a flat sorted [prefix, uri, ...] list; undefined if none. */
function exclusiveNamespaces(el: Element, all: readonly Attr[], here: NsMap, rendered: Rendered, inclusive: ReadonlySet<string>): string[] | undefined {
  if (inclusive.size === 0) {
    // common case: only the element's own prefix is visibly utilized
    let other = false;
    for (let i = 0; i < all.length; i++) {
      const a = all[i]!;
      if (a.prefix && a.prefix !== 'xml' && a.namespaceURI !== NS.xmlns) { other = true; break; }
    }
    if (!other) {
      const p = el.prefix ?? '';
      const u = here.get(p) ?? '';
      if (p === '') return (renderedGet(rendered, '') ?? '') !== u ? ['', u] : undefined;
      return u !== '' && renderedGet(rendered, p) !== u ? [p, u] : undefined;
    }
  }
  let out: string[] | undefined;
  let done: string[] | undefined;
  const consider = (p: string): void => {
    if (done) { if (done.includes(p)) return; done.push(p); } else done = [p];
    const u = here.get(p) ?? '';
    if (p === '') {
      if ((renderedGet(rendered, '') ?? '') !== u) (out ??= []).push('', u);
    } else if (u !== '' && renderedGet(rendered, p) !== u) (out ??= []).push(p, u);
  };
  consider(el.prefix ?? '');
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    if (a.namespaceURI === NS.xmlns) continue;
    if (a.prefix && a.prefix !== 'xml') consider(a.prefix);
  }
  if (inclusive.size) for (const p of inclusive) if (here.has(p) || p === '') consider(p);
  return out && sortPairs(out);
}

function sortPairs(flat: string[]): string[] {
  if (flat.length <= 2) return flat;
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.flat();
}

function compareAttrs(a: Attr, b: Attr): number {
  const na = a.namespaceURI ?? '', nb = b.namespaceURI ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  const la = a.localName ?? a.name, lb = b.localName ?? b.name;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

/** The canonical start tag of `el` (without its '>') and the namespace context its children see. */
function startTag(el: Element, scope: NsMap, rendered: Rendered, apex: boolean, method: C14nMethod, inclusive: ReadonlySet<string>): { s: string; here: NsMap; rendered: Rendered } {
  const all = el.attributeArray;
  // Namespaces in scope at this element (a new map only when it declares some).
  let here = scope;
  let plain = 0; // attributes other than namespace declarations
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    if (a.namespaceURI === NS.xmlns) {
      if (here === scope) here = new Map(scope);
      here.set(a.prefix === 'xmlns' ? a.localName! : '', a.value);
    } else plain++;
  }
  const nsOut = method.exclusive ? exclusiveNamespaces(el, all, here, rendered, inclusive)
    : here !== scope || apex ? inclusiveNamespaces(here, rendered) : undefined;
  let renderedHere = rendered;
  let s = '<' + el.tagName;
  if (nsOut) {
    for (let i = 0; i < nsOut.length; i += 2) {
      const p = nsOut[i]!, u = nsOut[i + 1]!;
      renderedHere = { p, u, next: renderedHere };
      s += (p === '' ? ' xmlns="' : ' xmlns:' + p + '="') + escAttr(u) + '"';
    }
  }
  let extra: [string, string][] | undefined;
  if (apex && !method.exclusive) {
    const inherited = xmlAttrsOfAncestors(el, method.v11);
    for (const [ln, v] of inherited) if (!all.some((a) => a.namespaceURI === NS.xml && a.localName === ln)) (extra ??= []).push([`xml:${ln}`, v]);
  }
  if (extra) {
    // xml:* attributes sort by local name within the XML namespace, which sorts before most others; merge.
    const merged: { name: string; ns: string; ln: string; v: string }[] = [];
    for (const a of all) if (a.namespaceURI !== NS.xmlns) merged.push({ name: a.name, ns: a.namespaceURI ?? '', ln: a.localName ?? a.name, v: a.value });
    for (const [name, v] of extra) merged.push({ name, ns: NS.xml, ln: name.slice(4), v });
    merged.sort((a, b) => (a.ns !== b.ns ? (a.ns < b.ns ? -1 : 1) : a.ln < b.ln ? -1 : a.ln > b.ln ? 1 : 0));
    for (const a of merged) s += ' ' + a.name + '="' + escAttr(a.v) + '"';
  } else if (plain === 1 && all.length === 1) {
    const a = all[0]!;
    s += ' ' + a.name + '="' + escAttr(a.value) + '"';
  } else if (plain > 0) {
    const attrs: Attr[] = [];
    for (const a of all) if (a.namespaceURI !== NS.xmlns) attrs.push(a);
    if (attrs.length > 1) attrs.sort(compareAttrs);
    for (const a of attrs) s += ' ' + a.name + '="' + escAttr(a.value) + '"';
  }
  return { s, here, rendered: renderedHere };
}

/**
 * Canonicalize a document or an element (the apex of a document subset, as a same-document reference selects
 * it) after C14N 1.0 / 1.1 / Exclusive C14N. Returns the canonical text (UTF-8 encode it before hashing), or
 * streams it to `sink` in chunks and returns ''.
 */
export function canonicalize(node: Document | Element, method: C14nMethod, opts: C14nOptions = {}, sink?: (s: string) => void): string {
  const out = new Out(sink);
  const comments = opts.comments ?? method.comments;
  const inclusive = new Set((opts.inclusivePrefixes ?? []).map((p) => (p === '#default' ? '' : p)));
  const ex = opts.exclude;
  const excluded = ex === undefined ? () => false : ex instanceof Set ? (n: Node) => (ex as ReadonlySet<Node>).has(n) : (n: Node) => n === ex;

  const emitElement = (el: Element, scope: NsMap, rendered: Rendered, apex: boolean): void => {
    const { s, here, rendered: renderedHere } = startTag(el, scope, rendered, apex, method, inclusive);
    out.w(s + '>');
    for (let c = el.firstChild; c; c = c.nextSibling) emitChild(c, here, renderedHere);
    out.w('</' + el.tagName + '>');
  };

  const emitChild = (c: Node, scope: NsMap, rendered: Rendered): void => {
    if (excluded(c)) return;
    switch (c.nodeType) {
      case ELEMENT: emitElement(c as Element, scope, rendered, false); break;
      case TEXT: case CDATA: out.w(escText((c as unknown as { data: string }).data)); break;
      case COMMENT: if (comments) out.w(`<!--${(c as unknown as { data: string }).data}-->`); break;
      case PI: out.w(piText(c)); break;
      default: break;
    }
  };

  if (node.nodeType === DOCUMENT) {
    const doc = node as Document;
    let seenRoot = false;
    for (let c = doc.firstChild; c; c = c.nextSibling) {
      if (excluded(c)) continue;
      if (c.nodeType === ELEMENT) { emitElement(c as Element, new Map(), null, true); seenRoot = true; continue; }
      let t: string | undefined;
      if (c.nodeType === COMMENT && comments) t = `<!--${(c as unknown as { data: string }).data}-->`;
      else if (c.nodeType === PI && (c as unknown as { target: string }).target.toLowerCase() !== 'xml') t = piText(c);
      if (t === undefined) continue;
      out.w(seenRoot ? '\n' + t : t + '\n');
    }
  } else if (node.nodeType === ELEMENT) {
    const el = node as Element;
    emitElement(el, el.parentNode && el.parentNode.nodeType === ELEMENT ? inScopeNamespaces(el.parentNode as Element) : new Map(), null, true);
  } else {
    throw new XmlError('XML_UNSUPPORTED', 'only a document or an element can be canonicalized');
  }
  if (sink) { out.drain(); return ''; }
  return out.text();
}

function piText(c: Node): string {
  const pi = c as unknown as { target: string; data: string };
  return pi.data ? `<?${pi.target} ${pi.data}?>` : `<?${pi.target}?>`;
}

/**
 * Canonicalization of a whole document without comments, computed from the fast scanner's events as the document
 * is read (no tree is built): the same output as {@link canonicalize} on the parsed document, streamed to `sink`.
 * Use as the events handler of fastScanXml; only valid when the scan succeeds.
 */
export class C14nDocumentStream implements XmlScanEvents {
  readonly #out: Out;
  readonly #method: C14nMethod;
  readonly #inclusive: ReadonlySet<string>;
  readonly #frames: { here: NsMap; rendered: Rendered }[] = [];
  #root = true;
  constructor(method: C14nMethod, sink: (s: string) => void, inclusivePrefixes: string[] = []) {
    this.#out = new Out(sink);
    this.#method = method;
    this.#inclusive = new Set(inclusivePrefixes.map((p) => (p === '#default' ? '' : p)));
  }
  open(el: Element, selfClosing: boolean): void {
    const top = this.#frames[this.#frames.length - 1];
    const t = startTag(el, top ? top.here : new Map(), top ? top.rendered : null, this.#root, this.#method, this.#inclusive);
    this.#root = false;
    this.#out.w(t.s + '>');
    if (selfClosing) this.#out.w('</' + el.tagName + '>');
    else this.#frames.push({ here: t.here, rendered: t.rendered });
  }
  close(el: Element): void {
    this.#frames.pop();
    this.#out.w('</' + el.tagName + '>');
  }
  text(data: string): void { this.#out.w(escText(data)); }
  comment(): void { /* without comments */ }
  /** Flush what is buffered to the sink. */
  end(): void { this.#out.drain(); }
}
