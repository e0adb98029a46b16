#!/usr/bin/env node
// `npm test`: every test of every workspace plus test/, under c8 coverage.
// Extra arguments go to mocha: `npm test -- packages/pdf/test/reader.test.ts --grep xref`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const hasSpec = args.some((a) => a.endsWith('.ts') || a.endsWith('.js'));
const specs = hasSpec ? [] : [
  'packages/*/test/**/*.test.ts',
  'services/*/test/**/*.test.ts',
  'test/**/*.test.ts',
];
const c8 = require.resolve('c8/bin/c8.js');
const mocha = require.resolve('mocha/bin/mocha.js');
const useCoverage = process.env.KYSO_COVERAGE !== '0';
const cmd = useCoverage
  ? [c8, '--reporter=text-summary', '--reporter=json-summary', '--report-dir=coverage', '--exclude=**/test/**', '--exclude=bench/**', '--exclude=packages/cli/bundle/**', process.execPath, mocha, ...specs, ...args]
  : [mocha, ...specs, ...args];
const summary = join(mkdtempSync(join(tmpdir(), 'kyso-test-')), 'summary.txt');
// Tests opt in to the test-PKI key cache (fresh keys are the default everywhere else; see fixtures/src/keys.ts).
// kyso-source: every @kyso/* import resolves to the package's TypeScript sources (src/index.ts), not dist/, in
// mocha and in every node process a test starts (through NODE_OPTIONS), so tests never run a stale build.
const nodeOptions = [process.env.NODE_OPTIONS, '--conditions=kyso-source'].filter(Boolean).join(' ');
const r = spawnSync(process.execPath, cmd, { stdio: 'inherit', env: { KYSO_PKI_KEY_CACHE: '1', ...process.env, NODE_OPTIONS: nodeOptions, KYSO_TEST_SUMMARY: summary } });
if (existsSync(summary)) {
  process.stdout.write(readFileSync(summary, 'utf8'));
} else {
  // Mocha died before its end event: count the run as one failure so CI never reads it as green.
  process.stdout.write('0 passed, 1 failed\n');
}
process.exit(r.status ?? 1);
