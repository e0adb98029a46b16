#!/usr/bin/env node
// The installed `kyso` command's entry. CommonJS, so that `kyso --version` answers before Node sets up its ES module
// loader (the cheapest possible start); everything else is kyso.mjs. Node's default heap settings: larger
// young-generation semi-spaces (--min-semi-space-size=16, used before) no longer made `kyso sign` of a 4 MB PDF
// faster once it allocated less, and they cost the streaming XML commands 16-30 MB of peak RSS.
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
