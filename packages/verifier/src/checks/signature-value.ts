import { verifySignerSignature } from '@kyso/pki';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** CV (signature value): the SignerInfo signature verifies with the signer's public key. */
export const signatureValueCheck: Check = {
  name: 'signature-value',
  block: 'CV',
  applies: (s) => !!s.signerInfo && !!s.signer && !!s.signedContent,
  async run(s) {
    let ok: boolean;
    try {
      ok = await verifySignerSignature(s.signerInfo!, s.signer!, s.signedContent!);
    } catch (e) {
      reject(s, this, 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', `the signature value cannot be verified: ${(e as Error).message}`);
      return;
    }
    if (!ok) {
      reject(s, this, 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', `the signature value does not verify with the public key of "${s.signer!.subject}"`);
      return;
    }
    s.integrityOk = !s.verdicts.some((v) => v.subIndication === 'HASH_FAILURE');
    note(s, this, 'passed', `signature value verifies (${s.signatureAlgorithm ?? 'unknown algorithm'})`);
  },
};
