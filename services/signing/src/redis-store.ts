/**
 * The signing service's state in Redis — standalone, Sentinel-fronted or Redis Cluster (`redis+cluster://host:port,
 * host:port…`). Every multi-key operation names keys of one hash tag, so that it lands in one slot: a SAD's two
 * keys and the SAD that extendTransaction puts in its place share the transaction's tag (`{tx}` in
 * `sad:{tx}:…`), the audit stream and head share `{audit}`. Decisions are Lua scripts (atomic). While Redis is unreachable every call fails fast with
 * {@link StoreUnavailable} (no offline queue), which the HTTP layer answers with 503 + Retry-After; ioredis
 * reconnects by itself and the service recovers without a restart.
 */
import { Cluster, Redis } from 'ioredis';
import { StoreUnavailable } from './errors.js';
import { GENESIS, type ConsumeResult, type CredentialRecord, type IdempotencyState, type SadGrant, type SigningStore, type StoredAudit } from './store.js';

const P = 'kyso:signing:';
const AUDIT_STREAM = `${P}{audit}:stream`;
const AUDIT_HEAD = `${P}{audit}:head`;

const CONSUME = `
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp then return {'unknown'} end
if tonumber(exp) <= tonumber(ARGV[1]) then return {'expired'} end
local m = redis.call('HMGET', KEYS[1], 'sub', 'cred', 'alg', 'client')
if m[1] ~= ARGV[2] or m[4] ~= ARGV[5] then return {'subject'} end
if m[2] ~= ARGV[3] then return {'credential'} end
if m[3] ~= ARGV[4] then return {'algorithm'} end
local seen = {}
for i = 6, #ARGV do
  if seen[ARGV[i]] or redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then return {'hash', ARGV[i]} end
  seen[ARGV[i]] = true
end
for i = 6, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]) end
local left = redis.call('SCARD', KEYS[2])
if left == 0 then redis.call('DEL', KEYS[1]) end
return {'ok', tostring(left)}
`;

// KEYS: old meta, old set, new meta, new set (one hash tag: the transaction's)
const EXTEND = `
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp then return {'unknown'} end
if tonumber(exp) <= tonumber(ARGV[1]) then return {'expired'} end
local m = redis.call('HMGET', KEYS[1], 'sub', 'cred', 'alg', 'client')
if m[1] ~= ARGV[2] or m[4] ~= ARGV[6] then return {'subject'} end
if m[2] ~= ARGV[3] then return {'credential'} end
redis.call('HSET', KEYS[3], 'sub', m[1], 'cred', m[2], 'alg', m[3], 'client', m[4], 'exp', ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
redis.call('DEL', KEYS[1])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('PEXPIRE', KEYS[4], ARGV[5])
return {'ok', tostring(redis.call('SCARD', KEYS[4]))}
`;

const PIN_FAIL = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
`;

const IDEM_BEGIN = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], cjson.encode({fp = ARGV[1]}), 'PX', ARGV[2])
  return 'new'
end
return v
`;

const RATE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

// ARGV: expected seq, expected hash, then triples (seq, entry, hash)
const AUDIT_APPEND = `
local head = redis.call('GET', KEYS[2])
local want = ARGV[1] .. ' ' .. ARGV[2]
if (head or '0 ' .. string.rep('0', 64)) ~= want then return 0 end
local last
for i = 3, #ARGV, 3 do
  redis.call('XADD', KEYS[1], ARGV[i] .. '-1', 'seq', ARGV[i], 'entry', ARGV[i + 1], 'hash', ARGV[i + 2])
  last = ARGV[i] .. ' ' .. ARGV[i + 2]
end
redis.call('SET', KEYS[2], last)
return 1
`;

/**
 * A SAD id is `tag:digest` (see SigningService): the tag, the transaction's, is the hash tag of its keys; an id
 * without a tag is its own.
 */
function sadTag(id: string): string {
  const i = id.indexOf(':');
  return i > 0 ? id.slice(0, i) : id;
}
function sadKey(id: string): string {
  const i = id.indexOf(':');
  return i > 0 ? `${P}sad:{${id.slice(0, i)}}${id.slice(i)}` : `${P}sad:{${id}}`;
}

/**
 * A client for a Redis URL: `redis://…` / `rediss://…` (standalone, or a Sentinel-managed primary), or
 * `redis+cluster://host:port[,host:port…]` (Redis Cluster: the listed nodes are the seeds; commands are routed by
 * slot). Options apply to every node.
 */
export function connectRedis(url: string, options: Record<string, unknown> = {}): Redis | Cluster {
  const m = /^redis(s?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/.exec(url);
  if (!m) return new Redis(url, options);
  const [user, password] = m[2] ? m[2].split(':').map(decodeURIComponent) as [string, string | undefined] : [undefined, undefined];
  const nodes = m[3]!.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host: host!, port: Number(port || 6379) };
  });
  const { enableAutoPipelining, enableOfflineQueue, retryStrategy, lazyConnect, ...redisOptions } = options as Record<string, unknown> & { retryStrategy?: (n: number) => number };
  return new Cluster(nodes, {
    enableAutoPipelining: enableAutoPipelining as boolean | undefined, enableOfflineQueue: enableOfflineQueue as boolean | undefined,
    lazyConnect: lazyConnect as boolean | undefined, ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    redisOptions: { ...redisOptions, ...(m[1] ? { tls: {} } : {}), ...(user ? { username: user } : {}), ...(password ? { password } : {}) },
  });
}

/** The Redis implementation of {@link SigningStore}. */
export class RedisStore implements SigningStore {
  readonly kind = 'redis' as const;
  readonly redis: Redis | Cluster;
  #onError: (e: Error) => void;

  constructor(url: string, opts: { onError?: (e: Error) => void } = {}) {
    this.#onError = opts.onError ?? (() => {});
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(50 * times, 500),
      lazyConnect: false,
      // concurrent requests' commands share one write (many signHash calls in flight at once)
      enableAutoPipelining: true,
    };
    this.redis = connectRedis(url, options);
    // connection errors are expected while Redis is down; callers see StoreUnavailable
    this.redis.on('error', (e: Error) => this.#onError(e));
    this.redis.defineCommand('kysoConsume', { numberOfKeys: 2, lua: CONSUME });
    this.redis.defineCommand('kysoExtend', { numberOfKeys: 4, lua: EXTEND });
    this.redis.defineCommand('kysoPinFail', { numberOfKeys: 1, lua: PIN_FAIL });
    this.redis.defineCommand('kysoIdemBegin', { numberOfKeys: 1, lua: IDEM_BEGIN });
    this.redis.defineCommand('kysoRate', { numberOfKeys: 1, lua: RATE });
    this.redis.defineCommand('kysoAuditAppend', { numberOfKeys: 2, lua: AUDIT_APPEND });
  }

  /**
   * The hot path's commands (rate-limit hits, SAD consumption) of all the requests handled in one turn of the
   * event loop go out as one pipeline (one write, one read) instead of one write per request; each command is
   * still its own atomic script. On a cluster, ioredis's per-node auto-pipelining does this (a pipeline must stay
   * in one slot there).
   */
  #queue: { name: string; args: string[]; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  #flushScheduled = false;
  #batched<T>(r: Redis & Record<string, (...a: unknown[]) => Promise<unknown>>, name: string, args: string[]): Promise<T> {
    if (this.redis instanceof Cluster) return r[name]!(...args) as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ name, args, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushScheduled) { this.#flushScheduled = true; setImmediate(() => this.#flush()); }
    });
  }
  #flush(): void {
    this.#flushScheduled = false;
    const items = this.#queue.splice(0);
    if (!items.length) return;
    if (this.redis.status !== 'ready') { for (const it of items) it.reject(new StoreUnavailable()); return; }
    const p = this.redis.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const it of items) p[it.name]!(...it.args);
    p.exec().then((res) => {
      items.forEach((it, i) => {
        const [err, v] = res?.[i] ?? [new StoreUnavailable(), undefined];
        if (err) it.reject(err); else it.resolve(v);
      });
    }, (e: unknown) => { for (const it of items) it.reject(e); });
  }

  /** Waits until the first connection is ready (or fails). */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new StoreUnavailable()), timeoutMs);
      this.redis.once('ready', () => { clearTimeout(t); resolve(); });
    });
  }

  async #run<T>(f: (r: Redis & Record<string, (...a: unknown[]) => Promise<unknown>>) => Promise<T>): Promise<T> {
    // (a Cluster client has the same commands, routed by slot)
    if (this.redis.status !== 'ready') throw new StoreUnavailable();
    try {
      return await f(this.redis as never);
    } catch (e) {
      const msg = (e as Error).message ?? '';
      // a script error is a bug, not an outage: let it surface as such
      if (/^ERR .*script|WRONGTYPE|NOSCRIPT/i.test(msg)) throw e;
      throw new StoreUnavailable(e);
    }
  }

  async putCredential(c: CredentialRecord) {
    return this.#run(async (r) => {
      const ok = await r.set(`${P}cred:${c.id}`, JSON.stringify(c), 'NX');
      if (ok !== 'OK') return false;
      await r.sadd(`${P}owner:${c.owner}`, c.id);
      for (const u of c.users) await r.sadd(`${P}owner:${u}`, c.id);
      return true;
    });
  }
  async getCredential(id: string) {
    return this.#run(async (r) => {
      const v = await r.get(`${P}cred:${id}`);
      return v ? (JSON.parse(v) as CredentialRecord) : undefined;
    });
  }
  async listCredentials(subject: string) {
    return this.#run(async (r) => (await r.smembers(`${P}owner:${subject}`)).sort());
  }
  async putSad(id: string, g: SadGrant) {
    await this.#run(async (r) => {
      const ttl = Math.max(1, g.exp - Date.now() + 60_000);
      const meta = sadKey(id);
      await r.multi()
        .hset(meta, 'sub', g.subject, 'cred', g.credentialId, 'alg', g.hashAlgorithmOID, 'client', g.clientId, 'exp', String(g.exp))
        .sadd(`${meta}:h`, ...g.hashes)
        .pexpire(meta, ttl).pexpire(`${meta}:h`, ttl)
        .exec();
    });
  }
  static #result(v: string[]): ConsumeResult {
    if (v[0] === 'ok') return { ok: true, remaining: Number(v[1]) };
    return { ok: false, reason: v[0] as 'unknown', ...(v[1] ? { hash: v[1] } : {}) };
  }
  async consumeSad(id: string, caller: { subject: string; clientId: string }, credentialId: string, alg: string, hashes: string[], now: number) {
    return this.#run(async (r) => {
      const meta = sadKey(id);
      return RedisStore.#result(await this.#batched<string[]>(r, 'kysoConsume', [meta, `${meta}:h`, String(now), caller.subject, credentialId, alg, caller.clientId, ...hashes]));
    });
  }
  async extendSad(oldId: string, newId: string, caller: { subject: string; clientId: string }, credentialId: string, exp: number, now: number) {
    return this.#run(async (r) => {
      const o = sadKey(oldId);
      const n = sadKey(newId);
      if (sadTag(oldId) !== sadTag(newId)) throw new Error('extendSad: the new SAD must keep the transaction tag of the old one');
      return RedisStore.#result(await r.kysoExtend!(o, `${o}:h`, n, `${n}:h`, String(now), caller.subject, credentialId, String(exp), String(exp - now + 60_000), caller.clientId) as string[]);
    });
  }
  async pinFailure(credentialId: string, lockMs: number) {
    return this.#run(async (r) => Number(await r.kysoPinFail!(`${P}pin:${credentialId}`, String(lockMs))));
  }
  async pinFailures(credentialId: string) {
    return this.#run(async (r) => Number((await r.get(`${P}pin:${credentialId}`)) ?? 0));
  }
  async pinReset(credentialId: string) { await this.#run((r) => r.del(`${P}pin:${credentialId}`)); }
  async idemBegin(key: string, fp: string, ttlMs: number): Promise<IdempotencyState> {
    return this.#run(async (r) => {
      const v = await r.kysoIdemBegin!(`${P}idem:${key}`, fp, String(ttlMs)) as string;
      if (v === 'new') return { state: 'new' };
      const rec = JSON.parse(v) as { fp: string; status?: number; body?: string };
      if (rec.fp !== fp) return { state: 'conflict' };
      if (rec.status === undefined) return { state: 'pending' };
      return { state: 'done', status: rec.status, body: rec.body! };
    });
  }
  async idemFinish(key: string, fp: string, status: number, body: string, ttlMs: number) {
    await this.#run((r) => r.set(`${P}idem:${key}`, JSON.stringify({ fp, status, body }), 'PX', ttlMs));
  }
  async idemAbort(key: string) { await this.#run((r) => r.del(`${P}idem:${key}`)); }
  async rateHit(key: string, windowMs: number) {
    return this.#run(async (r) => Number(await this.#batched<number>(r, 'kysoRate', [`${P}rate:${key}:${Math.floor(Date.now() / windowMs)}`, String(windowMs)])));
  }
  async auditAppend(expected: { seq: number; hash: string }, records: StoredAudit[]) {
    return this.#run(async (r) => {
      const args: string[] = [String(expected.seq), expected.hash];
      for (const rec of records) args.push(String(rec.seq), rec.entry, rec.hash);
      return Number(await r.kysoAuditAppend!(AUDIT_STREAM, AUDIT_HEAD, ...args)) === 1;
    });
  }
  async auditHead() {
    return this.#run(async (r) => {
      const v = await r.get(AUDIT_HEAD);
      if (!v) return { ...GENESIS };
      const [seq, hash] = v.split(' ');
      return { seq: Number(seq), hash: hash! };
    });
  }
  async auditRead(afterSeq: number, count: number) {
    return this.#run(async (r) => readAuditStream(r, afterSeq, count));
  }
  async putValue(key: string, value: string, ttlMs: number, onlyIfAbsent = false) {
    return this.#run(async (r) => (onlyIfAbsent
      ? await r.set(`${P}val:${key}`, value, 'PX', Math.max(1, Math.round(ttlMs)), 'NX')
      : await r.set(`${P}val:${key}`, value, 'PX', Math.max(1, Math.round(ttlMs)))) === 'OK');
  }
  async getValue(key: string) {
    return this.#run(async (r) => (await r.get(`${P}val:${key}`)) ?? undefined);
  }
  async ping() {
    try { return (await this.redis.ping()) === 'PONG'; } catch { return false; }
  }
  async close() { this.redis.disconnect(); }
}

/** Reads audit records from a Redis stream (also used by `kyso audit verify`). */
export async function readAuditStream(r: Redis | Cluster, afterSeq: number, count: number, stream = AUDIT_STREAM): Promise<StoredAudit[]> {
  const rows = await r.xrange(stream, `(${afterSeq}-1`, '+', 'COUNT', count);
  return rows.map(([, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return { seq: Number(f.seq), entry: f.entry ?? '', hash: f.hash ?? '' };
  });
}
export const AUDIT_STREAM_KEY = AUDIT_STREAM;
export const AUDIT_HEAD_KEY = AUDIT_HEAD;
