import { describePublicKey as describeKey, signerDigestAlg, signerScheme } from '@kyso/pki';
import { cryptoConstraintViolation } from './crypto-policy.js';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** SAV (cryptographic constraints): digest and signature algorithms and key size allowed by the policy. An
 *  unsupported scheme (e.g. Ed448) stops before cryptographic verification, so it never reads as a forgery. */
export const cryptoConstraintsCheck: Check = {
  name: 'crypto-constraints',
  block: 'SAV',
  applies: (s) => !!s.signerInfo && !!s.signer,
  async run(s) {
    const si = s.signerInfo!;
    const scheme = signerScheme(si);
    s.digestAlgorithm = signerDigestAlg(si);
    s.signatureAlgorithm = scheme.name;
    let key;
    try {
      key = s.signer!.publicKey;
    } catch (e) {
      reject(s, this, 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', `the signer's public key cannot be used: ${(e as Error).message}`, true);
      return;
    }
    if (scheme.unsupported) {
      reject(s, this, 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', `signature algorithm: ${scheme.unsupported}`, true);
      return;
    }
    const digestAllowed = s.policy.allowedDigests.includes(s.digestAlgorithm.toUpperCase());
    const v = cryptoConstraintViolation(scheme, key, s.policy, 'signature')
      ?? (digestAllowed ? undefined : `signature: digest ${s.digestAlgorithm} is not allowed by the policy`);
    if (v) {
      reject(s, this, 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', v);
      return;
    }
    note(s, this, 'passed', `${scheme.name} with ${describeKey(key)} is allowed`);
  },
};
