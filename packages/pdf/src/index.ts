/**
 * @kyso/pdf — lazy PDF reader and incremental (append-only) writer.
 *
 * - `PdfReader.open(bytesOrPath)` reads the trailer and cross-reference chain (classic tables, xref
 *   streams, hybrid /XRefStm, object streams) and loads objects on demand; files are read with
 *   `fs.readSync` in blocks, never whole. Parsed dictionaries, arrays and strings carry their byte
 *   offsets (`start`/`end`, and `PdfDict.valueOffsets` per key) — for objects read from an object
 *   stream the offsets are relative to the decoded stream, not the file.
 * - `IncrementalWriter` appends new/redefined objects and a cross-reference section of the same kind.
 * - Encrypted files (Standard security handler: RC4 40–128, AES-128, AES-256 R5/R6): `PdfReader.open(x, { password })`
 *   decrypts strings and streams on load (the empty user password is tried by default; `canDecrypt`,
 *   `encryptionError`); the writer encrypts the strings and streams of the update with the same key and keeps
 *   /Encrypt in the new trailer (signature /Contents stay unencrypted, as ISO 32000-2 requires).
 * - `pdfReadStats()` counts objects loaded and bytes decoded (laziness checks).
 * - `PdfHistory.open(x, budgets)` is the verifier's view: revisions (each %%EOF), objects as of revision k resolved
 *   as viewers do (newest xref, object streams included), a tolerant mode that records findings (repairs,
 *   duplicate keys, invalid tokens; invalid syntax is never coerced to a value) and budgets (strings, streams,
 *   object counts, parses) checked before allocation. `digestByteRange` is the one streamed ByteRange digest.
 * - Everything that fails on bad input throws `PdfError` with a stable `code`.
 *
 * The public API is the explicit list below. A new public name is added here, in its group; anything not
 * listed is internal and may change without notice.
 */
/** The error of every parser and writer step, with a stable `code`. */
export { PdfError, type PdfErrorCode } from './errors.js';
/** Where bytes come from: memory or a file read in blocks. */
export { type ByteSource, BufferSource, FileSource, openSource } from './source.js';
/** The PDF object model (with byte offsets of what was parsed). */
export { PdfArray, PdfDict, PdfName, type PdfObject, PdfRaw, PdfRef, PdfStream, PdfString, name, type StreamDecoder } from './objects.js';
/** The object parser and its limits (depth, sizes). */
export { Parser, DEFAULT_LIMITS, type ParseLimits, isWhite, isDelim } from './parser.js';
/** Stream filters (Flate, LZW, ASCIIHex, ASCII85, RunLength, predictors) with a decoded-size budget. */
export { decodeStreamData, DEFAULT_MAX_DECODED } from './filters.js';
/** The lazy reader: trailer, cross-reference chain, revisions, pages, form fields, objects on demand. */
export { PdfReader, pdfReadStats, resetPdfReadStats, type ReaderOptions, type XrefEntry, type XrefSection, type PdfRevision, type PdfPage, type PdfField } from './reader.js';
/** Serialising objects back to PDF syntax. */
export { serialize, serializeIndirect, formatNumber } from './serialize.js';
/** Incremental updates: new and redefined objects appended after the original bytes. */
export { IncrementalWriter, type IncrementalUpdate, type BuildOptions } from './writer.js';
/** The Standard security handler (RC4, AES-128, AES-256) for encrypted files. */
export { StandardSecurityHandler, encryptForWrite, isSignatureDict } from './crypt.js';
/** The verifier's view: revisions, objects as of revision k resolved as viewers do, findings, budgets. */
export { PdfHistory, RevisionView, DEFAULT_BUDGETS, type HistoryBudgets, type HistoryEntry, type HistoryRevision, type PdfFinding } from './history.js';
/** Comparing objects across revisions (same meaning, duplicate keys). */
export { deepEqual, showObject, duplicateKeys } from './compare.js';
/** The one streamed ByteRange digest, and bounded reading of signed ranges. */
export { digestByteRange, byteRangeSpans, readByteRange } from './digest.js';
/** Bounded byte search over a source. */
export { findInSource, lastInSource, byteAt } from './search.js';
