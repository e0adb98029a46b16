import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { EXIT_CODES_HELP, nonEmpty, parseCommand, port } from '../args.js';
import { loadPkcs12File } from '@kyso/signer/pdf';

const HELP = `Usage: kyso demo [--port N] [--dir DIR] [--host H]

The all-in-one demo (what \`npm start\` runs), on the embedded in-memory store (REDIS_URL switches to Redis):
  N     demo portal (a public service): log in, pre-filled form, citizen + agency signatures, validation
  N+1   citizen identity provider (OpenID Connect)
  N+2   validation service (upload a signed PDF, get an ETSI-style report)
  N+3   test PKI responders (TSA, OCSP, CRL) for the demo certificates
  N+4   remote signing service (CSC API v2; keys in SoftHSM2 with KYSO_SIGNING_PKCS11_MODULE/_TOKEN/_PIN,
        otherwise an encrypted software keystore, secret KYSO_KEYSTORE_SECRET)
Options:
  --port N   first port (default 8080; 0 = any free ports)
  --dir DIR  where the demo PKI is kept (default .cache/demo)
Stops on Ctrl-C (SIGINT) or SIGTERM. Everything here is TEST material: no real keys, no real identities.
Every option takes --opt VALUE or --opt=VALUE.
${EXIT_CODES_HELP}`;

/** Demo accounts (test data only; the passwords are printed on purpose). */
const DEMO_USERS = [
  { id: '001090000001', password: 'demo-An-2026', name: 'Nguyễn Văn An', birthdate: '1990-05-12', gender: 'male', level: 1 as const,
    address: { formatted: 'Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội', locality: 'Hà Nội', country: 'VN' }, phone: '+84901234567', email: 'an@example.test' },
  { id: '079190000002', password: 'demo-Binh-2026', name: 'Trần Thị Bình', birthdate: '1990-09-02', gender: 'female', level: 2 as const,
    address: { formatted: '12 Lê Lợi, Quận 1, TP Hồ Chí Minh', locality: 'TP Hồ Chí Minh', country: 'VN' }, phone: '+84907654321', email: 'binh@example.test' },
  // an officer of the agency: counter-signs applications with the agency seal held by the signing service
  { id: '001085000003', password: 'demo-CanBo-2026', name: 'Lê Văn Cường', birthdate: '1985-03-03', gender: 'male', level: 2 as const,
    address: { formatted: '35 Trần Hưng Đạo, Hoàn Kiếm, Hà Nội', locality: 'Hà Nội', country: 'VN' }, phone: '+84903333333', email: 'cuong@example.test' },
];
/** The agency seal credential at the signing service, used by the officer. */
const DEMO_SEAL = 'demo-seal-so-tu-phap-ha-noi';

interface DemoArgs { port: number; dir: string; host: string }

const DEMO_OPTIONS = {
  port: { type: 'string', parse: port(65532), default: 8080 },
  dir: { type: 'string', parse: nonEmpty, default: '.cache/demo' },
  host: { type: 'string', parse: nonEmpty, default: '127.0.0.1' },
} as const;

function parse(args: string[]): DemoArgs | 'help' {
  const p = parseCommand(args, DEMO_OPTIONS, { see: 'kyso demo' });
  if (p.help) return 'help';
  return { port: p.values.port, dir: p.values.dir, host: p.values.host };
}

/** PIN of the demo signing credential (test data, printed on purpose). */
const DEMO_PIN = '123456';

/**
 * The remote signing service of the demo: tokens checked by introspection at the demo identity provider,
 * approvals by CIBA, certificates from the demo PKI's intermediate CA, one credential for the level-2 demo citizen.
 */
async function startDemoSigning(o: { port: number; host: string; issuer: string; secret: string; pki: import('@kyso/fixtures').TestPki; fixtures: typeof import('@kyso/fixtures'); tsaUrl: string; crlUrl: string }) {
  const s = await import('@kyso/service-signing');
  const ca = await o.fixtures.loadCaContext(o.pki);
  const env = process.env;
  const hsm = env.KYSO_SIGNING_PKCS11_MODULE && env.KYSO_SIGNING_PKCS11_TOKEN && env.KYSO_SIGNING_PKCS11_PIN
    ? { pkcs11: { module: env.KYSO_SIGNING_PKCS11_MODULE, token: env.KYSO_SIGNING_PKCS11_TOKEN, pin: env.KYSO_SIGNING_PKCS11_PIN } } : undefined;
  const server = await s.createSigningServer({
    port: o.port, host: o.host, ...(env.REDIS_URL ? { redis: env.REDIS_URL } : {}),
    vault: hsm ?? { keystoreSecret: env.KYSO_KEYSTORE_SECRET ?? randomBytes(24).toString('base64url') },
    tokens: new s.IntrospectionVerifier({ issuer: o.issuer, clientId: 'kyso-signing', clientSecret: o.secret }),
    approver: new s.CibaApprover({ issuer: o.issuer, clientId: 'kyso-signing', clientSecret: o.secret }),
    oauth2Issuer: o.issuer, tsaUrl: o.tsaUrl,
    // the demo's service line says where the keys are (software keystore without an HSM); the JSON log stays quiet
    logger: s.createSigningLogger(process.env.KYSO_LOG_LEVEL || 'error'),
    serviceName: (id) => (id === 'portal-demo' ? 'Cổng dịch vụ công (demo)' : id),
  });
  // status by CRL (the intermediate's CRL lists revoked serials; the demo OCSP responder only knows the fixture identities)
  const issuer = s.localCaIssuer({ caCertificate: o.pki.intermediateDer, caKey: ca.intermediate.key, chainAbove: [o.pki.rootDer], crlUrl: o.crlUrl });
  const citizen = DEMO_USERS[1]!;
  const credentialId = `demo-${citizen.id}`;
  if (!(await server.store.getCredential(credentialId))) {
    await s.enrolCredential({ store: server.store, vault: server.vault, issuer }, {
      id: credentialId, owner: citizen.id, kind: 'citizen', subject: { commonName: citizen.name, serialNumber: `CCCD:${citizen.id}` }, pin: DEMO_PIN,
      key: server.vault.kind === 'pkcs11' ? { type: 'EC', curve: 'P-256' } : { type: 'RSA', bits: 2048 },
    });
  }
  if (!(await server.store.getCredential(DEMO_SEAL))) {
    await s.enrolCredential({ store: server.store, vault: server.vault, issuer }, {
      id: DEMO_SEAL, owner: 'agency:so-tu-phap-ha-noi', kind: 'seal', users: [DEMO_USERS[2]!.id], pin: DEMO_PIN,
      subject: { commonName: 'Sở Tư pháp Thành phố Hà Nội (TEST)', organization: 'Sở Tư pháp Thành phố Hà Nội (TEST)' },
      key: server.vault.kind === 'pkcs11' ? { type: 'EC', curve: 'P-256' } : { type: 'RSA', bits: 2048 },
    });
  }
  return { url: server.url, close: () => server.close(), keys: server.vault.description, credentialId, phone: server.service.phone, pageOf: (ctx?: string) => s.approvalPageOf(ctx, server.url) };
}


/** `kyso demo`: PKI responders, identity provider, validation service and the demo portal in one process. */
export const command: Command = {
  summary: 'all-in-one demo on the embedded store (what `npm start` runs)',
  async run(args) {
    const opts = parse(args);
    if (opts === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    // only the service lines and the demo accounts on the terminal: library notices and the expected development
    // key warning of the in-memory store go to the JSON log (stderr, shown with KYSO_LOG_LEVEL=debug)
    const { quietLibraryNoise, jsonLog } = await import('../serve/log.js');
    quietLibraryNoise(jsonLog('kyso-demo'), ['KYSO_DEV_SECRET_KEY']);
    const fixtures = await import('@kyso/fixtures');
    const ports = opts.port === 0
      ? [await fixtures.freePort(), await fixtures.freePort(), await fixtures.freePort(), await fixtures.freePort(), await fixtures.freePort()]
      : [opts.port, opts.port + 1, opts.port + 2, opts.port + 3, opts.port + 4];
    const [portalPort, idpPort, validationPort, pkiPort] = ports as [number, number, number, number];
    const pkiBase = `http://127.0.0.1:${pkiPort}`;
    const pkiDir = resolve(opts.dir, 'pki');
    const manifestPath = join(pkiDir, 'manifest.json');
    const reuse = existsSync(manifestPath) && (JSON.parse(readFileSync(manifestPath, 'utf8')) as { baseUrl?: string }).baseUrl === pkiBase;
    const pki = reuse ? await fixtures.loadTestPki(pkiDir) : await fixtures.createTestPki(pkiDir, { baseUrl: pkiBase });
    const closers: (() => Promise<void>)[] = [];
    const closeAll = async () => {
      for (const c of closers.reverse()) await c().catch(() => undefined);
    };
    try {
      const pkiServers = await fixtures.startFixtureServers(pki, { port: pkiPort });
      closers.push(() => pkiServers.close());

      const { createLogger, createStorage } = await import('@kyso/idp');
      const storage = await createStorage(process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : {});
      closers.push(() => storage.close());
      const clientSecret = randomBytes(32).toString('base64url');
      const signingSecret = randomBytes(32).toString('base64url');
      const portalUrl = `http://${opts.host}:${portalPort}`;
      // 160 bits, 32 base32 characters (what authenticator apps and the TOTP check accept)
      const { newTotpSecret } = await import('@kyso/idp');
      const totpSecret = newTotpSecret();
      const level2 = DEMO_USERS.filter((u) => u.level === 2);
      // on a store that already has the demo citizens (REDIS_URL, second start) the seed leaves them alone: set the
      // secret printed below as theirs, and say so
      const reset: string[] = [];
      for (const u of level2) {
        if (await storage.accounts.get(u.id)) { await storage.accounts.setTotpSecret(u.id, totpSecret); reset.push(u.id); }
      }
      let signingPhone: { cibaDelivered(n: { authReqId: string; approvalUrl: string }): Promise<void>; pageOf(ctx?: string): string | undefined } | undefined;
      const { createIdpServer } = await import('@kyso/service-idp');
      const idp = await createIdpServer({
        port: idpPort, host: opts.host, storage, allowLoopbackFetch: true, logger: createLogger(process.env.KYSO_LOG_LEVEL || 'warn'),
        // the demo's "push notification": the phone page of a signing approval is printed (test data only)
        // and the signing service's own phone page (`/approve/<ref>`, opened by the portal's QR code) links to it
        // (and the CIBA page links back to the details page named by the signing service's request_context)
        notifyCiba: (async (n: import('@kyso/idp').CibaNotification) => {
          process.stdout.write(`phone: approval for ${n.accountId} (${n.bindingMessage ?? ''}): ${n.approvalUrl}\n`);
          if (n.clientId !== 'kyso-signing' || !signingPhone) return undefined;
          await signingPhone.cibaDelivered(n).catch(() => {});
          const detailsUrl = signingPhone.pageOf(n.requestContext);
          return detailsUrl ? { detailsUrl } : undefined;
        }) as never,
        seed: {
          clients: [{
            client_id: 'portal-demo', client_secret: clientSecret, redirect_uris: [`${portalUrl}/callback`],
            post_logout_redirect_uris: [`${portalUrl}/`], grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
            // may ask for credential-scoped signing tokens (CSC oauth2code, RFC 9396 authorization_details)
            authorization_details_types: ['credential'],
          }, {
            // the remote signing service: introspects bearer tokens, asks citizens to approve on the phone (CIBA)
            client_id: 'kyso-signing', client_name: 'Dịch vụ ký số từ xa', client_secret: signingSecret, redirect_uris: [], response_types: [],
            grant_types: ['urn:openid:params:grant-type:ciba', 'client_credentials'], backchannel_token_delivery_mode: 'poll', subject_type: 'public',
          }],
          users: DEMO_USERS.map((u) => (u.level === 2 ? { ...u, totp_secret: totpSecret } : u)),
        },
      });
      closers.push(() => idp.close());

      const { createValidationServer } = await import('@kyso/service-validation');
      const validation = await createValidationServer({ port: validationPort, host: opts.host, policy: { trustAnchors: [pki.rootPem] } });
      closers.push(() => validation.close());

      const byNumber = new Map<string, (typeof pki.identities)[string]>();
      for (const id of [pki.identities.citizen1, pki.identities.citizen2]) {
        const m = /CCCD:(\d{12})/.exec(readFileSync(id.certPath, 'utf8')) ?? /CCCD:(\d{12})/.exec(Buffer.from(id.certDer).toString('latin1'));
        if (m) byNumber.set(m[1]!, id);
      }
      const { createPortalServer } = await import('@kyso/service-portal');
      const portal = await createPortalServer({
        port: portalPort, host: opts.host, baseUrl: portalUrl, issuer: idp.issuer, clientId: 'portal-demo', clientSecret,
        validationUrl: validation.url, ...(process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : {}),
        remoteSigningUrl: `http://${opts.host}:${ports[4]}/`,
        officers: { personalNumbers: [DEMO_USERS[2]!.id], sealCredentialId: DEMO_SEAL },
        signers: {
          async citizen(n) {
            const id = byNumber.get(n);
            return id ? loadPkcs12File(id.p12Path, id.password) : undefined;
          },
          agency: () => loadPkcs12File(pki.identities.agency.p12Path, pki.identities.agency.password),
          agencyName: 'Sở Tư pháp Hà Nội (TEST)',
          tsaUrl: pkiServers.tsaUrl,
        },
      });
      closers.push(() => portal.close());

      const signing = await startDemoSigning({ port: ports[4]!, host: opts.host, issuer: idp.issuer, secret: signingSecret, pki, fixtures, tsaUrl: pkiServers.tsaUrl, crlUrl: pkiServers.crlUrl });
      closers.push(() => signing.close());
      signingPhone = { cibaDelivered: (n) => signing.phone.cibaDelivered(n), pageOf: signing.pageOf };

      process.stdout.write([
        'kyso demo ready (TEST data only)',
        // one line per service, `<name>: URL` (a contract scripts rely on), then the details
        `portal: ${portalUrl}/`,
        `idp: ${idp.issuer}/`,
        `verify: ${validation.url}/`,
        `signing: ${signing.url}/`,
        `tsa: ${pkiServers.tsaUrl}`,
        `ocsp: ${pkiServers.ocspUrl}`,
        `  portal (public service)  ${portalUrl}/`,
        `  identity provider        ${idp.issuer}/.well-known/openid-configuration`,
        `  validation service       ${validation.url}/`,
        `  TSA / OCSP / CRL         ${pkiServers.baseUrl}  (test root: ${pki.rootPath})`,
        `  store                    ${storage.kind}`,
        `  remote signing (CSC API v2 at ${signing.url}/csc/v2/), keys: ${signing.keys}; credential of ${DEMO_USERS[1]!.name}: ${signing.credentialId}, PIN ${DEMO_PIN}; agency seal ${DEMO_SEAL} (officer ${DEMO_USERS[2]!.name}, ${portalUrl}/officer), PIN ${DEMO_PIN}`,
        '  demo citizens:',
        ...DEMO_USERS.map((u) => `    ${u.id}  ${u.name}  password ${u.password}  level ${u.level}${u.level === 2 ? `  TOTP secret ${totpSecret}` : ''}`),
        ...(reset.length ? [`  (the store already had ${reset.join(', ')}: TOTP secret reset to the one printed above)`] : []),
        '  Ctrl-C to stop.',
        '',
      ].join('\n'));
      await new Promise<void>((resolveStop) => {
        process.once('SIGINT', () => resolveStop());
        process.once('SIGTERM', () => resolveStop());
      });
      process.stdout.write('kyso demo: stopping\n');
    } finally {
      await closeAll();
    }
    return 0;
  },
};
