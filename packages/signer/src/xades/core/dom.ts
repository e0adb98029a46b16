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
  const stack: Node[] = [];
  for (let c = root.lastChild; c; c = c.previousSibling) stack.push(c);
  while (stack.length) {
    const n = stack.pop()!;
    if (n.nodeType !== ELEMENT) continue;
    yield n as Element;
    for (let c = n.lastChild; c; c = c.previousSibling) stack.push(c);
  }
}

/** Text content with whitespace removed (for base64 values). */
export function base64Text(el: Element | undefined): string {
  return (el?.textContent ?? '').replace(/[\s]+/g, '');
}

/** Decode strict base64 (whitespace allowed); undefined if it is not base64. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/\s]*(=\s*){0,2}$/.test(s)) return undefined;
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

/** Build the ID index of a document (every element, every ID attribute it carries). */
export function indexIds(doc: Document): IdIndex {
  const byId = new Map<string, Element>();
  const duplicates = new Set<string>();
  for (const el of descendants(doc)) {
    const seen = new Set<string>();
    for (const n of ['Id', 'ID', 'id']) {
      const a = el.getAttributeNode(n);
      if (a && !a.namespaceURI) seen.add(a.value);
    }
    const x = el.getAttributeNS(NS.xml, 'id');
    if (x) seen.add(x);
    for (const id of seen) {
      if (byId.has(id)) duplicates.add(id);
      else byId.set(id, el);
    }
  }
  return { byId, duplicates };
}

/** XPath-like location of an element, e.g. /doc[1]/item[2] (for reports). */
export function pathOf(el: Element): string {
  const parts: string[] = [];
  for (let n: Node | null = el; n && n.nodeType === ELEMENT; n = n.parentNode) {
    const e = n as Element;
    let i = 1;
    for (let s = e.previousSibling; s; s = s.previousSibling) if (s.nodeType === ELEMENT && (s as Element).tagName === e.tagName) i++;
    parts.unshift(`${e.tagName}[${i}]`);
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
