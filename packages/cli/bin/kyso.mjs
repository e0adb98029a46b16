#!/usr/bin/env node
// The kyso command line (the installed `kyso` enters through kyso.cjs, which answers --version itself).
// Installed (under node_modules), it runs the compiled JavaScript in ../dist. In a checkout of the kyso repository
// it runs the TypeScript sources through tsx, with the `kyso-source` export condition so the other @kyso packages
// resolve to their sources too (no build step needed). KYSO_RUN=dist|src overrides the choice (bench/cli.ts
// measures the compiled CLI with KYSO_RUN=dist).
// Long-running servers (`serve`, `demo`) start in a child node with the runtime flags of server-flags.mjs (they
// can only be set at start-up); signals are passed on and the child's exit code is ours. The child stops by
// itself if the launcher is killed outright.
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);

/** 'dist' (compiled JavaScript) or 'src' (TypeScript through tsx). */
function runMode() {
  const forced = process.env.KYSO_RUN;
  if (forced === 'dist' || forced === 'src') return forced;
  if (forced) {
    process.stderr.write(`kyso: KYSO_RUN must be dist or src, got '${forced}'\n`);
    process.exit(2);
  }
  const installed = import.meta.url.includes('/node_modules/');
  if (!installed && existsSync(new URL('../src/main.ts', import.meta.url))) return 'src';
  return 'dist';
}

async function loadMain() {
  // compiled: the bundle (bundle/main.js, see scripts/build.mjs), else the plain tsc output
  if (runMode() === 'dist') return import(existsSync(new URL('../bundle/main.js', import.meta.url)) ? '../bundle/main.js' : '../dist/main.js');
  const { register } = await import('node:module');
  register('./source-conditions.mjs', import.meta.url);
  const tsx = await import('tsx/esm/api');
  tsx.register();
  return import('../src/main.ts');
}

// `kyso --version` answers at once, without loading the CLI (as main() would print it)
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`kyso ${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  await run();
}

/** Every other command: the CLI's main(), or a server child with its runtime flags. */
async function run() {
  let flags = [];
  // the one-shot flags of kyso.cjs's shebang (KYSO_DEFERRED_CA_CERTS is set exactly when it ran) are not a server's
  const oneShot = new Set();
  if (process.env.KYSO_DEFERRED_CA_CERTS !== undefined) {
    const { readFileSync } = await import('node:fs');
    const shebang = readFileSync(new URL('./kyso.cjs', import.meta.url), 'utf8').split('\n')[0];
    for (const a of shebang.split(/\s+/)) if (a.startsWith('--')) oneShot.add(a);
  }
  const execArgv = process.execArgv.filter((a) => !oneShot.has(a));
  if (args[0] === 'serve' || args[0] === 'demo') {
    const { serverNodeFlags } = await import('./server-flags.mjs');
    try { flags = serverNodeFlags(process.env, execArgv); } catch (e) { process.stderr.write(`kyso: ${e.message}\n`); process.exit(2); }
  }
  if (flags.length) {
    const [{ spawn }, { constants }] = await Promise.all([import('node:child_process'), import('node:os')]);
    // a server opens TLS connections: its Node reads NODE_EXTRA_CA_CERTS at start-up as usual (kyso.cjs's shebang
    // defers it for the one-shot commands, see @kyso/pki deferred-ca.ts)
    const env = { ...process.env, KYSO_LAUNCHER_PID: String(process.pid) };
    if (env.KYSO_DEFERRED_CA_CERTS !== undefined) {
      if (env.KYSO_DEFERRED_CA_CERTS) env.NODE_EXTRA_CA_CERTS = env.KYSO_DEFERRED_CA_CERTS;
      delete env.KYSO_DEFERRED_CA_CERTS;
    }
    const child = spawn(process.execPath, [...flags, ...execArgv, process.argv[1], ...args], {
      // own process group: a Ctrl-C in the terminal reaches the launcher only, which passes it on once
      stdio: 'inherit', detached: true, env,
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) => { process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0); });
  } else {
    // started by the launcher above: stop (gracefully) if the launcher dies without passing a signal on (SIGKILL)
    const launcher = Number(process.env.KYSO_LAUNCHER_PID);
    if (launcher > 0) {
      delete process.env.KYSO_LAUNCHER_PID;
      const watch = setInterval(() => {
        if (process.ppid === launcher) return;
        clearInterval(watch);
        process.kill(process.pid, 'SIGTERM');
      }, 500);
      watch.unref();
    }
    const { main } = await loadMain();
    process.exitCode = await main(args);
  }
}
