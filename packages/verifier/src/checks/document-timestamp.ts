import { validateTimestampToken } from './timestamp-validation.js';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** For /DocTimeStamp entries: the RFC 3161 token is validated with its imprint over the ByteRange bytes. */
export const documentTimestampCheck: Check = {
  name: 'document-timestamp',
  block: 'TSV',
  async run(s) {
    const r = await validateTimestampToken(s.job.cmsDer, (alg) => s.job.content!.digest(alg), s.certCtx, s.job.externalPoe);
    s.timestamps.push({ ...r, kind: 'document-timestamp' });
    if (r.tsa) s.signer = r.tsa;
    if (r.imprintAlg) s.digestAlgorithm = r.imprintAlg;
    if (r.certValidation) s.certValidation = r.certValidation;
    if (r.valid) {
      s.poe = r.genTime;
      s.integrityOk = true;
      note(s, this, 'passed', r.message);
      return;
    }
    if (r.subIndication === 'HASH_FAILURE' || r.subIndication === 'SIG_CRYPTO_FAILURE') s.integrityOk = false;
    else if (r.genTime && r.indication === 'INDETERMINATE') s.integrityOk = true;
    reject(s, this, r.indication === 'TOTAL_PASSED' ? 'INDETERMINATE' : r.indication, r.subIndication ?? 'GENERIC', r.message, r.subIndication === 'FORMAT_FAILURE');
  },
};
