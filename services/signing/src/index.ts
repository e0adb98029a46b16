/**
 * services/signing — remote signing under the citizen's sole control, speaking the Cloud Signature Consortium
 * API v2 at `/csc/v2/`. A thin koa shell ({@link createSigningApp}) over {@link SigningService}; state in Redis
 * (`redis` option) or in the embedded memory store; keys in a PKCS#11 token, or in an encrypted software
 * keystore when no HSM is configured (said at start).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createSigningApp, type AppControl, type RateLimits } from './app.js';
import type { Approver } from './approval.js';
import { AuditLog } from './audit.js';
import type { KeyVault } from './keys.js';
import { Pkcs11Vault, SoftwareVault } from './keys.js';
import { RedisStore } from './redis-store.js';
import { SigningService, type ServicePolicy, type XmlSigner } from './service.js';
import { MemoryStore, type SigningStore } from './store.js';
import type { TokenVerifier } from './tokens.js';
import { kysoXmlSigner } from './xml-signer.js';

export { createSigningApp, DEFAULT_LIMITS, type RateLimits, type AppControl } from './app.js';
export { SigningService, DEFAULT_POLICY, type ServicePolicy, type XmlSigner, type SigningServiceOptions } from './service.js';
export { MemoryStore, GENESIS, type SigningStore, type CredentialRecord, type SadGrant, type StoredAudit, type KeyRef } from './store.js';
export { RedisStore, connectRedis, readAuditStream, AUDIT_STREAM_KEY, AUDIT_HEAD_KEY } from './redis-store.js';
export { AuditLog, verifyAuditChain, chainHash, type AuditEvent, type AuditEntry, type AuditVerification } from './audit.js';
export { Pkcs11Vault, SoftwareVault, type KeyVault, type KeySpec } from './keys.js';
export { Pkcs11SigningPool, Pkcs11SignError, type Pkcs11PoolOptions, type PoolMechanism } from './pkcs11-pool.js';
export { enrolCredential, pinMatches, DEFAULT_PIN_HASHING, type CertificateIssuer, type CertificateSubject, type EnrolRequest, type PinHashing } from './credentials.js';
export { PhoneApprovals, approvalPage, approvalPageOf, groupedHex, type PhoneApproval, type PhoneDocument } from './phone.js';
export { CibaApprover, bindingMessage, type Approver, type ApprovalRequest, type ApprovalOutcome, type ApprovalDocument } from './approval.js';
export { IntrospectionVerifier, type TokenVerifier, type Caller } from './tokens.js';
export { CscError, StoreUnavailable, SigningError } from './errors.js';
export * from './algorithms.js';

/** Where keys live: a PKCS#11 token, or the encrypted software keystore. */
export type VaultConfig = { pkcs11: { module: string; token: string; pin: string; signingThreads?: number; sessionsPerKey?: number } } | { keystoreSecret: string } | { vault: KeyVault };

export interface SigningServerOptions {
  port?: number;
  host?: string;
  /** Redis URL; without it the embedded memory store (one instance only). Or give a store. */
  redis?: string;
  store?: SigningStore;
  vault: VaultConfig;
  tokens: TokenVerifier;
  approver: Approver;
  oauth2Issuer: string;
  serviceName?: (clientId: string) => Promise<string> | string;
  policy?: Partial<ServicePolicy>;
  limits?: Partial<RateLimits>;
  tsaUrl?: string;
  xmlSigner?: XmlSigner;
  logger?: Logger;
  /** Longest wait for in-flight requests at shutdown [10 000 ms]. */
  shutdownGraceMs?: number;
}

export interface SigningServer {
  url: string;
  port: number;
  server: Server;
  service: SigningService;
  store: SigningStore;
  vault: KeyVault;
  audit: AuditLog;
  control: AppControl;
  /** Stops accepting, finishes in-flight requests (up to the grace period), then releases store and keys. */
  close(): Promise<void>;
}

/** JSON log lines to stderr, secrets redacted. */
export function createSigningLogger(level = process.env.KYSO_LOG_LEVEL || 'info'): Logger {
  return pino({ level, base: { svc: 'kyso-signing' }, redact: { paths: ['authorization', 'PIN', 'pin', 'SAD', 'token', 'secret'], censor: '[redacted]' } }, pino.destination(2));
}

export async function createSigningServer(opts: SigningServerOptions): Promise<SigningServer> {
  const log = opts.logger ?? createSigningLogger();
  let store: SigningStore;
  if (opts.store) store = opts.store;
  else if (opts.redis) {
    let last = 0;
    const rs = new RedisStore(opts.redis, { onError: (e) => { if (Date.now() - last > 5000) { last = Date.now(); log.warn({ err: e.message }, 'redis unreachable'); } } });
    // Redis down at start: the service starts anyway and answers 503 + Retry-After until it is reachable
    await rs.ready().catch(() => log.warn({}, 'redis not reachable at start: answering 503 until it is'));
    store = rs;
  } else store = new MemoryStore();
  const v = opts.vault;
  const vault: KeyVault = 'vault' in v ? v.vault : 'pkcs11' in v ? new Pkcs11Vault(v.pkcs11) : new SoftwareVault(v.keystoreSecret);
  if (vault.kind === 'software') log.warn({ keys: vault.description }, 'no HSM configured: credential keys are kept in the encrypted software keystore');
  else log.info({ keys: vault.description }, 'credential keys in the HSM');
  const audit = new AuditLog(store);
  const service = new SigningService({
    store, vault, audit, approver: opts.approver, oauth2Issuer: opts.oauth2Issuer,
    ...(opts.serviceName ? { serviceName: opts.serviceName } : {}), ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.tsaUrl ? { tsaUrl: opts.tsaUrl } : {}), xmlSigner: opts.xmlSigner ?? kysoXmlSigner(opts.tsaUrl),
  });
  const { app, control } = createSigningApp({ service, store, tokens: opts.tokens, log, ...(opts.limits ? { limits: opts.limits } : {}) });
  const server = createServer(app.callback());
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 180_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  log.info({ url, store: store.kind, keys: vault.kind }, 'signing service listening');
  let closing: Promise<void> | undefined;
  return {
    url, port, server, service, store, vault, audit, control,
    close() {
      closing ??= (async () => {
        control.draining = true;
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        const grace = new Promise<void>((r) => setTimeout(r, opts.shutdownGraceMs ?? 10_000).unref());
        await Promise.race([control.idle(), grace]);
        server.closeAllConnections();
        await closed;
        await vault.close();
        if (!opts.store) await store.close();
        log.info({}, 'signing service stopped');
      })();
      return closing;
    },
  };
}
export { localCaIssuer, type LocalCaOptions } from './ca-issuer.js';
