/**
 * The storage under a real oidc-provider: clients read through Adapter('Client'), 50 parallel redemptions of one
 * authorization code / refresh token at the token endpoint succeed exactly once (memory and Redis).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { createStorage, type KysoIdpStorage } from '../src/storage/index.js';

const KEY = Buffer.alloc(32, 13).toString('base64');
const SECRET = 'rp-secret-0123456789abcdef';
const REDIRECT = 'https://rp.example/cb';

let redis: RedisInstance;
before(async function () {
  this.timeout(15000);
  redis = await startRedis();
});
after(async () => { await redis?.stop(); });

for (const backend of ['memory', 'redis'] as const) {
  describe(`storage under oidc-provider: ${backend}`, function () {
    this.timeout(30000);
    let s: KysoIdpStorage;
    let server: Server;
    let provider: Provider;
    let base: string;

    before(async () => {
      s = await createStorage({ secretKey: KEY, ...(backend === 'redis' ? { redis: { url: redis.url, keyPrefix: 'prov:' } } : {}) });
      await s.clients.upsert({ client_id: 'rp', client_secret: SECRET, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], scope: 'openid offline_access api' } as never);
      server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      provider = new Provider(base, {
        adapter: s.Adapter,
        findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
        features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: false } },
        scopes: ['openid', 'offline_access', 'api'],
        rotateRefreshToken: true,
        issueRefreshToken: async () => true,
        ttl: { ClientCredentials: 600, Grant: 3600, AccessToken: 600, RefreshToken: 3600, IdToken: 600, AuthorizationCode: 60 },
      });
      server.on('request', provider.callback());
    });
    after(async () => {
      await new Promise((r) => server.close(r));
      await s.close();
    });

    const auth = 'Basic ' + Buffer.from(`rp:${SECRET}`).toString('base64');
    const token = (body: Record<string, string>) => fetch(`${base}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

    async function issueCode(): Promise<{ code: string; verifier: string }> {
      const client = await provider.Client.find('rp');
      assert.ok(client, 'client found through the adapter');
      const grant = new provider.Grant({ accountId: '001190000042', clientId: 'rp' });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      const verifier = randomBytes(32).toString('base64url');
      const code = new provider.AuthorizationCode({
        accountId: '001190000042', client, grantId, redirectUri: REDIRECT, scope: 'openid offline_access',
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'), codeChallengeMethod: 'S256',
        authTime: Math.floor(Date.now() / 1000), acr: 'level1',
      } as never);
      return { code: await code.save(), verifier };
    }

    it('serves client_credentials for a client stored via the client store', async () => {
      const r = await token({ grant_type: 'client_credentials', scope: 'api' });
      assert.equal(r.status, 200, await r.clone().text());
      const body = await r.json() as { access_token: string; token_type: string };
      assert.equal(body.token_type, 'Bearer');
      const bad = await fetch(`${base}/token`, { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from('rp:wrong-secret').toString('base64'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
      assert.equal(bad.status, 401);
    });

    it('50 parallel redemptions of one authorization code: exactly one gets tokens', async () => {
      const { code, verifier } = await issueCode();
      const rs = await Promise.all(Array.from({ length: 50 }, () => token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier })));
      const statuses = rs.map((r) => r.status);
      assert.equal(statuses.filter((x) => x === 200).length, 1, `statuses: ${statuses.join(',')}`);
      for (const r of rs.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 400);
        assert.equal(((await r.json()) as { error: string }).error, 'invalid_grant');
      }
      // and a later, sequential reuse is refused too
      const again = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
      assert.equal(again.status, 400);
    });

    it('50 parallel redemptions of one refresh token: exactly one rotates it', async () => {
      const { code, verifier } = await issueCode();
      const first = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
      assert.equal(first.status, 200, await first.clone().text());
      const { refresh_token: rt } = await first.json() as { refresh_token: string };
      assert.ok(rt, 'refresh token issued');
      const rs = await Promise.all(Array.from({ length: 50 }, () => token({ grant_type: 'refresh_token', refresh_token: rt })));
      const statuses = rs.map((r) => r.status);
      assert.equal(statuses.filter((x) => x === 200).length, 1, `statuses: ${statuses.join(',')}`);
    });
  });
}
