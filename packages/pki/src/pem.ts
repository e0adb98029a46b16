/** PEM <-> DER conversions that keep the label. */
import { PkiClientError } from './clients/errors.js';

/** One PEM block. */
export interface PemBlock { label: string; der: Uint8Array }

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** All PEM blocks of a text, in order (any label). */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return out;
}

/**
 * DER of the first PEM block (with `label` if given). Throws PkiClientError CERT_PARSE naming the
 * label when there is none.
 */
export function pemToDer(text: string, label?: string): Uint8Array {
  const b = pemBlocks(text).find((x) => label === undefined || x.label === label);
  if (!b) throw new PkiClientError('CERT_PARSE', `no PEM block${label ? ` "${label}"` : ''} found`);
  return b.der;
}

/** PEM text (64-column base64) of DER bytes. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** True when the bytes look like PEM text rather than DER. */
export function isPem(bytes: Uint8Array): boolean {
  return bytes.length > 10 && Buffer.from(bytes.subarray(0, 64)).toString('latin1').includes('-----BEGIN ');
}

/** Accept PEM text, PEM bytes or DER bytes; return DER of the first block. */
export function toDer(input: string | Uint8Array, label?: string): Uint8Array {
  if (typeof input === 'string') return pemToDer(input, label);
  return isPem(input) ? pemToDer(Buffer.from(input).toString('latin1'), label) : input;
}
