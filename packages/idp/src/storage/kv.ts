/**
 * The small set of hash primitives the account store needs, with an in-memory and a Redis implementation.
 * Every method is atomic on its own (single Redis command or single-key Lua script, hence Cluster-safe).
 */

import type { AccountLists } from '../contracts.js';

/** Hash-per-record storage with the atomic operations the account store relies on. */
export interface HashKV {
  /** All fields, or undefined when the record does not exist. */
  hgetall(key: string): Promise<Record<string, string> | undefined>;
  /** Several records at once (undefined for missing ones), in order. */
  hgetallMany(keys: string[]): Promise<(Record<string, string> | undefined)[]>;
  hset(key: string, fields: Record<string, string>): Promise<void>;
  /** Number of fields that existed and were removed (so `hdel(k, [f]) === 1` is an atomic take). */
  hdel(key: string, fields: string[]): Promise<number>;
  /** Sets only if the record exists; false when it does not. */
  hsetIfExists(key: string, fields: Record<string, string>): Promise<boolean>;
  /** Creates the record only if absent; false when it already exists. */
  createHash(key: string, fields: Record<string, string>): Promise<boolean>;
  /** Atomically: when numeric `field` is absent or < value, sets it to value and returns true. */
  advanceCounter(key: string, field: string, value: number): Promise<boolean>;
  /** Removes every field whose name starts with prefix; returns how many. */
  hdelPrefix(key: string, prefix: string): Promise<number>;
  sadd(key: string, member: string): Promise<void>;
  smembers(key: string): Promise<string[]>;
}

/** In-memory HashKV: synchronous bodies make every operation atomic within the process. */
export class MemoryHashKV implements HashKV {
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly sets = new Map<string, Set<string>>();

  async hgetall(key: string): Promise<Record<string, string> | undefined> {
    const h = this.hashes.get(key);
    return h ? Object.fromEntries(h) : undefined;
  }
  async hgetallMany(keys: string[]): Promise<(Record<string, string> | undefined)[]> {
    return keys.map((k) => {
      const h = this.hashes.get(k);
      return h ? Object.fromEntries(h) : undefined;
    });
  }
  async hset(key: string, fields: Record<string, string>): Promise<void> {
    let h = this.hashes.get(key);
    if (!h) this.hashes.set(key, (h = new Map()));
    for (const [f, v] of Object.entries(fields)) h.set(f, v);
  }
  async hdel(key: string, fields: string[]): Promise<number> {
    const h = this.hashes.get(key);
    if (!h) return 0;
    let n = 0;
    for (const f of fields) if (h.delete(f)) n++;
    return n;
  }
  async hsetIfExists(key: string, fields: Record<string, string>): Promise<boolean> {
    const h = this.hashes.get(key);
    if (!h) return false;
    for (const [f, v] of Object.entries(fields)) h.set(f, v);
    return true;
  }
  async createHash(key: string, fields: Record<string, string>): Promise<boolean> {
    if (this.hashes.has(key)) return false;
    this.hashes.set(key, new Map(Object.entries(fields)));
    return true;
  }
  async advanceCounter(key: string, field: string, value: number): Promise<boolean> {
    const h = this.hashes.get(key);
    if (!h) return false;
    const cur = h.get(field);
    if (cur !== undefined && Number(cur) >= value) return false;
    h.set(field, String(value));
    return true;
  }
  async hdelPrefix(key: string, prefix: string): Promise<number> {
    const h = this.hashes.get(key);
    if (!h) return 0;
    let n = 0;
    for (const f of [...h.keys()]) if (f.startsWith(prefix)) { h.delete(f); n++; }
    return n;
  }
  async sadd(key: string, member: string): Promise<void> {
    let s = this.sets.get(key);
    if (!s) this.sets.set(key, (s = new Set()));
    s.add(member);
  }
  async smembers(key: string): Promise<string[]> {
    return [...(this.sets.get(key) ?? [])];
  }
}

/** {@link AccountLists} on a HashKV: key `<prefix>list:<name>:{<accountId>}` (one Cluster slot per account). */
export function hashAccountLists(kv: HashKV, prefix = ''): AccountLists {
  const key = (list: string, accountId: string) => `${prefix}list:${list}:{${accountId}}`;
  return {
    async put(list, accountId, member, value) { await kv.hset(key(list, accountId), { [member]: value }); },
    async remove(list, accountId, members) { if (members.length) await kv.hdel(key(list, accountId), members); },
    async all(list, accountId) { return (await kv.hgetall(key(list, accountId))) ?? {}; },
  };
}
