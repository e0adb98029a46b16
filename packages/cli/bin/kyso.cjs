#!/usr/bin/env -S node --min-semi-space-size=16
// The installed `kyso` command's entry. CommonJS, so that `kyso --version` answers before Node sets up its ES module
// loader (the cheapest possible start); everything else is kyso.mjs. The shebang starts node with 16 MB
// young-generation semi-spaces: a one-shot command (sign, verify) then runs with one or two scavenges instead of
// about ten while the heap grows from Node's 1 MB start (measured -20 to -60 ms on `kyso sign` of a 4 MB PDF), at no
// start-up cost.
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
