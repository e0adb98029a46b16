#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
// The installed `kyso` command's entry. CommonJS, so that `kyso --version` answers before Node sets up its ES module
// loader (the cheapest possible start); everything else is kyso.mjs. Heap flags for a short-lived command that
// streams: young-generation semi-spaces of at most 2 MB (Node's default lets them grow to 16 MB, which the streaming
// XML commands filled with garbage: +15-25 MB of peak RSS, no faster) and one V8 helper thread instead of one per
// core (fewer thread heaps: -5-10 MB). Measured: 20 MB XML verify 104 -> 72 MB peak RSS, no slower; `kyso sign` of a
// 4 MB PDF unchanged. The long-running servers (`serve`, `demo`) start with server-flags.mjs instead.
'use strict';
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`kyso ${require('../package.json').version}\n`);
} else {
  import('./kyso.mjs').catch((e) => {
    process.stderr.write(`kyso: ${e && e.message ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
