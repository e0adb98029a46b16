/** A small in-memory TTL cache of revocation data and issuer certificates (bounded size, oldest evicted first). */
export class RevocationCache {
  #map = new Map<string, { expires: number; value: Promise<unknown> }>();
  constructor(readonly maxEntries = 500) {}

  /** Return the cached value for `key` or compute it; failures are not cached. `ttlMs` may depend on the value. */
  async get<T>(key: string, compute: () => Promise<T>, ttlMs: (v: T) => number): Promise<T> {
    const now = Date.now();
    const hit = this.#map.get(key);
    if (hit && hit.expires > now) return hit.value as Promise<T>;
    const p = compute();
    this.#map.set(key, { expires: now + 60_000, value: p });
    try {
      const v = await p;
      const ttl = Math.max(0, ttlMs(v));
      if (ttl === 0) this.#map.delete(key);
      else this.#map.set(key, { expires: Date.now() + ttl, value: p });
      while (this.#map.size > this.maxEntries) this.#map.delete(this.#map.keys().next().value as string);
      return v;
    } catch (e) {
      this.#map.delete(key);
      throw e;
    }
  }

  clear(): void { this.#map.clear(); }
  get size(): number { return this.#map.size; }
}

/** Process-wide default cache used when a caller passes none. */
export const defaultRevocationCache = new RevocationCache();

/** TTL until `next` (capped to `maxMs`, default 10 min), 0 if unknown or past. */
export function ttlUntil(next: Date | undefined, maxMs = 10 * 60_000): number {
  if (!next) return Math.min(maxMs, 60_000);
  return Math.min(maxMs, Math.max(0, next.getTime() - Date.now()));
}
