import type { Check } from './state.js';
import { note, reject } from './state.js';

/** MA: changes made in revisions after the signature, as judged by the PDF layer's rules. Disallowed changes turn
 *  the verdict into TOTAL_FAILED (default) or INDETERMINATE, naming each offending modification. */
export const modificationsCheck: Check = {
  name: 'modifications',
  block: 'MA',
  applies: (s) => !!s.job.pdf,
  async run(s) {
    const pdf = s.job.pdf!;
    const bad = pdf.modifications.filter((m) => !m.allowed);
    if (bad.length > 0) {
      const what = bad.map((m) => `${m.kind}${m.object ? ` ${m.object}` : ''} in revision ${m.revision} (${m.rule}: ${m.description})`).join('; ');
      const msg = `${bad.length} disallowed modification(s) after signing: ${what}`;
      if (s.policy.disallowedModifications === 'indeterminate') reject(s, this, 'INDETERMINATE', 'GENERIC', msg);
      else reject(s, this, 'TOTAL_FAILED', 'FORMAT_FAILURE', msg);
      return;
    }
    if (pdf.modifications.length > 0) note(s, this, 'passed', `${pdf.modifications.length} later change(s), all permitted (${pdf.modificationLevel})`);
    else if (pdf.coverage?.coversWholeFile) note(s, this, 'passed', 'the signature covers the whole file');
    else note(s, this, 'info', 'later revisions exist; the PDF layer reported no change in them');
  },
};
