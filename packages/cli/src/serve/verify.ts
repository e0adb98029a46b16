/** `kyso serve verify`: the validation service (upload form + JSON API over @kyso/verifier) in its own process. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../command.js';
import { jsonLog } from './log.js';
import { COMMON_HELP, listenWhenReady, parseServeArgs, runUntilStopped } from './options.js';
import { loadPolicyFile } from '@kyso/verifier/pdf';

export const HELP = `Usage: kyso serve verify --port N [--trust ROOT.pem ...] [--policy FILE] [--offline] [--max-mb N] [--host H] [--proxy]

Runs the validation service: GET / upload form, POST /api/v1/validate (signed PDF as the body → JSON report;
?format=text|html), POST /validate (multipart form → HTML report).
${COMMON_HELP}
  --trust ROOT.pem   trust anchor (PEM or DER; repeatable; a PEM may hold several certificates)
  --policy FILE      validation policy JSON (see kyso verify --help); --trust and --offline add to it
  --offline          never use the network (no OCSP / CRL / AIA fetch)
  --max-mb N         largest accepted upload in MiB (default 100)`;

export async function run(args: string[]): Promise<number> {
  const { common, values } = parseServeArgs(args, {
    trust: { type: 'string', multiple: true }, policy: { type: 'string' }, offline: { type: 'boolean' }, 'max-mb': { type: 'string' },
  }, HELP);
  const maxMb = values['max-mb'] === undefined ? 100 : Number(values['max-mb']);
  if (!Number.isInteger(maxMb) || maxMb < 1 || maxMb > 4096) throw new UsageError(`--max-mb must be an integer 1-4096, got '${String(values['max-mb'])}'`);
  const log = jsonLog('kyso-verify');
  const { createValidationApp } = await import('@kyso/service-validation');
  const policy = typeof values.policy === 'string' ? loadPolicyFile(values.policy) : {};
  const trust = (values.trust as string[] | undefined) ?? [];
  if (trust.length) {
    const anchors = [...(policy.trustAnchors ?? [])];
    for (const t of trust) {
      try { anchors.push(new Uint8Array(readFileSync(t))); } catch (e) { throw new UsageError(`cannot read trust anchor ${t}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`); }
    }
    policy.trustAnchors = anchors;
  }
  if (values.offline === true) policy.offline = true;
  if (!policy.trustAnchors?.length) log.warn({}, 'no trust anchor (--trust): no signature can be TOTAL_PASSED');
  let app: ReturnType<typeof createValidationApp> | undefined;
  const srv = await listenWhenReady(common, async () => {
    app = createValidationApp({ policy, maxBytes: maxMb * 1024 * 1024, log: (entry) => log.info(entry, 'request') });
    app.proxy = common.proxy;
    return app.callback();
  });
  // stop accepting, then stop the validation workers (child processes) so that the process can exit
  return runUntilStopped('verify', srv.url, log, async () => { await srv.close(); await app?.pool.close(); });
}
