/**
 * Redis {@link AuditLog}. Keys share the hash tag `{audit}` (one slot, so the append script may touch them all):
 *   P{audit}:log         list of records (JSON), oldest first
 *   P{audit}:head        hash seq, hash (the chain's head)
 *   P{audit}:acct:<id>   list of seq numbers of that account's records
 * Append = read head, build the record, then a compare-and-set Lua script that pushes it only if the head did not
 * move; on conflict, retry. The chain stays linear with any number of writers.
 */
import type { AuditEvent, AuditLog, AuditRecord } from '../contracts.js';
import { IdpError } from '../storage/errors.js';
import { LuaScript, type RedisClient } from '../storage/redis-connect.js';
import { GENESIS_HASH, nextRecord, verifyRecords } from './chain.js';

/** KEYS: log, head, acct list ('' → none). ARGV: expected seq, record JSON, new seq, new hash. */
const APPEND = new LuaScript(`
local cur = redis.call('HGET', KEYS[2], 'seq') or '0'
if cur ~= ARGV[1] then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'seq', ARGV[3], 'hash', ARGV[4])
if #KEYS >= 3 then redis.call('RPUSH', KEYS[3], ARGV[3]) end
return 1
`);

export class RedisAuditLog implements AuditLog {
  private readonly logKey: string;
  private readonly headKey: string;

  constructor(private readonly client: RedisClient, private readonly prefix: string, private readonly now: () => number = Date.now) {
    this.logKey = `${prefix}{audit}:log`;
    this.headKey = `${prefix}{audit}:head`;
  }

  private acctKey(id: string): string {
    return `${this.prefix}{audit}:acct:${id}`;
  }

  async append(event: AuditEvent): Promise<AuditRecord> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const [seqS, hash] = await this.client.hmget(this.headKey, 'seq', 'hash');
      const seq = Number(seqS ?? '0');
      const rec = nextRecord(event, seq + 1, hash ?? GENESIS_HASH, new Date(this.now()).toISOString());
      const keys = [this.logKey, this.headKey];
      if (rec.accountId) keys.push(this.acctKey(rec.accountId));
      const ok = await APPEND.run(this.client, keys, [String(seq), JSON.stringify(rec), String(rec.seq), rec.hash]);
      if (ok === 1) return rec;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, attempt + 1)));
    }
    throw new IdpError('AUDIT_CONFLICT', 'audit append kept losing the race for the chain head after 200 attempts');
  }

  private parse(s: string): AuditRecord {
    try {
      return JSON.parse(s) as AuditRecord;
    } catch (err) {
      throw new IdpError('IDP_STORAGE_CORRUPT', 'audit record is not JSON', { cause: err });
    }
  }

  async list(opts: { accountId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    if (opts.accountId === undefined) {
      const raw = await this.client.lrange(this.logKey, limit ? -limit : 0, -1);
      return raw.map((s) => this.parse(s));
    }
    const seqs = await this.client.lrange(this.acctKey(opts.accountId), limit ? -limit : 0, -1);
    const raw = await Promise.all(seqs.map((s) => this.client.lindex(this.logKey, Number(s) - 1)));
    return raw.filter((s): s is string => typeof s === 'string').map((s) => this.parse(s)).filter((r) => r.accountId === opts.accountId);
  }

  async verifyChain(): Promise<boolean> {
    const [seqS, hash] = await this.client.hmget(this.headKey, 'seq', 'hash');
    const records: AuditRecord[] = [];
    const total = await this.client.llen(this.logKey);
    for (let i = 0; i < total; i += 1000) {
      const chunk = await this.client.lrange(this.logKey, i, i + 999);
      for (const s of chunk) {
        try { records.push(JSON.parse(s) as AuditRecord); } catch { return false; }
      }
    }
    return verifyRecords(records, { seq: Number(seqS ?? '0'), hash: hash ?? GENESIS_HASH });
  }
}
