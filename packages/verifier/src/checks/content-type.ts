import { checkContentType } from '@kyso/pki';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** FC: the content-type signed attribute is present once and equals the encapsulated content type (RFC 5652 §11.1). */
export const contentTypeCheck: Check = {
  name: 'content-type',
  block: 'FC',
  applies: (s) => !!s.signerInfo?.signedAttrs,
  async run(s) {
    const err = checkContentType(s.signerInfo!, s.cms!.contentType);
    if (err) reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', err);
    else note(s, this, 'passed', 'content-type attribute matches');
  },
};
