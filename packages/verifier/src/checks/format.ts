import type { Check } from './state.js';
import { note, reject } from './state.js';

const KNOWN_SUBFILTERS = new Set(['ETSI.CAdES.detached', 'adbe.pkcs7.detached', 'adbe.pkcs7.sha1', 'ETSI.RFC3161']);

/** FC: the PDF layer's structural findings, ByteRange coverage and SubFilter (EN 319 102-1 §5.2.2). */
export const formatCheck: Check = {
  name: 'format',
  block: 'FC',
  async run(s) {
    const pdf = s.job.pdf;
    if (!pdf) return;
    const errors = pdf.formatFindings.filter((f) => f.severity === 'error');
    if (errors.length > 0) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', errors.map((f) => `${f.code}: ${f.message}${f.where ? ` (${f.where})` : ''}`).join('; '));
    }
    for (const w of pdf.formatFindings.filter((f) => f.severity !== 'error')) note(s, this, 'warning', `${w.code}: ${w.message}`);
    if (!pdf.coverage) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'the /ByteRange is missing or unusable', true);
      return;
    }
    if (!pdf.coverage.coversWholeRevision) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', `the /ByteRange [${pdf.coverage.byteRange.join(' ')}] does not cover its whole revision except the /Contents string`);
    }
    if (s.job.subFilter && !KNOWN_SUBFILTERS.has(s.job.subFilter)) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', `unsupported /SubFilter ${s.job.subFilter}`, true);
      return;
    }
    if (pdf.contents.length === 0) {
      reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', 'the /Contents signature value is empty or unreadable', true);
      return;
    }
    if (s.verdicts.length === 0) note(s, this, 'passed', `ByteRange [${pdf.coverage.byteRange.join(' ')}] covers revision ${pdf.revision} except /Contents`);
  },
};
