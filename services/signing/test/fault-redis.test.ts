/**
 * Fault test: 200 concurrent signHash requests (each with an Idempotency-Key) while Redis is killed and
 * restarted (same port, append-only file) in the middle. Every request either succeeds once or gets a clear
 * CSC error; retries after recovery never sign twice; the audit chain verifies; no signature was released
 * without its audit record; the service recovers by itself.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, pingRedis } from '@kyso/fixtures';
import { verifyAuditChain, type AuditEntry } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const ECDSA = '1.2.840.10045.4.3.2';

describe('signing service: Redis killed and restarted under 200 concurrent signHash requests', function () {
  this.timeout(180_000);
  let s: Stack;
  let port = 0;
  let child: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kyso-signing-aof-'));

  /** redis-server on a fixed port with an fsync-always append-only file, so a restart keeps the data. */
  async function startServer(): Promise<void> {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
    child = c;
    let failed: Error | undefined;
    c.on('error', (e) => { failed = e; });
    for (let i = 0; i < 200; i++) {
      if (failed) throw new Error(`redis-server could not start: ${failed.message}`);
      if (await pingRedis(port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('redis-server did not answer');
  }
  async function killServer(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
  const exitHook = () => { try { child?.kill('SIGKILL'); } catch { /* gone */ } };

  before(async () => {
    process.on('exit', exitHook);
    port = await freePort();
    await startServer();
    s = await startStack({ redis: `redis://127.0.0.1:${port}`, limits: { signPerSecond: 100_000, perAddressPerSecond: 100_000, authorizePerMinute: 1000 } });
  });
  after(async () => {
    await s?.close();
    await killServer();
    process.off('exit', exitHook);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every request succeeds once or fails clearly; the chain verifies; every released signature is audited', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '975310');
    const docs = Array.from({ length: 200 }, () => randomBytes(32));
    const hashes = docs.map((d) => createHash('sha256').update(d).digest('base64'));
    const sads: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 50, hashes: hashes.slice(i * 50, i * 50 + 50), hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '975310' }] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      sads.push(r.body.SAD as string);
    }
    const keys = hashes.map(() => randomBytes(9).toString('base64url'));
    const body = (i: number) => ({ credentialID: cred.id, SAD: sads[Math.floor(i / 50)], hashes: [hashes[i]], hashAlgorithmOID: SHA256, signAlgo: ECDSA });
    let done = 0;
    let kick: () => void = () => {};
    const midway = new Promise<void>((r) => { kick = r; });
    const send = (i: number) => s.call('signatures/signHash', token, body(i), { 'idempotency-key': keys[i]! }).catch((e: Error) => ({ status: 0, body: { error: 'transport', error_description: e.message } as Record<string, unknown>, headers: new Headers() })).finally(() => { if (++done === 40) kick(); });

    const outage = (async () => {
      await midway; // some requests have been answered, the others are in flight
      await killServer();
      await new Promise((r) => setTimeout(r, 700));
      await startServer();
    })();
    // all 200 overlap; their starts are spread over ~300 ms so that the outage falls in the middle of the wave
    const first = await Promise.all(docs.map((_, i) => new Promise((r) => setTimeout(r, i * 1.5)).then(() => send(i))));
    await outage;
    const statuses = new Map<number, number>();
    for (const r of first) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    // every answer is a success or a clear CSC error
    for (const r of first) {
      if (r.status === 200) continue;
      assert.ok([503, 409, 400].includes(r.status), `unexpected status ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.error_description, 'string');
      if (r.status === 503) assert.ok(r.headers.get('retry-after'), '503 carries Retry-After');
    }
    assert.ok((statuses.get(503) ?? 0) > 0, `the outage was seen by some requests: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(200) ?? 0) >= 40, `requests before the outage succeeded: ${JSON.stringify([...statuses])}`);

    // automatic recovery: health, then retries with the same idempotency keys
    for (let i = 0; i < 100; i++) {
      const h = await fetch(`${s.signing.url}/healthz`);
      if (h.status === 200) { assert.deepEqual(await h.json(), { status: 'ok' }); break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    const released = new Map<number, string>();
    const retryErrors = new Map<string, number>();
    first.forEach((r, i) => { if (r.status === 200) released.set(i, (r.body.signatures as string[])[0]!); });
    for (let i = 0; i < docs.length; i++) {
      if (released.has(i)) continue;
      let r = await send(i);
      for (let k = 0; k < 40 && r.status === 409; k++) { await new Promise((res) => setTimeout(res, 500)); r = await send(i); }
      if (r.status === 200) released.set(i, (r.body.signatures as string[])[0]!);
      else retryErrors.set(String(r.body.error_description), (retryErrors.get(String(r.body.error_description)) ?? 0) + 1);
      if (r.status !== 200) assert.equal(r.status, 400, `after recovery: ${r.status} ${JSON.stringify(r.body)}`); // hash used up by the interrupted attempt
    }
    // a replay of a success gives the same signature, never a new one
    const someDone = [...released.keys()][0]!;
    const again = await send(someDone);
    assert.equal(again.status, 200);
    assert.equal((again.body.signatures as string[])[0], released.get(someDone));

    const pub = new X509Certificate(Buffer.from(cred.certificates[0]!, 'base64')).publicKey;
    for (const [i, sig] of released) assert.ok(nodeVerify('sha256', docs[i]!, pub, Buffer.from(sig, 'base64')), `signature ${i} verifies`);

    const v = await verifyAuditChain((after) => s.signing.store.auditRead(after, 1000));
    assert.equal(v.ok, true, JSON.stringify(v.broken));
    const log = (await s.signing.store.auditRead(0, 100_000)).map((r) => JSON.parse(r.entry) as AuditEntry);
    const signedRecords = new Map<string, number>();
    for (const e of log.filter((x) => x.type === 'signature.created' && x.credentialId === cred.id)) for (const h of e.hashes ?? []) signedRecords.set(h, (signedRecords.get(h) ?? 0) + 1);
    for (const [i] of released) assert.equal(signedRecords.get(hashes[i]!), 1, `released signature ${i} has exactly one audit record`);
    for (const [h, n] of signedRecords) assert.equal(n, 1, `hash ${h} signed once`);
    console.log(`      first wave: ${JSON.stringify(Object.fromEntries(statuses))}; released after retries: ${released.size}/200; audit records: ${v.count}; retry refusals: ${JSON.stringify(Object.fromEntries(retryErrors))}`);
  });
});
