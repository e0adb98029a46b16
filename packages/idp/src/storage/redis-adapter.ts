/**
 * Redis oidc-provider adapter (ioredis; standalone, Sentinel or Cluster).
 *
 * Layout (P = key prefix):
 *   P oidc:{Model:id}        hash  p = payload JSON, c = consumed (epoch s)   TTL = expiresIn
 *   P oidc:{tok:id}          the same, for access, client-credentials and refresh tokens (one key space: the
 *                            stored `kind` tells them apart; a find under another model answers undefined)
 *   P oidc:uid:{uid}         string → Session id                                TTL = expiresIn
 *   P oidc:uc:{userCode}     string → DeviceCode id                             TTL = expiresIn
 *   P oidc:grant:{grantId}   set of object keys of the grant                     TTL = longest member
 * Every command touches one key (hash tags keep each record in one slot), so it runs unchanged on Cluster.
 * `consume` is one Lua script on the record's key: EXISTS + HSETNX, hence exactly one winner.
 *
 * Token introspection looks a value up as an access token, a client-credentials token and a refresh token at
 * once. The three tokens share one key space (their ids are 256-bit random values), and finds of one key issued
 * in the same synchronous run are served by one HMGET (each caller still gets its own parsed copy): one round
 * trip instead of three. Only finds started together share a read, so none sees a value older than its start.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { GRANTABLE_MODELS, epochSeconds } from './grantable.js';
import { IdpError } from './errors.js';
import type { AdapterOptions, VersionedUpsert } from './memory-adapter.js';
import { Cluster } from 'ioredis';
import { LuaScript, type RedisClient } from './redis-connect.js';
import type { RecentRecords } from './recent-records.js';

const CONSUME = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], 'c', ARGV[1]) == 1 then return 1 end
return redis.call('HGET', KEYS[1], 'p') or ''
`);

/** Adds a member to a grant index and extends its TTL to cover the member (0 = no expiry). */
const GRANT_ADD = new LuaScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl == 0 then redis.call('PERSIST', KEYS[1]) return 1 end
local cur = redis.call('PTTL', KEYS[1])
if cur == -1 and redis.call('SCARD', KEYS[1]) > 1 then return 1 end
if cur < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);

/** Lua shared by WRITE and WRITE_WITH_GRANT: writes KEYS[1] keeping its consumed mark, sets `ttl`. */
const RECORD_WRITE_LUA = `
local c = redis.call('HGET', KEYS[1], 'c')
if ARGV[2] ~= '' and not c then c = ARGV[2] end
redis.call('DEL', KEYS[1])
if c then
  redis.call('HSET', KEYS[1], 'p', ARGV[1], 'c', c)
else
  redis.call('HSET', KEYS[1], 'p', ARGV[1])
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
`;

/**
 * Replaces a record in one round trip, keeping an existing consumed mark (a later write must never "un-consume"
 * a code or refresh token). ARGV: payload JSON, consumed ('' = none), ttl seconds (0 = none).
 */
const WRITE = new LuaScript(`${RECORD_WRITE_LUA}return 1
`);

/**
 * WRITE and GRANT_ADD in one round trip (standalone / Sentinel only: the two keys live in different Cluster
 * slots). KEYS: record, grant index. ARGV: as WRITE.
 */
const WRITE_WITH_GRANT = new LuaScript(`${RECORD_WRITE_LUA}redis.call('SADD', KEYS[2], KEYS[1])
if ttl == 0 then redis.call('PERSIST', KEYS[2]) return 1 end
local cur = redis.call('PTTL', KEYS[2])
if cur == -1 and redis.call('SCARD', KEYS[2]) > 1 then return 1 end
if cur < ttl * 1000 then redis.call('PEXPIRE', KEYS[2], ttl * 1000) end
return 1
`);

/**
 * Compare-and-set on a record's `version` (see {@link VersionedUpsert}). KEYS: record. ARGV: payload JSON,
 * expected version ('' = the record must not exist), ttl seconds (0 = none). Returns 1 if written.
 */
const WRITE_IF_VERSION = new LuaScript(`
local p = redis.call('HGET', KEYS[1], 'p')
local cur = ''
if p then
  local ok, obj = pcall(cjson.decode, p)
  if ok and type(obj) == 'table' and type(obj.version) == 'string' and obj.version ~= '' then cur = obj.version else cur = '\0none' end
end
if cur ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'p', ARGV[1])
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 1
`);

/** Deletes an index key only if it still points to the given id. */
const DEL_IF = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Token models stored in one key space (`{tok:id}`), told apart by the stored `kind`. */
export const SHARED_TOKEN_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'ClientCredentials', 'RefreshToken']);

/** Key helpers for one prefix. */
export class OidcKeys {
  constructor(readonly prefix: string) {}
  object(model: string, id: string): string {
    return SHARED_TOKEN_MODELS.has(model) ? `${this.prefix}oidc:{tok:${id}}` : `${this.prefix}oidc:{${model}:${id}}`;
  }
  uid(uid: string): string { return `${this.prefix}oidc:uid:{${uid}}`; }
  userCode(code: string): string { return `${this.prefix}oidc:uc:{${code}}`; }
  grant(grantId: string): string { return `${this.prefix}oidc:grant:{${grantId}}`; }
}

/** A stored record from its `p` (payload JSON) and `c` (consumed) fields; a fresh object on every call. */
function parseRecord(key: string, p: string | null | undefined, c: string | null | undefined): AdapterPayload | undefined {
  if (p === null || p === undefined) return undefined;
  let payload: AdapterPayload;
  try {
    payload = JSON.parse(p) as AdapterPayload;
  } catch (err) {
    throw new IdpError('IDP_STORAGE_CORRUPT', `stored OIDC record ${key} is not JSON`, { cause: err });
  }
  if (c !== null && c !== undefined) payload.consumed = Number(c);
  return payload;
}

/** Deletes every record of a grant (all models), their device-code indexes, the index and the Grant itself. */
export async function revokeGrantRedis(client: RedisClient, keys: OidcKeys, grantId: string, withGrant: boolean, recent?: RecentRecords): Promise<void> {
  const gkey = keys.grant(grantId);
  const members = await client.smembers(gkey);
  await Promise.all(members.map(async (k) => {
    const p = await client.hget(k, 'p');
    await client.del(k);
    if (p) {
      try {
        const payload = JSON.parse(p) as AdapterPayload;
        if (payload.userCode) await DEL_IF.run(client, [keys.userCode(payload.userCode)], [k.slice(k.indexOf('oidc:{') + 6, -1).split(':').slice(1).join(':')]);
      } catch { /* corrupt record already deleted */ }
    }
  }));
  await client.del(gkey);
  if (withGrant) {
    const k = keys.object('Grant', grantId);
    recent?.drop(k);
    try { await client.del(k); } finally { if (recent) await settle(recent, k); }
  }
}

/**
 * After a write of a copied record (whether it succeeded or not): drop this process's copy again and tell the
 * others. A failed announcement is not the write's failure: the copies' age cap bounds it.
 */
async function settle(recent: RecentRecords, key: string): Promise<void> {
  recent.drop(key);
  await recent.announce(key).catch(() => undefined);
}

/** Models kept for a moment in {@link RecentRecords} (rarely written, read on every token request). */
export const RECENT_MODELS: ReadonlySet<string> = new Set(['Grant', 'KysoGrantActor']);

/** Builds an Adapter class bound to one Redis connection. */
export function redisAdapterClass(client: RedisClient, prefix: string, opts: AdapterOptions & { now?: () => number; recent?: RecentRecords } = {}): new (name: string) => Adapter {
  const keys = new OidcKeys(prefix);
  const recent = opts.recent;
  const revokeOnReuse = opts.revokeOnConcurrentReuse ?? true;
  const now = opts.now ?? Date.now;
  const clustered = client instanceof Cluster;
  // reads of shared token keys started in the current synchronous run (dropped at its end)
  let sameRun: Map<string, Promise<(string | null)[]>> | undefined;
  const readShared = (key: string): Promise<(string | null)[]> => {
    let read = sameRun?.get(key);
    if (!read) {
      if (!sameRun) {
        sameRun = new Map();
        queueMicrotask(() => { sameRun = undefined; });
      }
      read = client.hmget(key, 'p', 'c');
      sameRun.set(key, read);
    }
    return read;
  };
  return class RedisAdapter implements Adapter, VersionedUpsert {
    constructor(readonly name: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const key = keys.object(this.name, id);
      const ttl = typeof expiresIn === 'number' && expiresIn > 0 ? Math.ceil(expiresIn) : 0;
      const ops: Promise<unknown>[] = [];
      // a shared token key says which model it holds (oidc-provider always sets kind; other callers may not)
      const json = JSON.stringify(SHARED_TOKEN_MODELS.has(this.name) && payload.kind === undefined ? { ...payload, kind: this.name } : payload);
      const consumed = payload.consumed ? String(payload.consumed) : '';
      const grantIndex = payload.grantId && GRANTABLE_MODELS.has(this.name) ? keys.grant(payload.grantId) : undefined;
      const kept = recent && RECENT_MODELS.has(this.name) ? recent : undefined;
      kept?.drop(key);
      if (grantIndex && !clustered) {
        ops.push(WRITE_WITH_GRANT.run(client, [key, grantIndex], [json, consumed, ttl]));
      } else {
        if (grantIndex) ops.push(GRANT_ADD.run(client, [grantIndex], [key, ttl * 1000]));
        ops.push(WRITE.run(client, [key], [json, consumed, ttl]));
      }
      if (this.name === 'Session' && payload.uid) {
        ops.push(ttl ? client.set(keys.uid(payload.uid), id, 'EX', ttl) : client.set(keys.uid(payload.uid), id));
      }
      if (payload.userCode) {
        ops.push(ttl ? client.set(keys.userCode(payload.userCode), id, 'EX', ttl) : client.set(keys.userCode(payload.userCode), id));
      }
      // a write that failed may still have reached Redis (e.g. a timeout): drop and announce either way
      try { await Promise.all(ops); } finally { if (kept) await settle(kept, key); }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const key = keys.object(this.name, id);
      if (SHARED_TOKEN_MODELS.has(this.name)) {
        const [p, c] = await readShared(key);
        const payload = parseRecord(key, p, c);
        return payload && payload.kind === this.name ? payload : undefined;
      }
      if (recent && RECENT_MODELS.has(this.name)) {
        const hit = recent.get(key);
        if (hit) return parseRecord(key, hit[0], hit[1]);
        const started = recent.begin();
        const [p, c] = await client.hmget(key, 'p', 'c');
        recent.keep(key, started, [p, c]);
        return parseRecord(key, p, c);
      }
      const [p, c] = await client.hmget(key, 'p', 'c');
      return parseRecord(key, p, c);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await client.get(keys.uid(uid));
      const found = id ? await this.find(id) : undefined;
      // the index may be stale after the session's uid changed: trust it only when the record agrees
      return found && found.uid === uid ? found : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await client.get(keys.userCode(userCode));
      const found = id ? await this.find(id) : undefined;
      return found && found.userCode === userCode ? found : undefined;
    }

    /** Atomic: exactly one caller marks the record consumed; later callers get invalid_grant. */
    async consume(id: string): Promise<void> {
      const r = await CONSUME.run(client, [keys.object(this.name, id)], [epochSeconds(now())]);
      if (r === 1) return;
      if (r === -1) throw new errors.InvalidGrant(`${this.name} not found or expired`);
      if (revokeOnReuse && typeof r === 'string' && r) {
        try {
          const grantId = (JSON.parse(r) as AdapterPayload).grantId;
          if (grantId) await revokeGrantRedis(client, keys, grantId, true, recent);
        } catch (err) {
          if (err instanceof IdpError) throw err;
        }
      }
      throw new errors.InvalidGrant(`${this.name} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      const key = keys.object(this.name, id);
      const p = await client.hget(key, 'p');
      let payload: AdapterPayload | undefined;
      try { payload = p ? JSON.parse(p) as AdapterPayload : undefined; } catch { payload = undefined; }
      // a shared token key holding another kind of token is not this model's record
      if (payload && SHARED_TOKEN_MODELS.has(this.name) && payload.kind !== undefined && payload.kind !== this.name) return;
      const kept = recent && RECENT_MODELS.has(this.name) ? recent : undefined;
      kept?.drop(key);
      try { await client.del(key); } finally { if (kept) await settle(kept, key); }
      if (!payload) return;
      const ops: Promise<unknown>[] = [];
      if (this.name === 'Session' && payload.uid) ops.push(DEL_IF.run(client, [keys.uid(payload.uid)], [id]));
      if (payload.userCode) ops.push(DEL_IF.run(client, [keys.userCode(payload.userCode)], [id]));
      if (payload.grantId) ops.push(client.srem(keys.grant(payload.grantId), key));
      await Promise.all(ops);
    }

    /** Removes every token and code of the grant (all models). */
    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrantRedis(client, keys, grantId, false);
    }

    /** {@link VersionedUpsert.upsertIfVersion}, atomic in Redis. */
    async upsertIfVersion(id: string, payload: AdapterPayload, expiresIn: number | undefined, expected: string | undefined): Promise<boolean> {
      const ttl = typeof expiresIn === 'number' && expiresIn > 0 ? Math.ceil(expiresIn) : 0;
      const key = keys.object(this.name, id);
      const kept = recent && RECENT_MODELS.has(this.name) ? recent : undefined;
      kept?.drop(key);
      let r: unknown;
      try { r = await WRITE_IF_VERSION.run(client, [key], [JSON.stringify(payload), expected ?? '', ttl]); } finally { if (kept) await settle(kept, key); }
      return r === 1;
    }
  };
}
