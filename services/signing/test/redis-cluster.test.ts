/**
 * The signing service on a Redis Cluster (three masters: redis-server --cluster-enabled joined by
 * redis-cli --cluster create, from the test fixtures): every multi-key operation stays within one slot — SAD consumption,
 * extendTransaction (the fresh SAD keeps the transaction's hash tag), the audit append — so authorize, extend,
 * signHash (once per hash), idempotent retries, PIN counting and the audit chain all work across the nodes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { startRedisCluster, type RedisClusterInstance } from '@kyso/fixtures';
import { RedisStore, verifyAuditChain } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const ECDSA = '1.2.840.10045.4.3.2';

describe('signing service: Redis Cluster (3 masters)', function () {
  this.timeout(180_000);
  let cluster: RedisClusterInstance;
  const ports: number[] = [];
  let s: Stack;

  before(async () => {
    cluster = await startRedisCluster(3);
    ports.push(...cluster.nodes.map((n) => n.port));
    // two seeds are enough: the client learns the slots of all three
    s = await startStack({ redis: `redis+cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}` });
  });
  after(async () => {
    await s?.close();
    await cluster?.stop();
  });

  it('the store is a cluster client spread over the three masters', async () => {
    const store = s.signing.store as RedisStore;
    assert.equal(store.kind, 'redis');
    assert.ok(store.redis instanceof Cluster);
    assert.equal(store.redis.nodes('master').length, 3);
  });

  it('authorize, extendTransaction, signHash once per hash, idempotent retry, PIN lock and a verifiable audit chain, over many SADs (many slots)', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '246810');
    const slots = new Set<number>();
    for (let n = 0; n < 8; n++) {
      const hashes = [0, 1, 2].map(() => createHash('sha256').update(randomBytes(8)).digest('base64'));
      const auth = await s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 3, hashes, hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '246810' }] });
      assert.equal(auth.status, 200, JSON.stringify(auth.body));
      const sad = String(auth.body.SAD);
      slots.add(Number(execFileSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'keyslot', `{${sad.split('.')[0]}}`], { encoding: 'utf8' }).trim()));
      const sign = (SAD: string, h: string, headers: Record<string, string> = {}) => s.call('signatures/signHash', token, { credentialID: cred.id, SAD, hashes: [h], signAlgo: ECDSA }, headers);
      assert.equal((await sign(sad, hashes[0]!)).status, 200);
      assert.equal((await sign(sad, hashes[0]!)).status, 400, 'a hash signs once');
      // extendTransaction: a fresh SAD for the two hashes left (same slot as the old one); the old SAD is retired
      const ext = await s.call('credentials/extendTransaction', token, { credentialID: cred.id, SAD: sad });
      assert.equal(ext.status, 200, JSON.stringify(ext.body));
      const fresh = String(ext.body.SAD);
      assert.notEqual(fresh, sad);
      assert.equal((await sign(sad, hashes[1]!)).status, 400, 'the old SAD is retired');
      const first = await sign(fresh, hashes[1]!, { 'idempotency-key': `k-${n}` });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const again = await sign(fresh, hashes[1]!, { 'idempotency-key': `k-${n}` });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body.signatures, first.body.signatures);
      assert.equal((await sign(fresh, hashes[2]!)).status, 200);
      assert.equal((await sign(fresh, hashes[2]!)).status, 400);
    }
    assert.ok(slots.size > 1, 'the SADs are spread over several slots');
    for (let i = 0; i < 5; i++) await s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [createHash('sha256').update('x').digest('base64')], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '000000' }] });
    const locked = await s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 1, hashes: [createHash('sha256').update('x').digest('base64')], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '246810' }] });
    assert.equal(locked.status, 403);
    const v = await verifyAuditChain((after) => s.signing.store.auditRead(after, 100));
    assert.equal(v.ok, true, JSON.stringify(v.broken));
    assert.ok(v.count >= 8 * 6, `audit records: ${v.count}`);
  });

  it('50 concurrent signHash calls on one SAD: each hash signed exactly once, each with its audit record', async () => {
    const c = await s.citizen(1);
    const token = await s.tokenFor(c);
    const cred = await s.enrol(c.id, { type: 'EC', curve: 'P-256' }, '135790');
    const hashes = Array.from({ length: 25 }, () => createHash('sha256').update(randomBytes(8)).digest('base64'));
    const auth = await s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: 25, hashes, hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '135790' }] });
    assert.equal(auth.status, 200);
    // every hash asked twice at once
    const results = await Promise.all([...hashes, ...hashes].map((h) => s.call('signatures/signHash', token, { credentialID: cred.id, SAD: auth.body.SAD, hashes: [h], signAlgo: ECDSA })));
    const ok = results.filter((r) => r.status === 200).length;
    assert.equal(ok, 25, 'each hash signed exactly once');
    assert.equal(results.filter((r) => r.status === 400).length, 25);
    const v = await verifyAuditChain((after) => s.signing.store.auditRead(after, 500));
    assert.equal(v.ok, true);
    const records: string[] = [];
    for (let after = 0; ; ) { const page = await s.signing.store.auditRead(after, 500); if (!page.length) break; records.push(...page.map((r) => r.entry)); after = page[page.length - 1]!.seq; }
    const signed = records.map((e) => JSON.parse(e) as { type: string; credentialId?: string; hashes?: string[] }).filter((e) => e.type === 'signature.created' && e.credentialId === cred.id).flatMap((e) => e.hashes ?? []);
    assert.deepEqual([...signed].sort(), [...hashes].sort());
  });
});
