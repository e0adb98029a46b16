/**
 * Where the portal keeps what a second instance needs: login sessions and submitted applications. The embedded
 * {@link MemoryPortalStore} serves one process (`npm start`); {@link RedisPortalStore} lets any number of
 * instances share them (`REDIS_URL`). Values are JSON; byte arrays travel as base64.
 */
import { Redis } from 'ioredis';

/** The portal's shared state. */
export interface PortalStore {
  readonly kind: 'memory' | 'redis';
  getSession(sid: string): Promise<string | undefined>;
  /** Stores (or refreshes) a session for `ttlMs` (sliding expiry). */
  putSession(sid: string, value: string, ttlMs: number): Promise<void>;
  deleteSession(sid: string): Promise<void>;
  putApplication(id: string, value: string, submitted: number): Promise<void>;
  getApplication(id: string): Promise<string | undefined>;
  /** Applications, oldest first (at most `limit`, newest kept). */
  listApplications(limit: number): Promise<string[]>;
  /**
   * Claims an application for one officer's counter-signature, atomically across instances: true for exactly one
   * of several concurrent claimants; the claim lapses after `ttlMs` (an instance that died holding it).
   */
  claimApplication(id: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Releases a claim, only if `holder` still holds it. */
  releaseApplication(id: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

/** JSON with byte arrays as `{ "$b64": … }`. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, key: string, value: unknown) {
    const orig = this[key];
    return orig instanceof Uint8Array ? { $b64: Buffer.from(orig).toString('base64') } : value;
  });
}
/** The reverse of {@link toJson}: byte arrays come back as `Uint8Array`. */
export function fromJson<T>(s: string): T {
  return JSON.parse(s, (_k, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { $b64?: unknown }).$b64 === 'string' && Object.keys(value).length === 1) {
      return new Uint8Array(Buffer.from((value as { $b64: string }).$b64, 'base64'));
    }
    return value;
  }) as T;
}

/** One process only: sessions and applications in memory (bounded). */
export class MemoryPortalStore implements PortalStore {
  readonly kind = 'memory' as const;
  #sessions = new Map<string, { v: string; exp: number }>();
  #apps = new Map<string, { v: string; at: number }>();
  constructor(private readonly maxSessions = 10_000, private readonly maxApplications = 10_000) {}

  async getSession(sid: string) {
    const t = this.#sessions.get(sid);
    if (!t) return undefined;
    if (t.exp <= Date.now()) { this.#sessions.delete(sid); return undefined; }
    return t.v;
  }
  async putSession(sid: string, value: string, ttlMs: number) {
    this.#sessions.delete(sid);
    if (this.#sessions.size >= this.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
    this.#sessions.set(sid, { v: value, exp: Date.now() + ttlMs });
  }
  async deleteSession(sid: string) { this.#sessions.delete(sid); }
  async putApplication(id: string, value: string, submitted: number) {
    if (!this.#apps.has(id) && this.#apps.size >= this.maxApplications) this.#apps.delete(this.#apps.keys().next().value!);
    this.#apps.set(id, { v: value, at: submitted });
  }
  async getApplication(id: string) { return this.#apps.get(id)?.v; }
  async listApplications(limit: number) {
    return [...this.#apps.values()].sort((a, b) => a.at - b.at).slice(-limit).map((a) => a.v);
  }
  #claims = new Map<string, { holder: string; exp: number }>();
  async claimApplication(id: string, holder: string, ttlMs: number) {
    const now = Date.now();
    const c = this.#claims.get(id);
    if (c && c.exp > now) return false;
    this.#claims.set(id, { holder, exp: now + ttlMs });
    return true;
  }
  async releaseApplication(id: string, holder: string) {
    if (this.#claims.get(id)?.holder === holder) this.#claims.delete(id);
  }
  async close() {}
}

const P = 'kyso:portal:';

/** Shared by every instance through Redis. */
export class RedisPortalStore implements PortalStore {
  readonly kind = 'redis' as const;
  readonly redis: Redis;
  constructor(url: string, private readonly applicationTtlMs = 30 * 24 * 3600_000) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 2000, enableOfflineQueue: true });
    this.redis.on('error', () => { /* reported by the failing command */ });
  }
  async getSession(sid: string) { return (await this.redis.get(`${P}sess:${sid}`)) ?? undefined; }
  async putSession(sid: string, value: string, ttlMs: number) { await this.redis.set(`${P}sess:${sid}`, value, 'PX', Math.max(1000, Math.round(ttlMs))); }
  async deleteSession(sid: string) { await this.redis.del(`${P}sess:${sid}`); }
  async putApplication(id: string, value: string, submitted: number) {
    await this.redis.multi()
      .psetex(`${P}app:${id}`, this.applicationTtlMs, value)
      .zadd(`${P}apps`, submitted, id)
      .zremrangebyscore(`${P}apps`, '-inf', Date.now() - this.applicationTtlMs)
      .exec();
  }
  async getApplication(id: string) { return (await this.redis.get(`${P}app:${id}`)) ?? undefined; }
  async listApplications(limit: number) {
    const ids = await this.redis.zrange(`${P}apps`, String(-limit), "-1");
    if (!ids.length) return [];
    const vals = await this.redis.mget(ids.map((id) => `${P}app:${id}`));
    return vals.filter((v): v is string => typeof v === 'string');
  }
  async claimApplication(id: string, holder: string, ttlMs: number) {
    return (await this.redis.set(`${P}claim:${id}`, holder, 'PX', Math.max(1000, Math.round(ttlMs)), 'NX')) === 'OK';
  }
  async releaseApplication(id: string, holder: string) {
    // compare and delete in one step: a lapsed claim taken over by another officer is not released by this one
    await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, `${P}claim:${id}`, holder);
  }
  async close() { this.redis.disconnect(); }
}
