#!/usr/bin/env node
// The kyso command line. Sources are TypeScript, run through tsx's loader.
// Long-running servers (`serve`, `demo`) start in a child node with the runtime flags of server-flags.mjs (they
// can only be set at start-up); signals are passed on and the child's exit code is ours. The child stops by
// itself if the launcher is killed outright.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { serverNodeFlags } from './server-flags.mjs';

const args = process.argv.slice(2);
let flags = [];
if (args[0] === 'serve' || args[0] === 'demo') {
  try { flags = serverNodeFlags(); } catch (e) { process.stderr.write(`kyso: ${e.message}\n`); process.exit(2); }
}
if (flags.length) {
  const child = spawn(process.execPath, [...flags, ...process.execArgv, process.argv[1], ...args], {
    // own process group: a Ctrl-C in the terminal reaches the launcher only, which passes it on once
    stdio: 'inherit', detached: true, env: { ...process.env, KYSO_LAUNCHER_PID: String(process.pid) },
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
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/main.ts');
  process.exitCode = await main(args);
}
