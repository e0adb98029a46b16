/** Writers of large hostile PDFs for the resource tests (streamed to disk in 1 MiB chunks). */
import { closeSync, openSync, writeSync } from 'node:fs';

export type Part = string | { fill: string; bytes: number } | Uint8Array;

/** Writes the parts to `path` in 1 MiB chunks; returns the offset where each part starts. */
export function writeParts(path: string, parts: Part[]): number[] {
  const fd = openSync(path, 'w');
  const starts: number[] = [];
  let pos = 0;
  try {
    for (const p of parts) {
      starts.push(pos);
      if (typeof p === 'string') pos += writeSync(fd, Buffer.from(p, 'latin1'));
      else if (p instanceof Uint8Array) pos += writeSync(fd, p);
      else {
        const chunk = Buffer.alloc(1 << 20, p.fill, 'latin1');
        for (let left = p.bytes; left > 0; left -= chunk.length) pos += writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      }
    }
  } finally {
    closeSync(fd);
  }
  return starts;
}

export const len = (p: Part): number => (typeof p === 'string' ? Buffer.byteLength(p, 'latin1') : p instanceof Uint8Array ? p.length : p.bytes);

/**
 * A one-page document with a signed-looking signature field: `contents` is the hex body of /Contents, `stream`
 * the page content stream body; the ByteRange covers the whole file except /Contents.
 */
export function signedLooking(path: string, contents: Part, stream: Part = 'BT ET', extraObjects: Part[] = [], sigExtra: Part[] = []): void {
  const head: Part[] = ['%PDF-1.7\n'];
  const objs: Part[][] = [
    ['1 0 obj\n<</Type /Catalog /Pages 2 0 R /AcroForm <</Fields [4 0 R] /SigFlags 3>>>>\nendobj\n'],
    ['2 0 obj\n<</Type /Pages /Kids [3 0 R] /Count 1>>\nendobj\n'],
    ['3 0 obj\n<</Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 6 0 R /Annots [4 0 R]>>\nendobj\n'],
    ['4 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T (Sig1) /Rect [0 0 0 0] /P 3 0 R /V 5 0 R /F 132>>\nendobj\n'],
    [],
    [`6 0 obj\n<</Length ${len(stream)}>>\nstream\n`, stream, '\nendstream\nendobj\n'],
    ...extraObjects.map((p) => [p]),
  ];
  // Object 5: the signature dictionary; its ByteRange is fixed-width and filled in once offsets are known.
  const before = head.concat(...objs.slice(0, 4)).reduce((a, p) => a + len(p), 0);
  const sigPrefix = '5 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20260101000000Z) /ByteRange [0000000000 0000000000 0000000000 0000000000]';
  const open = ' /Contents <';
  const contentsStart = before + sigPrefix.length + sigExtra.reduce((a, p) => a + len(p), 0) + open.length - 1;
  const contentsEnd = contentsStart + 1 + len(contents) + 1;
  objs[4] = [sigPrefix, ...sigExtra, open, contents, '>>>\nendobj\n'];
  const all: Part[] = [...head, ...objs.flat()];
  const offsets: number[] = [];
  let pos = 0;
  let objIndex = 0;
  for (const p of all) {
    if (typeof p === 'string' && /^\d+ 0 obj\n/.test(p)) offsets[++objIndex] = pos;
    pos += len(p);
  }
  const n = objIndex;
  let xref = `xref\n0 ${n + 1}\n0000000000 65535 f \n`;
  for (let i = 1; i <= n; i++) xref += `${String(offsets[i]).padStart(10, '0')} 00000 n \n`;
  const tail = `${xref}trailer\n<</Size ${n + 1} /Root 1 0 R>>\nstartxref\n${pos}\n%%EOF\n`;
  const total = pos + tail.length;
  const br = [0, contentsStart, contentsEnd, total - contentsEnd].map((x) => String(x).padStart(10, '0')).join(' ');
  objs[4] = [sigPrefix.replace('0000000000 0000000000 0000000000 0000000000', br), ...sigExtra, open, contents, '>>>\nendobj\n'];
  writeParts(path, [...head, ...objs.flat(), tail]);
}

