/**
 * Validation report model after ETSI EN 319 102-1 (indications, sub-indications, building blocks) and
 * TS 119 102-2 (report content). The JSON form is documented by `report.schema.json` in this package.
 */

/** Main status of a signature (EN 319 102-1 §5.1.3). */
export type Indication = 'TOTAL_PASSED' | 'INDETERMINATE' | 'TOTAL_FAILED';

/** Sub-indications used by kyso (EN 319 102-1 Table 5/6, plus NO_SIGNATURE_FOUND at document level). */
export type SubIndication =
  // TOTAL_FAILED
  | 'FORMAT_FAILURE' | 'HASH_FAILURE' | 'SIG_CRYPTO_FAILURE' | 'REVOKED' | 'EXPIRED' | 'NOT_YET_VALID'
  | 'SIG_CONSTRAINTS_FAILURE'
  // INDETERMINATE
  | 'NO_CERTIFICATE_CHAIN_FOUND' | 'NO_SIGNING_CERTIFICATE_FOUND' | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE' | 'OUT_OF_BOUNDS_NO_POE' | 'OUT_OF_BOUNDS_NOT_REVOKED' | 'REVOKED_NO_POE'
  | 'REVOKED_CA_NO_POE' | 'TRY_LATER' | 'SIGNED_DATA_NOT_FOUND' | 'CERTIFICATE_CHAIN_GENERAL_FAILURE'
  | 'CHAIN_CONSTRAINTS_FAILURE' | 'TIMESTAMP_ORDER_FAILURE' | 'NO_POE' | 'GENERIC'
  // document level
  | 'NO_SIGNATURE_FOUND';

/** Building blocks of EN 319 102-1 §5.2 / §5.3–5.6 that can decide a verdict. */
export type BuildingBlock =
  | 'FC'   // format checking
  | 'ISC'  // identification of the signing certificate
  | 'VCI'  // validation context initialisation
  | 'RFC'  // revocation freshness checker
  | 'XCV'  // X.509 certificate validation
  | 'CV'   // cryptographic verification
  | 'SAV'  // signature acceptance validation
  | 'TSV'  // time-stamp validation
  | 'PSV'  // past signature validation
  | 'MA';  // modification analysis (PDF revisions after the signature; kyso extension)

/** Detected signature level. */
export type SignatureLevel =
  | 'PAdES-BASELINE-B' | 'PAdES-BASELINE-T' | 'PAdES-BASELINE-LT' | 'PAdES-BASELINE-LTA'
  | 'CAdES-BASELINE-B' | 'CAdES-BASELINE-T' | 'CAdES-BASELINE-LT' | 'CAdES-BASELINE-LTA'
  | 'PAdES-NOT-BASELINE' | 'CAdES-NOT-BASELINE'
  | 'XAdES-BASELINE-B' | 'XAdES-BASELINE-T' | 'XAdES-BASELINE-LT' | 'XAdES-BASELINE-LTA' | 'XAdES-NOT-BASELINE' | 'XMLDSIG'
  | 'adbe.pkcs7.detached' | 'adbe.pkcs7.sha1' | 'CMS' | 'PDF-DOC-TIMESTAMP' | 'UNKNOWN';

/** One check's outcome, kept in the report for the reader ("what was checked"). */
export interface CheckResult {
  /** Check name, e.g. 'message-digest', 'certificate-chain'. */
  check: string;
  block: BuildingBlock;
  status: 'passed' | 'failed' | 'warning' | 'skipped' | 'info';
  message: string;
}

/** Identity of a certificate holder. */
export interface SignerInfo {
  subject: string;
  issuer: string;
  /** Certificate serial number, upper-case hex. */
  serialNumber: string;
  commonName?: string;
  /** Personal identifiers (subject serialNumber, e.g. "CCCD:001234567890", UID, e-mail). */
  personalIdentifiers: string[];
  /** Organisation name and identifiers (O, organizationIdentifier, e.g. "MST:0101234567"). */
  organization?: string;
  organizationIdentifiers: string[];
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the certificate DER, hex. */
  certificateSha256: string;
  /** Subjects from the signer up to the trust anchor when a chain was built. */
  chain?: string[];
}

/** A validated timestamp (signature timestamp or document timestamp). */
export interface TimestampInfo {
  /** genTime, ISO 8601. */
  time: string;
  kind: 'signature-timestamp' | 'document-timestamp';
  /** The TSA certificate subject. */
  tsa?: string;
  valid: boolean;
  message: string;
}

/** What the signature covers. */
export interface CoverageInfo {
  byteRange?: number[];
  /** Revision (0-based) the signature belongs to. */
  revision?: number;
  /** The signed bytes are the whole revision except the /Contents string. */
  coversWholeRevision?: boolean;
  /** Nothing was appended after signing. */
  coversWholeFile?: boolean;
  /** For detached CMS: size of the signed data in bytes. */
  dataSize?: number;
  /** For XML signatures: what each reference covers (EU DSS signature scope). */
  xml?: XmlCoverage;
}

/** Signature scope of an XML signature: FULL (the whole document but the signature), PARTIAL (some elements or
 *  detached data only), or what could not be found. Each reference says what it selected. */
export interface XmlCoverage {
  scope: 'FULL' | 'PARTIAL' | 'DETACHED' | 'SIGNED_DATA_NOT_FOUND';
  references: {
    uri: string;
    type?: string;
    /** 'document' (URI=""), 'element' (by ID), 'detached' (data supplied by the caller), 'signed-properties'. */
    target: 'document' | 'element' | 'detached' | 'signed-properties' | 'not-found';
    /** Location of the selected element, e.g. /edXML:edXMLEnvelope[1]/edXML:edXMLBody[1]. */
    path?: string;
    transforms: string[];
    digestAlgorithm: string | null;
    /** The digest matched. */
    intact: boolean;
    /** Size of the signed octets (after transforms). */
    size?: number;
  }[];
}

/** A modification made after the signature (from the PDF layer's rules). */
export interface ModificationInfo {
  revision: number;
  kind: string;
  object?: string;
  allowed: boolean;
  /** Allowed, but it matters to a reader (a new link or action, appearance regeneration). */
  warning?: boolean;
  rule: string;
  description: string;
}

/** Report for one signature or document timestamp. */
export interface SignatureReport {
  /** Signature field name (PDF) or "signerInfo[N]" (CMS). */
  field: string;
  kind: 'signature' | 'document-timestamp';
  indication: Indication;
  subIndication: SubIndication | null;
  /** The building block that decided a non-passed verdict. */
  block: BuildingBlock | null;
  /** Why, in one sentence. */
  message: string;
  level: SignatureLevel;
  /** Cryptographic integrity: the digest matched and the signature value verified (independent of trust). */
  intact: boolean;
  signer: SignerInfo | null;
  /** Claimed signing time (PDF /M or CMS signing-time), ISO 8601, or null. */
  signingTime: string | null;
  /** Trusted time: the earliest valid timestamp (genTime), ISO 8601, or null. */
  timestamp: string | null;
  /** Best signature time used for validation, ISO 8601. */
  bestSignatureTime: string;
  coverage: CoverageInfo;
  modifications: ModificationInfo[];
  timestamps: TimestampInfo[];
  /** Digest and signature algorithms, e.g. "SHA-256", "RSA/SHA-256". */
  digestAlgorithm: string | null;
  signatureAlgorithm: string | null;
  /** Where revocation status came from, per certificate. */
  revocation: { certificate: string; status: 'good' | 'revoked' | 'unknown'; source: string; revokedAt?: string; reason?: string }[];
  checks: CheckResult[];
  /** PDF dictionary information, when present. */
  reason?: string;
  location?: string;
  contactInfo?: string;
  name?: string;
}

/** The whole report for one file. */
export interface ValidationReport {
  file: string;
  documentIndication: Indication;
  documentSubIndication: SubIndication | null;
  format: 'PDF' | 'CMS' | 'XML';
  /** Validation time used, ISO 8601. */
  validationTime: string;
  signatures: SignatureReport[];
  /** Document-level findings (structure repairs, parse failures...). */
  findings: { code: string; severity: 'info' | 'warning' | 'error'; message: string; where?: string }[];
  /** Generator name and version. */
  validator: string;
}

const RANK: Record<Indication, number> = { TOTAL_PASSED: 0, INDETERMINATE: 1, TOTAL_FAILED: 2 };

/** Document verdict: TOTAL_FAILED if any signature failed, INDETERMINATE if any is indeterminate or none exists. */
export function documentVerdict(sigs: SignatureReport[], findings: ValidationReport['findings']): { indication: Indication; subIndication: SubIndication | null } {
  if (sigs.length === 0) {
    const broken = findings.some((f) => f.severity === 'error');
    return broken ? { indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' } : { indication: 'INDETERMINATE', subIndication: 'NO_SIGNATURE_FOUND' };
  }
  let worst = sigs[0]!;
  for (const s of sigs) if (RANK[s.indication] > RANK[worst.indication]) worst = s;
  return { indication: worst.indication, subIndication: worst.subIndication };
}
