/**
 * The state between `preparePdfSignature` and `finalizePdfSignature`, and its seal.
 *
 * The state is self-contained and holds no file path that finalize depends on: it carries the
 * incremental update (the signature dictionary, field, appearance and cross-reference section,
 * without the zero /Contents placeholder, which is only its length), the size and SHA-256 of the
 * original document, and the CAdES signed attributes. The original document is NOT in the state:
 * the caller supplies it again at finalize (a path or bytes, possibly on another host), where its
 * SHA-256 is checked and the ByteRange digest is recomputed and compared with the signed
 * `messageDigest`. So a state stays small (a few KB plus the appearance) whatever the PDF's size,
 * and the PDF bytes are never copied into it.
 *
 * When the state leaves the process it is sealed with HMAC-SHA-256 under a key the caller gives
 * (`sealPdfSignatureState`): `kyso-pades-state.v2.<base64url JSON>.<base64url MAC>`. An altered
 * state, or one sealed with another key, is refused with `STATE_TAMPERED`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CmsState } from '../crypto/cms/two-step.js';
import type { SignatureTimestampOptions } from '../crypto/cms/timestamp.js';
import type { DocumentTimestampOptions } from './doc-timestamp.js';
import { PadesError } from './errors.js';
import type { PadesLevel } from './sign.js';

/** JSON-serialisable, self-contained state of a prepared PDF signature (see the module comment). */
export interface PdfSignatureState {
  v: 2;
  kind: 'kyso-pades-state';
  /** Where the original was read from, when it was a path: a default for finalize's `input`, never trusted (its digest is checked). */
  input?: string;
  /** Output path given to prepare: a default for finalize's `output`. */
  output?: string;
  /** The original document: size and SHA-256 (hex). */
  base: { size: number; sha256: string };
  /** Update bytes before the /Contents hex digits (base64). Starts at offset `base.size` of the file. */
  updateHead: string;
  /** Update bytes after the /Contents hex digits (base64). */
  updateTail: string;
  /** Offset of the `<` of /Contents in the signed file. */
  contentsOffset: number;
  /** Number of hex digits reserved between `<` and `>`. */
  contentsHexLength: number;
  byteRange: number[];
  /** Size of the signed file before B-LT / B-LTA revisions. */
  fileSize: number;
  /** Digest of the ByteRange bytes (base64): the signed messageDigest. */
  contentDigest: string;
  level: PadesLevel;
  /** Full name of the signature field. */
  fieldName: string;
  cms: CmsState;
  tsa?: Omit<SignatureTimestampOptions, 'nonce' | 'headers'>;
  documentTimestamp?: Partial<DocumentTimestampOptions>;
}

const PREFIX = 'kyso-pades-state.v2.';
const MIN_KEY = 16;

function mac(key: Uint8Array, text: string): Buffer {
  if (!(key instanceof Uint8Array) || key.length < MIN_KEY) throw new PadesError('STATE_INVALID', `the state key must be at least ${MIN_KEY} random bytes`);
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** Seals a state for transport: `kyso-pades-state.v2.<payload>.<HMAC-SHA-256>` (base64url). */
export function sealPdfSignatureState(state: PdfSignatureState, key: Uint8Array): string {
  const body = PREFIX + Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** True when `s` looks like a sealed state. */
export function isSealedState(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith(PREFIX);
}

/** Checks the seal (constant time) and returns the state; STATE_TAMPERED when altered or sealed under another key. */
export function openPdfSignatureState(sealed: string, key: Uint8Array): PdfSignatureState {
  if (!isSealedState(sealed)) throw new PadesError('STATE_INVALID', 'not a sealed kyso PDF signature state');
  const dot = sealed.lastIndexOf('.');
  const body = sealed.slice(0, dot);
  const given = Buffer.from(sealed.slice(dot + 1), 'base64url');
  const want = mac(key, body);
  if (dot <= PREFIX.length || given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new PadesError('STATE_TAMPERED', 'the signature state was altered or sealed with another key (HMAC mismatch): refusing to finalize');
  }
  let st: unknown;
  try {
    st = JSON.parse(Buffer.from(body.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw new PadesError('STATE_INVALID', 'sealed state payload is not JSON');
  }
  return checkState(st);
}

const isInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isB64 = (x: unknown): x is string => typeof x === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(x);

/** Structural checks of a state (any source); STATE_INVALID with the first problem found. */
export function checkState(x: unknown): PdfSignatureState {
  const st = x as PdfSignatureState;
  if (!st || typeof st !== 'object' || st.kind !== 'kyso-pades-state') throw new PadesError('STATE_INVALID', 'not a kyso PDF signature state');
  if ((st as { v: unknown }).v !== 2) throw new PadesError('STATE_INVALID', `unsupported PDF signature state version ${String((st as { v: unknown }).v)} (prepare again with this version of kyso)`);
  const bad = (why: string): never => { throw new PadesError('STATE_INVALID', `PDF signature state: ${why}`); };
  if (!st.base || !isInt(st.base.size) || typeof st.base.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(st.base.sha256)) bad('base document size / SHA-256 missing');
  if (!isB64(st.updateHead) || !isB64(st.updateTail)) bad('update bytes missing');
  if (!isInt(st.contentsOffset) || !isInt(st.contentsHexLength) || st.contentsHexLength < 2 || st.contentsHexLength % 2) bad('/Contents placeholder missing');
  if (!isInt(st.fileSize) || !Array.isArray(st.byteRange) || st.byteRange.length !== 4 || !st.byteRange.every(isInt)) bad('ByteRange missing');
  const head = Buffer.byteLength(st.updateHead, 'base64');
  const tail = Buffer.byteLength(st.updateTail, 'base64');
  if (st.contentsOffset !== st.base.size + head - 1) bad('/Contents offset does not match the update');
  if (st.fileSize !== st.base.size + head + st.contentsHexLength + tail) bad('file size does not match the update');
  const [a, b, c, d] = st.byteRange as [number, number, number, number];
  if (a !== 0 || b !== st.contentsOffset || c !== st.contentsOffset + st.contentsHexLength + 2 || c + d !== st.fileSize) bad('ByteRange does not match the update');
  if (!isB64(st.contentDigest) || ![32, 48, 64].includes(Buffer.byteLength(st.contentDigest, 'base64')) || typeof st.fieldName !== 'string' || !st.cms || typeof st.cms !== 'object') bad('incomplete');
  if (!['B-B', 'B-T', 'B-LT', 'B-LTA'].includes(st.level)) bad(`unknown level ${String(st.level)}`);
  if (st.input !== undefined && typeof st.input !== 'string') bad('input is not a path');
  if (st.output !== undefined && typeof st.output !== 'string') bad('output is not a path');
  return st;
}
