import { checkMessageDigest, bytesEqual, hash, toHex } from '@kyso/pki';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** CV (data integrity): the message-digest signed attribute equals the digest of the signed bytes; for
 *  adbe.pkcs7.sha1, the encapsulated digest equals SHA-1 of the ByteRange. */
export const messageDigestCheck: Check = {
  name: 'message-digest',
  block: 'CV',
  applies: (s) => !!s.signerInfo,
  async run(s) {
    const cms = s.cms!;
    if (!cms.eContent && !s.job.content) {
      reject(s, this, 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', 'detached CMS: the signed data was not given (use --data FILE)', true);
      return;
    }
    s.signedContent = s.job.content;
    if (cms.eContent) {
      const e = cms.eContent;
      if (s.job.subFilter === 'adbe.pkcs7.sha1' && s.job.content) {
        const actual = await s.job.content.digest('SHA-1');
        if (!bytesEqual(actual, e)) {
          reject(s, this, 'TOTAL_FAILED', 'HASH_FAILURE', `encapsulated SHA-1 ${toHex(e).slice(0, 16)}… does not match the ByteRange digest ${toHex(actual).slice(0, 16)}…`);
          return;
        }
      } else if (s.job.format === 'CMS' && s.job.content) {
        const actual = await s.job.content.digest('SHA-256');
        if (!bytesEqual(actual, hash('SHA-256', e))) {
          reject(s, this, 'TOTAL_FAILED', 'HASH_FAILURE', 'the data file differs from the content encapsulated in the CMS');
          return;
        }
      }
      s.signedContent = { digest: async (alg) => hash(alg, e), bytes: async () => e };
    }
    if (!s.signerInfo!.signedAttrs) {
      note(s, this, 'info', 'no signed attributes: the signature value covers the content digest directly');
      return;
    }
    const r = await checkMessageDigest(s.signerInfo!, s.signedContent!);
    if (r.status === 'match') {
      note(s, this, 'passed', 'message-digest matches the signed data');
      return;
    }
    if (r.status === 'mismatch') reject(s, this, 'TOTAL_FAILED', 'HASH_FAILURE', r.message);
    else if (r.message.includes('not supported')) reject(s, this, 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', r.message);
    else reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', r.message);
  },
};
