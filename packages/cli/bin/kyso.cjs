#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS KYSO_DEFERRED_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --max-semi-space-size=2 --v8-pool-size=1
// The installed `kyso` command's entry. CommonJS, so that `kyso --version` answers before Node sets up its ES module
// loader (the cheapest possible start).
// The shebang:
//  - NODE_EXTRA_CA_CERTS deferred: Node would read that CA file at start-up (~35 ms with a distribution's whole CA
//    bundle, which many machines name there) although most commands never open a TLS connection. It is passed on in
//    KYSO_DEFERRED_CA_CERTS instead, and kyso's https clients add those CAs before their first request
//    (@kyso/pki applyDeferredCaCerts); the servers (`serve`, `demo`) get the variable back (kyso.mjs).
//  - Heap flags for a short-lived command that streams: young-generation semi-spaces of at most 2 MB (Node's default
//    lets them grow to 16 MB, which the streaming XML commands filled with garbage: +15-25 MB of peak RSS, no faster)
//    and one V8 helper thread instead of one per core (fewer thread heaps: -5-10 MB). Measured: 20 MB XML verify
//    104 -> 72 MB peak RSS, no slower; `kyso sign` of a 4 MB PDF unchanged. The long-running servers start with
//    server-flags.mjs instead (kyso.mjs).
// One-shot commands run the one-file bundle with its V8 code cache (run-bundle.cjs) when kyso runs compiled; the
// servers, the TypeScript sources (a checkout, KYSO_RUN=src) and a missing bundle go through kyso.mjs.
'use strict';
const { existsSync } = require('node:fs');
const { join, sep } = require('node:path');

const args = process.argv.slice(2);

/** The one-file bundle runs this command: compiled mode (as kyso.mjs decides it) and the bundle is there. */
function viaBundle() {
  if (args[0] === 'serve' || args[0] === 'demo') return false;
  const forced = process.env.KYSO_RUN;
  if (forced !== undefined && forced !== '' && forced !== 'dist') return false; // 'src', or an error kyso.mjs reports
  if (!forced && !__dirname.includes(`${sep}node_modules${sep}`) && existsSync(join(__dirname, '../src/main.ts'))) return false;
  return existsSync(join(__dirname, '../bundle/cli.cjs'));
}

const fail = (e) => {
  process.stderr.write(`kyso: ${e && e.message ? e.message : String(e)}\n`);
  process.exitCode = 1;
};
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`kyso ${require('../package.json').version}\n`);
} else if (viaBundle()) {
  try { require('./run-bundle.cjs').run(args).catch(fail); } catch (e) { fail(e); }
} else {
  import('./kyso.mjs').catch(fail);
}
