/**
 * The verifier's PDF layer: signature extraction, ByteRange/coverage checks, DSS, and modification
 * analysis of later revisions by explicit rules. Entry point: {@link analyzePdf}.
 */
export { analyzePdf, type AnalyzeOptions } from './analyze.js';
export type { PdfAnalysis, PdfSignatureInfo, PdfDss, Coverage, Modification, ModificationLevel, Finding, DigestAlgorithm } from './types.js';
export { derLength, parsePdfDate } from './contents.js';
