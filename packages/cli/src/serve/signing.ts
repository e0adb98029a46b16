/** `kyso serve signing`: the remote signing service (CSC API v2, approvals on the phone, HSM keys) in its own process. */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../command.js';
import { COMMON_HELP, parseServeArgs, runUntilStopped, urlOption } from './options.js';
import { jsonLog } from './log.js';

export const HELP = `Usage: kyso serve signing --port N --issuer URL --client-id ID [--tsa URL] [--host H]

Runs the remote signing service: the Cloud Signature Consortium API v2 at /csc/v2/ (credentials, authorize with
the citizen's approval on her phone at level 2, signHash, signDoc for PDF and XML), keys in an HSM through PKCS#11
or, without one, in an encrypted software keystore (said at start).
${COMMON_HELP}
  --issuer URL       the kyso identity provider: bearer tokens are introspected there, approvals go through its CIBA
  --client-id ID     this service's client at the identity provider (grant types CIBA and client_credentials);
                     its secret comes from KYSO_SIGNING_CLIENT_SECRET, never from the command line
  --tsa URL          RFC 3161 time-stamping authority for signDoc at B-T and above
Environment:
  KYSO_SIGNING_CLIENT_SECRET   the client secret (required)
  REDIS_URL                    shared state for several instances (SAD, PIN counters, idempotency, audit stream);
                               default the embedded memory store (one instance only)
  KYSO_SIGNING_PKCS11_MODULE, KYSO_SIGNING_PKCS11_TOKEN, KYSO_SIGNING_PKCS11_PIN   keys in an HSM (e.g. SoftHSM2)
  KYSO_KEYSTORE_SECRET         without an HSM: the secret sealing the software keystore (required with REDIS_URL)
The service itself stops gracefully: in-flight requests finish before the process exits.`;

export async function run(args: string[]): Promise<number> {
  const { common, values } = parseServeArgs(args, { issuer: { type: 'string' }, 'client-id': { type: 'string' }, tsa: { type: 'string' } }, HELP);
  const issuer = urlOption('issuer', values.issuer);
  const clientId = values['client-id'];
  if (typeof clientId !== 'string' || clientId === '') throw new UsageError(`--client-id ID is required\n${HELP}`);
  const tsaUrl = values.tsa === undefined ? undefined : urlOption('tsa', values.tsa);
  const env = process.env;
  const clientSecret = env.KYSO_SIGNING_CLIENT_SECRET;
  if (!clientSecret) throw new UsageError('KYSO_SIGNING_CLIENT_SECRET is not set (the client secret is never an option)');
  const hsm = env.KYSO_SIGNING_PKCS11_MODULE && env.KYSO_SIGNING_PKCS11_TOKEN && env.KYSO_SIGNING_PKCS11_PIN
    ? { pkcs11: { module: env.KYSO_SIGNING_PKCS11_MODULE, token: env.KYSO_SIGNING_PKCS11_TOKEN, pin: env.KYSO_SIGNING_PKCS11_PIN } } : undefined;
  if (!hsm && env.REDIS_URL && !env.KYSO_KEYSTORE_SECRET) {
    throw new UsageError('KYSO_KEYSTORE_SECRET is not set: with REDIS_URL and no HSM, the software keystore needs a lasting secret');
  }
  const log = jsonLog('kyso-signing');
  const s = await import('@kyso/service-signing');
  const server = await s.createSigningServer({
    port: common.port, host: common.host, ...(env.REDIS_URL ? { redis: env.REDIS_URL } : {}),
    // memory store without a secret: keys live as long as the process, so a random one is enough
    vault: hsm ?? { keystoreSecret: env.KYSO_KEYSTORE_SECRET ?? randomBytes(24).toString('base64url') },
    tokens: new s.IntrospectionVerifier({ issuer, clientId, clientSecret }),
    approver: new s.CibaApprover({ issuer, clientId, clientSecret }),
    oauth2Issuer: issuer, ...(tsaUrl ? { tsaUrl } : {}),
  });
  return runUntilStopped('signing', server.url, log, () => server.close(), `(keys: ${server.vault.description})`);
}
