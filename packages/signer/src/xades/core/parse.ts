import { Buffer, isAscii, isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const BIG_TEXT = 65536;
const BIG_RUN = /[A-Za-z0-9+/=\r\n\t ]*/y;
import { XmlAttr, XmlComment, XmlDocument, XmlElement, XmlPI, XmlText } from './model.js';
import { XmlError } from './errors.js';
import { fastParseXml, fastPieceOk, fastScanXml, fastScanner, type XmlScanEvents } from './fastparse.js';

/** Limits applied before and while parsing untrusted XML. */
export interface XmlLimits {
  /** Largest accepted document in bytes (default 256 MiB). */
  maxBytes?: number;
  /** Deepest element nesting (default 256). */
  maxDepth?: number;
  /** Most elements (default 5,000,000). */
  maxElements?: number;
  /** Longest attribute count on one element (default 1,000). */
  maxAttributes?: number;
  /** Most namespace declarations in the whole document (default 10,000; bounds canonicalization work). */
  maxNamespaceDeclarations?: number;
}

const DEFAULTS: Required<XmlLimits> = { maxBytes: 256 * 1024 * 1024, maxDepth: 256, maxElements: 5_000_000, maxAttributes: 1000, maxNamespaceDeclarations: 10_000 };

/**
 * Lexical pre-scan of untrusted XML: refuses any DOCTYPE (so no DTD, no entity declaration, no external
 * entity can exist), counts nesting depth, elements and attributes without building anything. Linear time.
 */
export function prescanXml(text: string, limits: XmlLimits = {}): { elements: number; maxDepth: number } {
  const L = { ...DEFAULTS, ...limits };
  let depth = 0;
  let deepest = 0;
  let elements = 0;
  let i = 0;
  const n = text.length;
  const fail = (code: 'XML_TOO_DEEP' | 'XML_DTD_FORBIDDEN' | 'XML_MALFORMED' | 'XML_TOO_LARGE', msg: string): never => { throw new XmlError(code, msg); };
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const e = text.indexOf('-->', lt + 4);
        if (e < 0) fail('XML_MALFORMED', `unterminated comment at offset ${lt}`);
        i = e + 3;
      } else if (text.startsWith('<![CDATA[', lt)) {
        const e = text.indexOf(']]>', lt + 9);
        if (e < 0) fail('XML_MALFORMED', `unterminated CDATA section at offset ${lt}`);
        i = e + 3;
      } else {
        fail('XML_DTD_FORBIDDEN', `document type declarations (DTD, entities) are not accepted (offset ${lt})`);
      }
    } else if (c === 0x3f /* ? */) {
      const e = text.indexOf('?>', lt + 2);
      if (e < 0) fail('XML_MALFORMED', `unterminated processing instruction at offset ${lt}`);
      i = e + 2;
    } else if (c === 0x2f /* / */) {
      depth--;
      const e = text.indexOf('>', lt + 2);
      if (e < 0) fail('XML_MALFORMED', `unterminated end tag at offset ${lt}`);
      i = e + 1;
    } else {
      // start tag: find its end outside quoted attribute values
      let j = lt + 1;
      let q = 0;
      let attrs = 0;
      for (; j < n; j++) {
        const ch = text.charCodeAt(j);
        if (q) { if (ch === q) q = 0; continue; }
        if (ch === 0x22 || ch === 0x27) { q = ch; attrs++; continue; }
        if (ch === 0x3e) break;
        if (ch === 0x3c) fail('XML_MALFORMED', `'<' inside a start tag at offset ${j}`);
      }
      if (j >= n) fail('XML_MALFORMED', `unterminated start tag at offset ${lt}`);
      if (attrs / 2 > L.maxAttributes) fail('XML_TOO_LARGE', `more than ${L.maxAttributes} attributes on one element (offset ${lt})`);
      elements++;
      if (elements > L.maxElements) fail('XML_TOO_LARGE', `more than ${L.maxElements} elements`);
      if (text.charCodeAt(j - 1) !== 0x2f) {
        depth++;
        if (depth > deepest) deepest = depth;
        if (depth > L.maxDepth) fail('XML_TOO_DEEP', `elements nested deeper than ${L.maxDepth} (offset ${lt})`);
      }
      i = j + 1;
    }
  }
  return { elements, maxDepth: deepest };
}

/** Decode XML bytes: UTF-8 only (with or without BOM); an encoding declaration naming anything else is refused. */
export function decodeXml(bytes: Uint8Array | string, limits: XmlLimits = {}): string {
  const L = { ...DEFAULTS, ...limits };
  if (typeof bytes === 'string') {
    if (bytes.length > L.maxBytes) throw new XmlError('XML_TOO_LARGE', `document larger than ${L.maxBytes} bytes`);
    return bytes;
  }
  if (bytes.length > L.maxBytes) throw new XmlError('XML_TOO_LARGE', `document larger than ${L.maxBytes} bytes`);
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe) || bytes[0] === 0) {
    throw new XmlError('XML_ENCODING', 'only UTF-8 XML is accepted (UTF-16 found)');
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  // isUtf8 validates natively (much faster than a fatal TextDecoder on large documents); then decode.
  const body = bytes.subarray(start);
  if (!isUtf8(body)) throw new XmlError('XML_ENCODING', 'the document is not valid UTF-8');
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const decl = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[1]!)) throw new XmlError('XML_ENCODING', `encoding ${decl[1]} is not accepted (UTF-8 only)`);
  return text;
}

/**
 * Parse untrusted XML safely into kyso's tree (core/model.ts): size limit, then one streaming pass (saxes, strict
 * well-formedness and namespaces) that refuses any DOCTYPE (so no DTD, no entity declaration or expansion, no
 * external entity), and enforces the depth, element and attribute limits as it goes. Throws {@link XmlError}.
 */
export function parseXml(input: Uint8Array | string, limits: XmlLimits = {}): XmlDocument {
  const L = { ...DEFAULTS, ...limits };
  const text = decodeXml(input, limits);
  // Plain documents take the fast path; anything it is not sure about goes to the strict parser.
  return fastParseXml(text, L) ?? parseXmlStrict(text, L);
}

/**
 * Read decoded XML on the fast path only, reporting it to `events` without building a tree (e.g. to canonicalize
 * and digest a large document as it is read). Returns false when the document needs the strict parser
 * ({@link parseXml}), which then decides whether it is acceptable; the events reported so far are to be discarded.
 */
export function scanXml(decoded: string, events: XmlScanEvents, limits: XmlLimits = {}): boolean {
  return fastScanXml(decoded, { ...DEFAULTS, ...limits }, events);
}

/** saxes, loaded on first use: plain documents never need it (the fast path), so start-up does not pay for it. */
let saxes: typeof import('saxes') | undefined;
function loadSaxes(): typeof import('saxes') {
  return (saxes ??= createRequire(import.meta.url)('saxes') as typeof import('saxes'));
}

/** The strict character-by-character parse (saxes) of decoded text; the fast path's referee. */
export function parseXmlStrict(decoded: string, L: Required<XmlLimits>): XmlDocument {
  let text = decoded;
  // Long runs of base64-alphabet characters between tags (attachments) cannot contain markup: they are set aside
  // before the character-by-character parser runs and put back into the node that received their placeholder. The
  // placeholder carries a random nonce, so no document can forge one.
  const big: string[] = [];
  const nonce = `kyso${randomBytes(12).toString('hex')}`;
  if (text.length > BIG_TEXT) {
    const parts: string[] = [];
    let last = 0;
    for (let i = text.indexOf('>'); i >= 0; i = text.indexOf('>', i)) {
      BIG_RUN.lastIndex = i + 1;
      BIG_RUN.exec(text);
      const end = BIG_RUN.lastIndex;
      if (end - i - 1 >= BIG_TEXT && text.charCodeAt(end) === 0x3c) {
        const run = text.slice(i + 1, end);
        big.push(run.includes('\r') ? run.replace(/\r\n?/g, '\n') : run);
        parts.push(text.slice(last, i + 1), `${nonce}${big.length - 1}_`);
        last = end;
      }
      i = end > i + 1 ? end : i + 1;
    }
    if (big.length) { parts.push(text.slice(last)); text = parts.join(''); }
  }
  const restore = big.length ? (t: string): string => (t.includes(nonce) ? t.replace(new RegExp(`${nonce}(\\d+)_`, 'g'), (_m, i: string) => big[Number(i)]!) : t) : (t: string) => t;
  const doc = new XmlDocument();
  let cur: XmlDocument | XmlElement = doc;
  let depth = 0;
  let elements = 0;
  let nsDecls = 0;
  const p = new (loadSaxes().SaxesParser)({ xmlns: true, position: true });
  let problem: XmlError | undefined;
  const stop = (e: XmlError): never => { problem = e; throw e; };
  p.on('doctype', () => stop(new XmlError('XML_DTD_FORBIDDEN', 'document type declarations (DTD, entities) are not accepted')));
  p.on('opentag', (t) => {
    if (++depth > L.maxDepth) stop(new XmlError('XML_TOO_DEEP', `elements nested deeper than ${L.maxDepth} (line ${p.line})`));
    if (++elements > L.maxElements) stop(new XmlError('XML_TOO_LARGE', `more than ${L.maxElements} elements`));
    const attrs: XmlAttr[] = [];
    for (const k in t.attributes) {
      const a = t.attributes[k] as { name: string; prefix: string; local: string; uri: string; value: string };
      attrs.push(new XmlAttr(a.name, a.prefix || null, a.local, a.uri || null, a.value));
      if (a.uri === 'http://www.w3.org/2000/xmlns/' && ++nsDecls > L.maxNamespaceDeclarations) stop(new XmlError('XML_TOO_LARGE', `more than ${L.maxNamespaceDeclarations} namespace declarations`));
    }
    if (attrs.length > L.maxAttributes) stop(new XmlError('XML_TOO_LARGE', `more than ${L.maxAttributes} attributes on one element (line ${p.line})`));
    const el = new XmlElement(t.name, t.prefix || null, t.local ?? t.name, t.uri || null, attrs);
    cur.append(el);
    if (cur === doc) doc.documentElement = el;
    cur = el;
  });
  p.on('closetag', () => { depth--; cur = (cur.parentNode ?? doc) as XmlDocument | XmlElement; });
  p.on('text', (t) => { if (cur !== doc) cur.append(new XmlText(restore(t))); });
  p.on('cdata', (t) => { if (cur !== doc) cur.append(new XmlText(restore(t), true)); });
  p.on('comment', (t) => cur.append(new XmlComment(restore(t))));
  p.on('processinginstruction', (pi) => cur.append(new XmlPI(pi.target, restore(pi.body))));
  try {
    p.write(text).close();
  } catch (e) {
    if (problem) throw problem;
    throw new XmlError('XML_MALFORMED', `not well-formed XML (${(e as Error).message})`, { cause: e });
  }
  if (!doc.documentElement) throw new XmlError('XML_MALFORMED', 'no document element');
  return doc;
}

export type { XmlScanEvents } from './fastparse.js';

const isBadAscii = (c: number): boolean => c < 0x20 && c !== 0x09 && c !== 0x0a;

/**
 * {@link asciiPieceOk} in plain JavaScript (where WebAssembly SIMD is not available): four bytes at a time, a byte
 * below 0x20 sets the high bit of (x - 0x20202020) & ~x (exact for "is there one", the bytes being below 0x80); only
 * such words are looked at byte by byte.
 */
export function asciiPieceOkJs(b: Uint8Array): boolean {
  const n = b.length;
  let i = 0;
  const head = Math.min(n, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) if (isBadAscii(b[i]!)) return false;
  const words = i < n ? (n - i) >> 2 : 0; // (a piece shorter than its way to alignment is all head)
  const w = words > 0 ? new Int32Array(b.buffer, b.byteOffset + i, words) : new Int32Array(0);
  for (let k = 0; k < words; k++) {
    const x = w[k]!;
    if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
      for (let j = i + 4 * k, e = j + 4; j < e; j++) if (isBadAscii(b[j]!)) return false;
    }
  }
  for (i += words * 4; i < n; i++) if (isBadAscii(b[i]!)) return false;
  return true;
}

/**
 * A WebAssembly module (218 bytes, SIMD) exporting `mem` (one 64 KiB page) and `scan(len) -> i32`: 1 if
 * mem[0, len) holds a byte below 0x20 other than 0x09 and 0x0a, else 0. In text form:
 *   (func (param $len i32) (result i32) (local $i i32) (local $c i32) (local $acc v128) (local $v v128)
 *     (block (loop  ;; 16 bytes at a time: acc |= (v <u 0x20) & ~((v == 0x09) | (v == 0x0a))
 *       (br_if 1 (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
 *       (local.set $v (v128.load (local.get $i)))
 *       (local.set $acc (v128.or (local.get $acc) (v128.andnot (i8x16.lt_u (local.get $v) (i8x16.splat 0x20))
 *         (v128.or (i8x16.eq (local.get $v) (i8x16.splat 0x09)) (i8x16.eq (local.get $v) (i8x16.splat 0x0a))))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 16))) (br 0)))
 *     (block (loop  ;; the last bytes one by one
 *       (br_if 1 (i32.ge_u (local.get $i) (local.get $len)))
 *       (local.set $c (i32.load8_u (local.get $i)))
 *       (if (i32.and (i32.and (i32.lt_u (local.get $c) (i32.const 0x20)) (i32.ne (local.get $c) (i32.const 9)))
 *             (i32.ne (local.get $c) (i32.const 10))) (then (return (i32.const 1))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0)))
 *     (v128.any_true (local.get $acc)))
 * (tests compare it with asciiPieceOkJs and fastPieceOk byte value by byte value, at every position)
 */
export const SCAN_WASM = 'AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEAAQcOAgNtZW0CAARzY2FuAAAKrgEBqwECAn8CewJAA0AgAUEQaiAASw0BIAH9AAAAIQQgAyAE/QwgICAgICAgICAgICAgICAg/SYgBP0MCQkJCQkJCQkJCQkJCQkJCf0jIAT9DAoKCgoKCgoKCgoKCgoKCgr9I/1Q/U/9UCEDIAFBEGohAQwACwsCQANAIAEgAE8NASABLQAAIQIgAkEgSSACQQlHcSACQQpHcQRAQQEPCyABQQFqIQEMAAsLIAP9Uws=';

let simdScan: { mem: Uint8Array; scan: (len: number) => number } | null | undefined;
function simd(): typeof simdScan {
  if (simdScan !== undefined) return simdScan;
  try {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SCAN_WASM, 'base64')));
    simdScan = { mem: new Uint8Array((exports.mem as WebAssembly.Memory).buffer), scan: exports.scan as (len: number) => number };
  } catch {
    simdScan = null; // no WebAssembly SIMD here: the JavaScript loop
  }
  return simdScan;
}

/**
 * For a piece that is all ASCII, what fastPieceOk says of its text: false if it holds a C0 control character other
 * than tab and line feed (carriage return included: the fast path leaves line-end normalisation to saxes). Checked on
 * the bytes with WebAssembly SIMD, 64 KiB at a time: ~0.25 ns a byte where the regular expression over the decoded
 * text took ~1 ns (20 MB: ~5 ms instead of ~20 ms).
 */
export function asciiPieceOk(b: Uint8Array): boolean {
  const s = simd();
  if (!s) return asciiPieceOkJs(b);
  const room = s.mem.length;
  for (let off = 0; off < b.length; off += room) {
    const part = b.subarray(off, off + room);
    s.mem.set(part);
    if (s.scan(part.length) !== 0) return false;
  }
  return true;
}

/**
 * The fast scanner over a document read in pieces of bytes (a file, chunk by chunk): UTF-8 decoded piece by
 * piece, never the whole document at once. `push` each piece in order, then `end()`; both return false as soon as
 * the document needs the strict parser ({@link parseXml} then decides whether it is acceptable: DTD, processing
 * instruction, carriage return, non-ASCII name, a construct longer than 8 MiB, invalid UTF-8, another encoding...)
 * and the events reported so far are to be discarded. Offsets in the events are into the current window:
 * {@link byteOffset} turns them into byte offsets of the input.
 */
export class XmlChunkScanner {
  readonly #scan: ReturnType<typeof fastScanner>;
  #pending: Uint8Array = new Uint8Array(0);
  #carry = '';
  #carryBytes = 0;
  #carryBase = 0;
  #window = '';
  #windowBase = 0;
  #windowBytes = 0;
  #first = true;
  #failed = false;
  #declChecked = false;
  constructor(events: XmlScanEvents, limits: XmlLimits = {}) {
    this.#scan = fastScanner({ ...DEFAULTS, ...limits }, events);
  }
  /** Byte offset in the input of position `k` of the window the current event comes from. */
  byteOffset(k: number): number {
    const w = this.#window;
    return k <= w.length / 2 ? this.#windowBase + Buffer.byteLength(w.slice(0, k), 'utf8')
      : this.#windowBase + this.#windowBytes - Buffer.byteLength(w.slice(k), 'utf8');
  }
  /** Scan the next piece of the input; false if the fast path declines the document. */
  push(piece: Uint8Array): boolean {
    if (this.#failed) return false;
    let b = this.#pending.length ? Buffer.concat([this.#pending, piece]) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (this.#first) {
      if (b.length < 4) { this.#pending = new Uint8Array(b); return true; }
      this.#first = false;
      if ((b[0] === 0xfe && b[1] === 0xff) || (b[0] === 0xff && b[1] === 0xfe) || b[0] === 0) return this.#fail();
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) { b = b.subarray(3); this.#carryBase = 3; }
    }
    // decode up to the last complete UTF-8 sequence
    let cut = b.length;
    let k = cut - 1;
    while (k >= 0 && cut - k <= 3 && (b[k]! & 0xc0) === 0x80) k--;
    if (k >= 0) {
      const lead = b[k]!;
      const len = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
      if (k + len > b.length) cut = k;
    }
    const body = b.subarray(0, cut);
    this.#pending = new Uint8Array(b.subarray(cut));
    let t: string;
    if (isAscii(body)) {
      // (large attachments: all ASCII) checked on the bytes, a one-byte string without UTF-8 decoding
      if (!asciiPieceOk(body)) return this.#fail();
      t = body.toString('latin1');
    } else {
      if (!isUtf8(body)) return this.#fail();
      t = body.toString('utf8');
      if (!fastPieceOk(t)) return this.#fail();
    }
    return this.#feed(this.#carry + t, this.#carryBytes + body.length, false);
  }
  /** The input is complete; false if the fast path declines the document. */
  end(): boolean {
    if (this.#failed) return false;
    if (this.#pending.length) {
      if (this.#first) { const p = this.#pending; this.#pending = new Uint8Array(0); this.#first = false; if (p.length && (p[0] === 0xfe || p[0] === 0xff || p[0] === 0)) return this.#fail(); if (!isUtf8(p)) return this.#fail(); const t = Buffer.from(p).toString('utf8'); if (!fastPieceOk(t)) return this.#fail(); return this.#feed(this.#carry + t, this.#carryBytes + p.length, true); }
      return this.#fail(); // a truncated UTF-8 sequence
    }
    return this.#feed(this.#carry, this.#carryBytes, true);
  }
  #feed(window: string, windowBytes: number, final: boolean): boolean {
    if (!this.#declChecked && (final || window.includes('>'))) {
      // as decodeXml: an encoding declaration must name UTF-8
      this.#declChecked = true;
      const decl = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(window);
      if (decl && !/^utf-?8$/i.test(decl[1]!)) return this.#fail();
    }
    this.#window = window;
    this.#windowBase = this.#carryBase;
    this.#windowBytes = windowBytes;
    const used = this.#scan.feed(window, final);
    if (used === false) return this.#fail();
    this.#carry = window.slice(used);
    if (this.#carry.length > 8 * 1024 * 1024) return this.#fail();
    this.#carryBytes = this.#carry.length ? Buffer.byteLength(this.#carry, 'utf8') : 0;
    this.#carryBase = this.#windowBase + windowBytes - this.#carryBytes;
    return true;
  }
  #fail(): false { this.#failed = true; return false; }
}
