#!/usr/bin/env node
/**
 * Small, verified source patches to installed dependencies, applied by `npm ci` / `npm install` (root
 * `postinstall`). Each patch replaces one exact snippet and leaves a marker, so running it again is harmless.
 *
 * Why: two libraries on the identity provider's hot path attach a fresh closure to every request as an
 * accessor property (`Object.defineProperty(obj, name, { get: () => ... })`). V8 allocates the accessor pair
 * in the old generation, and an old object pointing at young ones keeps them alive through every
 * young-generation GC until the next full GC. Each request's whole object graph (koa context, node request
 * and response, tokens, Redis commands) was therefore copied twice and promoted: ~2 MB per scavenge, 4-7 ms
 * pauses, and V8 then started pre-tenuring those allocation sites, which made it worse. A shared getter on the
 * prototype (or one per provider) does the same job without the per-request closure. Measured with
 * bench/idp.ts (refresh_token, one process, 100 connections): ~+30 % throughput and p99 from ~50 ms to ~30 ms.
 *
 * When a snippet is not found (the library changed), the file is left alone and a warning is printed: kyso then
 * works exactly as before, only slower. `packages/idp/test/dependency-patches.test.ts` fails in that case, so CI
 * notices. Both libraries are MIT-licensed.
 *
 *   node scripts/patch-deps.mjs [--check]     (--check: report only, exit 1 when a patch is missing)
 */
import { cpSync, existsSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @typedef {{ id: string, pkg: string, file: string, find: string, replace: string }} Patch */

/** @type {Patch[]} */
export const PATCHES = [
  {
    id: 'oidc-provider-shared-oidc-getter',
    pkg: 'oidc-provider',
    file: 'lib/helpers/initialize_app.js',
    find: `  const ensureOIDC = async (ctx, next) => {
    let oidcCtx;
    Object.defineProperty(ctx, 'oidc', {
      get: () => {
        oidcCtx ||= new this.OIDCContext(ctx);
        return oidcCtx;
      },
    });
    return als.run(ctx, () => next());
  };`,
    replace: `  /* kyso-patch:oidc-provider-shared-oidc-getter — one getter per provider instead of a closure per request
     (see kyso scripts/patch-deps.mjs); the OIDC context is still created lazily, once per koa context */
  const oidcContextSlot = Symbol('oidcContext');
  const provider = this;
  function oidcContextGetter() {
    this[oidcContextSlot] ||= new provider.OIDCContext(this);
    return this[oidcContextSlot];
  }
  const ensureOIDC = async (ctx, next) => {
    Object.defineProperty(ctx, 'oidc', { get: oidcContextGetter });
    return als.run(ctx, () => next());
  };`,
  },
  {
    id: 'ioredis-pipeline-length-getter',
    pkg: 'ioredis',
    file: 'built/Pipeline.js',
    find: `        const _this = this;
        Object.defineProperty(this, "length", {
            get: function () {
                return _this._queue.length;
            },
        });
    }
    fillResult(value, position) {`,
    replace: `    }
    /* kyso-patch:ioredis-pipeline-length-getter — a prototype getter instead of a closure per pipeline
       (auto-pipelining builds one pipeline per tick; see kyso scripts/patch-deps.mjs) */
    get length() {
        return this._queue.length;
    }
    fillResult(value, position) {`,
  },
];

/** Every installed copy of `pkg` (hoisted, or nested under a workspace). */
function copiesOf(pkg) {
  const dirs = [join(ROOT, 'node_modules', pkg)];
  for (const group of ['packages', 'services']) {
    const base = join(ROOT, group);
    if (!existsSync(base)) continue;
    for (const ws of readdirSync(base)) dirs.push(join(base, ws, 'node_modules', pkg));
  }
  return dirs.filter((d) => existsSync(join(d, 'package.json')));
}

/**
 * Applies (or with `check`, only inspects) every patch.
 * @returns {{ id: string, file: string, state: 'applied' | 'already' | 'pending' | 'missing' | 'not-installed' }[]}
 */
export function patchDependencies({ check = false } = {}) {
  const out = [];
  for (const p of PATCHES) {
    const copies = copiesOf(p.pkg);
    if (!copies.length) { out.push({ id: p.id, file: p.pkg, state: 'not-installed' }); continue; }
    for (const dir of copies) {
      const file = join(dir, p.file);
      const src = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (src.includes(`kyso-patch:${p.id}`)) { out.push({ id: p.id, file, state: 'already' }); continue; }
      const at = src.indexOf(p.find);
      if (at === -1 || src.indexOf(p.find, at + 1) !== -1) { out.push({ id: p.id, file, state: 'missing' }); continue; }
      if (!check) writeFileSync(file, src.slice(0, at) + p.replace + src.slice(at + p.find.length));
      out.push({ id: p.id, file, state: check ? 'pending' : 'applied' });
    }
  }
  return out;
}

/**
 * A copy of the installed `pkg` with kyso's patches taken out again (the library as published), under
 * `node_modules/.cache/kyso-stock/<pkg>` so that its own imports still resolve. For benchmarks that compare
 * kyso with the stock library. Returns the copy's directory.
 */
export function stockCopy(pkg) {
  const src = join(ROOT, 'node_modules', pkg);
  if (!existsSync(join(src, 'package.json'))) throw new Error(`${pkg} is not installed`);
  const dest = join(ROOT, 'node_modules', '.cache', 'kyso-stock', pkg);
  rmSync(dest, { recursive: true, force: true });
  cpSync(src, dest, { recursive: true });
  for (const p of PATCHES.filter((x) => x.pkg === pkg)) {
    const file = join(dest, p.file);
    const text = readFileSync(file, 'utf8');
    if (!text.includes(`kyso-patch:${p.id}`)) continue;
    if (!text.includes(p.replace)) throw new Error(`${p.id}: patched text in ${file} is not the one kyso wrote`);
    writeFileSync(file, text.replace(p.replace, p.find));
  }
  return dest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  const results = patchDependencies({ check });
  let missing = 0;
  for (const r of results) {
    const rel = r.file.startsWith(ROOT) ? r.file.slice(ROOT.length + 1) : r.file;
    if (r.state === 'pending' || r.state === 'not-installed') missing++;
    if (r.state === 'missing') {
      missing++;
      process.stderr.write(`kyso patch-deps: WARNING ${r.id} not applied to ${rel} (snippet not found: the library changed; behaviour unchanged, only slower)\n`);
    } else {
      process.stdout.write(`kyso patch-deps: ${r.id} ${r.state} (${rel})\n`);
    }
  }
  if (check && missing) process.exit(1);
}
