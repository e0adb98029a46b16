/**
 * kyso's lightweight XML tree: the part of the W3C DOM that the canonicalizer, the signer and the verifier use,
 * built by a streaming parser (saxes) in one pass. Plain objects with sibling links: several times faster and
 * smaller than a full DOM for documents of hundreds of thousands of elements.
 */

export const ELEMENT_NODE = 1, ATTRIBUTE_NODE = 2, TEXT_NODE = 3, CDATA_SECTION_NODE = 4, PROCESSING_INSTRUCTION_NODE = 7, COMMENT_NODE = 8, DOCUMENT_NODE = 9;

/** Array-like list (DOM NodeList / NamedNodeMap shape). */
export interface XmlList<T> { readonly length: number; item(i: number): T | null }

function listOf<T>(a: T[]): XmlList<T> { return { get length() { return a.length; }, item: (i: number) => a[i] ?? null }; }

/** Any node of the tree. */
export class XmlNode {
  parentNode: XmlElement | XmlDocument | null = null;
  firstChild: XmlNode | null = null;
  lastChild: XmlNode | null = null;
  nextSibling: XmlNode | null = null;
  previousSibling: XmlNode | null = null;
  constructor(readonly nodeType: number) {}
  /** Append a child (the tree is built once, in document order). */
  append(c: XmlNode): void {
    c.parentNode = this as unknown as XmlElement;
    c.previousSibling = this.lastChild;
    if (this.lastChild) this.lastChild.nextSibling = c; else this.firstChild = c;
    this.lastChild = c;
  }
  get childNodes(): XmlList<XmlNode> {
    const a: XmlNode[] = [];
    for (let c = this.firstChild; c; c = c.nextSibling) a.push(c);
    return listOf(a);
  }
  /** Concatenated text of the text and CDATA descendants (null for the document, as in the DOM). */
  get textContent(): string | null {
    if (this.nodeType === TEXT_NODE || this.nodeType === CDATA_SECTION_NODE || this.nodeType === COMMENT_NODE || this.nodeType === PROCESSING_INSTRUCTION_NODE) return (this as unknown as { data: string }).data;
    if (this.nodeType === DOCUMENT_NODE) return null;
    const parts: string[] = [];
    const walk = (n: XmlNode): void => {
      for (let c = n.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) parts.push((c as XmlText).data);
        else if (c.nodeType === ELEMENT_NODE) walk(c);
      }
    };
    walk(this);
    return parts.join('');
  }
}

/** Text (3) or CDATA section (4). */
export class XmlText extends XmlNode { constructor(readonly data: string, cdata = false) { super(cdata ? CDATA_SECTION_NODE : TEXT_NODE); } }
/** Comment. */
export class XmlComment extends XmlNode { constructor(readonly data: string) { super(COMMENT_NODE); } }
/** Processing instruction. */
export class XmlPI extends XmlNode { constructor(readonly target: string, readonly data: string) { super(PROCESSING_INSTRUCTION_NODE); } }

/** An attribute (namespace declarations included, in the xmlns namespace). */
export class XmlAttr {
  readonly nodeType = ATTRIBUTE_NODE;
  constructor(readonly name: string, readonly prefix: string | null, readonly localName: string, readonly namespaceURI: string | null, readonly value: string) {}
}

/** An element. */
export class XmlElement extends XmlNode {
  readonly #attrs: XmlAttr[];
  constructor(readonly tagName: string, readonly prefix: string | null, readonly localName: string, readonly namespaceURI: string | null, attrs: XmlAttr[]) {
    super(ELEMENT_NODE);
    this.#attrs = attrs;
  }
  get attributes(): XmlList<XmlAttr> { return listOf(this.#attrs); }
  /** The attributes as an array (no copy: do not modify). */
  get attributeArray(): readonly XmlAttr[] { return this.#attrs; }
  getAttributeNode(name: string): XmlAttr | null { for (const a of this.#attrs) if (a.name === name) return a; return null; }
  getAttribute(name: string): string | null { return this.getAttributeNode(name)?.value ?? null; }
  getAttributeNS(ns: string, local: string): string | null { for (const a of this.#attrs) if (a.namespaceURI === ns && a.localName === local) return a.value; return null; }
  hasAttribute(name: string): boolean { return this.getAttributeNode(name) !== null; }
}

/** The document. */
export class XmlDocument extends XmlNode {
  documentElement: XmlElement | null = null;
  readonly doctype = null;
  constructor() { super(DOCUMENT_NODE); }
}
