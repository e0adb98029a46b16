/**
 * @kyso/cli — the `kyso` command line (bin/kyso.mjs). Programmatic use: `await main(['verify', 'a.pdf'])` runs a
 * command as the `kyso` binary would and returns its exit code.
 */
/** Runs `kyso ARGS...` and returns the exit code; the CLI's version. */
export { main, version } from './main.js';
/** The shape of a sub-command, and the error for bad usage (exit code 2). */
export type { Command } from './command.js';
export { UsageError } from './command.js';
