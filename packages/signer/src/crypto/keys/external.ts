import { CertInfo, type SignatureAlgorithm } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { describeKey } from './software.js';
import type { KeyAlgorithmInfo, KeyBackend, ToBeSigned } from './types.js';

/** The callback an external signer provides: remote service, smart card, phone app… */
export type ExternalSignFunction = (input: ToBeSigned, algorithm: SignatureAlgorithm) => Promise<Uint8Array>;

/**
 * A key backend whose private key lives elsewhere. Give the certificate (and chain) and a
 * callback; without a callback, `sign` throws and only the two-step API (prepareCms /
 * finalizeCms) can be used, which is how remote and mobile signing work across processes.
 */
export class ExternalKeyBackend implements KeyBackend {
  readonly kind = 'external' as const;
  readonly keyAlgorithm: KeyAlgorithmInfo;
  constructor(readonly certificate: Uint8Array, readonly chain: Uint8Array[] = [], private readonly signer?: ExternalSignFunction) {
    this.keyAlgorithm = describeKey(new CertInfo(certificate).x509.publicKey);
  }
  async sign(input: ToBeSigned, algorithm: SignatureAlgorithm): Promise<Uint8Array> {
    if (!this.signer) throw new SignerError('KEY_UNSUPPORTED', 'external key backend has no signing callback: use prepareCms/finalizeCms');
    return this.signer(input, algorithm);
  }
  async close(): Promise<void> { /* nothing held */ }
}
