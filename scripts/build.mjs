#!/usr/bin/env node
// `npm run build` (after the type-check) and `npm run build -w packages/NAME`: dist/ of the packages.
//  1. `tsc -b tsconfig.build.json`: every package (project references, in dependency order) to dist/ — one ESM
//     module per source file, .d.ts and source maps (incremental: quick when nothing changed).
//  2. The packages on the CLI's start-up path (pdf, pki, signer, verifier) get their dist/index.js replaced by one ESM module
//     built by esbuild from src/index.ts (their own modules inlined, every dependency external, source map to
//     src/*.ts; always from the sources, so never stale): the installed `kyso sign` then resolves and loads ~60 fewer
//     files (measured ~-45 ms CPU per `kyso sign`). The .d.ts files are tsc's. A module of these packages must not depend on
//     its own file location (import.meta.url-relative paths) beyond resolving packages.
//   node scripts/build.mjs [NAME...]   (NAME: pdf, signer, … ; default: all)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// package → its bundled entry points (src/X.ts → dist/NAME.js); the verifier's worker thread module is its own entry
// (dist/worker.js, next to the bundled index.js that starts it)
// (signer and verifier also have their halves as entries — the `./pdf` and `./xml` subpath exports — sharing one copy
// of every module through chunks in dist/chunks/, so a class is the same class whichever entry it came through)
const BUNDLED = {
  pdf: { index: 'src/index.ts' },
  pki: { index: 'src/index.ts' },
  signer: { index: 'src/index.ts', pdf: 'src/pdf.ts', xml: 'src/xml.ts' },
  verifier: { index: 'src/index.ts', pdf: 'src/pdf.ts', xml: 'src/xml.ts', worker: 'src/parallel/worker.ts' },
};

const wanted = process.argv.slice(2);
const configs = wanted.length ? wanted.map((n) => {
  const dir = ['pdf', 'pki', 'signer', 'verifier', 'idp', 'cli'].includes(n) ? `packages/${n}` : n;
  if (!existsSync(join(ROOT, dir, 'tsconfig.build.json'))) { console.error(`build: no package ${n}`); process.exit(2); }
  return join(dir, 'tsconfig.build.json');
}) : ['tsconfig.build.json'];

const tsc = spawnSync(process.execPath, [join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-b', ...configs], { cwd: ROOT, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const esbuild = await import('esbuild');
for (const [name, entries] of Object.entries(BUNDLED)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const pkg = join(ROOT, 'packages', name);
  (await import('node:fs')).rmSync(join(pkg, 'dist', 'chunks'), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([out, src]) => [out, join(pkg, src)])),
    outdir: join(pkg, 'dist'), allowOverwrite: true,
    tsconfig: join(ROOT, 'tsconfig.json'),
    bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external',
    splitting: Object.keys(entries).length > 1, chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true, sourcesContent: false, logLevel: 'warning', legalComments: 'inline',
  });
}

// 3. The CLI's start-up path in one place: packages/cli/bundle/ — main.js plus one chunk per command (esbuild code
//    splitting, so `kyso sign` loads only what signing needs), with kyso's signing and validation packages (pdf, pki,
//    signer, verifier) and the PKI.js family inlined: `kyso sign` / `kyso verify` then load a handful of files
//    instead of ~70. The identity provider, the services and the test PKI stay external (installed packages), as
//    does every other dependency; what the bundle imports is declared in packages/cli/package.json. The verifier's
//    worker thread module is its own entry (bundle/worker.js, beside the chunk that starts it).
if (!wanted.length || wanted.includes('cli') || wanted.includes('packages/cli')) {
  const INLINE = new Set(['@kyso/pdf', '@kyso/pki', '@kyso/signer', '@kyso/verifier', 'pkijs', 'asn1js', '@peculiar/utils', 'bytestreamjs', '@noble/hashes', 'pvtsutils', 'pvutils', 'tslib']);
  const cli = join(ROOT, 'packages/cli');
  const { rmSync } = await import('node:fs');
  rmSync(join(cli, 'bundle'), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { main: join(cli, 'src/main.ts'), worker: join(ROOT, 'packages/verifier/src/parallel/worker.ts') },
    outdir: join(cli, 'bundle'), bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
    tsconfig: join(ROOT, 'tsconfig.json'), conditions: ['kyso-source'], sourcemap: true, sourcesContent: false,
    logLevel: 'warning', legalComments: 'inline', chunkNames: 'chunk-[hash]',
    plugins: [inlineOnly(INLINE)],
  });
  await buildCliCjs(esbuild, cli, INLINE);
}

/** esbuild plugin: the packages named in `inline` are bundled, every other package (and node:) stays external. */
function inlineOnly(inline) {
  return {
    name: 'kyso-externals',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return { external: true };
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        return inline.has(name) ? undefined : { external: true };
      });
    },
  };
}

/**
 * 4. The one-shot commands' bundle: packages/cli/bundle/cli.cjs, the same CLI and inlined packages in ONE CommonJS
 *    file, and its V8 code cache bundle/cli.cjs.cache made by a training run (scripts/train-cli-cache.cjs); the
 *    installed `kyso` loads them through bin/run-bundle.cjs (Node 20 has no code cache for ES modules; see there).
 *    The bundle's import.meta.url and its dynamic import() of external packages are supplied by run-bundle.cjs's
 *    function wrapper (__kysoUrl, __kysoImport). The ESM bundle above stays: the servers, the worker thread and
 *    anything that imports the bundle use it.
 */
async function buildCliCjs(esbuild, cli, INLINE) {
  const { readFileSync, writeFileSync, rmSync } = await import('node:fs');
  const out = join(cli, 'bundle', 'cli.cjs');
  const result = await esbuild.build({
    entryPoints: [join(cli, 'src/main.ts')], outfile: out, bundle: true, format: 'cjs', platform: 'node', target: 'node20',
    tsconfig: join(ROOT, 'tsconfig.json'), conditions: ['kyso-source'], logLevel: 'warning', legalComments: 'inline',
    define: { 'import.meta.url': '__kysoUrl' }, metafile: true,
    plugins: [inlineOnly(INLINE)],
  });
  // every dynamic import() esbuild left in the output is one of an external module: it goes through __kysoImport
  const dynamic = Object.values(result.metafile.outputs)[0].imports.filter((i) => i.kind === 'dynamic-import' && i.external);
  let code = readFileSync(out, 'utf8').replace(/\bimport\((?=["'])/g, '__kysoImport(');
  for (const { path } of dynamic) if (!code.includes(`__kysoImport("${path}")`)) throw new Error(`build: cli.cjs: import("${path}") not rewritten`);
  if (/\bimport\(/.test(code.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) throw new Error('build: cli.cjs: an import( is left that run-bundle.cjs cannot serve');
  // ASCII only (esbuild already escapes strings and regular expressions; this catches comments): run-bundle.cjs
  // reads it as latin1, a one-byte string for V8 made without UTF-8 decoding
  code = code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(out, code);
  // the code cache, made with the flags the installed command runs with (V8 refuses a cache made under other flags)
  rmSync(`${out}.cache`, { force: true });
  const shebang = readFileSync(join(cli, 'bin', 'kyso.cjs'), 'utf8').split('\n')[0];
  const flags = shebang.split(/\s+/).filter((a) => a.startsWith('--'));
  const env = { ...process.env };
  delete env.NODE_OPTIONS; delete env.NODE_EXTRA_CA_CERTS;
  const train = spawnSync(process.execPath, [...flags, join(ROOT, 'scripts', 'train-cli-cache.cjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
  if (train.status !== 0 || !existsSync(`${out}.cache`)) {
    process.stderr.write(train.stderr ?? '');
    throw new Error('build: the code cache training run of bundle/cli.cjs failed (see above)');
  }
}
