/**
 * Robustness and key custody: graceful shutdown finishes in-flight requests and refuses new ones; rate limits
 * answer 429 + Retry-After; the software keystore (no HSM) keeps keys only encrypted, says so, refuses EC and a
 * wrong secret; an agency seal is usable by its officers only; the store-down path answers 503 + Retry-After.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate, verify as nodeVerify, constants } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  AuditLog, MemoryStore, SigningService, SoftwareVault, StoreUnavailable, createSigningApp, createSigningServer, enrolCredential,
  type ApprovalOutcome, type Approver, type Caller, type SigningStore,
} from '../src/index.js';
import { FAST_PIN_HASH, ScriptedApprover, startStack, testIssuer, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const RSA = '1.2.840.113549.1.1.1';
const h = () => createHash('sha256').update(randomBytes(16)).digest('base64');
const caller = (subject: string): Caller => ({ subject, clientId: 'test', scopes: new Set(['service']), exp: 0, tokenHash: 'x' });
const fixedTokens = { async verify(t: string) { return caller(t); } };

async function call(url: string, path: string, token: string, body: unknown) {
  const res = await fetch(`${url}/csc/v2/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() as Record<string, unknown> };
}

describe('signing service: robustness and key custody', function () {
  this.timeout(120_000);

  it('graceful shutdown: an authorization waiting for the phone completes; new connections are refused', async () => {
    let release: (o: ApprovalOutcome) => void = () => {};
    const slow: Approver = { approve: () => new Promise((r) => { release = r; }) };
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    const server = await createSigningServer({ vault: { keystoreSecret: 'a-long-enough-keystore-secret' }, tokens: fixedTokens, approver: slow, oauth2Issuer: 'http://127.0.0.1:1', logger });
    assert.ok(lines.some((l) => /no HSM configured/.test(l)), 'the service says at start that keys are in the software keystore');
    const { issuer } = await testIssuer();
    const cred = await enrolCredential({ store: server.store, vault: server.vault, issuer, pinHashing: FAST_PIN_HASH }, { owner: '001090000001', kind: 'citizen', subject: { commonName: 'A' }, pin: '1234', key: { type: 'RSA' } });
    const hash = h();
    const inflight = call(server.url, 'credentials/authorize', '001090000001', { credentialID: cred.id, numSignatures: 1, hashes: [hash], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '1234' }] });
    for (let i = 0; i < 100 && server.control.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.control.inFlight, 1);
    const closing = server.close();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(fetch(`${server.url}/healthz`), 'no new connections while draining');
    release({ result: 'approved', acr: 'level2' });
    const r = await inflight;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(typeof r.body.SAD, 'string');
    await closing;
    assert.equal(server.control.inFlight, 0);
  });

  it('rate limits: signing calls per subject per second → 429 with Retry-After', async () => {
    const store = new MemoryStore();
    const vault = new SoftwareVault('a-long-enough-keystore-secret');
    const service = new SigningService({ store, vault, audit: new AuditLog(store), approver: new ScriptedApprover(), oauth2Issuer: 'x' });
    const { app } = createSigningApp({ service, store, tokens: fixedTokens, log: pino({ level: 'silent' }), limits: { signPerSecond: 3 } });
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    try {
      const rs = await Promise.all(Array.from({ length: 8 }, () => call(url, 'signatures/signHash', '001090000001', {})));
      const limited = rs.filter((r) => r.status === 429);
      assert.ok(limited.length >= 4, rs.map((r) => r.status).join(','));
      assert.ok(limited.every((r) => r.headers.get('retry-after') && r.body.error === 'too_many_requests'));
      // another citizen is not affected
      assert.notEqual((await call(url, 'signatures/signHash', '079190000002', {})).status, 429);
    } finally {
      srv.close();
      await store.close();
    }
  });

  it('a body over the limit → 413 (the rest is not read, the connection closes); the next request is served', async () => {
    const store = new MemoryStore();
    const service = new SigningService({ store, vault: new SoftwareVault('a-long-enough-keystore-secret'), audit: new AuditLog(store), approver: new ScriptedApprover(), oauth2Issuer: 'x' });
    const { app } = createSigningApp({ service, store, tokens: fixedTokens, log: pino({ level: 'silent' }) });
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    try {
      // credentials/list takes at most 1 MiB
      const big = JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) });
      const r = await fetch(`${url}/csc/v2/credentials/list`, { method: 'POST', headers: { authorization: 'Bearer 001090000001', 'content-type': 'application/json' }, body: big }).catch((e: Error) => e);
      if (r instanceof Error) assert.fail(`the 413 answer was not received: ${r.message}`);
      assert.equal(r.status, 413);
      assert.equal(((await r.json()) as { error: string }).error, 'invalid_request');
      const ok = await call(url, 'credentials/list', '001090000001', {});
      assert.equal(ok.status, 200);
      // signHash carries hashes only: 1 MiB at most too (only signDoc takes documents)
      const r2 = await fetch(`${url}/csc/v2/signatures/signHash`, { method: 'POST', headers: { authorization: 'Bearer 001090000001', 'content-type': 'application/json' }, body: big }).catch((e: Error) => e);
      if (r2 instanceof Error) assert.fail(`the 413 answer was not received: ${r2.message}`);
      assert.equal(r2.status, 413);
    } finally {
      srv.close();
      await store.close();
    }
  });

  it('signing calls over the rate limit are refused before their body is read', async () => {
    const store = new MemoryStore();
    const service = new SigningService({ store, vault: new SoftwareVault('a-long-enough-keystore-secret'), audit: new AuditLog(store), approver: new ScriptedApprover(), oauth2Issuer: 'x' });
    const { app } = createSigningApp({ service, store, tokens: fixedTokens, log: pino({ level: 'silent' }), limits: { signPerSecond: 1 } });
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    try {
      // a body that is never sent: the 429 must come without it
      const { connect } = await import('node:net');
      const ask = () => new Promise<string>((resolve) => {
        const sock = connect(Number(new URL(url).port), '127.0.0.1', () => {
          sock.write('POST /csc/v2/signatures/signDoc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer 001090000009\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{');
        });
        let got = '';
        sock.on('data', (c) => { got += String(c); if (/\r\n\r\n/.test(got)) { sock.destroy(); resolve(got.split('\r\n')[0]!); } });
        sock.on('error', () => resolve(got));
        setTimeout(() => { sock.destroy(); resolve(got.split('\r\n')[0] ?? ''); }, 1500);
      });
      // two calls in the same second: the first is within the limit and waits for its body (cut off after 1.5 s),
      // the second is over it
      const first = ask();
      await new Promise((r) => setTimeout(r, 100));
      const second = await ask();
      assert.match(second, / 429 /, 'over the limit: 429 at once, without the 50 MB body');
      assert.equal(await first, '', 'the first call waits for its body');
    } finally {
      srv.close();
      await store.close();
    }
  });

  it('a signature made and audited is returned even if its idempotency record cannot be written', async () => {
    const st = await startStack();
    try {
      const alice = await st.citizen(1);
      const token = await st.tokenFor(alice);
      const cred = await st.enrol(alice.id, { type: 'RSA', bits: 2048 });
      const x = h();
      const a = await st.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [x], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '246810' }] });
      const body = { credentialID: cred.id, SAD: a.body.SAD, hashes: [x], signAlgo: RSA, hashAlgorithmOID: SHA256 };
      const store = st.signing.store as unknown as { idemFinish: (...a: unknown[]) => Promise<void> };
      const orig = store.idemFinish.bind(store);
      let once = true;
      store.idemFinish = async (...args) => { if (once) { once = false; throw new StoreUnavailable(); } return orig(...args); };
      const first = await st.call('signatures/signHash', token, body, { 'Idempotency-Key': 'k-1' });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((first.body.signatures as string[]).length, 1);
    } finally { await st.close(); }
  });

  it('a client that goes away mid-request is not a server error: nothing logged at error level, the next request is served', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    // the token check takes a while (an introspection call): the whole request has arrived, the client is gone
    // by the time its body is read
    const slowTokens = { async verify(t: string) { await new Promise((r) => setTimeout(r, 30)); return caller(t); } };
    const server = await createSigningServer({ vault: { keystoreSecret: 'a-long-enough-keystore-secret' }, tokens: slowTokens, approver: new ScriptedApprover(), oauth2Issuer: 'http://127.0.0.1:1', logger });
    try {
      const { port } = new URL(server.url);
      const { connect } = await import('node:net');
      const send = (body: string, declared: number) => new Promise<void>((resolve) => {
        const sock = connect(Number(port), '127.0.0.1', () => {
          sock.write(`POST /csc/v2/signatures/signHash HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer 001090000001\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${body}`);
          setImmediate(() => { sock.destroy(); resolve(); });
        });
        sock.on('error', () => resolve());
      });
      // the body cut short, and whole requests whose connection closes at once (before or while they are read)
      await send('{"credentialID":', 500);
      for (let i = 0; i < 20; i++) await send('{"credentialID":"x","SAD":"y","hashes":["z"]}', 45);
      await new Promise((r) => setTimeout(r, 200));
      const errors = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
      assert.deepEqual(errors, [], 'no error-level log line for clients that went away');
      const r = await call(server.url, 'credentials/list', '001090000001', {});
      assert.equal(r.status, 200);
    } finally { await server.close(); }
  });

  it('store unreachable → 503 temporarily_unavailable with Retry-After, never a crash', async () => {
    const down = new Proxy(new MemoryStore(), { get(t, p) { const v = Reflect.get(t, p); return typeof v === 'function' ? async () => { throw new StoreUnavailable(); } : v; } }) as SigningStore;
    const service = new SigningService({ store: down, vault: new SoftwareVault('a-long-enough-keystore-secret'), audit: new AuditLog(down), approver: new ScriptedApprover(), oauth2Issuer: 'x' });
    const { app } = createSigningApp({ service, store: down, tokens: fixedTokens, log: pino({ level: 'silent' }) });
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    try {
      const r = await call(url, 'signatures/signHash', '001090000001', { credentialID: 'x' });
      assert.equal(r.status, 503);
      assert.equal(r.body.error, 'temporarily_unavailable');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      const hz = await fetch(`${url}/healthz`);
      assert.equal(hz.status, 503);
    } finally { srv.close(); }
  });

  it('software keystore: keys only encrypted, RSA signs, EC refused, a wrong secret cannot open the key', async () => {
    const store = new MemoryStore();
    const vault = new SoftwareVault('the-right-keystore-secret-123');
    const { issuer } = await testIssuer();
    const rec = await enrolCredential({ store, vault, issuer, pinHashing: FAST_PIN_HASH }, { owner: '001090000001', kind: 'citizen', subject: { commonName: 'A' }, pin: '1234', key: { type: 'RSA', bits: 2048 } });
    assert.match(rec.key.ref, /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.doesNotMatch(JSON.stringify(rec), /BEGIN PRIVATE KEY|BEGIN RSA PRIVATE KEY/);
    assert.match(rec.pinHash, /^\$argon2id\$/);
    const data = randomBytes(40);
    const b = await vault.backend(rec.key, rec.certificates.map((c) => Buffer.from(c, 'base64')));
    const sig = await b.sign({ digest: createHash('sha256').update(data).digest() }, { scheme: 'RSA-PKCS1', hash: 'SHA-256' });
    assert.ok(nodeVerify('sha256', data, { key: new X509Certificate(Buffer.from(rec.certificates[0]!, 'base64')).publicKey, padding: constants.RSA_PKCS1_PADDING }, sig));
    await assert.rejects(enrolCredential({ store, vault, issuer, pinHashing: FAST_PIN_HASH }, { owner: '001090000001', kind: 'citizen', subject: { commonName: 'A' }, pin: '1234', key: { type: 'EC' } }), /RSA keys only/);
    await assert.rejects(new SoftwareVault('another-secret-of-enough-length').backend(rec.key, [Buffer.from(rec.certificates[0]!, 'base64')]), /cannot be opened/);
    assert.throws(() => new SoftwareVault('short'), /16 characters/);
    await assert.rejects(enrolCredential({ store, vault, issuer, pinHashing: FAST_PIN_HASH }, { owner: '1', kind: 'citizen', subject: { commonName: 'A' }, pin: '12', key: { type: 'RSA' } }), /4 to 12 digits/);
    await store.close();
  });
});

describe('signing service: the agency seal is used by its officers', function () {
  this.timeout(120_000);
  let s: Stack;
  before(async () => { s = await startStack(); });
  after(async () => { await s?.close(); });

  it('officers list and use the seal; a citizen who is not an officer cannot see or use it', async () => {
    const officer = await s.citizen(1);
    const other = await s.citizen(1);
    const [ot, xt] = [await s.tokenFor(officer), await s.tokenFor(other)];
    const seal = await s.enrol('agency:so-tu-phap-ha-noi', { type: 'RSA', bits: 2048 }, '778899', { kind: 'seal', users: [officer.id] });
    const list = await s.call('credentials/list', ot, {});
    assert.deepEqual(list.body.credentialIDs, [seal.id]);
    assert.deepEqual((await s.call('credentials/list', xt, {})).body.credentialIDs, []);
    const hash = h();
    const auth = await s.call('credentials/authorize', ot, { credentialID: seal.id, numSignatures: 1, hashes: [hash], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '778899' }] });
    assert.equal(auth.status, 200, JSON.stringify(auth.body));
    assert.equal((s.approver as ScriptedApprover).seen.at(-1)!.subject, officer.id, 'the officer approves on the officer\'s phone');
    const sig = await s.call('signatures/signHash', ot, { credentialID: seal.id, SAD: auth.body.SAD, hashes: [hash], signAlgo: RSA, hashAlgorithmOID: SHA256 });
    assert.equal(sig.status, 200);
    const denied = await s.call('credentials/authorize', xt, { credentialID: seal.id, numSignatures: 1, hashes: [h()], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '778899' }] });
    assert.equal(denied.status, 400);
    assert.match(String(denied.body.error_description), /credentialID/);
  });
});
