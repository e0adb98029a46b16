/**
 * `kyso audit verify`: an intact chain in Redis passes; a removed record, an altered entry (export edited), a
 * forged hash and a truncated tail are each named as the first broken link. Also the chain under concurrent
 * appenders (two processes' AuditLog objects on one Redis).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { AUDIT_STREAM_KEY, AuditLog, MemoryStore, RedisStore, verifyAuditChain } from '../src/index.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const KYSO = join(ROOT, 'packages/cli/bin/kyso.mjs');
function kyso(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KYSO, ...args], { cwd: ROOT }, (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
  });
}

describe('kyso audit verify (hash-chained audit log)', function () {
  this.timeout(120_000);
  let redis: RedisInstance;
  let store: RedisStore;
  const dir = mkdtempSync(join(tmpdir(), 'kyso-audit-'));
  before(async () => {
    redis = await startRedis();
    store = new RedisStore(redis.url);
    await store.ready();
  });
  after(async () => {
    await store?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two appenders on one Redis build one chain; the CLI says OK with the count', async () => {
    const other = new RedisStore(redis.url);
    await other.ready();
    const a = new AuditLog(store); const b = new AuditLog(other);
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).append({ type: 'signature.created', subject: '001090000001', service: 'portal', credentialId: 'c1', hashes: [`h${i}`], result: 'ok' })));
    await other.close();
    const v = await verifyAuditChain((after) => store.auditRead(after, 7));
    assert.equal(v.ok, true, JSON.stringify(v.broken));
    assert.equal(v.count, 60);
    const r = await kyso(['audit', 'verify', '--redis', redis.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /audit chain OK: 60 records/);
    const j = await kyso(['audit', 'verify', '--redis', redis.url, '--json']);
    assert.equal(JSON.parse(j.stdout).count, 60);
  });

  it('an edited export is caught at the edited record; a forged hash too', async () => {
    const exp = await kyso(['audit', 'export', '--redis', redis.url]);
    assert.equal(exp.code, 0, exp.stderr);
    const lines = exp.stdout.trim().split('\n');
    assert.equal(lines.length, 60);
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, exp.stdout);
    assert.equal((await kyso(['audit', 'verify', '--file', file])).code, 0);
    const edited = lines.map((l, i) => (i === 22 ? l.replace('\\"result\\":\\"ok\\"', '\\"result\\":\\"refused\\"') : l));
    assert.notEqual(edited[22], lines[22]);
    writeFileSync(file, edited.join('\n') + '\n');
    let r = await kyso(['audit', 'verify', '--file', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BROKEN at record 23: hash does not match/);
    // recomputing that record's hash does not help: the next record names the old one
    const rec = JSON.parse(edited[22]!) as { seq: number; entry: string; hash: string };
    const prev = (JSON.parse(lines[21]!) as { hash: string }).hash;
    const { chainHash } = await import('../src/index.js');
    rec.hash = chainHash(prev, rec.entry);
    edited[22] = JSON.stringify(rec);
    writeFileSync(file, edited.join('\n') + '\n');
    r = await kyso(['audit', 'verify', '--file', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BROKEN at record 24: entry names previous hash/);
    writeFileSync(file, 'not json\n');
    r = await kyso(['audit', 'verify', '--file', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a JSON line/);
  });

  it('a record removed from the stream, or the tail cut off, is named', async () => {
    const rows = await store.redis.xrange(AUDIT_STREAM_KEY, '-', '+');
    await store.redis.xdel(AUDIT_STREAM_KEY, rows[59]![0]);
    let r = await kyso(['audit', 'verify', '--redis', redis.url]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BROKEN at record 60: .*records were removed/);
    await store.redis.xdel(AUDIT_STREAM_KEY, rows[9]![0]);
    r = await kyso(['audit', 'verify', '--redis', redis.url]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BROKEN at record 10: record 10 is missing/);
    r = await kyso(['audit', 'verify']);
    assert.equal(r.code, 2, 'no source given is a usage error');
  });

  it('the memory store chain verifies and a tampered entry is found', async () => {
    const m = new MemoryStore();
    const log = new AuditLog(m);
    for (let i = 0; i < 5; i++) await log.append({ type: 'authorize.approved', subject: 's', result: 'ok' });
    assert.equal((await verifyAuditChain((a) => m.auditRead(a, 2))).ok, true);
    m.auditRecords()[2]!.entry = m.auditRecords()[2]!.entry.replace('"s"', '"x"');
    const v = await verifyAuditChain((a) => m.auditRead(a, 2));
    assert.deepEqual(v.broken?.seq, 3);
    await m.close();
  });
});
