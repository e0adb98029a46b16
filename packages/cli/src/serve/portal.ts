/** `kyso serve portal`: the demo public-service portal (relying party of the identity provider) in its own process. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../command.js';
import { jsonLog } from './log.js';
import { COMMON_HELP, listenWhenReady, parseServeArgs, runUntilStopped, urlOption } from './options.js';
import { loadPkcs12File } from '@kyso/signer/pdf';

export const HELP = `Usage: kyso serve portal --port N --issuer URL --client-id ID --validation-url URL --pki DIR
                         [--base-url URL] [--tsa URL] [--agency-name TEXT] [--host H] [--proxy]

Runs the demo public-service portal: log in at the identity provider, a form pre-filled from the verified claims,
the citizen signs (PAdES B-T), the agency counter-signs with a visible seal (B-LT), the validation service reports.
${COMMON_HELP}
  --issuer URL          the identity provider (kyso serve idp)
  --client-id ID        the portal's client at the identity provider (redirect URI BASE/callback)
  --validation-url URL  the validation service (kyso serve verify)
  --pki DIR             test PKI (kyso pki init DIR): citizens' and agency keys — TEST keys only
  --base-url URL        the portal's public URL (default http://HOST:PORT)
  --tsa URL             RFC 3161 TSA (default: the test PKI's, BASE/tsa of its manifest)
  --agency-name TEXT    the counter-signing agency shown on the seal (default "Sở Tư pháp Hà Nội (TEST)")
Environment:
  KYSO_PORTAL_CLIENT_SECRET   the client secret (required; never on the command line)`;

export async function run(args: string[]): Promise<number> {
  const { common, values } = parseServeArgs(args, {
    issuer: { type: 'string' }, 'client-id': { type: 'string' }, 'validation-url': { type: 'string' }, pki: { type: 'string' },
    'base-url': { type: 'string' }, tsa: { type: 'string' }, 'agency-name': { type: 'string' },
  }, HELP);
  const issuer = urlOption('issuer', values.issuer);
  const validationUrl = urlOption('validation-url', values['validation-url']);
  const baseUrl = values['base-url'] === undefined ? undefined : urlOption('base-url', values['base-url']);
  const clientId = values['client-id'];
  if (typeof clientId !== 'string' || clientId === '') throw new UsageError(`--client-id is required\n${HELP}`);
  const clientSecret = process.env.KYSO_PORTAL_CLIENT_SECRET;
  if (!clientSecret) throw new UsageError('KYSO_PORTAL_CLIENT_SECRET must hold the client secret (it is never read from the command line)');
  if (typeof values.pki !== 'string') throw new UsageError(`--pki DIR is required (a test PKI from \`kyso pki init DIR\`)\n${HELP}`);
  const log = jsonLog('kyso-portal');
  const { loadTestPki } = await import('@kyso/fixtures');
  let pki;
  try { pki = await loadTestPki(resolve(values.pki)); } catch (e) { throw new UsageError(`--pki ${values.pki}: not a test PKI (${(e as Error).message})`); }
  const tsaUrl = values.tsa === undefined ? `${pki.manifest.baseUrl.replace(/\/+$/, '')}/tsa` : urlOption('tsa', values.tsa);
  const { createPortalApp } = await import('@kyso/service-portal');
  // the citizens of the test PKI, by the personal number (CCCD) in their certificates
  const byNumber = new Map<string, (typeof pki.identities)[string]>();
  for (const id of Object.values(pki.identities)) {
    const m = /CCCD:(\d{12})/.exec(readFileSync(id.certPath, 'utf8')) ?? /CCCD:(\d{12})/.exec(Buffer.from(id.certDer).toString('latin1'));
    if (m && !byNumber.has(m[1]!)) byNumber.set(m[1]!, id);
  }
  const agency = pki.identities.agency;
  const srv = await listenWhenReady(common, async (url) => {
    const app = await createPortalApp({
      baseUrl: url, issuer, clientId, clientSecret, validationUrl,
      signers: {
        async citizen(n) {
          const id = byNumber.get(n);
          return id ? loadPkcs12File(id.p12Path, id.password) : undefined;
        },
        agency: () => loadPkcs12File(agency.p12Path, agency.password),
        agencyName: typeof values['agency-name'] === 'string' ? values['agency-name'] : 'Sở Tư pháp Hà Nội (TEST)',
        tsaUrl,
      },
    });
    app.proxy = common.proxy;
    return app.callback();
  }, baseUrl);
  return runUntilStopped('portal', srv.url, log, srv.close);
}
