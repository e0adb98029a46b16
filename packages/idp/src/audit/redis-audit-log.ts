/**
 * Redis {@link AuditLog}. Keys share the hash tag `{audit}` (one slot, so the append script may touch them all):
 *   P{audit}:log         list of records (JSON), oldest first
 *   P{audit}:head        hash seq, hash (the chain's head)
 *   P{audit}:acct:<id>   list of seq numbers of that account's records
 * Appends are queued per process and written in batches: read the head, chain the batch locally (SHA-256 is not
 * available in Redis Lua), then one compare-and-set script pushes the batch only if the head did not move; when
 * another process won the race, re-chain and retry. The chain stays linear with any number of writers.
 */
import type { AuditEvent, AuditLog, AuditRecord } from '../contracts.js';
import { IdpError } from '../storage/errors.js';
import { LuaScript, type RedisClient } from '../storage/redis-connect.js';
import { ChainVerifier, GENESIS_HASH, nextRecord, sanitiseEvent } from './chain.js';

/**
 * KEYS: log, head, account lists... ARGV: expected seq, new seq, new hash, then per record: JSON, index of its
 * account list in KEYS (0 = none).
 */
const APPEND = new LuaScript(`
local cur = redis.call('HGET', KEYS[2], 'seq') or '0'
if cur ~= ARGV[1] then return 0 end
local seq = tonumber(ARGV[1])
for i = 4, #ARGV, 2 do
  seq = seq + 1
  redis.call('RPUSH', KEYS[1], ARGV[i])
  local k = tonumber(ARGV[i + 1])
  if k > 0 then redis.call('RPUSH', KEYS[k], seq) end
end
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'hash', ARGV[3])
return 1
`);

/** Largest batch written by one script call. */
const MAX_BATCH = 256;

interface Pending {
  event: AuditEvent;
  resolve: (r: AuditRecord) => void;
  reject: (e: unknown) => void;
}

export class RedisAuditLog implements AuditLog {
  private readonly logKey: string;
  private readonly headKey: string;
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly client: RedisClient, private readonly prefix: string, private readonly now: () => number = Date.now) {
    this.logKey = `${prefix}{audit}:log`;
    this.headKey = `${prefix}{audit}:head`;
  }

  private acctKey(id: string): string {
    return `${this.prefix}{audit}:acct:${id}`;
  }

  append(event: AuditEvent): Promise<AuditRecord> {
    let clean: AuditEvent;
    try {
      clean = sanitiseEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ event: clean, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const records = await this.writeBatch(batch.map((p) => p.event));
          batch.forEach((p, i) => p.resolve(records[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeBatch(events: AuditEvent[]): Promise<AuditRecord[]> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const [seqS, headHash] = await this.client.hmget(this.headKey, 'seq', 'hash');
      const startSeq = Number(seqS ?? '0');
      let prev = headHash ?? GENESIS_HASH;
      const at = new Date(this.now()).toISOString();
      const keys = [this.logKey, this.headKey];
      const keyIndex = new Map<string, number>();
      const args: string[] = [];
      const records = events.map((e, i) => {
        const rec = nextRecord(e, startSeq + i + 1, prev, at);
        prev = rec.hash;
        let k = 0;
        if (rec.accountId !== undefined) {
          const ak = this.acctKey(rec.accountId);
          k = keyIndex.get(ak) ?? 0;
          if (!k) { keys.push(ak); k = keys.length; keyIndex.set(ak, k); }
        }
        args.push(JSON.stringify(rec), String(k));
        return rec;
      });
      const last = records[records.length - 1]!;
      const ok = await APPEND.run(this.client, keys, [String(startSeq), String(last.seq), last.hash, ...args]);
      if (ok === 1) return records;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * (attempt + 1))));
    }
    throw new IdpError('AUDIT_CONFLICT', 'audit append kept losing the race for the chain head after 100 attempts');
  }

  /** The chain's head (seq and hash of the newest record) — export it to anchor the log externally. */
  async currentHead(): Promise<{ seq: number; hash: string }> {
    const [seqS, hash] = await this.client.hmget(this.headKey, 'seq', 'hash');
    return { seq: Number(seqS ?? '0'), hash: hash ?? GENESIS_HASH };
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

  /**
   * Streams the list in chunks of 1000 (constant memory) up to the head read at the start (records appended
   * meanwhile are left for the next check), then compares the end with that head. With `anchor` (a head exported
   * earlier and kept elsewhere) that record must be unchanged too.
   */
  async verifyChain(anchor?: { seq: number; hash: string }): Promise<boolean> {
    const [seqS, hash] = await this.client.hmget(this.headKey, 'seq', 'hash');
    const head = { seq: Number(seqS ?? '0'), hash: hash ?? GENESIS_HASH };
    if (anchor) {
      // an externally kept head must still be in the chain: detects a rewrite with recomputed hashes
      if (anchor.seq < 1 || anchor.seq > head.seq) return false;
      const at = await this.client.lindex(this.logKey, anchor.seq - 1);
      try { if (!at || (JSON.parse(at) as AuditRecord).hash !== anchor.hash) return false; } catch { return false; }
    }
    const v = new ChainVerifier();
    for (let i = 0; i < head.seq; i += 1000) {
      const chunk = await this.client.lrange(this.logKey, i, Math.min(i + 999, head.seq - 1));
      for (const s of chunk) {
        let r: AuditRecord;
        try { r = JSON.parse(s) as AuditRecord; } catch { return false; }
        if (!v.push(r)) return false;
      }
      if (chunk.length < Math.min(1000, head.seq - i)) return false; // records removed
    }
    // the list must not hold more than the head says, unless appends raced this check (then the head moved)
    if ((await this.client.llen(this.logKey)) > head.seq) {
      const [seqNow] = await this.client.hmget(this.headKey, 'seq');
      if (Number(seqNow ?? '0') === head.seq) return false;
    }
    return v.end(head);
  }
}
