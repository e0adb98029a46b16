/**
 * Test stack for the signing service: a SoftHSM2 token in a temp dir, the shared test PKI (its intermediate CA
 * issues the credential certificates), the real kyso identity provider (tokens by code flow, introspection,
 * CIBA), and the signing service — with the real CIBA approver or a scripted one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oc from 'openid-client';
import { getTestPki, loadCaContext } from '@kyso/fixtures';
import { Browser, baseSeed, loginFlow, newCitizen, startTestIdp, type Citizen, type TestIdp } from '../../../packages/idp/test/provider-helpers.js';
import {
  CibaApprover, IntrospectionVerifier, approvalPageOf, createSigningLogger, createSigningServer, enrolCredential, localCaIssuer,
  type ApprovalOutcome, type ApprovalRequest, type Approver, type CertificateIssuer, type CredentialRecord, type KeySpec, type SigningServer,
} from '../src/index.js';

export const HSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const HSM_PIN = '123456';
export const FAST_PIN_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const insecure = { execute: [oc.allowInsecureRequests] };

/** A fresh SoftHSM2 token (SOFTHSM2_CONF set for this process; first token wins for the process). */
export function setupHsm(label = 'kyso-signing'): { module: string; token: string; pin: string; cleanup(): void } {
  if (!existsSync(HSM_MODULE)) throw new Error(`SoftHSM2 module missing at ${HSM_MODULE} (apt-get install softhsm2)`);
  if (process.env.KYSO_TEST_HSM_TOKEN) return { module: HSM_MODULE, token: process.env.KYSO_TEST_HSM_TOKEN, pin: HSM_PIN, cleanup() {} };
  const dir = mkdtempSync(join(tmpdir(), 'kyso-signing-hsm-'));
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', HSM_PIN, '--so-pin', '87654321'], { stdio: 'ignore' });
  process.env.KYSO_TEST_HSM_TOKEN = label;
  return { module: HSM_MODULE, token: label, pin: HSM_PIN, cleanup() { /* kept for the process: PKCS#11 holds it open */ } };
}

/** The test PKI's intermediate CA as the deployment CA (through the service's own local CA issuer). */
export async function testIssuer(): Promise<{ issuer: CertificateIssuer; tsaUrl: string; rootDer: Uint8Array }> {
  const pki = await getTestPki();
  const ca = await loadCaContext(pki);
  const issuer = localCaIssuer({ caCertificate: pki.intermediateDer, caKey: ca.intermediate.key, chainAbove: [pki.rootDer], ocspUrl: pki.servers.ocspUrl, crlUrl: pki.servers.crlUrl, days: 365 });
  return { issuer, tsaUrl: pki.servers.tsaUrl, rootDer: pki.rootDer };
}

/** An approver whose decisions the test sets; records what the citizen was shown. */
export class ScriptedApprover implements Approver {
  seen: ApprovalRequest[] = [];
  next: ApprovalOutcome[] = [];
  async approve(req: ApprovalRequest): Promise<ApprovalOutcome> {
    this.seen.push(req);
    return this.next.shift() ?? { result: 'approved', acr: 'level2' };
  }
}

export const SIGNING_CLIENT = { client_id: 'kyso-signing', client_name: 'Dịch vụ ký số từ xa kyso', client_secret: 'signing-secret-0123456789abcdef', grant_types: ['urn:openid:params:grant-type:ciba', 'client_credentials'], redirect_uris: [], response_types: [], backchannel_token_delivery_mode: 'poll', subject_type: 'public' };
export const PORTAL_CLIENT = { client_id: 'portal', client_name: 'Cổng dịch vụ công', client_secret: 'portal-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:1/cb'], grant_types: ['authorization_code', 'refresh_token'], subject_type: 'public', authorization_details_types: ['credential'] };

export interface Stack {
  idp: TestIdp;
  signing: SigningServer;
  approver: ScriptedApprover | CibaApprover;
  hsm: ReturnType<typeof setupHsm>;
  tsaUrl: string;
  rootDer: Uint8Array;
  issuer: CertificateIssuer;
  /** A citizen's access token for the portal client through the real login (code + PKCE). */
  tokenFor(c: Citizen, scope?: string): Promise<string>;
  citizen(level?: 1 | 2): Promise<Citizen>;
  enrol(owner: string, key: KeySpec, pin?: string, extra?: { kind?: 'citizen' | 'seal'; users?: string[] }): Promise<CredentialRecord>;
  call(path: string, token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  close(): Promise<void>;
}

export async function startStack(opts: { ciba?: boolean; redis?: string; policy?: Record<string, number>; limits?: Record<string, number>; keystoreSecret?: string; clients?: unknown[] } = {}): Promise<Stack> {
  let signingUrl = '';
  const hsm = setupHsm();
  const { issuer, tsaUrl, rootDer } = await testIssuer();
  const seed = baseSeed();
  seed.clients.push(SIGNING_CLIENT as never, PORTAL_CLIENT as never, ...(opts.clients ?? []) as never[]);
  // the deployment's notifier links the IdP's CIBA page to the signing service's phone page (as `kyso demo` does)
  const idp = await startTestIdp({ seed, cibaDetails: (n) => (n.clientId === SIGNING_CLIENT.client_id ? approvalPageOf(n.requestContext, signingUrl) : undefined) });
  const approver = opts.ciba ? new CibaApprover({ issuer: idp.issuer, clientId: SIGNING_CLIENT.client_id, clientSecret: SIGNING_CLIENT.client_secret, pollMs: 100 }) : new ScriptedApprover();
  const signing = await createSigningServer({
    ...(opts.redis ? { redis: opts.redis } : {}),
    vault: opts.keystoreSecret ? { keystoreSecret: opts.keystoreSecret } : { pkcs11: { module: hsm.module, token: hsm.token, pin: hsm.pin } },
    tokens: new IntrospectionVerifier({ issuer: idp.issuer, clientId: SIGNING_CLIENT.client_id, clientSecret: SIGNING_CLIENT.client_secret }),
    approver, oauth2Issuer: idp.issuer, tsaUrl, logger: createSigningLogger(process.env.KYSO_TEST_LOG ?? 'silent'),
    serviceName: (id) => (id === 'portal' ? 'Cổng dịch vụ công' : id),
    ...(opts.policy ? { policy: opts.policy } : {}), ...(opts.limits ? { limits: opts.limits } : {}),
  });
  signingUrl = signing.url;
  const rp = await oc.discovery(new URL(idp.issuer), PORTAL_CLIENT.client_id, PORTAL_CLIENT.client_secret, undefined, insecure);
  return {
    idp, signing, approver, hsm, tsaUrl, rootDer, issuer,
    async tokenFor(c, scope = 'openid service') {
      const verifier = oc.randomPKCECodeVerifier();
      const state = oc.randomState();
      const url = oc.buildAuthorizationUrl(rp, { redirect_uri: PORTAL_CLIENT.redirect_uris[0]!, scope, state, code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const { url: back } = await loginFlow(new Browser(idp.issuer), url.href, c);
      const tokens = await oc.authorizationCodeGrant(rp, new URL(back), { pkceCodeVerifier: verifier, expectedState: state });
      return tokens.access_token;
    },
    citizen: (level = 1) => newCitizen(idp.storage, { level }),
    enrol: (owner, key, pin = '246810', extra = {}) => enrolCredential({ store: signing.store, vault: signing.vault, issuer, pinHashing: FAST_PIN_HASH }, {
      owner, kind: extra.kind ?? 'citizen', users: extra.users ?? [], subject: { commonName: 'Nguyễn Thị Minh Khai', serialNumber: `CCCD:${owner}` }, pin, key,
    }),
    async call(path, token, body, headers = {}) {
      const res = await fetch(`${signing.url}/csc/v2/${path}`, {
        method: body === undefined && path === 'info' ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(body === undefined && path === 'info' ? {} : { body: JSON.stringify(body ?? {}) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) as Record<string, unknown> : {}, headers: res.headers };
    },
    async close() {
      await signing.close();
      await idp.close();
    },
  };
}
