'use strict';
// Mocha's spec reporter plus the plain closing line "N passed, N failed" that CI counts.
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || {};
      const skipped = s.pending ? `, ${s.pending} skipped` : '';
      // Printed after the spec reporter's epilogue so it is the last line of the run.
      const line = `${s.passes || 0} passed, ${s.failures || 0} failed${skipped}`;
      if (process.env.KYSO_TEST_SUMMARY) {
        // scripts/test.mjs prints the line itself, after the coverage summary.
        require('node:fs').writeFileSync(process.env.KYSO_TEST_SUMMARY, line + '\n');
      } else {
        process.on('exit', () => process.stdout.write(line + '\n'));
      }
    });
  }
}
module.exports = SummaryReporter;
