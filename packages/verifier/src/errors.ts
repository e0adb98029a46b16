/** Error class of @kyso/verifier. Used for API misuse (bad policy, unreadable trust anchor); hostile input
 *  never throws but ends in a report with FORMAT_FAILURE. */
export class VerifierError extends Error {
  override name = 'VerifierError';
  /** Stable machine-readable code, e.g. `POLICY_INVALID`, `TRUST_ANCHOR_UNREADABLE`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
