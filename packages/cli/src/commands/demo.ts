import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

const HELP = `Usage: kyso demo [--port N] [--dir DIR] [--host H]

The all-in-one demo (what \`npm start\` runs), on the embedded in-memory store (REDIS_URL switches to Redis):
  N     demo portal (a public service): log in, pre-filled form, citizen + agency signatures, validation
  N+1   citizen identity provider (OpenID Connect)
  N+2   validation service (upload a signed PDF, get an ETSI-style report)
  N+3   test PKI responders (TSA, OCSP, CRL) for the demo certificates
Options:
  --port N   first port (default 8080; 0 = any free ports)
  --dir DIR  where the demo PKI is kept (default .cache/demo)
Stops on Ctrl-C (SIGINT) or SIGTERM. Everything here is TEST material: no real keys, no real identities.`;

/** Demo accounts (test data only; the passwords are printed on purpose). */
const DEMO_USERS = [
  { id: '001090000001', password: 'demo-An-2026', name: 'Nguyễn Văn An', birthdate: '1990-05-12', gender: 'male', level: 1 as const,
    address: { formatted: 'Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội', locality: 'Hà Nội', country: 'VN' }, phone: '+84901234567', email: 'an@example.test' },
  { id: '079190000002', password: 'demo-Binh-2026', name: 'Trần Thị Bình', birthdate: '1990-09-02', gender: 'female', level: 2 as const,
    address: { formatted: '12 Lê Lợi, Quận 1, TP Hồ Chí Minh', locality: 'TP Hồ Chí Minh', country: 'VN' }, phone: '+84907654321', email: 'binh@example.test' },
];

interface DemoArgs { port: number; dir: string; host: string }

function parse(args: string[]): DemoArgs {
  const out: DemoArgs = { port: 8080, dir: '.cache/demo', host: '127.0.0.1' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--port') {
      const v = val();
      if (!/^\d{1,5}$/.test(v) || Number(v) > 65532) throw new UsageError(`--port must be 0-65532, got '${v}'`);
      out.port = Number(v);
    } else if (a === '--dir') out.dir = val();
    else if (a === '--host') out.host = val();
    else throw new UsageError(`unknown option '${a}'\n${HELP}`);
  }
  return out;
}

/** A base32 TOTP secret for the level-2 demo account. */
function base32Secret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(20)].map((b) => alphabet[b & 31]).join('');
}

/** `kyso demo`: PKI responders, identity provider, validation service and the demo portal in one process. */
export const command: Command = {
  summary: 'all-in-one demo on the embedded store (what `npm start` runs)',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const opts = parse(args);
    // only the service lines and the demo accounts on the terminal: library notices and the expected development
    // key warning of the in-memory store go to the JSON log (stderr, shown with KYSO_LOG_LEVEL=debug)
    const { quietLibraryNoise, jsonLog } = await import('../serve/log.js');
    quietLibraryNoise(jsonLog('kyso-demo'), ['KYSO_DEV_SECRET_KEY']);
    const fixtures = await import('@kyso/fixtures');
    const ports = opts.port === 0
      ? [await fixtures.freePort(), await fixtures.freePort(), await fixtures.freePort(), await fixtures.freePort()]
      : [opts.port, opts.port + 1, opts.port + 2, opts.port + 3];
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
      const portalUrl = `http://${opts.host}:${portalPort}`;
      const totpSecret = base32Secret();
      const { createIdpServer } = await import('@kyso/service-idp');
      const idp = await createIdpServer({
        port: idpPort, host: opts.host, storage, allowLoopbackFetch: true, logger: createLogger(process.env.KYSO_LOG_LEVEL || 'warn'),
        seed: {
          clients: [{
            client_id: 'portal-demo', client_secret: clientSecret, redirect_uris: [`${portalUrl}/callback`],
            post_logout_redirect_uris: [`${portalUrl}/`], grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
          }],
          users: DEMO_USERS.map((u) => (u.level === 2 ? { ...u, totp_secret: totpSecret } : u)),
        },
      });
      closers.push(() => idp.close());

      const { createValidationServer } = await import('@kyso/service-validation');
      const validation = await createValidationServer({ port: validationPort, host: opts.host, policy: { trustAnchors: [pki.rootPem] } });
      closers.push(() => validation.close());

      const { loadPkcs12File } = await import('@kyso/signer');
      const byNumber = new Map<string, (typeof pki.identities)[string]>();
      for (const id of [pki.identities.citizen1, pki.identities.citizen2]) {
        const m = /CCCD:(\d{12})/.exec(readFileSync(id.certPath, 'utf8')) ?? /CCCD:(\d{12})/.exec(Buffer.from(id.certDer).toString('latin1'));
        if (m) byNumber.set(m[1]!, id);
      }
      const { createPortalServer } = await import('@kyso/service-portal');
      const portal = await createPortalServer({
        port: portalPort, host: opts.host, baseUrl: portalUrl, issuer: idp.issuer, clientId: 'portal-demo', clientSecret,
        validationUrl: validation.url,
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

      process.stdout.write([
        'kyso demo ready (TEST data only)',
        `  portal (public service)  ${portalUrl}/`,
        `  identity provider        ${idp.issuer}/.well-known/openid-configuration`,
        `  validation service       ${validation.url}/`,
        `  TSA / OCSP / CRL         ${pkiServers.baseUrl}  (test root: ${pki.rootPath})`,
        `  store                    ${storage.kind}`,
        '  demo citizens:',
        ...DEMO_USERS.map((u) => `    ${u.id}  ${u.name}  password ${u.password}  level ${u.level}${u.level === 2 ? `  TOTP secret ${totpSecret}` : ''}`),
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
