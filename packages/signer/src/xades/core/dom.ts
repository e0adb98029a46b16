import type { XmlDocument as Document, XmlElement as Element, XmlNode as Node } from './model.js';
import { NS } from './constants.js';

const ELEMENT = 1;

/** Element children of `el`, optionally only those with the namespace and local name given. */
export function childElements(el: Element | Document, ns?: string, localName?: string): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== ELEMENT) continue;
    const e = c as Element;
    if (ns !== undefined && e.namespaceURI !== ns) continue;
    if (localName !== undefined && e.localName !== localName) continue;
    out.push(e);
  }
  return out;
}

/** The single child with that name, or undefined (several → undefined too: callers treat it as malformed). */
export function onlyChild(el: Element, ns: string, localName: string): Element | undefined {
  const c = childElements(el, ns, localName);
  return c.length === 1 ? c[0] : undefined;
}

/** Every element of the subtree in document order (iterative). */
export function* descendants(root: Element | Document): Generator<Element> {
  const all: Element[] = [];
  forEachElement(root, (e) => { all.push(e); });
  yield* all;
}

/** Calls `fn` on every element of the subtree in document order (iterative, no allocation per node); stops
 *  when `fn` returns true. */
export function forEachElement(root: Element | Document, fn: (e: Element) => boolean | void): void {
  let n: Node | null = root.firstChild;
  while (n) {
    if (n.nodeType === ELEMENT) {
      if (fn(n as Element) === true) return;
      if (n.firstChild) { n = n.firstChild; continue; }
    }
    while (n && !n.nextSibling) {
      n = n.parentNode;
      if (n === root || !n) return;
    }
    n = n!.nextSibling;
  }
}

/** Text content with whitespace removed (for base64 values). */
export function base64Text(el: Element | undefined): string {
  return (el?.textContent ?? '').replace(/[\s]+/g, '');
}

/** Whether `s` is strict base64 (whitespace allowed), as {@link decodeBase64} accepts it. */
export function isStrictBase64(s: string): boolean {
  return /^[A-Za-z0-9+/\s]*(=\s*){0,2}$/.test(s);
}

/** Decode strict base64 (whitespace allowed); undefined if it is not base64. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (!isStrictBase64(s)) return undefined;
  // Node's decoder skips the whitespace itself (no stripped copy of large attachments).
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** The ID attributes kyso honours: Id, ID, id (no namespace) and xml:id. */
export function idOf(el: Element): string | undefined {
  for (const n of ['Id', 'ID', 'id']) {
    const a = el.getAttributeNode(n);
    if (a && !a.namespaceURI) return a.value;
  }
  const x = el.getAttributeNS(NS.xml, 'id');
  return x || undefined;
}

/** Index of ID attributes over the whole document, with the IDs that occur more than once. */
export interface IdIndex { byId: Map<string, Element>; duplicates: Set<string> }

/** Build the ID index of a document (every element, every ID attribute it carries); `visit`, if given, also sees
 *  every element (one walk for callers that need both). */
export function indexIds(doc: Document, visit?: (el: Element) => void): IdIndex {
  const byId = new Map<string, Element>();
  const duplicates = new Set<string>();
  const add = (id: string, el: Element) => {
    const prev = byId.get(id);
    if (prev === undefined) byId.set(id, el);
    else if (prev !== el) duplicates.add(id);
  };
  forEachElement(doc, (el) => {
    visit?.(el);
    const attrs = el.attributeArray;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i]!;
      if (a.namespaceURI === null ? a.name === 'Id' || a.name === 'ID' || a.name === 'id' : a.namespaceURI === NS.xml && a.localName === 'id' && a.value !== '') add(a.value, el);
    }
  });
  return { byId, duplicates };
}

/** Positions among same-named siblings, computed once per parent (the tree is append-only: a parent whose last
 *  child changed since is indexed again). */
const positions = new WeakMap<Node, { last: Node | null; pos: Map<Element, number> }>();

/** 1-based position of `e` among the element children of its parent that have its tag name. */
function positionOf(e: Element): number {
  const parent = e.parentNode;
  if (!parent) return 1;
  // few previous siblings (the common case): count them, no index
  let n = 1, seen = 0;
  for (let s = e.previousSibling; s; s = s.previousSibling) {
    if (++seen > 16) break;
    if (s.nodeType === ELEMENT && (s as Element).tagName === e.tagName) n++;
  }
  if (seen <= 16) return n;
  let entry = positions.get(parent);
  if (!entry || entry.last !== parent.lastChild) {
    const pos = new Map<Element, number>();
    const counts = new Map<string, number>();
    for (let c = parent.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== ELEMENT) continue;
      const t = (c as Element).tagName;
      const i = (counts.get(t) ?? 0) + 1;
      counts.set(t, i);
      pos.set(c as Element, i);
    }
    entry = { last: parent.lastChild, pos };
    positions.set(parent, entry);
  }
  const i = entry.pos.get(e);
  if (i !== undefined) return i;
  // not a child seen by the index (the tree was changed in place): count the slow way
  n = 1;
  for (let s = e.previousSibling; s; s = s.previousSibling) if (s.nodeType === ELEMENT && (s as Element).tagName === e.tagName) n++;
  return n;
}

/** XPath-like location of an element, e.g. /doc[1]/item[2] (for reports). Positions are indexed once per parent,
 *  so many calls on one document stay linear. */
export function pathOf(el: Element): string {
  const parts: string[] = [];
  for (let n: Node | null = el; n && n.nodeType === ELEMENT; n = n.parentNode) {
    const e = n as Element;
    parts.unshift(`${e.tagName}[${positionOf(e)}]`);
  }
  return '/' + parts.join('/');
}

/** True if `inner` is `outer` or inside it. */
export function isWithin(inner: Node, outer: Node): boolean {
  for (let n: Node | null = inner; n; n = n.parentNode) if (n === outer) return true;
  return false;
}

/** Escape text content for XML output. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

/** Escape an attribute value (double quotes). */
export function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}
