import type * as pkijs from 'pkijs';
import type { PdfSignatureInfo } from '../pdf/types.js';
import type { ResolvedPolicy } from '../policy.js';
import type { BuildingBlock, CheckResult, Indication, SubIndication } from '../report/model.js';
import type { CertInfo, ParsedCms, SignedContent } from '@kyso/pki';
import type { CertContext, CertValidation } from './certificate-validation.js';
import type { TimestampValidation } from './timestamp-validation.js';

/** One signature (or document timestamp) to validate, as the format layer (PDF or CMS) presents it. */
export interface SignatureJob {
  field: string;
  kind: 'signature' | 'document-timestamp';
  format: 'PDF' | 'CMS';
  /** CMS DER (PDF /Contents without padding, or the .p7s). */
  cmsDer: Uint8Array;
  /** The signed data (absent for a detached CMS given without its data file). */
  content?: SignedContent;
  subFilter?: string;
  claimedTime?: Date;
  pdf?: PdfSignatureInfo;
  /** Earliest proof of existence from later, validated document timestamps covering this signature. */
  externalPoe?: Date;
  /** A validated document timestamp covers this signature (for level detection). */
  coveredByDocTimestamp?: boolean;
  /** Validation data for this signature exists in the DSS (for level detection). */
  hasDssData?: boolean;
  /** Which SignerInfo of the CMS this job validates (default 0). */
  signerIndex?: number;
  /** Data size for detached CMS. */
  dataSize?: number;
}

/** A verdict a check reached. */
export interface Verdict {
  indication: Exclude<Indication, 'TOTAL_PASSED'>;
  subIndication: SubIndication;
  block: BuildingBlock;
  message: string;
  check: string;
}

/** Mutable state shared by the checks of one signature (like a koa ctx in oidc-provider's pipelines). */
export interface SigState {
  job: SignatureJob;
  policy: ResolvedPolicy;
  certCtx: CertContext;
  cms?: ParsedCms;
  signerInfo?: pkijs.SignerInfo;
  signer?: CertInfo;
  /** What the SignerInfo signs: the job's content, or the encapsulated content when present. */
  signedContent?: SignedContent;
  signingCertAttr?: 'match' | 'absent' | 'mismatch';
  digestAlgorithm?: string;
  signatureAlgorithm?: string;
  /** Cryptographic integrity established (digest + signature value). */
  integrityOk?: boolean;
  timestamps: (TimestampValidation & { kind: 'signature-timestamp' | 'document-timestamp' })[];
  /** Best proof of existence (earliest valid timestamp). */
  poe?: Date;
  certValidation?: CertValidation;
  results: CheckResult[];
  verdicts: Verdict[];
  /** Set by a check when later checks cannot run (e.g. unparseable CMS). */
  stopped: boolean;
}

/** One check of the pipeline: one module, one concern. */
export interface Check {
  name: string;
  block: BuildingBlock;
  /** Skip when this returns false (e.g. no signer certificate yet). */
  applies?(s: SigState): boolean;
  run(s: SigState): Promise<void>;
}

/** Records a passed / informational outcome. */
export function note(s: SigState, check: Check, status: CheckResult['status'], message: string): void {
  s.results.push({ check: check.name, block: check.block, status, message });
}

/** Records a failing outcome and its verdict; `stop` ends the pipeline. */
export function reject(s: SigState, check: Check, indication: Verdict['indication'], subIndication: SubIndication, message: string, stop = false): void {
  s.results.push({ check: check.name, block: check.block, status: 'failed', message });
  s.verdicts.push({ indication, subIndication, block: check.block, message, check: check.name });
  if (stop) s.stopped = true;
}
