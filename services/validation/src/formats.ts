import { open } from 'node:fs/promises';
import { Problem } from './problem.js';

/** Document kinds the service recognises and validates: PDF (PAdES), CMS (CAdES, detached) and XML (XMLDSig, XAdES, edXML). */
export type DocumentKind = 'pdf' | 'cms' | 'xml';

/** Kinds the worker validates. */
export const VALIDATED_KINDS: ReadonlySet<DocumentKind> = new Set<DocumentKind>(['pdf', 'cms', 'xml']);

const PDF_TYPES = new Set(['application/pdf', 'application/x-pdf']);
const CMS_TYPES = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature', 'application/pkcs7-mime', 'application/x-pkcs7-mime', 'application/cms']);
const XML_TYPES = new Set(['application/xml', 'text/xml']);
/** Declared types that say nothing about the content (sniffing decides). */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** The media type without parameters, lower case. */
export const mediaType = (ct: string | undefined): string => (ct ?? '').split(';')[0]!.trim().toLowerCase();

/** What the first bytes say the content is. */
export function sniff(head: Buffer): DocumentKind | undefined {
  if (head.subarray(0, 1024).includes('%PDF-')) return 'pdf';
  const text = head.subarray(0, 256).toString('latin1');
  if (/^\s*-----BEGIN (PKCS7|CMS)-----/.test(text)) return 'cms';
  if (head[0] === 0x30 && head.length >= 2) return 'cms';
  if (/^(\xef\xbb\xbf)?\s*</.test(text)) return 'xml';
  return undefined;
}

/**
 * Decides the kind of an uploaded document from its first bytes and its declared media type. A declared type that
 * contradicts the content, content that is none of the signed formats, or a format not validated yet is a 415
 * problem naming what is wrong (never a verdict about a "tampered" document).
 */
export async function detectKind(path: string, declared: string, what = 'the body'): Promise<DocumentKind> {
  const fh = await open(path, 'r');
  const head = Buffer.alloc(1024);
  let n = 0;
  try { n = (await fh.read(head, 0, head.length, 0)).bytesRead; } finally { await fh.close(); }
  const kind = sniff(head.subarray(0, n));
  const type = mediaType(declared);
  const declaredKind: DocumentKind | undefined = PDF_TYPES.has(type) ? 'pdf' : CMS_TYPES.has(type) ? 'cms' : XML_TYPES.has(type) || type.endsWith('+xml') ? 'xml' : undefined;
  if (!kind) {
    throw new Problem(415, 'not-a-signed-document', 'Unsupported media type',
      `${what} is not a signed document: expected a PDF (starting with %PDF-), a CMS/PKCS#7 signature (DER or PEM) or signed XML${type ? `; it was declared as ${type}` : ''}`);
  }
  if (declaredKind && declaredKind !== kind) {
    throw new Problem(415, 'type-mismatch', 'Unsupported media type', `${what} is declared as ${type} but its content is ${kind.toUpperCase()}`);
  }
  if (!declaredKind && !GENERIC_TYPES.has(type) && !type.startsWith('multipart/')) {
    throw new Problem(415, 'unsupported-media-type', 'Unsupported media type', `${what} has media type ${type}; send application/pdf, application/pkcs7-signature, application/xml or multipart/form-data`);
  }
  if (!VALIDATED_KINDS.has(kind)) {
    throw new Problem(415, 'format-not-supported', 'Unsupported media type', `${kind.toUpperCase()} signature validation is not available in this service yet`);
  }
  return kind;
}
