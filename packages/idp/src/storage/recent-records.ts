/**
 * A short-lived, per-process copy of rarely-written grant records (oidc-provider's `Grant` and kyso's
 * `KysoGrantActor`), so the token, introspection and userinfo hot paths do not read them from Redis on every
 * request.
 *
 * Consistency rules:
 * - a copy is at most `maxAgeMs` old (default 1 s, capped at 2 s);
 * - every write or delete through this process drops the copy before and after it reaches Redis;
 * - every write or delete in another process sharing the Redis drops it too, through a change notice
 *   (`grant-record`, the key as detail); the age cap bounds the window when a notice is lost (reconnect);
 * - a read that was in flight while any of the above happened is not kept (generation counter), so a copy is
 *   never older than the newest write this process has heard of;
 * - copies are only kept while the notice subscription is live; once it is back after an interruption, every
 *   copy is dropped.
 *
 * Revocation never depends on this copy: revoking a grant deletes its tokens first (token records are never
 * cached), then the grant.
 */
import type { ChangeNotices } from '../contracts.js';

/** Notice topic for grant-record changes (detail: the record's Redis key). */
export const GRANT_RECORD_NOTICE = 'grant-record';

/** What a Redis read of a record returned: payload JSON and consumed mark (null when absent). */
export type RawRecord = readonly [p: string | null, c: string | null];

interface Entry { at: number; raw: RawRecord }

export interface RecentRecordsOptions {
  /** Maximum age of a copy in ms (default 1000, capped at 2000; 0 disables the copy). */
  maxAgeMs?: number;
  /** Cross-process change notices; without them, copies are kept only when `processLocal` is set. */
  notices?: ChangeNotices;
  /** The store is not shared with any other process (no notices needed). Default false. */
  processLocal?: boolean;
  /** Upper bound on entries (default 10,000; the map is emptied when full). */
  maxEntries?: number;
  /** Monotonic clock in ms (tests). */
  clock?: () => number;
}

/** Per-process copies of grant records, keyed by their Redis key. */
export class RecentRecords {
  readonly maxAgeMs: number;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private readonly notices: ChangeNotices | undefined;
  private generation = 0;
  /** true once copies may be kept (notice subscription live, or process-local store). */
  private armed: boolean;
  private arming: Promise<void> | undefined;
  private unwatch: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(opts: RecentRecordsOptions = {}) {
    this.maxAgeMs = Math.min(Math.max(opts.maxAgeMs ?? 1000, 0), 2000);
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.clock = opts.clock ?? (() => performance.now());
    this.notices = opts.notices;
    this.armed = this.maxAgeMs > 0 && !!opts.processLocal;
  }

  /** A copy younger than `maxAgeMs`, or undefined. */
  get(key: string): RawRecord | undefined {
    if (!this.armed) { this.arm(); return undefined; }
    if (!this.live()) { this.entries.clear(); return undefined; }
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock() - e.at < this.maxAgeMs) return e.raw;
    this.entries.delete(key);
    return undefined;
  }

  /** Call before reading from Redis; pass the result to {@link keep} with what the read returned. */
  begin(): number {
    return this.generation;
  }

  /** Keeps what a read returned, unless any change was heard of since {@link begin}. */
  keep(key: string, started: number, raw: RawRecord): void {
    if (!this.armed || started !== this.generation || !this.live()) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { at: this.clock(), raw });
  }

  /** Drops the copy of `key` and voids reads in flight (call before and after writing it). */
  drop(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Tells the other processes that `key` changed (call after the write reached Redis). */
  async announce(key: string): Promise<void> {
    if (this.notices) await this.notices.announce(GRANT_RECORD_NOTICE, key);
  }

  /** Stops watching notices and keeps no more copies. */
  async close(): Promise<void> {
    this.closed = true;
    this.armed = false;
    this.entries.clear();
    const u = this.unwatch;
    this.unwatch = undefined;
    if (u) await u();
  }

  private live(): boolean {
    return this.notices?.isLive ? this.notices.isLive() : true;
  }

  /** Starts the notice subscription once; copies are kept only after it is live. */
  private arm(): void {
    if (this.arming || this.closed || this.maxAgeMs === 0 || !this.notices) return;
    this.arming = this.notices.watch(GRANT_RECORD_NOTICE, (key) => {
      this.generation++;
      if (key) this.entries.delete(key); else this.entries.clear();
    }).then((unwatch) => {
      if (this.closed) { void unwatch(); return; }
      this.unwatch = unwatch;
      this.armed = true;
    }, () => { this.arming = undefined; /* retried on a later read */ });
  }
}
