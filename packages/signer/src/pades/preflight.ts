/**
 * Honest input: before kyso appends a signature to a PDF it checks that the file is whole. A
 * damaged file (truncated, broken cross-reference data, an unfinished revision after the last
 * `%%EOF`) is refused with `PDF_DAMAGED` and the finding, unless the caller asks for a repair
 * ({@link repairPdf}: the file is rewritten into a normalised one first, and the caller is told).
 *
 * Signing on top of a damaged file would produce a signature over bytes that viewers read in their
 * own ways (each repairs differently): what the signer saw need not be what the reader shows.
 */
import { readFileSync } from 'node:fs';
import { PdfArray, PdfDict, PdfError, type PdfObject, PdfReader, PdfRef, PdfStream, serialize, serializeIndirect } from '@kyso/pdf';
import { PadesError } from './errors.js';

/** What the preflight found. */
export interface PreflightFinding {
  /** `truncated` | `after-eof` | `xref` | `structure`. */
  kind: 'truncated' | 'after-eof' | 'xref' | 'structure';
  message: string;
  /** Byte offset concerned, when known. */
  offset?: number;
}

/** Result of {@link preflightPdf}. */
export interface PreflightReport {
  ok: boolean;
  findings: PreflightFinding[];
}

/** How far from the end the last `%%EOF` is searched (bigger tails are damage anyway). */
const TAIL = 1 << 20;
/** At most this many xref offsets are checked one by one (all of them for ordinary files). */
const MAX_ENTRY_CHECKS = 2_000_000;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0c || b === 0x00;

/**
 * Checks that a PDF is whole: it ends with `%%EOF` (an end-of-line after it is fine), nothing but
 * white space follows the last `%%EOF`, the cross-reference chain reads without repair, and every
 * in-use entry of it points at the object it names. Never throws for a damaged file: returns the findings.
 */
export function preflightPdf(input: string | Uint8Array | PdfReader, opts: { password?: string } = {}): PreflightReport {
  const findings: PreflightFinding[] = [];
  let reader: PdfReader | undefined;
  const own = !(input instanceof PdfReader);
  try {
    reader = input instanceof PdfReader ? input : PdfReader.open(input, opts.password !== undefined ? { password: opts.password } : {});
  } catch (err) {
    if (err instanceof PdfError && err.code === 'PDF_NOT_PDF') throw new PadesError('PDF_DAMAGED', `not a PDF: ${err.message}`, { cause: err });
    if (err instanceof PdfError && err.code === 'PDF_ENCRYPTED') throw err;
    findings.push(err instanceof PdfError && err.code === 'PDF_TRUNCATED'
      ? { kind: 'truncated', message: err.message }
      : { kind: 'xref', message: `cross-reference data unreadable: ${(err as Error).message}`, ...(err instanceof PdfError && err.offset !== undefined ? { offset: err.offset } : {}) });
  }
  try {
    const whole = reader ? undefined : typeof input === 'string' ? readFileSync(input) : Buffer.from(input as Uint8Array);
    const size = reader ? reader.size : whole!.length;
    const tailLen = Math.min(size, TAIL);
    const tail = Buffer.from(reader ? reader.src.read(size - tailLen, tailLen) : whole!.subarray(size - tailLen));
    const eof = tail.lastIndexOf('%%EOF', undefined, 'latin1');
    if (eof < 0) {
      if (!findings.some((f) => f.kind === 'truncated')) findings.push({ kind: 'truncated', message: 'the file does not end with %%EOF (truncated or cut short while being written)' });
    } else {
      let extra = 0;
      for (let i = eof + 5; i < tail.length; i++) if (!isSpace(tail[i]!)) extra++;
      if (extra > 0) {
        const after = tail.subarray(eof + 5).toString('latin1');
        const offset = size - tailLen + eof + 5;
        const unfinished = /\d+\s+\d+\s+obj\b|\bxref\b|\btrailer\b|\bstartxref\b|\bendobj\b/.test(after);
        findings.push(unfinished
          ? { kind: 'after-eof', offset, message: `an unfinished revision follows the last %%EOF (${tail.length - eof - 5} bytes at offset ${offset} with objects but no complete cross-reference section and %%EOF)` }
          : { kind: 'after-eof', offset, message: `${tail.length - eof - 5} bytes of data follow the last %%EOF at offset ${offset}` });
      }
    }
    if (reader) {
      for (const r of reader.repairs) findings.push({ kind: 'xref', message: r });
      checkEntries(reader, findings);
    }
  } finally {
    if (own) reader?.close();
  }
  return { ok: findings.length === 0, findings };
}

/** Parses `N G obj` at `p` of `buf` (leading white space allowed); returns [num, gen] or undefined. */
function objHeader(buf: Buffer, p: number, end: number): [number, number] | undefined {
  while (p < end && isSpace(buf[p]!)) p++;
  let a = 0;
  let digits = 0;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39 && digits < 11) { a = a * 10 + buf[p]! - 0x30; p++; digits++; }
  if (!digits || p >= end || !isSpace(buf[p]!)) return undefined;
  while (p < end && isSpace(buf[p]!)) p++;
  let g = 0;
  digits = 0;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39 && digits < 11) { g = g * 10 + buf[p]! - 0x30; p++; digits++; }
  if (!digits || p >= end || !isSpace(buf[p]!)) return undefined;
  while (p < end && isSpace(buf[p]!)) p++;
  if (p + 3 > end || buf[p] !== 0x6f || buf[p + 1] !== 0x62 || buf[p + 2] !== 0x6a) return undefined;
  return [a, g];
}

const WINDOW = 1 << 20;
const HEAD = 48;

/**
 * Every in-use uncompressed entry must point at `N G obj` (checked in one sequential pass over the
 * file, in offset order); objects in object streams must name a stream the xref locates.
 */
function checkEntries(reader: PdfReader, findings: PreflightFinding[]): void {
  const size = reader.size;
  let bad = 0;
  let first: string | undefined;
  const fail = (why: string): void => { bad++; first ??= why; };
  const direct: [number, number, number][] = [];
  for (const [num, e] of reader.xref) {
    if (e.type === 'free' || num === 0) continue;
    if (direct.length >= MAX_ENTRY_CHECKS) break;
    if (e.type === 'compressed') {
      const host = reader.xref.get(e.stream);
      if (!host || host.type !== 'offset') fail(`object ${num} lives in object stream ${e.stream}, which the cross-reference data does not locate`);
      continue;
    }
    if (e.offset < 0 || e.offset >= size) fail(`object ${num} ${e.gen} is at offset ${e.offset}, outside the file (${size} bytes)`);
    else direct.push([e.offset, num, e.gen]);
  }
  // (writers usually number objects in file order: then the entries already are in offset order)
  let sorted = true;
  for (let i = 1; i < direct.length && sorted; i++) sorted = direct[i - 1]![0] <= direct[i]![0];
  if (!sorted) direct.sort((x, y) => x[0] - y[0]);
  let winStart = -1;
  let win = Buffer.alloc(0);
  for (const [off, num, gen] of direct) {
    if (winStart < 0 || off + HEAD > winStart + win.length) {
      winStart = off;
      win = Buffer.from(reader.src.read(off, Math.min(WINDOW, size - off)));
    }
    const rel = off - winStart;
    const h = objHeader(win, rel, Math.min(win.length, rel + HEAD));
    if (!h || h[0] !== num || h[1] !== gen) {
      const what = h ? `object ${h[0]} ${h[1]}` : `'${win.subarray(rel, rel + 16).toString('latin1').replace(/[^\x20-\x7e]/g, '.')}'`;
      fail(`object ${num} ${gen}: the cross-reference entry points at offset ${off}, which holds ${what}`);
    }
  }
  if (bad) findings.push({ kind: 'xref', message: `broken cross-reference data: ${first}${bad > 1 ? ` (and ${bad - 1} more entr${bad === 2 ? 'y' : 'ies'})` : ''}` });
}

/** The PDF_DAMAGED error for a list of findings. */
export function damagedError(findings: PreflightFinding[], what = 'the input', action: 'sign' | 'extend' = 'sign'): PadesError {
  const advice = action === 'sign'
    ? 'Refusing to sign it as it is; ask for a repair (repair: true / kyso sign --repair) to rewrite it into a sound file first'
    : 'Refusing to extend it: its signatures cannot be given long-term evidence over damaged data (a repair rewrites the file, which ends the signatures it carries)';
  return new PadesError('PDF_DAMAGED', `${what} is damaged: ${findings.map((f) => f.message).join('; ')}. ${advice}`);
}

/** Refuses a damaged input with `PDF_DAMAGED` (the findings in the message and a hint at the repair option). */
export function assertPdfWhole(input: string | Uint8Array | PdfReader, opts: { password?: string; name?: string } = {}): void {
  const r = preflightPdf(input, opts);
  if (!r.ok) throw damagedError(r.findings, opts.name ?? (typeof input === 'string' ? input : 'the input'));
}

/** Result of {@link repairPdf}. */
export interface RepairResult {
  /** The normalised PDF. */
  bytes: Uint8Array;
  /** What was wrong (the preflight findings). */
  findings: PreflightFinding[];
}

/**
 * Rewrites a damaged PDF into a sound one (every object written once as an ordinary object, one
 * classic cross-reference table, one `%%EOF`): objects are recovered by scanning the file (as
 * viewers do), an unfinished trailing revision is dropped, an object cut off by truncation is
 * left out (references to it read as null). Refused with `PDF_DAMAGED` when nothing usable is
 * left, or when the file carries signatures (rewriting would break them); encrypted files are
 * refused too (PDF_ENCRYPTED): repair them with the tool that holds the password.
 */
export async function repairPdf(input: string | Uint8Array): Promise<RepairResult> {
  const bytes = typeof input === 'string' ? new Uint8Array(readFileSync(input)) : input;
  let findings: PreflightFinding[];
  try {
    findings = preflightPdf(bytes).findings;
  } catch (err) {
    throw err instanceof PadesError ? err : new PadesError('PDF_DAMAGED', `the PDF is too damaged to repair: ${(err as Error).message}`, { cause: err });
  }
  let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  // An unfinished revision after the last %%EOF is dropped: the file as last completed is what is kept.
  const cut = findings.find((f) => f.kind === 'after-eof')?.offset;
  if (cut !== undefined) data = data.subarray(0, cut);
  if (findings.some((f) => f.kind === 'xref')) {
    // Cross-reference data that reads but lies: make the reader rebuild it by scanning (as viewers do).
    const text = data.toString('latin1');
    const sx = text.lastIndexOf('startxref');
    if (sx >= 0) data = Buffer.concat([data.subarray(0, sx), Buffer.from(text.slice(sx).replace(/^startxref\s+\d+/, 'startxref\n0'), 'latin1')]);
  }
  let reader = openForRepair(data);
  if (!reader) {
    // Truncated before its trailer: name the catalog in a synthetic trailer and scan again.
    const text = data.toString('latin1');
    const cat = [...text.matchAll(/(\d{1,10})\s+(\d{1,5})\s+obj\s*<<(?:(?!endobj)[\s\S]){0,4096}?\/Type\s*\/Catalog\b/g)].pop();
    if (cat) reader = openForRepair(Buffer.concat([data, Buffer.from(`\ntrailer\n<< /Root ${cat[1]} ${cat[2]} R >>\n`, 'latin1')]));
  }
  if (!reader) throw new PadesError('PDF_DAMAGED', 'the PDF is too damaged to repair: neither its cross-reference data nor a document catalog could be recovered');
  try {
    if (reader.isEncrypted) throw new PadesError('PDF_ENCRYPTED', 'an encrypted PDF cannot be repaired by kyso; repair it with the tool that holds its password');
    const signed = reader.fields().filter((f) => f.fieldType === 'Sig' && f.dict.get('V') !== undefined);
    if (signed.length) throw new PadesError('PDF_DAMAGED', `the PDF carries ${signed.length} signature(s) that a repair would invalidate; have it repaired by its author or sign a sound copy`);
    const parts: Buffer[] = [Buffer.from(`%PDF-${reader.version || '1.7'}\n%\xe2\xe3\xcf\xd3\n`, 'latin1')];
    let pos = parts[0]!.length;
    const offsets = new Map<number, { offset: number; gen: number }>();
    const nums = [...reader.xref.entries()].filter(([n, e]) => n > 0 && e.type !== 'free').map(([n]) => n).sort((x, y) => x - y);
    for (const num of nums) {
      const e = reader.xref.get(num)!;
      const gen = e.type === 'offset' ? e.gen : 0;
      let obj: PdfObject | undefined;
      try {
        obj = reader.getObject(new PdfRef(num, gen));
      } catch {
        continue; // cut off or unreadable: left out
      }
      if (obj === undefined || obj === null) continue;
      if (obj instanceof PdfStream && (obj.dict.getName('Type') === 'XRef' || obj.dict.getName('Type') === 'ObjStm')) continue;
      const buf = serializeIndirect(new PdfRef(num, gen), obj);
      offsets.set(num, { offset: pos, gen });
      parts.push(buf);
      pos += buf.length;
    }
    const root = reader.trailer.get('Root');
    if (!(root instanceof PdfRef) || !offsets.has(root.num)) throw new PadesError('PDF_DAMAGED', 'the PDF is too damaged to repair: its document catalog is lost');
    try {
      if (reader.pageCount < 1) throw new Error('no page');
      reader.getPage(0);
    } catch {
      throw new PadesError('PDF_DAMAGED', 'the PDF is too damaged to repair: no page could be recovered');
    }
    const size = (nums.length ? nums[nums.length - 1]! : 0) + 1;
    const xref: string[] = ['xref', `0 ${size}`, '0000000000 65535 f\r'];
    for (let n = 1; n < size; n++) {
      const o = offsets.get(n);
      xref.push(o ? `${String(o.offset).padStart(10, '0')} ${String(o.gen).padStart(5, '0')} n\r` : '0000000000 00000 f\r');
    }
    const trailer = new PdfDict({ Size: size, Root: root });
    const info = reader.trailer.get('Info');
    if (info instanceof PdfRef && offsets.has(info.num)) trailer.set('Info', info);
    const id = reader.trailer.get('ID');
    if (id instanceof PdfArray) trailer.set('ID', id);
    parts.push(Buffer.from(`${xref.join('\n')}\ntrailer\n${serialize(trailer)}\nstartxref\n${pos}\n%%EOF\n`, 'latin1'));
    const out = new Uint8Array(Buffer.concat(parts));
    return { bytes: out, findings: findings.length ? findings : [{ kind: 'xref', message: 'cross-reference data rebuilt' }] };
  } finally {
    reader.close();
  }
}

function openForRepair(data: Uint8Array): PdfReader | undefined {
  try {
    return PdfReader.open(data, { repair: true });
  } catch (err) {
    if (err instanceof PdfError && err.code === 'PDF_ENCRYPTED') throw new PadesError('PDF_ENCRYPTED', 'an encrypted PDF cannot be repaired by kyso', { cause: err });
    return undefined;
  }
}
