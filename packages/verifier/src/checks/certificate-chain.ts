import { validateCertificate } from './certificate-validation.js';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** XCV + PSV: path to a trust anchor, validity at the best signature time, revocation (embedded first, then
 *  online unless offline); an expired or later-revoked certificate passes when a proof of existence predates it. */
export const certificateChainCheck: Check = {
  name: 'certificate-chain',
  block: 'XCV',
  applies: (s) => !!s.signer,
  async run(s) {
    const cv = await validateCertificate(s.signer!, 'signature', s.certCtx, s.poe, s.policy.revocationRequired);
    s.certValidation = cv;
    for (const w of cv.warnings) note(s, this, 'warning', w);
    if (cv.indication === 'TOTAL_PASSED') {
      note(s, this, 'passed', cv.message);
      return;
    }
    const block = cv.subIndication === 'EXPIRED' || cv.subIndication === 'OUT_OF_BOUNDS_NO_POE' ? 'PSV' : 'XCV';
    reject(s, { ...this, block }, cv.indication, cv.subIndication!, cv.message);
  },
};
