// Loads the CLI's one-file CommonJS bundle (bundle/cli.cjs, made by scripts/build.mjs) with V8's code cache
// (bundle/cli.cjs.cache). Node 20 has no compile cache for ES modules, and compiling kyso's ~1.7 MB of JavaScript
// (most of it lazily, function by function, on first call) was the largest part of a one-shot command's start-up:
// 1 MB XML verify 127 -> 93 ms. The cache is V8 bytecode of the functions a training run of the usual commands
// compiled (scripts/train-cli-cache.cjs); it ships in the package beside the bundle, so it is as trusted as the code.
// V8 accepts it only for the same V8 version, the same flags and the same source; anything else (another Node.js,
// other flags, NODE_OPTIONS) makes V8 reject it and compile as usual: slower, never different.
// Runtime writes none: no cache directory, nothing to poison.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'bundle', 'cli.cjs');
const CACHE = `${BUNDLE}.cache`;
// The bundle's function wrapper. __kysoImport: dynamic import() of the bundle's external packages (a vm.Script's own
// import() needs an experimental flag in Node 20), done here, where the same packages resolve; __kysoUrl: the
// bundle's import.meta.url. The training run and every later run must wrap the source identically.
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname, __kysoImport, __kysoUrl) {';
const WRAP_TAIL = '\n})';

/**
 * Compiles and runs the bundle; returns its exports and the compiled script (the training run makes the cache from
 * it) and what V8 did with the cache: 'accepted', 'rejected' or 'none'.
 */
function loadBundle(useCache = true) {
  const source = readFileSync(BUNDLE, 'utf8');
  let cachedData;
  if (useCache) { try { cachedData = readFileSync(CACHE); } catch { cachedData = undefined; } }
  const script = new vm.Script(WRAP_HEAD + source + WRAP_TAIL, { filename: BUNDLE, ...(cachedData ? { cachedData } : {}) });
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'none';
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(BUNDLE), mod, BUNDLE, dirname(BUNDLE),
    (specifier) => import(specifier), pathToFileURL(BUNDLE).href);
  return { exports: mod.exports, script, cache };
}

/** Runs `kyso ARGS...` from the bundle (KYSO_CODE_CACHE_DEBUG=1 says on stderr whether V8 took the cache). */
function run(args) {
  const { exports, cache } = loadBundle();
  if (process.env.KYSO_CODE_CACHE_DEBUG === '1') process.stderr.write(`kyso: code cache ${cache}\n`);
  return exports.main(args).then((code) => { process.exitCode = code; });
}

module.exports = { BUNDLE, CACHE, loadBundle, run };
