import { checkSigningCertificate, identifySigner, tryCert, type CertInfo } from '@kyso/pki';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** ISC: find the signer certificate designated by the SignerInfo's sid (CMS certificates, then DSS / policy pool)
 *  and check the ESS signing-certificate(-v2) attribute binds exactly that certificate (EN 319 102-1 §5.2.3). */
export const signerIdentificationCheck: Check = {
  name: 'signer-identification',
  block: 'ISC',
  applies: (s) => !!s.signerInfo,
  async run(s) {
    const cmsCerts = s.cms!.certificates.map((d) => tryCert(d)).filter((c): c is CertInfo => !!c);
    const signer = identifySigner(s.signerInfo!, [...cmsCerts, ...s.certCtx.pool]);
    if (!signer) {
      reject(s, this, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'the certificate designated by the SignerInfo (sid) is not in the CMS, the DSS or the policy', true);
      return;
    }
    s.signer = signer;
    const serial = signer.cert.serialNumber.valueBlock.valueHexView;
    if (serial.length > 1 && ((serial[0] === 0x00 && serial[1]! < 0x80) || (serial[0] === 0xff && serial[1]! >= 0x80))) {
      reject(s, { ...this, block: 'FC' }, 'TOTAL_FAILED', 'FORMAT_FAILURE', `signer certificate "${signer.subject}" has a serial number that is not DER-encoded (non-minimal INTEGER)`, true);
      return;
    }
    // CMS certificates become candidates for path building of this signature.
    s.certCtx = { ...s.certCtx, pool: [...cmsCerts, ...s.certCtx.pool] };
    const sc = checkSigningCertificate(s.signerInfo!, signer);
    s.signingCertAttr = sc.status;
    if (sc.status === 'mismatch') {
      reject(s, this, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', sc.message, true);
      return;
    }
    if (sc.status === 'absent') {
      if (s.policy.requireSigningCertificateAttribute) {
        reject(s, this, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'the signing-certificate-v2 attribute is required by the policy but absent');
        return;
      }
      note(s, this, 'warning', `signer "${signer.subject}" identified by sid only (no signing-certificate-v2 attribute)`);
      return;
    }
    note(s, this, 'passed', `signer "${signer.subject}" identified; signing-certificate attribute matches`);
  },
};
