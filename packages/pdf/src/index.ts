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
 */
export { PdfError, type PdfErrorCode } from './errors.js';
export { type ByteSource, BufferSource, FileSource, openSource } from './source.js';
export { PdfArray, PdfDict, PdfName, type PdfObject, PdfRaw, PdfRef, PdfStream, PdfString, name, type StreamDecoder } from './objects.js';
export { Parser, DEFAULT_LIMITS, type ParseLimits, isWhite, isDelim } from './parser.js';
export { decodeStreamData, DEFAULT_MAX_DECODED } from './filters.js';
export { PdfReader, pdfReadStats, resetPdfReadStats, type ReaderOptions, type XrefEntry, type XrefSection, type PdfRevision, type PdfPage, type PdfField } from './reader.js';
export { serialize, serializeIndirect, formatNumber } from './serialize.js';
export { IncrementalWriter, type IncrementalUpdate, type BuildOptions } from './writer.js';
export { StandardSecurityHandler, encryptForWrite, isSignatureDict } from './crypt.js';
export { PdfHistory, RevisionView, DEFAULT_BUDGETS, type HistoryBudgets, type HistoryEntry, type HistoryRevision, type PdfFinding } from './history.js';
export { deepEqual, showObject, duplicateKeys } from './compare.js';
export { digestByteRange, byteRangeSpans, readByteRange } from './digest.js';
export { findInSource, lastInSource, byteAt } from './search.js';
