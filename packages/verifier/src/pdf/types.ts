/**
 * Contract between the verifier's PDF layer (src/pdf: signature extraction, ByteRange checks,
 * modification analysis, DSS) and the validation core (src: CMS, certificates, revocation, report).
 */

/** Hash algorithms a signed byte range may be digested with. */
export type DigestAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A fact found while analysing the file. */
export interface Finding {
  /** Stable code, e.g. BYTERANGE_NOT_FROM_ZERO, CONTENTS_GAP_MISMATCH, XREF_REPAIRED. */
  code: string;
  severity: 'info' | 'warning' | 'error';
  message: string;
  /** Where: object reference ("12 0 R"), byte offset, or revision number. */
  where?: string;
}

/** What the ByteRange of one signature covers. */
export interface Coverage {
  byteRange: number[];
  /** The gap: offsets of the /Contents hex string including its < > delimiters. */
  contentsStart: number;
  contentsEnd: number;
  /** End offset (exclusive) of the revision the signature belongs to (after its %%EOF + EOL). */
  revisionEnd: number;
  fileSize: number;
  /** The signed bytes are exactly [0, revisionEnd) minus the /Contents string. */
  coversWholeRevision: boolean;
  /** And that revision is the last one: nothing was appended after signing. */
  coversWholeFile: boolean;
}

/** Ordered from least to most permissive change class (pyHanko-like). */
export type ModificationLevel = 'NONE' | 'LTA_UPDATES' | 'FORM_FILLING' | 'ANNOTATIONS' | 'OTHER';

/** One change made in a revision after the signature. */
export interface Modification {
  /** Revision number (0 = original file) that made the change. */
  revision: number;
  /** e.g. 'dss-added', 'document-timestamp-added', 'signature-added', 'field-filled', 'annotation-added',
   *  'page-content-changed', 'page-added', 'page-removed', 'resource-changed', 'object-overwritten',
   *  'catalog-changed', 'signature-dictionary-changed', 'appearance-overridden', 'new-signature-field-after-certification'. */
  kind: string;
  /** The object concerned, e.g. "12 0 R", or a page number "page 2". */
  object?: string;
  /** Whether policy (DocMDP/FieldMDP, LTA rules) permits it. */
  allowed: boolean;
  /** The rule that judged it (e.g. 'dss-rule', 'docmdp-rule', 'page-content-rule'). */
  rule: string;
  description: string;
  /** Change class of this modification (added by the PDF layer; 'OTHER' for changes outside every class). */
  level?: ModificationLevel;
  /** Allowed, but it matters to a reader (new links or actions, appearance regeneration): shown as a warning. */
  warning?: boolean;
}

/** One signature (or document timestamp) found in a PDF. */
export interface PdfSignatureInfo {
  index: number;
  fieldName: string;
  kind: 'signature' | 'document-timestamp';
  filter?: string;
  subFilter?: string;
  /** /M of the signature dictionary (claimed signing time). */
  claimedTime?: Date;
  reason?: string;
  location?: string;
  contactInfo?: string;
  name?: string;
  /** CMS DER from /Contents, trailing zero padding removed. Empty if unreadable. */
  contents: Uint8Array;
  /** Coverage, or null when the ByteRange is missing or unusable. */
  coverage: Coverage | null;
  /** Revision (0-based) whose end the ByteRange reaches. */
  revision: number;
  isCertification: boolean;
  /** DocMDP /P of a certification signature (1, 2 or 3). */
  docMdpPermissions?: 1 | 2 | 3;
  /** FieldMDP / Lock: action (All, Include, Exclude) and field names. */
  fieldLock?: { action: string; fields: string[] };
  /** Structural problems of this signature (non-empty error => FORMAT_FAILURE). */
  formatFindings: Finding[];
  /** Changes made after this signature's revision, judged by the rules. */
  modifications: Modification[];
  modificationLevel: ModificationLevel;
  /** Key of this signature's entry in the DSS /VRI dictionary, when there is one: upper-case hex SHA-1 of the
   *  /Contents value, with its zero padding (pyHanko, kyso) or without it (some other producers). */
  vriKey?: string;
  /** Digest of the bytes the ByteRange designates (streamed; never loads a large file whole). */
  digest(alg: DigestAlgorithm): Promise<Uint8Array>;
}

/** Document Security Store contents (catalog /DSS). */
export interface PdfDss {
  certs: Uint8Array[];
  ocsps: Uint8Array[];
  crls: Uint8Array[];
  /** Upper-case hex SHA-1 key → per-signature validation data. */
  vri: Record<string, { certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[]; time?: Date }>;
}

/** Everything the validation core needs from one PDF. */
export interface PdfAnalysis {
  fileSize: number;
  /** Offsets (exclusive ends) of each revision, oldest first. */
  revisions: { startxref: number; end: number }[];
  signatures: PdfSignatureInfo[];
  dss?: PdfDss;
  /** Document-level facts: repaired structure, encryption, parse failure... */
  findings: Finding[];
}

/*
 * Exported from src/pdf/index.ts:
 *   analyzePdf(input: Uint8Array | string, opts?: { signal?: AbortSignal }): Promise<PdfAnalysis>
 *     Never throws on hostile input: parse failures become findings (severity 'error').
 */
