import { createPublicKey, randomBytes, verify as nodeVerify, constants } from 'node:crypto';
import type { XmlDocument as Document, XmlElement as Element } from './core/model.js';
import {
  CertInfo, PkiClientError, certInfoOf, ctx as derCtx, requestTimestamp, seq, tlv, HASH_LENGTHS,
  type HashName, type SignatureAlgorithm, type TimestampRequestOptions,
} from '@kyso/pki';
import { SignerError } from '../crypto/errors.js';
import { assertAlgorithmFitsKey, describeKey } from '../crypto/keys/software.js';
import { defaultSignatureAlgorithm, type KeyBackend } from '../crypto/keys/types.js';
import { collectValidationData, type CollectOptions, type ValidationData } from '../crypto/ltv/collect.js';
import { canonicalize, c14nMethod, C14nDocumentStream, inScopeNamespaces, type C14nMethod } from './core/c14n.js';
import { C14N, C14N_NAMES, DIGEST_URI, NS, SIGNED_PROPERTIES_TYPE, TRANSFORM, signatureMethodUri } from './core/constants.js';
import { childElements, descendants, indexIds, xmlAttr, xmlText } from './core/dom.js';
import { XmlError } from './core/errors.js';
import { parseXml, decodeXml, scanXml, XmlChunkScanner, type XmlLimits } from './core/parse.js';
import { isEdxmlAttachmentText, readTreeStreaming, type StreamedBase64 } from './core/stream-tree.js';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { nodeHash } from './core/reference.js';
import { c14nDigest, hashBytes, utf8HashSink } from './core/reference.js';
import { xadesArchiveTimestampInput, qualifyingPropertiesOf, xadesSignatureTimestampInput } from './core/archive.js';
import { locateEndTag, type EndTagPosition } from './locate.js';

/** Where the signature sits relative to the signed data. */
export type XmlSignatureMode = 'enveloped' | 'enveloping' | 'detached';
/** Plain XMLDSig, or a XAdES baseline level (EN 319 132-1). */
export type XadesLevel = 'XMLDSIG' | 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

/** A further same-document reference to sign (e.g. an edXML manifest), by element ID. */
export interface ExtraReference {
  id: string;
  mimeType?: string;
  /** 'enveloped': the element contains the signature (enveloped-signature transform, then c14n);
   *  'subtract-signatures': like enveloped, but every ds:Signature is left out (XPath Filter 2 subtract
   *  //ds:Signature), so further signers can add their enveloped signatures without breaking this one;
   *  'base64': the element's text is base64 and the decoded bytes are signed (base64 transform). */
  transform?: 'enveloped' | 'subtract-signatures' | 'base64';
}

/** Options shared by {@link signXml} and {@link prepareXml}. */
export interface XmlSignOptionsBase {
  /** Default 'enveloped'. */
  mode?: XmlSignatureMode;
  /** Default 'B-B'. */
  level?: XadesLevel;
  /** Digest of references and signature (default from the key: SHA-256, SHA-384 for P-384...). */
  hash?: HashName;
  signatureAlgorithm?: SignatureAlgorithm;
  /** Canonicalization of SignedInfo and of the references: a URI or one of c14n, c14n11, exc-c14n (+ "-with-comments"). Default exc-c14n. */
  c14n?: string;
  /** Detached data (mode 'detached'): the bytes and the URI written in the Reference (e.g. the file name). */
  detached?: { data: Uint8Array; uri: string; mimeType?: string };
  /** Enveloped: the element that receives the signature (default the document element). */
  parent?: (doc: Document) => Element;
  /** Enveloped: sign only these elements by ID instead of the whole document (URI=""). */
  references?: ExtraReference[];
  /** Enveloped: add these ID references besides the whole-document reference. */
  extraReferences?: ExtraReference[];
  /** Enveloped, whole document: leave every ds:Signature out (XPath Filter 2 subtract) instead of only this one,
   *  so that several signers can each add an enveloped signature (co-signing). Default false (enveloped-signature). */
  allowFurtherSignatures?: boolean;
  /** Claimed signing time (XAdES SigningTime; default now). */
  signingTime?: Date;
  /** Signature Id (default random "kyso-sig-…"). */
  id?: string;
  /** MIME type for DataObjectFormat of the main reference (default text/xml, or the detached one). */
  mimeType?: string;
  limits?: XmlLimits;
}

/** TSA and LTV options of the B-T / B-LT / B-LTA steps. */
export interface XmlExtendOptions {
  tsa?: TimestampRequestOptions & { url: string };
  ltv?: CollectOptions;
}

/** Options of {@link signXml}. */
export interface SignXmlOptions extends XmlSignOptionsBase, XmlExtendOptions { backend: KeyBackend }

/** Options of {@link prepareXml}: the certificate instead of a key. */
export interface PrepareXmlOptions extends XmlSignOptionsBase { certificate: Uint8Array; chain?: Uint8Array[] }

/** JSON-serialisable state between {@link prepareXml} and {@link finalizeXml}. */
export interface XmlSignState {
  v: 1;
  kind: 'kyso-xml';
  level: XadesLevel;
  hash: HashName;
  signatureAlgorithm: SignatureAlgorithm;
  c14n: string;
  sigId: string;
  /** Output = before + fragment + after; the fragment holds the signature with a placeholder value. */
  before: string;
  fragment: string;
  after: string;
  /** Start/end tags reproducing the namespace context of the signature's parent. */
  wrapOpen: string;
  wrapClose: string;
  /** base64 of the canonical SignedInfo (what is signed). */
  toBeSigned: string;
  certificate: string;
  chain: string[];
}

/** Result of {@link prepareXml}. */
export interface PreparedXml {
  /** Canonical SignedInfo octets: what data-signing backends sign. */
  toBeSigned: Uint8Array;
  /** Hash of toBeSigned: what digest-signing backends (HSM, CSC signHash) sign. */
  digestToSign: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  state: XmlSignState;
}

const SIGVALUE = '@@KYSO-SIGNATURE-VALUE@@';
const SPDIGEST = '@@KYSO-SIGNED-PROPERTIES-DIGEST@@';
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** Canonicalization method for a name or URI (throws XML_UNSUPPORTED). */
export function resolveC14n(name: string | undefined): C14nMethod {
  const uri = name === undefined ? C14N.exc : C14N_NAMES[name] ?? name;
  const m = c14nMethod(uri);
  if (!m) throw new XmlError('XML_UNSUPPORTED', `unknown canonicalization ${name} (use ${Object.keys(C14N_NAMES).join(', ')})`);
  return m;
}

/** IssuerSerial (RFC 5035) DER of a certificate, as XAdES IssuerSerialV2 carries it. */
function issuerSerialDer(cert: CertInfo): Uint8Array {
  return seq(seq(derCtx(4, true, cert.issuerDer)), tlv(0x02, cert.serialDer));
}

function transformXml(uris: string[], c14n: C14nMethod): string {
  const t = uris.map((u) => `<ds:Transform Algorithm="${u}"/>`).join('') + `<ds:Transform Algorithm="${c14n.uri}"/>`;
  return `<ds:Transforms>${t}</ds:Transforms>`;
}

function referenceXml(p: { id?: string; uri: string; type?: string; transforms?: string; hash: HashName; digest: string }): string {
  return `<ds:Reference${p.id ? ` Id="${xmlAttr(p.id)}"` : ''}${p.type ? ` Type="${p.type}"` : ''} URI="${xmlAttr(p.uri)}">${p.transforms ?? ''}`
    + `<ds:DigestMethod Algorithm="${DIGEST_URI[p.hash]}"/><ds:DigestValue>${p.digest}</ds:DigestValue></ds:Reference>`;
}

const SUBTRACT_SIGNATURES = `<ds:Transforms><ds:Transform Algorithm="${TRANSFORM.xpath2}"><dsig-xpath:XPath xmlns:dsig-xpath="${TRANSFORM.xpath2}" Filter="subtract">//ds:Signature</dsig-xpath:XPath></ds:Transform>`;

/** Every ds:Signature inside a node (left out of co-signed references). */
function signaturesIn(root: Document | Element): Set<Element> {
  const out = new Set<Element>();
  for (const e of descendants(root)) if (e.namespaceURI === NS.ds && e.localName === 'Signature') out.add(e);
  return out;
}

function isoSeconds(d: Date): string { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }

/** The context wrapper (in-scope namespaces and xml:* attributes of the parent) for parsing the fragment alone. */
function contextWrapper(parent: Element | undefined): { open: string; close: string } {
  if (!parent) return { open: '', close: '' };
  const ns = inScopeNamespaces(parent);
  let attrs = '';
  for (const [p, u] of ns) if (p !== 'xml') attrs += p === '' ? ` xmlns="${xmlAttr(u)}"` : ` xmlns:${p}="${xmlAttr(u)}"`;
  const seen = new Set<string>();
  for (let n: Element | null = parent; n && n.nodeType === 1; n = n.parentNode as Element | null) {
    // every xml:* attribute (C14N 1.0 inherits xml:id too), nearest ancestor first
    for (let i = 0; i < n.attributes.length; i++) {
      const a = n.attributes.item(i)!;
      if (a.namespaceURI !== NS.xml || seen.has(a.localName!)) continue;
      seen.add(a.localName!);
      attrs += ` xml:${a.localName}="${xmlAttr(a.value)}"`;
    }
  }
  return { open: `<kyso-context${attrs}>`, close: '</kyso-context>' };
}

/**
 * Whole-document enveloped reference computed while the document is scanned (fast path only): the canonical form
 * streamed into the hash, the document element and where its end tag is. Undefined when the document needs the
 * strict parser (then the tree path runs) or has carriage returns (offsets would shift). Throws if the signature
 * Id is already an ID of the document.
 */
function streamWholeDocument(text: string, c14n: C14nMethod, hash: HashName, sigId: string, limits?: XmlLimits): { digest: Uint8Array; root: Element; end: EndTagPosition } | undefined {
  if (text.includes('\r')) return undefined;
  const h = createHash(nodeHash(hash));
  const c = new C14nDocumentStream(c14n, utf8HashSink(h).sink);
  let depth = 0;
  let root: Element | undefined;
  let end: EndTagPosition | undefined;
  let clash = false;
  const ok = scanXml(text, {
    open(el, selfClosing, offset) {
      if (depth === 0) { root = el; if (selfClosing) end = { offset, selfClosing: true }; }
      for (const a of el.attributeArray) {
        if (a.value === sigId && (a.namespaceURI === null ? a.name === 'Id' || a.name === 'ID' || a.name === 'id' : a.namespaceURI === NS.xml && a.localName === 'id')) clash = true;
      }
      if (!selfClosing) depth++;
      c.open(el, selfClosing);
    },
    close(el, offset) {
      if (--depth === 0) end = { offset, selfClosing: false };
      c.close(el);
    },
    text(data) { c.text(data); },
    comment() { /* comments are not part of the reference (URI="") */ },
  }, limits);
  if (!ok || !root || !end) return undefined;
  if (clash) throw new XmlError('XML_INPUT', `ID ${sigId} already exists in the document`);
  c.end();
  return { digest: new Uint8Array(h.digest()), root, end };
}

function signatureIn(text: string, sigId: string, limits?: XmlLimits): { doc: Document; sig: Element } {
  const doc = parseXml(text, limits);
  for (const e of descendants(doc)) if (e.namespaceURI === NS.ds && e.localName === 'Signature' && e.getAttribute('Id') === sigId) return { doc, sig: e };
  throw new XmlError('XML_SIGNATURE_NOT_FOUND', `signature ${sigId} not found`);
}

/**
 * First step of XML signing: build the ds:Signature (with XAdES SignedProperties unless level XMLDSIG), compute
 * every reference digest and the canonical SignedInfo. No key needed; returns what to sign and a state for
 * {@link finalizeXml}.
 */
export function prepareXml(input: Uint8Array | string, opts: PrepareXmlOptions): PreparedXml {
  return prepareXmlImpl(input, opts).prepared;
}

/**
 * Where the signature goes in the decoded input when the output is simply `text[0, cut) + fragment + text[cut..]`
 * (enveloped, the parent's end tag is not an empty-element tag): lets one-step signing copy the input bytes around
 * the inserted signature instead of encoding the whole document again.
 */
interface Cut { text: string; offset: number }

/** A document already decoded and parsed by the caller (signEdxml), so it is not parsed twice. */
export interface ParsedXml {
  text: string;
  doc: Document;
  /** The document was read piece by piece (readTreeStreaming): these elements' text is not in `doc`, their
   *  digests are; `text` is empty and the caller places the signature (no before/after in the state). */
  streamed?: ReadonlyMap<Element, StreamedBase64>;
}
type Parsed = ParsedXml;

/** The whole-document digest computed by the caller as it read the document (see signXmlFile). */
type ExternalDigest = (c14n: C14nMethod, hash: HashName, sigId: string) => { digest: Uint8Array; root: Element } | undefined;
const EXTERNAL_DECLINED = Symbol('the document needs the in-memory path');

function prepareXmlImpl(input: Uint8Array | string, opts: PrepareXmlOptions, parsed?: Parsed, external?: ExternalDigest): { prepared: PreparedXml; cut?: Cut } {
  let cut: Cut | undefined;
  const mode = opts.mode ?? 'enveloped';
  const level = opts.level ?? 'B-B';
  let cert: CertInfo;
  try { cert = certInfoOf(opts.certificate); } catch (e) { throw new SignerError('CERT_PARSE', `signer certificate: ${(e as Error).message}`, { cause: e }); }
  const keyInfo = describeKey(cert.publicKey);
  const alg = opts.signatureAlgorithm ?? defaultSignatureAlgorithm(keyInfo, opts.hash);
  const hash = alg.hash;
  if (opts.hash && opts.hash !== hash) throw new SignerError('ALG_UNSUPPORTED', `signature hash ${hash} differs from ${opts.hash}`);
  assertAlgorithmFitsKey(keyInfo, alg);
  if (alg.scheme === 'RSA-PSS' && alg.saltLength !== undefined && alg.saltLength !== HASH_LENGTHS[hash]) {
    throw new SignerError('ALG_UNSUPPORTED', 'XML RSASSA-PSS (RFC 6931 sha*-rsa-MGF1) uses a salt as long as the hash');
  }
  const c14n = resolveC14n(opts.c14n);
  const sigId = opts.id ?? `kyso-sig-${randomBytes(8).toString('hex')}`;
  if (!/^[A-Za-z_][\w.-]*$/.test(sigId)) throw new XmlError('XML_INPUT', 'signature Id must be an XML NCName');
  const methodUri = signatureMethodUri(alg.scheme, hash);
  const chain = opts.chain ?? [];

  let before = '', after = '';
  let wrap = { open: '', close: '' };
  const refs: string[] = [];
  let objectXml = '';
  let mainRefId = `${sigId}-ref-0`;
  let mime = opts.mimeType ?? 'text/xml';

  const streamable = mode === 'enveloped' && !opts.parent && !opts.references?.length && !opts.extraReferences?.length && !opts.allowFurtherSignatures;
  if (external) {
    // the document is read by the caller (signXmlFile: a file, piece by piece); only the signature is built here
    const r = streamable ? external(c14n, hash, sigId) : undefined;
    if (!r) throw EXTERNAL_DECLINED;
    wrap = contextWrapper(r.root);
    refs.push(referenceXml({ id: mainRefId, uri: '', transforms: transformXml([TRANSFORM.enveloped], c14n), hash, digest: b64(r.digest) }));
  }
  const text = mode === 'enveloped' && !external ? parsed?.text ?? decodeXml(input, opts.limits) : '';
  const streamed = streamable && !external ? streamWholeDocument(text, c14n, hash, sigId, opts.limits) : undefined;
  if (external) { /* done above */ } else if (streamed) {
    // The common case (whole document, enveloped): digested as it is read, no tree built.
    const pos = streamed.end;
    if (!pos.selfClosing) cut = { text, offset: pos.offset };
    if (pos.selfClosing) {
      before = text.slice(0, pos.offset) + '>';
      after = `</${streamed.root.tagName}>` + text.slice(pos.offset + 2);
    } else {
      before = text.slice(0, pos.offset);
      after = text.slice(pos.offset);
    }
    wrap = contextWrapper(streamed.root);
    refs.push(referenceXml({ id: mainRefId, uri: '', transforms: transformXml([TRANSFORM.enveloped], c14n), hash, digest: b64(streamed.digest) }));
  } else if (mode === 'enveloped') {
    const doc = parsed?.doc ?? parseXml(text, opts.limits);
    const parent = opts.parent ? opts.parent(doc) : doc.documentElement!;
    const ids = indexIds(doc);
    if (ids.byId.has(sigId)) throw new XmlError('XML_INPUT', `ID ${sigId} already exists in the document`);
    // a document read piece by piece (signEdxmlFile): its caller writes the output around the signature
    const pos = parsed?.streamed ? { offset: 0, selfClosing: false } : locateEndTag(text, doc, parent);
    if (!pos.selfClosing && !parsed?.streamed) cut = { text, offset: pos.offset };
    if (parsed?.streamed) { /* before and after stay empty */ } else if (pos.selfClosing) {
      before = text.slice(0, pos.offset) + '>';
      after = `</${parent.tagName}>` + text.slice(pos.offset + 2);
    } else {
      before = text.slice(0, pos.offset);
      after = text.slice(pos.offset);
    }
    wrap = contextWrapper(parent);
    const byId = (r: ExtraReference, i: number) => {
      if (ids.duplicates.has(r.id)) throw new XmlError('XML_INPUT', `ID ${r.id} occurs more than once`);
      const el = ids.byId.get(r.id);
      if (!el) throw new XmlError('XML_INPUT', `no element with ID ${r.id}`);
      if (r.transform === 'base64') {
        // (text digested as the document streamed by, or decoded here)
        const pre = parsed?.streamed?.get(el);
        const digest = pre ? pre.digests.get(hash) : hashBytes(hash, Buffer.from(el.textContent ?? '', 'base64'));
        if (!digest) throw new XmlError('XML_INPUT', `internal: ${r.id} was not digested with ${hash}`);
        refs.push(referenceXml({ id: `${sigId}-ref-${i}`, uri: `#${r.id}`, transforms: `<ds:Transforms><ds:Transform Algorithm="${TRANSFORM.base64}"/></ds:Transforms>`, hash, digest: b64(digest) }));
        return;
      }
      if (r.transform === 'subtract-signatures') {
        const d = c14nDigest(hash, el, c14n, { comments: false, exclude: signaturesIn(el) });
        refs.push(referenceXml({ id: `${sigId}-ref-${i}`, uri: `#${r.id}`, transforms: SUBTRACT_SIGNATURES + `<ds:Transform Algorithm="${c14n.uri}"/></ds:Transforms>`, hash, digest: b64(d) }));
        return;
      }
      const d = c14nDigest(hash, el, c14n, { comments: false });
      refs.push(referenceXml({ id: `${sigId}-ref-${i}`, uri: `#${r.id}`, transforms: transformXml(r.transform === 'enveloped' ? [TRANSFORM.enveloped] : [], c14n), hash, digest: b64(d) }));
    };
    if (opts.references?.length) {
      opts.references.forEach((r, i) => byId(r, i));
    } else {
      if (opts.allowFurtherSignatures) {
        const d = c14nDigest(hash, doc, c14n, { comments: false, exclude: signaturesIn(doc) });
        refs.push(referenceXml({ id: mainRefId, uri: '', transforms: SUBTRACT_SIGNATURES + `<ds:Transform Algorithm="${c14n.uri}"/></ds:Transforms>`, hash, digest: b64(d) }));
      } else {
        const d = c14nDigest(hash, doc, c14n, { comments: false });
        refs.push(referenceXml({ id: mainRefId, uri: '', transforms: transformXml([TRANSFORM.enveloped], c14n), hash, digest: b64(d) }));
      }
      (opts.extraReferences ?? []).forEach((r, i) => byId(r, i + 1));
    }
  } else if (mode === 'enveloping') {
    const text = decodeXml(input, opts.limits);
    const doc = parseXml(text, opts.limits);
    const objId = `${sigId}-object`;
    if (indexIds(doc).byId.has(objId)) throw new XmlError('XML_INPUT', `ID ${objId} already exists in the content`);
    // The content's root element, as written (no XML declaration), inside ds:Object.
    const root = doc.documentElement!;
    const start = text.indexOf('<' + root.tagName);
    const rootText = text.slice(start, locateEndTag(text, doc, root).offset);
    const pos = locateEndTag(text, doc, root);
    const rootXml = pos.selfClosing ? text.slice(start, pos.offset + 2) : rootText + `</${root.tagName}>`;
    objectXml = `<ds:Object Id="${objId}" MimeType="text/xml">${rootXml}</ds:Object>`;
    refs.push(`@@KYSO-OBJECT-REF@@`);
  } else {
    if (!opts.detached) throw new XmlError('XML_INPUT', 'detached mode needs the detached data and its URI');
    if (opts.detached.uri === '' || opts.detached.uri.startsWith('#')) throw new XmlError('XML_INPUT', 'a detached reference URI must not be empty or start with #');
    mime = opts.detached.mimeType ?? opts.mimeType ?? 'application/octet-stream';
    refs.push(referenceXml({ id: mainRefId, uri: opts.detached.uri, hash, digest: b64(hashBytes(hash, opts.detached.data)) }));
  }

  const xades = level !== 'XMLDSIG';
  const spId = `${sigId}-signedprops`;
  let qp = '';
  if (xades) {
    const certDigest = b64(hashBytes(hash, cert.der));
    const signingTime = opts.signingTime ?? new Date();
    qp = `<ds:Object><xades:QualifyingProperties xmlns:xades="${NS.xades}" Target="#${sigId}">`
      + `<xades:SignedProperties Id="${spId}"><xades:SignedSignatureProperties>`
      + `<xades:SigningTime>${isoSeconds(signingTime)}</xades:SigningTime>`
      + `<xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${DIGEST_URI[hash]}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xades:CertDigest>`
      + `<xades:IssuerSerialV2>${b64(issuerSerialDer(cert))}</xades:IssuerSerialV2></xades:Cert></xades:SigningCertificateV2>`
      + `</xades:SignedSignatureProperties><xades:SignedDataObjectProperties>`
      + `<xades:DataObjectFormat ObjectReference="#${mainRefId}"><xades:MimeType>${xmlText(mime)}</xades:MimeType></xades:DataObjectFormat>`
      + `</xades:SignedDataObjectProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>`;
    refs.push(referenceXml({ uri: `#${spId}`, type: SIGNED_PROPERTIES_TYPE, transforms: `<ds:Transforms><ds:Transform Algorithm="${c14n.uri}"/></ds:Transforms>`, hash, digest: SPDIGEST }));
  }
  const keyInfoXml = `<ds:KeyInfo><ds:X509Data>${[cert.der, ...chain].map((d) => `<ds:X509Certificate>${b64(d)}</ds:X509Certificate>`).join('')}</ds:X509Data></ds:KeyInfo>`;
  const build = (refXml: string[]) => `<ds:Signature xmlns:ds="${NS.ds}" Id="${sigId}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${c14n.uri}"/>`
    + `<ds:SignatureMethod Algorithm="${methodUri}"/>${refXml.join('')}</ds:SignedInfo>`
    + `<ds:SignatureValue Id="${sigId}-value">${SIGVALUE}</ds:SignatureValue>${keyInfoXml}${objectXml}${qp}</ds:Signature>`;

  let fragment = build(refs);
  if (mode === 'enveloping') {
    mainRefId = `${sigId}-ref-0`;
    const { sig } = signatureIn(fragment, sigId, opts.limits);
    const obj = childElements(sig, NS.ds, 'Object').find((o) => o.getAttribute('Id') === `${sigId}-object`)!;
    const d = hashBytes(hash, canonicalize(obj, c14n, { comments: false }));
    fragment = fragment.replace('@@KYSO-OBJECT-REF@@', referenceXml({ id: mainRefId, uri: `#${sigId}-object`, transforms: transformXml([], c14n), hash, digest: b64(d) }));
  }
  if (xades) {
    const { sig } = signatureIn(wrap.open + fragment + wrap.close, sigId, opts.limits);
    const sp = [...descendants(sig)].find((e) => e.namespaceURI === NS.xades && e.localName === 'SignedProperties')!;
    fragment = fragment.replace(SPDIGEST, b64(hashBytes(hash, canonicalize(sp, c14n))));
  }
  const { sig } = signatureIn(wrap.open + fragment + wrap.close, sigId, opts.limits);
  const si = childElements(sig, NS.ds, 'SignedInfo')[0]!;
  const toBeSigned = new Uint8Array(Buffer.from(canonicalize(si, c14n), 'utf8'));
  const state: XmlSignState = {
    v: 1, kind: 'kyso-xml', level, hash, signatureAlgorithm: { ...alg }, c14n: c14n.uri, sigId, before, fragment, after,
    wrapOpen: wrap.open, wrapClose: wrap.close, toBeSigned: b64(toBeSigned), certificate: b64(cert.der), chain: chain.map(b64),
  };
  return { prepared: { toBeSigned, digestToSign: hashBytes(hash, toBeSigned), signatureAlgorithm: alg, state }, ...(cut ? { cut } : {}) };
}

/** DER ECDSA-Sig-Value → r‖s of fixed width (XMLDSig's ECDSA format). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array {
  const b = Buffer.from(der);
  if (b[0] !== 0x30) return der;
  let o = 2;
  if (b[1]! & 0x80) o = 2 + (b[1]! & 0x7f);
  const read = (): Buffer => {
    if (b[o] !== 0x02) throw new SignerError('SIGN_FAILED', 'ECDSA signature is not DER');
    const len = b[o + 1]!;
    const v = b.subarray(o + 2, o + 2 + len);
    o += 2 + len;
    let s = v;
    while (s.length > size && s[0] === 0) s = s.subarray(1);
    if (s.length > size) throw new SignerError('SIGN_FAILED', 'ECDSA integer too long');
    return Buffer.concat([Buffer.alloc(size - s.length), s]);
  };
  const r = read(), s = read();
  return new Uint8Array(Buffer.concat([r, s]));
}

function parseState(s: XmlSignState | string): XmlSignState {
  let st: XmlSignState;
  try { st = typeof s === 'string' ? JSON.parse(s) as XmlSignState : s; } catch { throw new SignerError('STATE_INVALID', 'XML two-step state is not JSON'); }
  if (!st || st.v !== 1 || st.kind !== 'kyso-xml') throw new SignerError('STATE_INVALID', 'XML two-step state: unknown version');
  for (const k of ['before', 'fragment', 'after', 'wrapOpen', 'wrapClose', 'toBeSigned', 'certificate', 'sigId', 'c14n'] as const) {
    if (typeof st[k] !== 'string') throw new SignerError('STATE_INVALID', `XML two-step state: ${k} missing`);
  }
  if (!['SHA-256', 'SHA-384', 'SHA-512'].includes(st.hash) || st.signatureAlgorithm?.hash !== st.hash) throw new SignerError('STATE_INVALID', 'XML two-step state: bad hash');
  if (!['XMLDSIG', 'B-B', 'B-T', 'B-LT', 'B-LTA'].includes(st.level)) throw new SignerError('STATE_INVALID', 'XML two-step state: bad level');
  if (!st.fragment.includes(SIGVALUE)) throw new SignerError('STATE_INVALID', 'XML two-step state: already finalized');
  return st;
}

function verifyValue(cert: CertInfo, alg: SignatureAlgorithm, data: Uint8Array, value: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(cert.spkiDer), format: 'der', type: 'spki' });
  const h = alg.hash.replace('-', '').toLowerCase();
  try {
    if (alg.scheme === 'ECDSA') return nodeVerify(h, data, { key, dsaEncoding: 'ieee-p1363' }, value);
    if (alg.scheme === 'RSA-PSS') return nodeVerify(h, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTHS[alg.hash] }, value);
    return nodeVerify(h, data, { key, padding: constants.RSA_PKCS1_PADDING }, value);
  } catch { return false; }
}

/**
 * Second step: put the signature value in (verified against the certificate first), then for B-T and above add
 * the SignatureTimeStamp, for B-LT CertificateValues and RevocationValues, for B-LTA TimeStampValidationData and
 * an ArchiveTimeStamp. Returns the signed document (UTF-8).
 */
export async function finalizeXml(state: XmlSignState | string, signatureValue: Uint8Array, opts: XmlExtendOptions = {}): Promise<Uint8Array> {
  return utf8Concat(await finalizeParts(parseState(state), signatureValue, opts));
}

/** {@link finalizeXml}: the output as [before, signature, after] (the signature inserted between the state's two
 *  halves), or as one string when the whole document changed (B-LTA). */
async function finalizeParts(st: XmlSignState, signatureValue: Uint8Array, opts: XmlExtendOptions): Promise<string[]> {
  const cert = certInfoOf(new Uint8Array(Buffer.from(st.certificate, 'base64')));
  const chain = st.chain.map((c) => new Uint8Array(Buffer.from(c, 'base64')));
  const toBeSigned = new Uint8Array(Buffer.from(st.toBeSigned, 'base64'));
  let value = signatureValue;
  if (st.signatureAlgorithm.scheme === 'ECDSA') {
    const size = Math.ceil((describeKey(cert.publicKey).bits) / 8);
    if (value.length !== 2 * size) value = ecdsaDerToRaw(value, size);
  }
  if (!verifyValue(cert, st.signatureAlgorithm, toBeSigned, value)) {
    throw new SignerError('SIGNATURE_INVALID', `the signature value does not verify with the key of ${cert.subject}`);
  }
  let fragment = st.fragment.replace(SIGVALUE, b64(value));
  const level = st.level;
  if (level === 'XMLDSIG' || level === 'B-B') return [st.before, fragment, st.after];
  if (!opts.tsa?.url) throw new SignerError('TSA_FAILED', `level ${level} needs a TSA URL`);
  const c14n = c14nMethod(st.c14n)!;
  const stamp = async (data: Uint8Array, what: string) => {
    try {
      return await requestTimestamp(opts.tsa!.url, hashBytes(st.hash, data), st.hash, opts.tsa);
    } catch (e) {
      if (e instanceof PkiClientError) throw new SignerError('TSA_FAILED', `${what} failed: ${e.code}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  const tsXml = (tag: string, id: string, token: Uint8Array) => `<${tag} Id="${id}"><ds:CanonicalizationMethod Algorithm="${c14n.uri}"/>`
    + `<xades:EncapsulatedTimeStamp>${b64(token)}</xades:EncapsulatedTimeStamp></${tag}>`;

  // B-T: SignatureTimeStamp over the canonical SignatureValue.
  let { sig } = signatureIn(st.wrapOpen + fragment + st.wrapClose, st.sigId);
  const tok = await stamp(xadesSignatureTimestampInput(sig, c14n), 'signature timestamp');
  let props = tsXml('xades:SignatureTimeStamp', `${st.sigId}-ts`, tok.token);
  if (level === 'B-LT' || level === 'B-LTA') {
    const vd = await collectValidationData([cert.der, ...chain], tok.signerCertificate ? [tok.signerCertificate, ...tok.certificates] : tok.certificates, opts.ltv);
    props += certificateValuesXml(vd) + revocationValuesXml(vd);
  }
  const insertAt = fragment.lastIndexOf('</xades:QualifyingProperties>');
  fragment = fragment.slice(0, insertAt) + `<xades:UnsignedProperties><xades:UnsignedSignatureProperties>${props}</xades:UnsignedSignatureProperties></xades:UnsignedProperties>` + fragment.slice(insertAt);
  if (level !== 'B-LTA') return [st.before, fragment, st.after];
  return [await addArchiveTimestamp(st.before + fragment + st.after, st.sigId, c14n, st.hash, opts, tok.signerCertificate ? [tok.signerCertificate, ...tok.certificates] : tok.certificates)];
}

/** UTF-8 of the strings one after the other, written once into one buffer (no joined copy of a large document). */
function utf8Concat(parts: string[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += Buffer.byteLength(p, 'utf8');
  const buf = Buffer.allocUnsafeSlow(n);
  let o = 0;
  for (const p of parts) o += buf.write(p, o, 'utf8');
  return new Uint8Array(buf.buffer, buf.byteOffset, n);
}

function certificateValuesXml(vd: ValidationData): string {
  return `<xades:CertificateValues>${vd.certs.map((c) => `<xades:EncapsulatedX509Certificate>${b64(c)}</xades:EncapsulatedX509Certificate>`).join('')}</xades:CertificateValues>`;
}
function revocationValuesXml(vd: ValidationData): string {
  const crls = vd.crls.length ? `<xades:CRLValues>${vd.crls.map((c) => `<xades:EncapsulatedCRLValue>${b64(c)}</xades:EncapsulatedCRLValue>`).join('')}</xades:CRLValues>` : '';
  const ocsps = vd.ocsps.length ? `<xades:OCSPValues>${vd.ocsps.map((c) => `<xades:EncapsulatedOCSPValue>${b64(c)}</xades:EncapsulatedOCSPValue>`).join('')}</xades:OCSPValues>` : '';
  return `<xades:RevocationValues>${crls}${ocsps}</xades:RevocationValues>`;
}

/**
 * B-LTA: append xadesv141:TimeStampValidationData (the time-stamp authority's certificates and current revocation
 * data) and an xadesv141:ArchiveTimeStamp over the whole signature (EN 319 132-1 §5.5.2) to the signature
 * `sigId` of a signed document. Also extends an existing B-LT or B-LTA signature (renewal).
 */
export async function addArchiveTimestamp(text: string, sigId: string, c14n: C14nMethod, hash: HashName, opts: XmlExtendOptions, tsaCerts: Uint8Array[] = []): Promise<string> {
  if (!opts.tsa?.url) throw new SignerError('TSA_FAILED', 'an archive timestamp needs a TSA URL');
  const insertProps = (t: string, xml: string): string => {
    const { doc, sig } = signatureIn(t, sigId);
    const qp = qualifyingPropertiesOf(sig);
    const usp = qp && childElements(qp, NS.xades, 'UnsignedProperties')[0];
    const props = usp && childElements(usp, NS.xades, 'UnsignedSignatureProperties')[0];
    if (!props) throw new XmlError('XML_INPUT', 'the signature has no UnsignedSignatureProperties (sign at B-T first)');
    const pos = locateEndTag(t, doc, props);
    if (pos.selfClosing) throw new XmlError('XML_INPUT', 'empty UnsignedSignatureProperties');
    return t.slice(0, pos.offset) + xml + t.slice(pos.offset);
  };
  if (tsaCerts.length) {
    const vd = await collectValidationData(tsaCerts.slice(0, 1), [], opts.ltv);
    text = insertProps(text, `<xadesv141:TimeStampValidationData xmlns:xadesv141="${NS.xades141}" Id="${sigId}-tsvd-${randomBytes(4).toString('hex')}">`
      + certificateValuesXml(vd) + revocationValuesXml(vd) + `</xadesv141:TimeStampValidationData>`);
  }
  const { doc, sig } = signatureIn(text, sigId);
  const input = xadesArchiveTimestampInput(sig, c14n, { doc, signature: sig, ids: indexIds(doc) });
  let tok;
  try {
    tok = await requestTimestamp(opts.tsa.url, hashBytes(hash, input), hash, opts.tsa);
  } catch (e) {
    if (e instanceof PkiClientError) throw new SignerError('TSA_FAILED', `archive timestamp failed: ${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
  return insertProps(text, `<xadesv141:ArchiveTimeStamp xmlns:xadesv141="${NS.xades141}" Id="${sigId}-ats-${randomBytes(4).toString('hex')}"><ds:CanonicalizationMethod Algorithm="${c14n.uri}"/>`
    + `<xades:EncapsulatedTimeStamp>${b64(tok.token)}</xades:EncapsulatedTimeStamp></xadesv141:ArchiveTimeStamp>`);
}

/**
 * Sign XML in one step with a key backend (PEM, PKCS#12, PKCS#11, external callback): XMLDSig or XAdES
 * B-B/B-T/B-LT/B-LTA, enveloped (default), enveloping or detached. Returns the signed document (UTF-8).
 */
export async function signXml(input: Uint8Array | string, opts: SignXmlOptions): Promise<Uint8Array> {
  return signXmlImpl(input, opts);
}

/** {@link signXml} of an input the caller has already decoded and parsed (`parsed.text` is `input` decoded). Internal. */
export async function signXmlImpl(input: Uint8Array | string, opts: SignXmlOptions, parsed?: Parsed): Promise<Uint8Array> {
  const { backend, ...rest } = opts;
  const { prepared, cut } = prepareXmlImpl(input, { ...rest, certificate: backend.certificate, chain: backend.chain }, parsed);
  const value = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digestToSign }, prepared.signatureAlgorithm);
  const parts = await finalizeParts(prepared.state, value, opts);
  if (parts.length === 3 && cut && typeof input !== 'string') return spliceBytes(input, cut, parts[1]!);
  return utf8Concat(parts);
}

/**
 * Sign an XML file into another file (one-step signing of {@link signXml}, same options and same output bytes).
 * A whole-document enveloped signature (the default) is made without holding the document in memory: the file
 * is read piece by piece to digest it (the fast scanner, XmlChunkScanner), then the output is written as the input's
 * own bytes with the signature inserted before the document element's end tag. Anything else (other modes,
 * references by ID, B-LTA, a document the fast scanner declines) reads the file whole and runs signXml. The output
 * is written to a temporary file beside `outPath`, then renamed (never a partial file; `outPath` may be `inPath`).
 */
export async function signXmlFile(inPath: string, outPath: string, opts: SignXmlOptions): Promise<void> {
  const { backend, ...rest } = opts;
  await withFiles(inPath, outPath, opts.limits, async (read, size, tmp) => {
    let end: { byte: number; selfClosing: boolean; tag: string } | undefined;
    const external: ExternalDigest = (c14n, hash, sigId) => {
      const r = streamFileDigest(read, size, c14n, hash, sigId, opts.limits);
      if (r) end = { byte: r.endByte, selfClosing: r.selfClosing, tag: r.root.tagName };
      return r;
    };
    let prepared: PreparedXml | undefined;
    if ((opts.mode ?? 'enveloped') === 'enveloped' && opts.level !== 'B-LTA') {
      try {
        prepared = prepareXmlImpl(new Uint8Array(0), { ...rest, certificate: backend.certificate, chain: backend.chain }, undefined, external).prepared;
      } catch (e) { if (e !== EXTERNAL_DECLINED) throw e; }
    }
    if (!prepared || !end) {
      const all = read(0, size);
      writeFileSync(tmp, await signXmlImpl(size <= PIECE ? Buffer.from(all) : all, opts));
      return;
    }
    const value = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digestToSign }, prepared.signatureAlgorithm);
    const parts = await finalizeParts(prepared.state, value, opts);
    if (parts.length !== 3) throw new XmlError('XML_INPUT', 'unexpected signing state');
    const e = end as { byte: number; selfClosing: boolean; tag: string };
    writeAround(read, size, tmp, e.byte, e.selfClosing, parts[1]!, e.tag);
  });
}

/**
 * The engine of signEdxmlFile (edxml.ts): `whole` signs the whole message in memory (the fallback), `profile`
 * gives the edXML profile's options for the message's tree. Internal.
 */
export async function signEdxmlFileWith(inPath: string, outPath: string, opts: Omit<SignXmlOptions, 'mode' | 'parent' | 'references' | 'extraReferences'>,
  whole: (message: Uint8Array) => Promise<Uint8Array>, profile: (doc: Document) => Pick<SignXmlOptions, 'mode' | 'parent' | 'references'>): Promise<void> {
  const { backend } = opts;
  await withFiles(inPath, outPath, opts.limits, async (read, size, tmp) => {
    let prepared: PreparedXml | undefined;
    let end: number | undefined;
    if (opts.level !== 'B-LTA') {
      // the hash the signature will use (as prepareXml chooses it), to digest the attachments with
      let cert: CertInfo;
      try { cert = certInfoOf(backend.certificate); } catch (e) { throw new SignerError('CERT_PARSE', `signer certificate: ${(e as Error).message}`, { cause: e }); }
      const hash = (opts.signatureAlgorithm ?? defaultSignatureAlgorithm(describeKey(cert.publicKey), opts.hash)).hash;
      const ends = new Map<Element, number>();
      const r = readTreeStreaming(read, size, PIECE, {
        stream: isEdxmlAttachmentText, algorithms: () => [hash],
        onClose: (el, at) => { if (el.localName === 'edXMLHeader') ends.set(el, at); },
        ...(opts.limits ? { limits: opts.limits } : {}),
      });
      if (r && r.streamed.size) {
        const o = { ...opts, ...profile(r.doc) };
        const header = o.parent!(r.doc);
        end = ends.get(header);
        if (end !== undefined) prepared = prepareXmlImpl(new Uint8Array(0), { ...o, certificate: backend.certificate, chain: backend.chain }, { text: '', doc: r.doc, streamed: r.streamed }).prepared;
      }
    }
    if (!prepared || end === undefined) {
      const all = read(0, size);
      writeFileSync(tmp, await whole(size <= PIECE ? Buffer.from(all) : all));
      return;
    }
    const value = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digestToSign }, prepared.signatureAlgorithm);
    const parts = await finalizeParts(prepared.state, value, opts);
    if (parts.length !== 3) throw new XmlError('XML_INPUT', 'unexpected signing state');
    writeAround(read, size, tmp, end, false, parts[1]!, '');
  });
}

/** Open `inPath`, give `fn` a reader, its size and a temporary output path beside `outPath`; rename at the end. */
async function withFiles(inPath: string, outPath: string, limits: XmlLimits | undefined, fn: (read: (pos: number, len: number) => Buffer, size: number, tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${outPath}.kyso-${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(inPath, 'r');
  let done = false;
  try {
    const size = fstatSync(fd).size;
    const max = limits?.maxBytes ?? 256 * 1024 * 1024;
    if (size > max) throw new XmlError('XML_TOO_LARGE', `document larger than ${max} bytes`);
    const scratch = Buffer.allocUnsafe(PIECE);
    // pieces of up to PIECE bytes are read into one reused buffer (each is consumed before the next read)
    const read = (pos: number, len: number): Buffer => {
      const n = Math.max(0, Math.min(len, size - pos));
      return readInto(fd, n <= PIECE ? scratch.subarray(0, n) : Buffer.allocUnsafe(n), pos);
    };
    await fn(read, size, tmp);
    renameSync(tmp, outPath);
    done = true;
  } finally {
    closeSync(fd);
    if (!done) rmSync(tmp, { force: true });
  }
}

function readInto(fd: number, b: Buffer, pos: number): Buffer {
  let got = 0;
  while (got < b.length) { const r = readSync(fd, b, got, b.length - got, pos + got); if (r <= 0) break; got += r; }
  return b.subarray(0, got);
}

/** Write the input's bytes (a BOM dropped, as decodeXml does) with `insert` (+ `closeTag`) put at byte `at` to `tmp`; `selfClosing`: `at` is the '/' of '/>'. */
function writeAround(read: (pos: number, len: number) => Buffer, size: number, tmp: string, at: number, selfClosing: boolean, fragment: string, tag: string): void {
  const insert = Buffer.from(selfClosing ? `>${fragment}</${tag}>` : fragment, 'utf8');
  const out = openSync(tmp, 'w');
  try {
    const bom = size >= 3 && Buffer.from(read(0, 3)).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? 3 : 0;
    const copy = (from: number, to: number): void => { for (let p = from; p < to; p += PIECE) writeAll(out, read(p, Math.min(PIECE, to - p))); };
    copy(bom, at);
    writeAll(out, insert);
    copy(selfClosing ? at + 2 : at, size);
  } finally { closeSync(out); }
}

/** Piece size of the file signers' reads: their strings stay in V8's young generation (no pile of large objects). */
const PIECE = 32 * 1024;

function writeAll(fd: number, b: Uint8Array): void {
  for (let o = 0; o < b.length;) o += writeSync(fd, b, o, b.length - o);
}

/**
 * streamWholeDocument over a file read piece by piece: the whole-document digest, the document element, and the
 * byte offset of its end tag ('</') or of the '/>' of an empty document element. Undefined when the fast scanner
 * declines (the in-memory path then decides).
 */
function streamFileDigest(read: (pos: number, len: number) => Buffer, size: number, c14n: C14nMethod, hash: HashName, sigId: string, limits?: XmlLimits): { digest: Uint8Array; root: Element; endByte: number; selfClosing: boolean } | undefined {
  const h = createHash(nodeHash(hash));
  const c = new C14nDocumentStream(c14n, utf8HashSink(h).sink);
  let depth = 0;
  let root: Element | undefined;
  let end: { byte: number; selfClosing: boolean } | undefined;
  let clash = false;
  const sc: XmlChunkScanner = new XmlChunkScanner({
    open(el, selfClosing, offset) {
      if (depth === 0) { root = el; if (selfClosing) end = { byte: sc.byteOffset(offset), selfClosing: true }; }
      for (const a of el.attributeArray) {
        if (a.value === sigId && (a.namespaceURI === null ? a.name === 'Id' || a.name === 'ID' || a.name === 'id' : a.namespaceURI === NS.xml && a.localName === 'id')) clash = true;
      }
      if (!selfClosing) depth++;
      c.open(el, selfClosing);
    },
    close(el, offset) {
      if (--depth === 0) end = { byte: sc.byteOffset(offset), selfClosing: false };
      c.close(el);
    },
    text(data) { c.text(data); },
    comment() { /* comments are not part of the reference (URI="") */ },
  }, limits);
  for (let p = 0; p < size; p += PIECE) if (!sc.push(read(p, PIECE))) return undefined;
  if (!sc.end() || !root || !end) return undefined;
  if (clash) throw new XmlError('XML_INPUT', `ID ${sigId} already exists in the document`);
  c.end();
  return { digest: new Uint8Array(h.digest()), root, endByte: end.byte, selfClosing: end.selfClosing };
}

/**
 * The signed document as the input's own bytes around the inserted signature (no encoding of the whole document):
 * the same octets as utf8Concat([text[0, cut), fragment, text[cut..]]) (a BOM, which decodeXml drops, is dropped).
 */
function spliceBytes(input: Uint8Array, cut: Cut, fragment: string): Uint8Array {
  const start = input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0;
  const body = input.length - start;
  // byte length of the shorter side of the cut (the decoded text is the UTF-8 input, so the sides add up)
  const headChars = cut.offset, tailChars = cut.text.length - cut.offset;
  const head = headChars <= tailChars ? Buffer.byteLength(cut.text.slice(0, headChars), 'utf8') : body - Buffer.byteLength(cut.text.slice(headChars), 'utf8');
  const frag = Buffer.from(fragment, 'utf8');
  const out = Buffer.allocUnsafeSlow(body + frag.length);
  out.set(input.subarray(start, start + head), 0);
  frag.copy(out, head);
  out.set(input.subarray(start + head), head + frag.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
