/**
 * ByteRange rules (after pyHanko / EU DSS): four non-negative integers, starting at 0, two ranges whose gap
 * is exactly this signature's /Contents hex string, ending at a revision end, inside the file.
 */
import type { Coverage, Finding } from './types.js';
import { PdfArray, type PdfObject } from '@kyso/pdf';

export interface CoverageInput {
  byteRange: PdfObject | undefined;
  /** Offsets of this dictionary's /Contents string incl. delimiters, or undefined if unknown. */
  contents: { start: number; end: number } | undefined;
  revisionEnds: number[];
  fileSize: number;
  where: string;
  /** Reads file bytes (to recognise a trailing EOL after %%EOF). */
  bytesAt?: (start: number, end: number) => Uint8Array;
}

export function checkCoverage(inp: CoverageInput, findings: Finding[]): Coverage | null {
  const err = (code: string, message: string): void => {
    findings.push({ code, severity: 'error', message, where: inp.where });
  };
  const br = inp.byteRange;
  if (br === undefined || br === null) {
    err('BYTERANGE_MISSING', 'signature dictionary has no /ByteRange');
    return null;
  }
  if (!(br instanceof PdfArray)) {
    err('BYTERANGE_MALFORMED', '/ByteRange is not an array');
    return null;
  }
  const v = br.items;
  if (v.length !== 4 || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    err('BYTERANGE_MALFORMED', `/ByteRange must be four non-negative integers, got ${v.length} item(s)`);
    return null;
  }
  const [a, b, c, d] = v as number[];
  const gapStart = a! + b!;
  const end = c! + d!;
  let ok = true;
  if (a !== 0) {
    err('BYTERANGE_NOT_FROM_ZERO', `/ByteRange starts at ${a}, not 0`);
    ok = false;
  }
  if (c! < gapStart) {
    err('BYTERANGE_OVERLAP', `/ByteRange ranges overlap or are out of order (${a}+${b} > ${c})`);
    ok = false;
  }
  if (end > inp.fileSize) {
    err('BYTERANGE_BEYOND_FILE', `/ByteRange ends at ${end}, beyond the file size ${inp.fileSize}`);
    ok = false;
  }
  if (!inp.contents) {
    err('CONTENTS_GAP_MISMATCH', 'the /Contents string of this signature dictionary could not be located in the file');
    ok = false;
  } else if (inp.contents.start !== gapStart || inp.contents.end !== c) {
    err('CONTENTS_GAP_MISMATCH', `/ByteRange gap [${gapStart}, ${c}) is not this signature's /Contents string [${inp.contents.start}, ${inp.contents.end})`);
    ok = false;
  }
  // A revision ends after %%EOF plus an optional EOL: a range ending right after %%EOF is accepted too.
  const eolOnly = (from: number, to: number): boolean => {
    if (!inp.bytesAt || to - from > 2) return false;
    const b = inp.bytesAt(from, to);
    return b.every((x) => x === 0x0a || x === 0x0d);
  };
  let revisionEnd = inp.revisionEnds.find((e) => e >= end) ?? inp.fileSize;
  if (!inp.revisionEnds.includes(end) && !eolOnly(end, revisionEnd)) {
    err('BYTERANGE_NOT_REVISION_END', `signed range ends at ${end}, which is not the end of a revision (next revision end: ${revisionEnd})`);
    ok = false;
  }
  return {
    byteRange: [a!, b!, c!, d!],
    contentsStart: inp.contents?.start ?? gapStart,
    contentsEnd: inp.contents?.end ?? c!,
    revisionEnd,
    fileSize: inp.fileSize,
    coversWholeRevision: ok,
    coversWholeFile: ok && revisionEnd === inp.fileSize,
  };
}
