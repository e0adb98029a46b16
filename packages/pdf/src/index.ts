/**
 * @kyso/pdf — lazy PDF reader and incremental (append-only) writer.
 *
 * - `PdfReader.open(bytesOrPath)` reads the trailer and cross-reference chain (classic tables, xref
 *   streams, hybrid /XRefStm, object streams) and loads objects on demand; files are read with
 *   `fs.readSync` in blocks, never whole. Parsed dictionaries, arrays and strings carry their byte
 *   offsets (`start`/`end`, and `PdfDict.valueOffsets` per key) — for objects read from an object
 *   stream the offsets are relative to the decoded stream, not the file.
 * - `IncrementalWriter` appends new/redefined objects and a cross-reference section of the same kind.
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
