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
const { createHash } = require('node:crypto');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'bundle', 'cli.cjs');
const CACHE = `${BUNDLE}.cache`;
// The bundle's function wrapper. __kysoImport: dynamic import() of the bundle's external packages (a vm.Script's own
// import() needs an experimental flag in Node 20), done here, where the same packages resolve; __kysoUrl: the
// bundle's import.meta.url. The training run and every later run must wrap the source identically.
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname, __kysoImport, __kysoUrl) {';
const WRAP_TAIL = '\n})';

// The cache file: SHA-256 of (V8's cache data, then the bundle's bytes), then V8's cache data. V8 checks only its
// version, its flags and the source's LENGTH, and a release build does not checksum the data: a damaged cache, or
// one left beside another bundle of the same length, would crash the process or run other code. The digest ties
// the cache to these exact bundle bytes; anything else is not given to V8.
const DIGEST_LEN = 32;

/** The cache file's contents for V8's cache data `data` of the bundle `source`. */
function sealCache(data, source) {
  return Buffer.concat([createHash('sha256').update(data).update(source).digest(), data]);
}

/** V8's cache data from the cache file, or undefined when the file is absent or does not match `source`. */
function openCache(source) {
  let file;
  try { file = readFileSync(CACHE); } catch { return { status: 'none' }; }
  const data = file.subarray(DIGEST_LEN);
  const ok = file.length > DIGEST_LEN && createHash('sha256').update(data).update(source).digest().equals(file.subarray(0, DIGEST_LEN));
  return ok ? { status: 'found', data } : { status: 'damaged' };
}

/**
 * Compiles and runs the bundle; returns its exports, the compiled script and source (the training run makes the
 * cache from them) and what became of the cache: 'accepted', 'rejected' (by V8: other version or flags), 'damaged'
 * (not these bundle bytes) or 'none'.
 */
function loadBundle(useCache = true) {
  const bytes = readFileSync(BUNDLE);
  const found = useCache ? openCache(bytes) : { status: 'none' };
  const cachedData = found.data;
  // latin1: the build makes the bundle ASCII-only, and a one-byte string needs no UTF-8 decoding (~3 ms)
  const script = new vm.Script(WRAP_HEAD + bytes.toString('latin1') + WRAP_TAIL, { filename: BUNDLE, ...(cachedData ? { cachedData } : {}) });
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : found.status;
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(BUNDLE), mod, BUNDLE, dirname(BUNDLE),
    (specifier) => import(specifier), pathToFileURL(BUNDLE).href);
  return { exports: mod.exports, script, source: bytes, cache };
}

/** Runs `kyso ARGS...` from the bundle (KYSO_CODE_CACHE_DEBUG=1 says on stderr whether V8 took the cache). */
function run(args) {
  const { exports, cache } = loadBundle();
  if (process.env.KYSO_CODE_CACHE_DEBUG === '1') process.stderr.write(`kyso: code cache ${cache}\n`);
  return exports.main(args).then((code) => { process.exitCode = code; });
}

module.exports = { BUNDLE, CACHE, loadBundle, sealCache, run };
