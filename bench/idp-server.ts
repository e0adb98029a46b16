/**
 * Child process for bench/idp.ts: starts either a vanilla oidc-provider (in-memory adapter, opaque tokens)
 * or kyso's identity provider backed by Redis, mints tokens through the provider's own models (same way on
 * both sides), and prints one JSON line: { port, refreshTokens, accessToken }.
 *   node --import tsx bench/idp-server.ts vanilla|kyso|kyso-memory PORT [REDIS_URL] [N_REFRESH]
 */
import type Provider from 'oidc-provider';
import { pathToFileURL } from 'node:url';
import { createStorage, createLogger } from '@kyso/idp';
import { createIdpServer } from '@kyso/service-idp';

const [mode, portArg, redisUrl, nArg] = process.argv.slice(2);
const port = Number(portArg);
const nRefresh = Number(nArg ?? 200);
const CLIENTS = [
  { client_id: 'bench-svc', client_secret: 'bench-svc-secret-0123456789', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
  { client_id: 'bench-rp', client_secret: 'bench-rp-secret-01234567890', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['http://127.0.0.1:1/cb'], response_types: ['code'], subject_type: 'public' },
];
const ACCOUNT = '001090012345';

async function mint(provider: Provider) {
  const client = await provider.Client.find('bench-rp');
  if (!client) throw new Error('bench client missing');
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: 'bench-rp' });
  grant.addOIDCScope('openid profile');
  const grantId = await grant.save();
  const base = { accountId: ACCOUNT, client, grantId, scope: 'openid profile', gty: 'authorization_code', acr: 'level1', amr: ['pwd'], authTime: Math.floor(Date.now() / 1000) };
  const accessToken = await new provider.AccessToken({ ...base } as never).save();
  const refreshTokens: string[] = [];
  for (let i = 0; i < nRefresh; i++) {
    const g = new provider.Grant({ accountId: ACCOUNT, clientId: 'bench-rp' });
    g.addOIDCScope('openid profile');
    const gid = await g.save();
    refreshTokens.push(await new provider.RefreshToken({ ...base, grantId: gid, rotations: 0 } as never).save());
  }
  return { accessToken, refreshTokens };
}

if (mode === 'vanilla') {
  // the library as published (bench/idp.ts passes a copy without kyso's dependency patches)
  const stock = process.env.KYSO_BENCH_STOCK_OIDC_PROVIDER;
  const { default: Stock } = (await import(stock ? pathToFileURL(`${stock}/lib/index.js`).href : 'oidc-provider')) as { default: typeof Provider };
  const provider = new Stock(`http://127.0.0.1:${port}`, {
    clients: CLIENTS as never,
    features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: false } },
    rotateRefreshToken: true,
    async findAccount(_ctx, sub) {
      return { accountId: sub, async claims() { return { sub, name: 'Trần Văn An', birthdate: '1990-01-01' }; } };
    },
    claims: { openid: ['sub'], profile: ['name', 'birthdate'] },
  });
  await new Promise<void>((r) => provider.listen(port, '127.0.0.1', () => r()) as unknown);
  process.stdout.write(JSON.stringify({ port, ...(await mint(provider)) }) + '\n');
} else if (mode === 'kyso' || mode === 'kyso-memory') {
  // BENCH_GRANT_CACHE_MS: the store's grantCacheMs (default 1000; 0 = read grants from Redis every time)
  const grantCacheMs = process.env.BENCH_GRANT_CACHE_MS ? { grantCacheMs: Number(process.env.BENCH_GRANT_CACHE_MS) } : {};
  const storage = await createStorage(mode === 'kyso' ? { redis: redisUrl!, ...grantCacheMs } : {});
  const server = await createIdpServer({ port, storage, logger: createLogger('warn'), seed: {
    clients: CLIENTS as never,
    users: [{ id: ACCOUNT, password: 'bench password 123', name: 'Trần Văn An', birthdate: '1990-01-01', gender: 'male', level: 1 }],
  } });
  process.stdout.write(JSON.stringify({ port: server.port, ...(await mint(server.idp.provider)) }) + '\n');
} else {
  process.stderr.write('usage: idp-server.ts vanilla|kyso PORT [REDIS_URL] [N]\n');
  process.exit(2);
}

// exit cleanly on signals (lets `node --cpu-prof` write its profile)
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
