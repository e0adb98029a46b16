/**
 * The verifier's PDF layer: signature extraction, ByteRange/coverage checks, DSS, and modification
 * analysis of later revisions by explicit rules. Entry point: {@link analyzePdf}.
 *
 * It reads PDFs only through @kyso/pdf (the signer's reader): `PdfHistory` gives the object table as of
 * revision k (resolved as viewers do, through the newest xref and object streams), exact byte offsets of
 * every /Contents string, a tolerant mode whose findings become report findings, and budgets checked before
 * allocation, so that hostile input can never make it throw, hang or allocate without bound.
 *
 * Modification analysis is a whitelist over the object graph (./rules, one rule per file, injectable through
 * `Policy.modificationRules`): every object whose resolved value differs between two revisions must be
 * explained by a rule, and a permissive rule may explain it only when every role of the object (every root
 * it is reachable from, before and after) is its own. Allowed changes that matter to a reader carry `warning`.
 *
 * Format findings (`PdfSignatureInfo.formatFindings`, severity 'error' ⇒ FORMAT_FAILURE):
 *   BYTERANGE_MISSING, BYTERANGE_MALFORMED, BYTERANGE_NOT_FROM_ZERO, BYTERANGE_OVERLAP, BYTERANGE_BEYOND_FILE,
 *   BYTERANGE_NOT_REVISION_END, CONTENTS_GAP_MISMATCH, CONTENTS_MISSING, CONTENTS_MALFORMED, CONTENTS_NOT_HEX,
 *   CONTENTS_EMPTY, CONTENTS_NOT_DER, SIGNATURE_IN_OBJECT_STREAM, SIGNATURE_NOT_IN_OWN_REVISION,
 *   SIGNATURE_DICTIONARY_AMBIGUOUS, SUBFILTER_MISSING, SUBFILTER_UNSUPPORTED, CERTIFICATION_NOT_FIRST;
 *   warnings: CONTENTS_TRAILING_DATA, DOCMDP_P_INVALID, DOCMDP_PERMS_MISSING, DOCMDP_REFERENCE_MISSING.
 * Document findings (`PdfAnalysis.findings`): PDF_UNREADABLE, FILE_UNREADABLE, STARTXREF_MISSING, XREF_BROKEN,
 *   XREF_PREV_CYCLE, XREF_REPAIRED, XREF_OFFSET_WRONG, XREF_DUPLICATE_ENTRY, OBJSTM_BROKEN, OBJECT_UNREADABLE, ANALYSIS_BUDGET_EXCEEDED,
 *   SIGNATURE_VALUE_UNREADABLE, SIGNATURE_DICTIONARY_SHARED (errors); PDF_ENCRYPTED, PDF_HEADER_MISSING,
 *   SIGNATURE_FIELD_ORPHAN, STREAM_UNDECODABLE, DATA_AFTER_LAST_EOF, EOF_MARKER_MISSING, REVISION_ORDER (warnings).
 *
 * Modification kinds (`Modification.kind`, judged by the rules under ./rules, one module per rule; `level` is
 * the change class): allowed — dss-added, dss-updated, extensions-updated, document-timestamp-added,
 * signature-added, signature-field-added, field-filled, appearance-updated, annotation-added,
 * annotation-removed, annotation-modified, annotation-appearances-updated, form-resources-added, structure-tree-updated,
 * metadata-updated, trailer-updated (each still refused when a certification signature's DocMDP /P does not
 * permit its level: P=1 → LTA_UPDATES only, P=2 → FORM_FILLING, P=3 → ANNOTATIONS); never allowed —
 * ambiguous-object, invalid-syntax, annotation-order-changed, appearance-regeneration, dangling-reference-filled,
 * signature-dictionary-changed, signature-field-changed, appearance-overridden,
 * new-signature-field-after-certification, locked-field-changed, field-added, field-changed, field-removed,
 * widget-added, page-added, page-removed, page-order-changed, page-content-changed, page-changed,
 * resource-changed, catalog-changed, acroform-changed, encryption-changed, object-overwritten, object-deleted,
 * data-after-last-revision, structure-repaired, analysis-incomplete, analysis-failed.
 */
export { analyzePdf, annotationDrawn, type AnalyzeOptions } from './analyze.js';
export { RULES as PDF_MODIFICATION_RULES, RevisionContext, type Rule as ModificationRule, type RevisionPolicy, type JudgedModification } from './rules/index.js';
export * as modificationRules from './rules/index.js';
export type { PdfAnalysis, PdfSignatureInfo, PdfDss, Coverage, Modification, ModificationLevel, Finding, DigestAlgorithm } from './types.js';
export { derLength, parsePdfDate } from './contents.js';
