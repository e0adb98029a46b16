import { attrValues, OIDS, hash } from '@kyso/pki';
import { validateTimestampToken } from './timestamp-validation.js';
import type { Check } from './state.js';
import { note } from './state.js';

/** TSV: every signature-time-stamp unsigned attribute is validated as a signature in its own right, with its
 *  imprint over the SignerInfo's signature value. Valid ones give a proof of existence (best signature time). */
export const signatureTimestampCheck: Check = {
  name: 'signature-timestamp',
  block: 'TSV',
  applies: (s) => !!s.signerInfo,
  async run(s) {
    const tokens = attrValues(s.signerInfo!.unsignedAttrs, OIDS.signatureTimeStampToken) ?? [];
    const sigValue = new Uint8Array(s.signerInfo!.signature.valueBlock.valueHexView);
    for (const t of tokens) {
      const der = new Uint8Array(t.toBER(false));
      const r = await validateTimestampToken(der, async (alg) => hash(alg, sigValue), s.certCtx, s.job.externalPoe);
      s.timestamps.push({ ...r, kind: 'signature-timestamp' });
      note(s, this, r.valid ? 'passed' : 'warning', r.valid ? r.message : `signature timestamp ignored: ${r.message}`);
    }
    if (tokens.length === 0) note(s, this, 'info', 'no signature timestamp');
    const times = s.timestamps.filter((t) => t.valid && t.genTime).map((t) => t.genTime!.getTime());
    if (s.job.externalPoe) times.push(s.job.externalPoe.getTime());
    if (times.length > 0) s.poe = new Date(Math.min(...times));
  },
};
