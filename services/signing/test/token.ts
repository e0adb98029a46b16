/** A citizen's access token for the `portal` client through the real login (code + PKCE), scope `openid service`. */
import * as oc from 'openid-client';
import { Browser, loginFlow, type Citizen } from '../../../packages/idp/test/provider-helpers.js';

export async function tokenViaLogin(issuer: string, c: Citizen, scope = 'openid service', client = { id: 'portal', secret: 'portal-secret-0123456789abcdef', redirect: 'http://127.0.0.1:1/cb' }): Promise<string> {
  const rp = await oc.discovery(new URL(issuer), client.id, client.secret, undefined, { execute: [oc.allowInsecureRequests] });
  const verifier = oc.randomPKCECodeVerifier();
  const state = oc.randomState();
  const url = oc.buildAuthorizationUrl(rp, { redirect_uri: client.redirect, scope, state, code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const { url: back } = await loginFlow(new Browser(issuer), url.href, c);
  const tokens = await oc.authorizationCodeGrant(rp, new URL(back), { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.access_token;
}
