/**
 * Short-lived, per-process copies of rarely-written records read on every token, introspection and userinfo
 * request, so those hot paths do not read them from Redis every time: grant records (oidc-provider's `Grant`,
 * kyso's `KysoGrantActor`; raw Redis values) and citizen accounts (`KvAccountStore.getRecent`).
 *
 * Consistency rules:
 * - a copy is at most `maxAgeMs` old (default 1 s, capped at 2 s);
 * - every write or delete through this process drops the copy before and after it reaches Redis;
 * - every write or delete in another process sharing the Redis drops it too, through a change notice
 *   (`grant-record` or `account-record`, the key as detail); the age cap bounds the window when a notice is lost;
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
/** Notice topic of account writes (detail: the record's key). */
export const ACCOUNT_RECORD_NOTICE = 'account-record';

/** What a Redis read of a record returned: payload JSON and consumed mark (null when absent). */
export type RawRecord = readonly [p: string | null, c: string | null];

interface Entry<T> { at: number; value: T }

/** Where a read started: pass it from {@link RecentRecords.begin} to {@link RecentRecords.keep}. */
export interface ReadStart { readonly generation: number; readonly at: number }

export interface RecentRecordsOptions {
  /** Notice topic (default {@link GRANT_RECORD_NOTICE}). */
  topic?: string;
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

/** Per-process copies of records, keyed by their Redis key; `T` is what is kept (by default the raw Redis read). */
export class RecentRecords<T = RawRecord> {
  readonly maxAgeMs: number;
  private readonly topic: string;
  private readonly entries = new Map<string, Entry<T>>();
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
    this.topic = opts.topic ?? GRANT_RECORD_NOTICE;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.clock = opts.clock ?? (() => performance.now());
    this.notices = opts.notices;
    this.armed = this.maxAgeMs > 0 && !!opts.processLocal;
  }

  /** A copy younger than `maxAgeMs` (and than `youngerThanMs` when given), or undefined. */
  get(key: string, youngerThanMs = this.maxAgeMs): T | undefined {
    if (!this.armed) { this.arm(); return undefined; }
    if (!this.live()) { this.entries.clear(); return undefined; }
    const e = this.entries.get(key);
    if (!e) return undefined;
    const age = this.clock() - e.at;
    if (age < Math.min(youngerThanMs, this.maxAgeMs)) return e.value;
    if (age >= this.maxAgeMs) this.entries.delete(key);
    return undefined;
  }

  /** Call before reading from Redis; pass the result to {@link keep} with what the read returned. */
  begin(): ReadStart {
    return { generation: this.generation, at: this.clock() };
  }

  /**
   * Keeps what a read returned, unless any change was heard of since {@link begin}. The copy's age counts from
   * the start of the read.
   */
  keep(key: string, started: ReadStart, value: T): void {
    if (!this.armed || started.generation !== this.generation || !this.live()) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { at: started.at, value });
  }

  /** Forgets the copy of `key` without voiding reads in flight (e.g. the record turned out to be missing). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Drops the copy of `key` and voids reads in flight (call before and after writing it). */
  drop(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Tells the other processes that `key` changed (call after the write reached Redis). */
  async announce(key: string): Promise<void> {
    if (this.notices) await this.notices.announce(this.topic, key);
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
    this.arming = this.notices.watch(this.topic, (key) => {
      this.generation++;
      if (key) this.entries.delete(key); else this.entries.clear();
    }).then((unwatch) => {
      if (this.closed) { void unwatch(); return; }
      this.unwatch = unwatch;
      this.armed = true;
    }, () => { this.arming = undefined; /* retried on a later read */ });
  }
}
