import { CmsFormatError, parseSignedData, OIDS } from '@kyso/pki';
import * as pkijs from 'pkijs';
import type { Check } from './state.js';
import { note, reject } from './state.js';

/** FC: the CMS SignedData parses (malformed DER → FORMAT_FAILURE) and has exactly one SignerInfo for PAdES. */
export const cmsStructureCheck: Check = {
  name: 'cms-structure',
  block: 'FC',
  async run(s) {
    try {
      s.cms = parseSignedData(s.job.cmsDer);
    } catch (e) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', e instanceof CmsFormatError ? e.message : `CMS could not be parsed: ${(e as Error).message}`, true);
      return;
    }
    const sis = s.cms.signedData.signerInfos;
    if (s.job.format === 'PDF' && sis.length !== 1) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', `a PDF signature must hold exactly one SignerInfo, found ${sis.length}`, true);
      return;
    }
    const idx = s.job.signerIndex ?? 0;
    s.signerInfo = sis[idx];
    if (!s.signerInfo) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', `SignerInfo #${idx} does not exist`, true);
      return;
    }
    // RFC 5652 §5.3: SignerInfo version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
    const v = s.signerInfo.version;
    const bySki = !(s.signerInfo.sid instanceof pkijs.IssuerAndSerialNumber);
    if (v !== (bySki ? 3 : 1)) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', `SignerInfo version ${v} does not match its ${bySki ? 'subjectKeyIdentifier' : 'issuerAndSerialNumber'} signer identifier`, true);
      return;
    }
    if (s.signerInfo.signature.valueBlock.valueHexView.length === 0) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'the SignerInfo signature value is empty', true);
      return;
    }
    const sha1 = s.job.subFilter === 'adbe.pkcs7.sha1';
    if (s.job.format === 'PDF' && !sha1 && s.cms.eContent) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'a detached PDF signature must not encapsulate content', true);
      return;
    }
    if (sha1 && !s.cms.eContent) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'adbe.pkcs7.sha1 signature lacks the encapsulated SHA-1 digest', true);
      return;
    }
    if (s.job.format === 'PDF' && s.cms.contentType !== OIDS.data) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', `encapsulated content type is ${s.cms.contentType}, expected id-data`, true);
      return;
    }
    note(s, this, 'passed', `CMS SignedData with ${sis.length} SignerInfo, ${s.cms.certificates.length} certificate(s)`);
  },
};
