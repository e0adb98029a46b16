import type { XmlAttr as Attr, XmlDocument as Document, XmlElement as Element, XmlNode as Node } from './model.js';
import { C14N, NS } from './constants.js';
import { XmlError } from './errors.js';
import type { XmlScanEvents } from './fastparse.js';

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

/**
 * Work budget of canonicalization. Canonicalizing an element that is not the document's root element first
 * collects what its ancestors declare (namespaces, xml:* attributes) and, for inclusive C14N, renders all of it
 * on that apex; Exclusive C14N walks the InclusiveNamespaces PrefixList there. That work does not depend on the
 * size of the output, so a document with many references to elements under thousands of declarations could
 * make it quadratic. It is counted per document, over all calls, and may not exceed this many units (one unit
 * per ancestor attribute, in-scope namespace or PrefixList entry looked at); past it, canonicalization ends in
 * an XmlError XML_TOO_LARGE (the verifier reports FORMAT_FAILURE). Everything else canonicalization does is
 * linear in its output.
 */
export const C14N_APEX_WORK_BUDGET = 1 << 21;
/** Most entries an InclusiveNamespaces PrefixList may hold (more: XmlError XML_TOO_LARGE). */
export const C14N_MAX_INCLUSIVE_PREFIXES = 10_000;

const apexWorkDone = new WeakMap<object, number>();

/** Count `units` of apex work against the budget of the document that holds `node`. */
function spendApexWork(node: Node, units: number): void {
  if (units <= 0) return;
  let top: Node = node;
  for (let i = 0; top.parentNode && i < 10_000; i++) top = top.parentNode;
  const done = (apexWorkDone.get(top) ?? 0) + units;
  apexWorkDone.set(top, done);
  if (done > C14N_APEX_WORK_BUDGET) {
    throw new XmlError('XML_TOO_LARGE', `canonicalization work budget exceeded (${C14N_APEX_WORK_BUDGET} namespace and attribute look-ups over the ancestors of canonicalized elements)`);
  }
}

/**
 * Prefix → URI map with an undo log: an element's declarations are applied when it is entered and undone when it
 * is left, so each element costs only its own declarations (no copy of the in-scope map, no list to search).
 */
class ScopedMap {
  readonly m: NsMap;
  readonly #log: (string | undefined)[] = [];
  constructor(init?: NsMap) { this.m = init ?? new Map(); }
  mark(): number { return this.#log.length; }
  set(p: string, u: string): void { this.#log.push(p, this.m.get(p)); this.m.set(p, u); }
  undo(mark: number): void {
    const log = this.#log;
    while (log.length > mark) {
      const old = log.pop();
      const p = log.pop() as string;
      if (old === undefined) this.m.delete(p); else this.m.set(p, old);
    }
  }
}

/** Namespace declarations made on one element: prefix ('' for default) → URI. */
function declarations(el: Element): [string, string][] | undefined {
  let out: [string, string][] | undefined;
  for (const a of el.attributeArray) {
    if (a.namespaceURI === NS.xmlns) (out ??= []).push([a.prefix === 'xmlns' ? a.localName! : '', a.value]);
  }
  return out;
}

/** In-scope namespaces of `el` from its ancestors and itself (nearest declaration wins). Counted against the
 *  document's {@link C14N_APEX_WORK_BUDGET} (callers may call it once per reference). */
export function inScopeNamespaces(el: Element | null): NsMap {
  const chain: Element[] = [];
  let work = 0;
  for (let n: Node | null = el; n && n.nodeType === ELEMENT; n = n.parentNode) { chain.push(n as Element); work += (n as Element).attributeArray.length + 1; }
  if (el) spendApexWork(el, work);
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

/** Number of attributes (namespace declarations included) on the ancestors of `el`: the apex work of it. */
function ancestorAttributes(el: Element): number {
  let n = 0;
  for (let a = el.parentNode; a && a.nodeType === ELEMENT; a = a.parentNode) n += (a as Element).attributeArray.length + 1;
  return n;
}

/** Inclusive C14N at the apex: every namespace node in scope (nothing is rendered above it), as a flat
 *  [prefix, uri, ...] list sorted by prefix; undefined when there are none. */
function inclusiveApexNamespaces(here: NsMap): string[] | undefined {
  let out: string[] | undefined;
  for (const [p, u] of here) {
    if (p === 'xml') continue;
    if (p !== '' || u !== '') (out ??= []).push(p, u);
  }
  return out && sortPairs(out);
}

/** Inclusive C14N below the apex: the output parent rendered exactly the namespaces in scope there, so only this
 *  element's own declarations can differ (`decls`: flat [prefix, uri, value in the parent scope | undefined]). */
function inclusiveOwnNamespaces(decls: (string | undefined)[]): string[] | undefined {
  let out: string[] | undefined;
  for (let i = 0; i < decls.length; i += 3) {
    const p = decls[i]!, u = decls[i + 1]!, prev = decls[i + 2];
    if (p === 'xml') continue;
    if (p === '' ? (prev ?? '') !== u : prev !== u) (out ??= []).push(p, u);
  }
  return out && sortPairs(out);
}

/** Exclusive C14N: the visibly utilized namespaces (element and attribute prefixes, InclusiveNamespaces) that
 *  differ from what the output ancestors rendered, as a flat sorted [prefix, uri, ...] list; undefined if none.
 *  Below the apex only the PrefixList entries this element declares can have changed (its output parent rendered
 *  every listed prefix in scope there), so the list is walked once, at the apex. */
function exclusiveNamespaces(el: Element, all: readonly Attr[], here: NsMap, rendered: NsMap, inclusive: ReadonlySet<string>, decls: (string | undefined)[] | undefined, apex: boolean): string[] | undefined {
  let listed = false; // a PrefixList entry to consider here
  if (inclusive.size) {
    if (apex) listed = true;
    else if (decls) for (let i = 0; i < decls.length; i += 3) if (inclusive.has(decls[i]!)) { listed = true; break; }
  }
  if (!listed) {
    // common case: only the element's own prefix is visibly utilized
    let other = false;
    for (let i = 0; i < all.length; i++) {
      const a = all[i]!;
      if (a.prefix && a.prefix !== 'xml' && a.namespaceURI !== NS.xmlns) { other = true; break; }
    }
    if (!other) {
      const p = el.prefix ?? '';
      const u = here.get(p) ?? '';
      if (p === '') return (rendered.get('') ?? '') !== u ? ['', u] : undefined;
      return u !== '' && rendered.get(p) !== u ? [p, u] : undefined;
    }
  }
  let out: string[] | undefined;
  // prefixes already considered: a short array (the usual case), a Set once there are many (no quadratic search)
  let done: string[] | undefined;
  let doneSet: Set<string> | undefined;
  const consider = (p: string): void => {
    if (doneSet) { if (doneSet.has(p)) return; doneSet.add(p); }
    else if (done) { if (done.includes(p)) return; done.push(p); if (done.length > 16) doneSet = new Set(done); }
    else done = [p];
    const u = here.get(p) ?? '';
    if (p === '') {
      if ((rendered.get('') ?? '') !== u) (out ??= []).push('', u);
    } else if (u !== '' && rendered.get(p) !== u) (out ??= []).push(p, u);
  };
  consider(el.prefix ?? '');
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    if (a.namespaceURI === NS.xmlns) continue;
    if (a.prefix && a.prefix !== 'xml') consider(a.prefix);
  }
  if (listed) {
    if (apex) { for (const p of inclusive) if (here.has(p) || p === '') consider(p); }
    else for (let i = 0; i < decls!.length; i += 3) if (inclusive.has(decls![i]!)) consider(decls![i]!);
  }
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

/** State of one canonicalization run: namespaces in scope and (Exclusive C14N) rendered by output ancestors. */
interface C14nRun {
  method: C14nMethod;
  inclusive: ReadonlySet<string>;
  /** Namespaces in scope at the element being written (its declarations applied on entry, undone on exit). */
  scope: ScopedMap;
  /** Exclusive C14N: namespaces rendered by the output ancestors (nearest wins), undone the same way. */
  rendered: ScopedMap;
}

function newRun(method: C14nMethod, inclusivePrefixes: readonly string[] | undefined, scope?: NsMap): C14nRun {
  const list = inclusivePrefixes ?? [];
  if (list.length > C14N_MAX_INCLUSIVE_PREFIXES) throw new XmlError('XML_TOO_LARGE', `InclusiveNamespaces PrefixList has ${list.length} entries: more than ${C14N_MAX_INCLUSIVE_PREFIXES} are not accepted`);
  return { method, inclusive: new Set(list.map((p) => (p === '#default' ? '' : p))), scope: new ScopedMap(scope), rendered: new ScopedMap() };
}

/** The canonical start tag of `el` (without its '>'). Applies its declarations to `run.scope` and what it renders
 *  to `run.rendered`: take marks before and undo them after its children. */
function startTag(el: Element, run: C14nRun, apex: boolean): string {
  const { method, inclusive } = run;
  const all = el.attributeArray;
  let decls: (string | undefined)[] | undefined; // [prefix, uri, value in the parent scope, ...]
  let plain = 0; // attributes other than namespace declarations
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    if (a.namespaceURI === NS.xmlns) {
      const p = a.prefix === 'xmlns' ? a.localName! : '';
      (decls ??= []).push(p, a.value, run.scope.m.get(p));
      run.scope.set(p, a.value);
    } else plain++;
  }
  const here = run.scope.m;
  if (apex) spendApexWork(el, here.size + (method.exclusive ? inclusive.size : 0));
  const nsOut = method.exclusive ? exclusiveNamespaces(el, all, here, run.rendered.m, inclusive, decls, apex)
    : apex ? inclusiveApexNamespaces(here) : decls ? inclusiveOwnNamespaces(decls) : undefined;
  let s = '<' + el.tagName;
  if (nsOut) {
    for (let i = 0; i < nsOut.length; i += 2) {
      const p = nsOut[i]!, u = nsOut[i + 1]!;
      if (method.exclusive) run.rendered.set(p, u);
      s += (p === '' ? ' xmlns="' : ' xmlns:' + p + '="') + escAttr(u) + '"';
    }
  }
  let extra: [string, string][] | undefined;
  if (apex && !method.exclusive) {
    const inherited = xmlAttrsOfAncestors(el, method.v11);
    if (inherited.size) {
      const own = new Set<string>();
      for (const a of all) if (a.namespaceURI === NS.xml) own.add(a.localName!);
      for (const [ln, v] of inherited) if (!own.has(ln)) (extra ??= []).push([`xml:${ln}`, v]);
    }
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
  return s;
}

/**
 * Canonicalize a document or an element (the apex of a document subset, as a same-document reference selects
 * it) after C14N 1.0 / 1.1 / Exclusive C14N. Returns the canonical text (UTF-8 encode it before hashing), or
 * streams it to `sink` in chunks and returns ''.
 */
export function canonicalize(node: Document | Element, method: C14nMethod, opts: C14nOptions = {}, sink?: (s: string) => void): string {
  const out = new Out(sink);
  const comments = opts.comments ?? method.comments;
  const ex = opts.exclude;
  const excluded = ex === undefined ? () => false : ex instanceof Set ? (n: Node) => (ex as ReadonlySet<Node>).has(n) : (n: Node) => n === ex;
  let run: C14nRun;

  const emitElement = (el: Element, apex: boolean): void => {
    const sm = run.scope.mark(), rm = run.rendered.mark();
    out.w(startTag(el, run, apex) + '>');
    for (let c = el.firstChild; c; c = c.nextSibling) emitChild(c);
    out.w('</' + el.tagName + '>');
    run.scope.undo(sm);
    run.rendered.undo(rm);
  };

  const emitChild = (c: Node): void => {
    if (excluded(c)) return;
    switch (c.nodeType) {
      case ELEMENT: emitElement(c as Element, false); break;
      case TEXT: case CDATA: out.w(escText((c as unknown as { data: string }).data)); break;
      case COMMENT: if (comments) out.w(`<!--${(c as unknown as { data: string }).data}-->`); break;
      case PI: out.w(piText(c)); break;
      default: break;
    }
  };

  if (node.nodeType === DOCUMENT) {
    const doc = node as Document;
    run = newRun(method, opts.inclusivePrefixes);
    let seenRoot = false;
    for (let c = doc.firstChild; c; c = c.nextSibling) {
      if (excluded(c)) continue;
      if (c.nodeType === ELEMENT) { emitElement(c as Element, true); seenRoot = true; continue; }
      let t: string | undefined;
      if (c.nodeType === COMMENT && comments) t = `<!--${(c as unknown as { data: string }).data}-->`;
      else if (c.nodeType === PI && (c as unknown as { target: string }).target.toLowerCase() !== 'xml') t = piText(c);
      if (t === undefined) continue;
      out.w(seenRoot ? '\n' + t : t + '\n');
    }
  } else if (node.nodeType === ELEMENT) {
    const el = node as Element;
    const parent = el.parentNode && el.parentNode.nodeType === ELEMENT ? el.parentNode as Element : null;
    // inScopeNamespaces counts the ancestors' attributes; xmlAttrsOfAncestors (inclusive C14N) walks them again
    if (parent && !method.exclusive) spendApexWork(el, ancestorAttributes(el));
    run = newRun(method, opts.inclusivePrefixes, parent ? inScopeNamespaces(parent) : undefined);
    emitElement(el, true);
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
  readonly #run: C14nRun;
  /** Undo marks of the open elements: [scope, rendered, ...]. */
  readonly #marks: number[] = [];
  #root = true;
  constructor(method: C14nMethod, sink: (s: string) => void, inclusivePrefixes: string[] = []) {
    this.#out = new Out(sink);
    this.#run = newRun(method, inclusivePrefixes);
  }
  open(el: Element, selfClosing: boolean): void {
    const run = this.#run;
    const sm = run.scope.mark(), rm = run.rendered.mark();
    const s = startTag(el, run, this.#root);
    this.#root = false;
    this.#out.w(s + '>');
    if (selfClosing) {
      this.#out.w('</' + el.tagName + '>');
      run.scope.undo(sm);
      run.rendered.undo(rm);
    } else this.#marks.push(sm, rm);
  }
  close(el: Element): void {
    const rm = this.#marks.pop(), sm = this.#marks.pop();
    if (sm !== undefined && rm !== undefined) { this.#run.scope.undo(sm); this.#run.rendered.undo(rm); }
    this.#out.w('</' + el.tagName + '>');
  }
  text(data: string): void { this.#out.w(escText(data)); }
  comment(): void { /* without comments */ }
  /** Flush what is buffered to the sink. */
  end(): void { this.#out.drain(); }
}
