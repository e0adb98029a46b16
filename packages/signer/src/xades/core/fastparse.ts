/**
 * Fast path of the XML parser for the common, plain shape of XML (ASCII names, the five predefined entities and
 * character references, comments, CDATA, an XML 1.0 declaration): a scanner that works on whole runs of text
 * (indexOf, sticky regular expressions) instead of character by character.
 *
 * It is deliberately conservative: it returns a tree only when it is sure the document is well-formed and that
 * saxes would build the same tree; on anything else (a DOCTYPE, a processing instruction, a non-ASCII name, an
 * unknown entity, a limit reached, any malformation) it returns undefined and the caller runs the strict
 * character-by-character parser (saxes), which gives the same tree or the precise error. So the fast path never
 * decides that a document is acceptable on its own terms, it only saves time on documents saxes accepts.
 */
import { XmlAttr, XmlComment, XmlDocument, XmlElement, XmlText } from './model.js';

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Characters XML 1.0 does not allow anywhere (and unpaired surrogates). */
const BAD_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const SURROGATE = /[\uD800-\uDFFF]/;
/** Either of the above: one pass over the text finds whether a closer look is needed. */
const BAD_OR_SURROGATE = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_DECL = /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.0\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(?:yes|no)\3)?[ \t\n]*\?>/y;
const ATTR = /[ \t\n]+([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)[ \t\n]*=[ \t\n]*(?:"([^"<]*)"|'([^'<]*)')/y;
const PREDEFINED: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string>, { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" });
const ONLY_SPACE = /^[ \t\n]*$/;

/** ASCII name characters: 1 = may start a name part, 2 = may continue one (letters, digits, '_', '-', '.'). */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) NAME_CHAR[c] = 3;
  else if (/[0-9.-]/.test(ch)) NAME_CHAR[c] = 2;
}
const EMPTY: XmlAttr[] = [];

/** End of the qualified name (NCName or NCName:NCName, ASCII only) starting at i; -1 if there is none. */
function scanName(text: string, i: number): number {
  let c = text.charCodeAt(i);
  if (!(c < 128 && NAME_CHAR[c]! & 1)) return -1;
  let colon = false;
  for (i++; ; i++) {
    c = text.charCodeAt(i);
    if (c < 128 && NAME_CHAR[c]! & 2) continue;
    if (c === 0x3a /* : */ && !colon) {
      colon = true;
      const d = text.charCodeAt(i + 1);
      if (!(d < 128 && NAME_CHAR[d]! & 1)) return -1;
      continue;
    }
    return i;
  }
}

/** A qualified name split once; shared by every element or attribute that uses it (fewer live strings). */
interface QName { name: string; prefix: string | null; local: string }
function qname(name: string): QName {
  const colon = name.indexOf(':');
  return colon < 0 ? { name, prefix: null, local: name } : { name, prefix: name.slice(0, colon), local: name.slice(colon + 1) };
}

/** Names seen so far, found again without slicing the text (bucketed by length, a few per length). */
class NameCache {
  readonly #byLength: QName[][] = [];
  readonly #byName = new Map<string, QName>();
  /** The name at text[start, end). */
  at(text: string, start: number, end: number): QName {
    const len = end - start;
    if (len > 64) return qname(text.slice(start, end));
    const bucket = (this.#byLength[len] ??= []);
    for (let i = 0; i < bucket.length; i++) if (text.startsWith(bucket[i]!.name, start)) return bucket[i]!;
    const q = qname(text.slice(start, end));
    if (bucket.length < 16) bucket.push(q);
    return q;
  }
  /** The same name as `name` (already sliced). */
  of(name: string): QName {
    let q = this.#byName.get(name);
    if (!q) { q = qname(name); if (this.#byName.size < 4096) this.#byName.set(name, q); }
    return q;
  }
}

/** Thrown internally to leave the fast path. */
const BAIL = Symbol('bail');

function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/** Replace the predefined entities and character references; bail on anything else after '&'. */
function decodeEntities(s: string): string {
  let out = '';
  let last = 0;
  for (let amp = s.indexOf('&'); amp >= 0; amp = s.indexOf('&', last)) {
    const semi = s.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 10) throw BAIL;
    const ref = s.slice(amp + 1, semi);
    let rep = PREDEFINED[ref];
    if (rep === undefined) {
      const m = /^#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}))$/.exec(ref);
      if (!m) throw BAIL;
      const c = m[1] !== undefined ? parseInt(m[1], 10) : parseInt(m[2]!, 16);
      if (!isXmlChar(c)) throw BAIL;
      rep = String.fromCodePoint(c);
    }
    out += s.slice(last, amp) + rep;
    last = semi + 1;
  }
  return out + s.slice(last);
}

/** Namespace scope: prefix → URI, chained to the parent scope by prototype. */
type Scope = Record<string, string>;

export interface FastLimits { maxDepth: number; maxElements: number; maxAttributes: number; maxNamespaceDeclarations: number }

/**
 * Parse `text` on the fast path; undefined when the strict parser must decide (see the module comment).
 * `text` is the decoded document (no BOM).
 */
export function fastParseXml(input: string, L: FastLimits): XmlDocument | undefined {
  const doc = new XmlDocument();
  let cur: XmlDocument | XmlElement = doc;
  const ok = fastScanXml(input, L, {
    open(el, selfClosing) {
      cur.append(el);
      if (cur === doc) doc.documentElement = el;
      if (!selfClosing) cur = el;
    },
    close(el) { cur = (el.parentNode ?? doc) as XmlDocument | XmlElement; },
    text(data, cdata) { cur.append(new XmlText(data, cdata)); },
    comment(data) { cur.append(new XmlComment(data)); },
  });
  return ok ? doc : undefined;
}

/** What the fast scanner reports, in document order (elements come unattached: a handler links them if it wants a tree). */
export interface XmlScanEvents {
  /** A start tag; `offset` is where its '>' is (of '/>' for an empty-element tag: the '/'), `start` where its '<' is. */
  open(el: XmlElement, selfClosing: boolean, offset: number, start: number): void;
  /** The end tag of `el`, starting at `offset` ('</'). Not called for empty-element tags. */
  close(el: XmlElement, offset: number): void;
  /** Character data inside the document element (entities replaced, line ends normalized). */
  text(data: string, cdata: boolean): void;
  /** A comment; `inRoot` false before or after the document element. */
  comment(data: string, inRoot: boolean): void;
}

/**
 * Scan `input` on the fast path and report it to `h`; false when the strict parser must decide (the events
 * reported so far are then to be discarded). Offsets are into `input` only when it has no carriage return.
 */
export function fastScanXml(input: string, L: FastLimits, h: XmlScanEvents): boolean {
  if (input.charCodeAt(0) === 0xfeff) return false;
  // one pass in the common case (neither bad characters nor surrogates); the two precise checks only when it finds one
  if (BAD_OR_SURROGATE.test(input) && (BAD_CHAR.test(input) || (SURROGATE.test(input) && LONE_SURROGATE.test(input)))) return false;
  const text = input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input;
  try {
    parse(text, L, h);
    return true;
  } catch (e) {
    if (e === BAIL) return false;
    throw e;
  }
}

function parse(text: string, L: FastLimits, h: XmlScanEvents): void {
  createScanner(L, h).feed(text, true);
}

/** Characters the fast path declines in a decoded piece (bad XML characters, lone surrogates, carriage returns). */
export function fastPieceOk(t: string): boolean {
  if (t.includes('\r')) return false;
  return !(BAD_OR_SURROGATE.test(t) && (BAD_CHAR.test(t) || (SURROGATE.test(t) && LONE_SURROGATE.test(t))));
}

/** The fast scanner over a document given in pieces (see createScanner); undefined-free wrapper that maps BAIL to false. */
export function fastScanner(L: FastLimits, h: XmlScanEvents): { feed(text: string, final: boolean): number | false } {
  const sc = createScanner(L, h);
  return {
    feed(text, final) {
      try { return sc.feed(text, final); } catch (e) { if (e === BAIL) return false; throw e; }
    },
  };
}

/** Where a start tag beginning at `lt` ends ('>' outside quoted values), or -1 if not within `text`. */
function tagEnd(text: string, lt: number): number {
  let q = 0;
  for (let j = lt + 1, n = text.length; j < n; j++) {
    const ch = text.charCodeAt(j);
    if (q) { if (ch === q) q = 0; continue; }
    if (ch === 0x22 || ch === 0x27) q = ch;
    else if (ch === 0x3e) return j;
  }
  return -1;
}

/**
 * The fast scanner, fed a document in pieces: `feed(window, final)` scans the complete constructs of `window` and
 * returns how much of it it consumed; the caller puts the rest in front of the next piece. Long text is reported
 * as it comes (in several `text` events). A piece must not contain a carriage return (the caller normalizes or
 * declines). Throws BAIL as parse() does.
 */
function createScanner(L: FastLimits, h: XmlScanEvents): { feed(text: string, final: boolean): number } {
  let cur: XmlElement | null = null; // innermost open element
  let sawRoot = false;
  const stack: XmlElement[] = [];
  const scopes: Scope[] = [];
  let scope: Scope = Object.assign(Object.create(null) as Scope, { xml: XML_NS, xmlns: XMLNS_NS });
  let elements = 0;
  let nsDecls = 0;
  let rootDone = false;
  let first = true;
  const names: string[] = [];
  const values: string[] = [];
  const cache = new NameCache();
  const textRun = (raw: string): void => {
    if (cur === null) {
      if (!ONLY_SPACE.test(raw)) throw BAIL;
    } else {
      if (raw.includes(']]>')) throw BAIL;
      h.text(raw.includes('&') ? decodeEntities(raw) : raw, false);
    }
  };
  return { feed(text: string, final: boolean): number {
  const n = text.length;
  let i = 0;
  if (first) {
    // the XML declaration is read whole (wait for it)
    if (!final && (text.length < 5 || (text.startsWith('<?xml') && text.indexOf('?>') < 0))) return 0;
    first = false;
    if (text.startsWith('<?xml', 0)) {
      XML_DECL.lastIndex = 0;
      if (!XML_DECL.exec(text)) throw BAIL;
      i = XML_DECL.lastIndex;
    }
  }
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0 && !final) {
      // text up to the end of this piece: report what cannot be the start of '&...;', ']]>' or a surrogate pair
      let safe = n;
      // (a forward search first: no '&' at all, the common case in long text, costs one memchr, not a backward walk)
      const amp = text.indexOf('&', i) < 0 ? -1 : text.lastIndexOf('&');
      if (amp >= i && text.indexOf(';', amp) < 0) safe = amp;
      else {
        if (safe > i && text.charCodeAt(safe - 1) === 0x5d) safe--;
        if (safe > i && text.charCodeAt(safe - 1) === 0x5d) safe--;
      }
      if (safe > i && (text.charCodeAt(safe - 1) & 0xfc00) === 0xd800) safe--;
      if (safe > i) textRun(text.slice(i, safe));
      return safe;
    }
    const end = lt < 0 ? n : lt;
    if (end > i) textRun(text.slice(i, end));
    if (lt < 0) break;
    if (!final && lt + 9 > n) return lt;
    const c = text.charCodeAt(lt + 1);
    if (c === 0x2f /* / */) {
      if (!final && text.indexOf('>', lt) < 0) return lt;
      if (cur === null) throw BAIL;
      const tn = cur.tagName;
      let e = lt + 2 + tn.length;
      if (!text.startsWith(tn, lt + 2) || scanName(text, lt + 2) !== e) throw BAIL;
      for (let ch = text.charCodeAt(e); ch === 0x20 || ch === 0x9 || ch === 0xa; ch = text.charCodeAt(++e));
      if (text.charCodeAt(e) !== 0x3e) throw BAIL;
      const closed = stack.pop()!;
      scope = scopes.pop()!;
      cur = stack.length ? stack[stack.length - 1]! : null;
      if (cur === null) rootDone = true;
      h.close(closed, lt);
      i = e + 1;
      continue;
    }
    if (c === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const e = text.indexOf('-->', lt + 4);
        if (e < 0) { if (!final) return lt; throw BAIL; }
        const body = text.slice(lt + 4, e);
        if (body.includes('--') || body.endsWith('-')) throw BAIL;
        h.comment(body, cur !== null);
        i = e + 3;
        continue;
      }
      if (text.startsWith('<![CDATA[', lt) && cur !== null) {
        const e = text.indexOf(']]>', lt + 9);
        if (e < 0 && !final) return lt;
        if (e < 0 || e === lt + 9) throw BAIL;
        h.text(text.slice(lt + 9, e), true);
        i = e + 3;
        continue;
      }
      throw BAIL; // DOCTYPE and anything else: the strict parser decides
    }
    // start tag (one cut by the end of this piece is read again with the next piece: see the '>' check below)
    if (rootDone && cur === null) throw BAIL;
    const nsBefore = nsDecls;
    let k = scanName(text, lt + 1);
    if (k < 0) {
      if (!final && tagEnd(text, lt) < 0) return lt; // a name cut after its prefix's ':'
      throw BAIL;
    }
    const tq = cache.at(text, lt + 1, k);
    const tagName = tq.name;
    names.length = 0;
    values.length = 0;
    let declScope: Scope | undefined;
    for (;;) {
      const ch = text.charCodeAt(k);
      if (ch === 0x3e /* > */ || ch === 0x2f /* / */) break;
      ATTR.lastIndex = k;
      const am = ATTR.exec(text);
      if (!am) break;
      k = ATTR.lastIndex;
      const name = am[1]!;
      let v = am[2] ?? am[3]!;
      if (v.includes('\t') || v.includes('\n')) v = v.replace(/[\t\n]/g, ' ');
      if (v.includes('&')) v = decodeEntities(v);
      names.push(name);
      values.push(v);
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        const p = name === 'xmlns' ? '' : name.slice(6);
        if (p === 'xml' || p === 'xmlns' || v === XML_NS || v === XMLNS_NS || v !== v.trim() || (p !== '' && v === '')) throw BAIL;
        if (++nsDecls > L.maxNamespaceDeclarations) throw BAIL;
        declScope ??= Object.create(scope) as Scope;
        if (Object.prototype.hasOwnProperty.call(declScope, p)) throw BAIL; // duplicate declaration
        declScope[p] = v;
      }
    }
    for (let ch = text.charCodeAt(k); ch === 0x20 || ch === 0x9 || ch === 0xa; ch = text.charCodeAt(++k));
    let selfClosing = false;
    if (text.charCodeAt(k) === 0x2f) { selfClosing = true; k++; }
    if (text.charCodeAt(k) !== 0x3e) {
      // not at its '>': malformed, or (not the last piece) the tag goes on in the next piece
      if (!final && (k >= n || tagEnd(text, lt) < 0)) { nsDecls = nsBefore; return lt; }
      throw BAIL;
    }
    i = k + 1;
    if (names.length > L.maxAttributes) throw BAIL;
    if (++elements > L.maxElements) throw BAIL;
    if (stack.length + 1 > L.maxDepth) throw BAIL;
    const here = declScope ?? scope;
    const prefix = tq.prefix, local = tq.local;
    let uri: string | undefined;
    if (prefix !== null) {
      if (prefix === 'xmlns') throw BAIL;
      uri = here[prefix];
      if (!uri) throw BAIL;
    } else {
      uri = here[''];
    }
    const attrs: XmlAttr[] = names.length ? new Array(names.length) : EMPTY;
    for (let a = 0; a < names.length; a++) {
      const q = cache.of(names[a]!);
      if (q.prefix === null) {
        attrs[a] = new XmlAttr(q.name, null, q.name, q.name === 'xmlns' ? XMLNS_NS : null, values[a]!);
      } else {
        const au = here[q.prefix];
        if (!au) throw BAIL;
        attrs[a] = new XmlAttr(q.name, q.prefix, q.local, au, values[a]!);
      }
    }
    // duplicates: by qualified name, and by expanded name for prefixed attributes
    if (attrs.length > 1) {
      const seen = new Set<string>();
      for (const a of attrs) {
        const key = a.prefix === null ? a.name : `{${a.namespaceURI}}${a.localName}`;
        if (seen.has(key)) throw BAIL;
        seen.add(key);
      }
    }
    const el = new XmlElement(tagName, prefix, local, uri ? uri : null, attrs);
    if (cur === null) sawRoot = true;
    h.open(el, selfClosing, selfClosing ? k - 1 : k, lt);
    if (!selfClosing) {
      stack.push(el);
      scopes.push(scope);
      scope = here;
      cur = el;
    } else if (cur === null) rootDone = true;
  }
  if (final && (stack.length || !sawRoot)) throw BAIL;
  return n;
  } };
}
