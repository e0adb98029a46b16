#!/usr/bin/env node
// `npm run bench [-- NAME...]`: runs bench/<NAME>.ts (all of them by default), one process each, in sequence,
// so that kyso and its peer are measured side by side in the same run of each benchmark.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
// The benchmarks; other files in bench/ are their child processes (e.g. idp-server.ts).
const BENCHES = ['sign.ts', 'verify.ts', 'pki.ts', 'idp.ts', 'cli.ts', 'xml.ts', 'signing.ts'];
const all = readdirSync(new URL('../bench/', import.meta.url)).filter((f) => BENCHES.includes(f));
const files = wanted.length ? all.filter((f) => wanted.some((w) => f === w || f === `${w}.ts`)) : all;
if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
// kyso-source: @kyso/* imports resolve to the TypeScript sources (also in the benchmarks' child processes);
// bench/cli.ts measures the compiled CLI explicitly.
const env = { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--conditions=kyso-source'].filter(Boolean).join(' ') };
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `bench/${f}`], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
