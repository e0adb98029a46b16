import type { XmlDocument as Document, XmlElement as Element } from './core/model.js';
import { createHash } from 'node:crypto';
import { DIGEST_URI, NS } from './core/constants.js';
import { childElements } from './core/dom.js';
import { XmlError } from './core/errors.js';
import { xmlText } from './core/dom.js';
import { signEdxmlFileWith, signXmlImpl, type SignXmlOptions } from './sign.js';
import { decodeXml, parseXml } from './core/parse.js';

/** The edXML namespace (QCVN 102:2016/BTTTT). */
export const EDXML_NS = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';
/** Id kyso gives the edXMLEnvelope so the signature can reference it. */
export const EDXML_ENVELOPE_ID = 'edXMLEnvelope';

/** An organisation of the document exchange axis. */
export interface EdxmlOrganisation { organId: string; organName?: string; organizationInCharge?: string; organAdd?: string; email?: string; telephone?: string; fax?: string; website?: string }

/** A file carried as AttachmentEncoded. */
export interface EdxmlAttachment { name: string; data: Uint8Array; contentType?: string; description?: string }

/** Fields of the MessageHeader. */
export interface EdxmlMessage {
  from: EdxmlOrganisation;
  to: EdxmlOrganisation[];
  subject: string;
  code?: { number?: string; notation?: string };
  promulgation?: { place?: string; date?: Date };
  documentType?: { type?: string; typeName?: string };
  signerInfo?: { competence?: string; position?: string; fullName?: string };
  documentId?: string;
  content?: string;
  /** TraceHeader entries (organisation and time); default: the sender now. */
  trace?: { organId: string; timestamp: Date }[];
  attachments: EdxmlAttachment[];
  /** Digest of attachments written into the manifest (default SHA-256). */
  hash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
}

const e = (tag: string, v: string | undefined): string => (v === undefined ? '' : `<edXML:${tag}>${xmlText(v)}</edXML:${tag}>`);
const ymd = (d: Date) => d.toISOString().slice(0, 10);

function organ(tag: string, o: EdxmlOrganisation): string {
  return `<edXML:${tag}>${e('OrganId', o.organId)}${e('OrganizationInCharge', o.organizationInCharge)}${e('OrganName', o.organName)}${e('OrganAdd', o.organAdd)}`
    + `${e('Email', o.email)}${e('Telephone', o.telephone)}${e('Fax', o.fax)}${e('Website', o.website)}</edXML:${tag}>`;
}

/**
 * Build an unsigned edXML message: root `edXML` (default namespace = edXML), `edXML:edXMLEnvelope` with the
 * header (MessageHeader, TraceHeaderList) and body (edXMLManifest with one Reference per attachment carrying its
 * digest), then the unprefixed `AttachmentEncoded` outside the envelope with the base64 files.
 * Base64 is written in one pass per attachment (no intermediate copies beyond the output string).
 */
export function buildEdxml(m: EdxmlMessage): string {
  if (!m.from?.organId) throw new XmlError('XML_INPUT', 'edXML: From needs an OrganId');
  if (!m.to?.length || m.to.some((t) => !t.organId)) throw new XmlError('XML_INPUT', 'edXML: at least one To with an OrganId is needed');
  const hash = m.hash ?? 'SHA-256';
  const docId = m.documentId ?? cryptoRandomId();
  const now = new Date();
  const header = `<edXML:MessageHeader>${organ('From', m.from)}${m.to.map((t) => organ('To', t)).join('')}`
    + `<edXML:Code>${e('CodeNumber', m.code?.number ?? '')}${e('CodeNotation', m.code?.notation ?? '')}</edXML:Code>`
    + `<edXML:PromulgationInfo>${e('Place', m.promulgation?.place ?? '')}${e('PromulgationDate', ymd(m.promulgation?.date ?? now))}</edXML:PromulgationInfo>`
    + `<edXML:DocumentType>${e('Type', m.documentType?.type ?? '1')}${e('TypeName', m.documentType?.typeName ?? '')}</edXML:DocumentType>`
    + `${e('Subject', m.subject)}${e('Content', m.content)}`
    + `<edXML:SignerInfo>${e('Competence', m.signerInfo?.competence ?? '')}${e('Position', m.signerInfo?.position ?? '')}${e('FullName', m.signerInfo?.fullName ?? '')}</edXML:SignerInfo>`
    + `${e('DocumentId', docId)}</edXML:MessageHeader>`;
  const trace = (m.trace ?? [{ organId: m.from.organId, timestamp: now }]).map((t) => `<edXML:TraceHeader>${e('OrganId', t.organId)}${e('Timestamp', t.timestamp.toISOString())}</edXML:TraceHeader>`).join('');
  const refs: string[] = [];
  const atts: string[] = [];
  m.attachments.forEach((a, i) => {
    const cid = `cid:${i + 1}`;
    const digest = createHash(hash.replace('-', '').toLowerCase()).update(a.data).digest('base64');
    refs.push(`<edXML:Reference>${e('ContentId', cid)}${e('ContentType', a.contentType ?? 'application/octet-stream')}${e('Description', a.description ?? a.name)}${e('AttachmentName', a.name)}`
      + `<edXML:DigestMethod>${DIGEST_URI[hash]}</edXML:DigestMethod><edXML:DigestValue>${digest}</edXML:DigestValue></edXML:Reference>`);
    atts.push(`<Attachment><ContentId>${xmlText(cid)}</ContentId><AttachmentName>${xmlText(a.name)}</AttachmentName><ContentType>${xmlText(a.contentType ?? 'application/octet-stream')}</ContentType>`
      + `<ContentTransferEncoded Id="attachment-${i + 1}">${Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString('base64')}</ContentTransferEncoded></Attachment>`);
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="${EDXML_NS}" xmlns:edXML="${EDXML_NS}"><edXML:edXMLEnvelope Id="${EDXML_ENVELOPE_ID}">`
    + `<edXML:edXMLHeader>${header}<edXML:TraceHeaderList>${trace}</edXML:TraceHeaderList></edXML:edXMLHeader>`
    + `<edXML:edXMLBody><edXML:edXMLManifest version="1.0">${refs.join('')}</edXML:edXMLManifest></edXML:edXMLBody></edXML:edXMLEnvelope>`
    + `<AttachmentEncoded>${atts.join('')}</AttachmentEncoded></edXML>\n`;
}

/** Status values of an edXML status message (Status/StatusCode). */
export interface EdxmlStatus {
  from: EdxmlOrganisation;
  responseFor: { organId: string; code?: string; promulgationDate?: Date; documentId: string };
  /** e.g. 01 received, 02 refused, 03 accepted, ... (QCVN 102 status codes). */
  statusCode: string;
  description?: string;
  staffInfo?: { department?: string; staff?: string; mobile?: string; email?: string };
  timestamp?: Date;
}

/** Build an edXML status message (edXMLEnvelope / edXMLHeader / Status), to be signed like a message. */
export function buildEdxmlStatus(s: EdxmlStatus): string {
  const ts = s.timestamp ?? new Date();
  return `<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="${EDXML_NS}" xmlns:edXML="${EDXML_NS}"><edXML:edXMLEnvelope Id="${EDXML_ENVELOPE_ID}"><edXML:edXMLHeader>`
    + `<edXML:Status><edXML:ResponseFor>${e('OrganId', s.responseFor.organId)}${e('Code', s.responseFor.code ?? '')}${e('PromulgationDate', ymd(s.responseFor.promulgationDate ?? ts))}${e('DocumentId', s.responseFor.documentId)}</edXML:ResponseFor>`
    + `${organ('From', s.from)}<edXML:StaffInfo>${e('Department', s.staffInfo?.department ?? '')}${e('Staff', s.staffInfo?.staff ?? '')}${e('Mobile', s.staffInfo?.mobile ?? '')}${e('Email', s.staffInfo?.email ?? '')}</edXML:StaffInfo>`
    + `${e('StatusCode', s.statusCode)}${e('Description', s.description ?? '')}${e('Timestamp', ts.toISOString())}</edXML:Status>`
    + `</edXML:edXMLHeader><edXML:edXMLBody/></edXML:edXMLEnvelope></edXML>\n`;
}

function cryptoRandomId(): string { return globalThis.crypto.randomUUID(); }

/** The edXMLHeader of a parsed edXML document (where the signature goes). */
export function edxmlHeader(doc: Document): Element {
  const root = doc.documentElement!;
  const env = childElements(root, EDXML_NS, 'edXMLEnvelope');
  if (root.localName !== 'edXML' || root.namespaceURI !== EDXML_NS || env.length !== 1) throw new XmlError('XML_INPUT', 'not an edXML message (edXML root with one edXML:edXMLEnvelope)');
  const h = childElements(env[0]!, EDXML_NS, 'edXMLHeader');
  if (h.length !== 1) throw new XmlError('XML_INPUT', 'edXML: the envelope needs one edXMLHeader');
  return h[0]!;
}

/** True if the document is an edXML message. */
export function isEdxml(doc: Document): boolean {
  const r = doc.documentElement;
  return !!r && r.localName === 'edXML' && r.namespaceURI === EDXML_NS;
}

/**
 * The signXml / prepareXml options of kyso's edXML profile for this message (see README.md): signature in
 * edXMLHeader, references to the envelope and to each attachment's decoded bytes. Use with prepareXml for two-step
 * (remote, HSM) signing of edXML; signEdxml is the one-step form.
 */
export function edxmlSignOptions(message: Uint8Array | string, allowFurtherSignatures = false): Pick<SignXmlOptions, 'mode' | 'parent' | 'references'> {
  return edxmlSignOptionsOf(parseXml(message), allowFurtherSignatures);
}

/** Fields of an Attachment in kyso's edXML profile (the verifier refuses any other). */
const ATTACHMENT_FIELDS = new Set(['ContentId', 'AttachmentName', 'ContentType', 'ContentTransferEncoded']);

function edxmlSignOptionsOf(doc: Document, allowFurtherSignatures: boolean): Pick<SignXmlOptions, 'mode' | 'parent' | 'references'> {
  edxmlHeader(doc);
  // the message's structure as the verifier requires it (it refuses anything else): nothing is signed that kyso
  // would then report as not valid
  const bad = (what: string) => new XmlError('XML_INPUT', `edXML: ${what} (kyso's edXML profile, see the README)`);
  const kids = childElements(doc.documentElement!);
  const aes = kids.filter((c) => c.namespaceURI === EDXML_NS && c.localName === 'AttachmentEncoded');
  if (kids[0]?.localName !== 'edXMLEnvelope') throw bad('the edXMLEnvelope must be the first element of the message');
  if (aes.length > 1) throw bad(`${aes.length} AttachmentEncoded elements (at most one)`);
  for (const k of kids.slice(1)) if (!aes.includes(k)) throw bad(`unexpected element ${k.tagName.slice(0, 80)} in the message root (only edXMLEnvelope and AttachmentEncoded)`);
  const attIds: string[] = [];
  for (const ae of aes) {
    for (const a of childElements(ae)) {
      if (a.namespaceURI !== EDXML_NS || a.localName !== 'Attachment') throw bad(`unexpected element ${a.tagName.slice(0, 80)} in AttachmentEncoded (only Attachment)`);
      const fields = childElements(a);
      for (const f of fields) if (f.namespaceURI !== EDXML_NS || !ATTACHMENT_FIELDS.has(f.localName)) throw bad(`unexpected element ${f.tagName.slice(0, 80)} in an Attachment`);
      for (const name of ATTACHMENT_FIELDS) {
        const n = fields.filter((f) => f.localName === name).length;
        if (n > 1 || (n === 0 && (name === 'ContentId' || name === 'ContentTransferEncoded'))) throw bad(`an Attachment needs exactly one ${name}${name === 'ContentId' || name === 'ContentTransferEncoded' ? '' : ' at most'} (found ${n})`);
      }
      const cte = fields.find((f) => f.localName === 'ContentTransferEncoded')!;
      if (childElements(cte).length) throw bad('a ContentTransferEncoded holds base64 text only');
      const id = cte.getAttribute('Id');
      if (!id) throw new XmlError('XML_INPUT', 'edXML: every Attachment needs one ContentTransferEncoded with an Id attribute to be signed');
      attIds.push(id);
    }
  }
  return {
    mode: 'enveloped', parent: edxmlHeader,
    references: [{ id: EDXML_ENVELOPE_ID, transform: allowFurtherSignatures ? 'subtract-signatures' : 'enveloped', mimeType: 'text/xml' }, ...attIds.map((id) => ({ id, transform: 'base64' as const }))],
  };
}

/**
 * Sign an edXML message after kyso's edXML profile (see README.md): a XAdES signature (level as asked) in
 * edXMLHeader whose references are the envelope (enveloped-signature + canonicalization) and each attachment's
 * decoded bytes (ContentTransferEncoded by Id, base64 transform).
 */
export async function signEdxml(message: Uint8Array | string, opts: Omit<SignXmlOptions, 'mode' | 'parent' | 'references' | 'extraReferences'>): Promise<Uint8Array> {
  const text = decodeXml(message, opts.limits); // UTF-8 checked here, once
  const doc = parseXml(text, opts.limits); // parsed once: the profile's references are read from it, and the signer uses it
  return signXmlImpl(message, { ...opts, ...edxmlSignOptionsOf(doc, opts.allowFurtherSignatures ?? false) }, { text, doc });
}

export { NS as XML_NS };

/**
 * {@link signEdxml} from a file to a file without holding the message in memory: the file is read piece by piece
 * into a tree without the attachments' text, which is decoded and digested as it streams by; the output is the
 * input's bytes with the signature inserted at the end of edXML:edXMLHeader (written to a temporary file beside
 * `outPath`, then renamed). Falls back to signEdxml on the whole file when that does not apply (attachments that are
 * not strict base64, a document the fast scanner declines, B-LTA). The output bytes are signEdxml's.
 */
export async function signEdxmlFile(inPath: string, outPath: string, opts: Omit<SignXmlOptions, 'mode' | 'parent' | 'references' | 'extraReferences'>): Promise<void> {
  return signEdxmlFileWith(inPath, outPath, opts, (m) => signEdxml(m, opts), (doc) => edxmlSignOptionsOf(doc, opts.allowFurtherSignatures ?? false));
}
