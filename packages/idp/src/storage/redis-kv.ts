/** Redis {@link HashKV}: each operation is one command or one single-key Lua script (Cluster-safe). */
import type { HashKV } from './kv.js';
import { LuaScript, type RedisClient } from './redis-connect.js';

const HSET_IF_EXISTS = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`);

const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`);

const ADVANCE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

const HDEL_PREFIX = new LuaScript(`
local n = 0
local plen = string.len(ARGV[1])
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, plen) == ARGV[1] then n = n + redis.call('HDEL', KEYS[1], f) end
end
return n
`);

function flat(fields: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [f, v] of Object.entries(fields)) out.push(f, v);
  return out;
}

export class RedisHashKV implements HashKV {
  constructor(private readonly client: RedisClient) {}

  async hgetall(key: string): Promise<Record<string, string> | undefined> {
    const h = await this.client.hgetall(key);
    return Object.keys(h).length ? h : undefined;
  }
  async hgetallMany(keys: string[]): Promise<(Record<string, string> | undefined)[]> {
    return Promise.all(keys.map((k) => this.hgetall(k)));
  }
  async hset(key: string, fields: Record<string, string>): Promise<void> {
    if (Object.keys(fields).length) await this.client.hset(key, fields);
  }
  async hdel(key: string, fields: string[]): Promise<number> {
    return fields.length ? this.client.hdel(key, ...fields) : 0;
  }
  async hsetIfExists(key: string, fields: Record<string, string>): Promise<boolean> {
    if (!Object.keys(fields).length) return (await this.client.exists(key)) === 1;
    return (await HSET_IF_EXISTS.run(this.client, [key], flat(fields))) === 1;
  }
  async createHash(key: string, fields: Record<string, string>): Promise<boolean> {
    return (await CREATE.run(this.client, [key], flat(fields))) === 1;
  }
  async advanceCounter(key: string, field: string, value: number): Promise<boolean> {
    return (await ADVANCE.run(this.client, [key], [field, value])) === 1;
  }
  async hdelPrefix(key: string, prefix: string): Promise<number> {
    return Number(await HDEL_PREFIX.run(this.client, [key], [prefix]));
  }
  async sadd(key: string, member: string): Promise<void> {
    await this.client.sadd(key, member);
  }
  async smembers(key: string): Promise<string[]> {
    return this.client.smembers(key);
  }
}
