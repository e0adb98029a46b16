import type { Command } from '../command.js';
import { UsageError } from '../command.js';

/**
 * The services `kyso serve` runs, one per process, loaded on demand. A new service: a module in ../serve/ exporting
 * `HELP` and `run(args)` (common options through `parseServeArgs`, `listenWhenReady`, `runUntilStopped`), and one
 * line here.
 */
const SERVICES: Record<string, { summary: string; load: () => Promise<{ HELP: string; run(args: string[]): Promise<number> }> }> = {
  idp: { summary: 'citizen identity provider (OpenID Connect)', load: () => import('../serve/idp.js') },
  verify: { summary: 'validation service (upload form + JSON API)', load: () => import('../serve/verify.js') },
  portal: { summary: 'demo public-service portal (relying party, signing, validation)', load: () => import('../serve/portal.js') },
  signing: { summary: 'remote signing service (CSC API v2, approvals on the phone, HSM keys)', load: () => import('../serve/signing.js') },
};

const HELP = `Usage: kyso serve <service> --port N [--host H] [--proxy] [service options]

Runs one kyso service in this process (several processes can share Redis behind a load balancer):
${Object.entries(SERVICES).map(([n, s]) => `  ${n.padEnd(8)} ${s.summary}`).join('\n')}
Every service answers GET /healthz with {"status":"ok"} once it can serve requests, logs JSON lines on stderr,
prints "kyso <service> listening on URL" on stdout and stops gracefully on SIGINT / SIGTERM.
Run \`kyso serve <service> --help\` for a service's options.`;

/** `kyso serve idp|verify|portal|signing --port N ...`: one service until SIGINT/SIGTERM. */
export const command: Command = {
  summary: 'run a service: `kyso serve idp|verify|portal|signing --port N`',
  async run(args) {
    const [service, ...rest] = args;
    if (service === undefined || service === '--help' || service === '-h') {
      process.stdout.write(HELP + '\n');
      return service === undefined ? 2 : 0;
    }
    const entry = SERVICES[service];
    if (!entry) throw new UsageError(`unknown service '${service}' (available: ${Object.keys(SERVICES).join(', ')})\n${HELP}`);
    const { quietLibraryNoise, jsonLog, logLevel } = await import('../serve/log.js');
    let level;
    try { level = logLevel(); } catch (e) { throw new UsageError((e as Error).message); }
    quietLibraryNoise(jsonLog(`kyso-${service}`, level));
    const mod = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(mod.HELP + '\n');
      return 0;
    }
    return mod.run(rest);
  },
};
