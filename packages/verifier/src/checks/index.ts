import type { Check } from './state.js';
import { formatCheck } from './format.js';
import { cmsStructureCheck } from './cms-structure.js';
import { signerIdentificationCheck } from './signer-identification.js';
import { cryptoConstraintsCheck } from './crypto-constraints.js';
import { messageDigestCheck } from './message-digest.js';
import { contentTypeCheck } from './content-type.js';
import { signatureValueCheck } from './signature-value.js';
import { signatureTimestampCheck } from './signature-timestamp.js';
import { certificateChainCheck } from './certificate-chain.js';
import { modificationsCheck } from './modifications.js';
import { documentTimestampCheck } from './document-timestamp.js';

/** The checks of a signature, in order (format → identification → integrity → time → certificates → changes). */
export const SIGNATURE_CHECKS: readonly Check[] = [
  formatCheck,
  cmsStructureCheck,
  signerIdentificationCheck,
  cryptoConstraintsCheck,
  messageDigestCheck,
  contentTypeCheck,
  signatureValueCheck,
  signatureTimestampCheck,
  certificateChainCheck,
  modificationsCheck,
];

/** The checks of a PDF document timestamp. */
export const DOCUMENT_TIMESTAMP_CHECKS: readonly Check[] = [formatCheck, documentTimestampCheck, modificationsCheck];

export type { Check, SigState, SignatureJob, Verdict } from './state.js';
