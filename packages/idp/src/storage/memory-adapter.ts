/**
 * In-memory oidc-provider adapter (embedded default). Every operation is synchronous inside its promise, so
 * check-and-set in `consume` is atomic with respect to other requests in this process.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { GRANTABLE_MODELS, epochSeconds } from './grantable.js';
import { IncrementalSweeper } from './sweeper.js';

interface Entry {
  /** Private copy of what was stored (read for its grantId, uid, ...; never handed out). */
  payload: AdapterPayload;
  /** The stored payload as JSON: every find() parses its own copy from it (as the Redis adapter does). */
  json: string;
  consumed?: number;
  expiresAt: number; // ms, Infinity = no expiry
}

interface IndexEntry {
  key: string;
  expiresAt: number;
}

/** Shared state of all models of one storage instance. */
export class MemoryOidcStore {
  readonly objects = new Map<string, Entry>();
  readonly uids = new Map<string, IndexEntry>();
  readonly userCodes = new Map<string, IndexEntry>();
  readonly grants = new Map<string, Map<string, number>>();
  private readonly sweepObjects: IncrementalSweeper<string, Entry>;
  private readonly sweepUids: IncrementalSweeper<string, IndexEntry>;
  private readonly sweepUserCodes: IncrementalSweeper<string, IndexEntry>;
  private readonly sweepGrants: IncrementalSweeper<string, Map<string, number>>;

  constructor(readonly now: () => number = Date.now) {
    const dead = (e: { expiresAt: number }) => e.expiresAt <= this.now();
    this.sweepObjects = new IncrementalSweeper(this.objects, dead);
    this.sweepUids = new IncrementalSweeper(this.uids, dead, 1);
    this.sweepUserCodes = new IncrementalSweeper(this.userCodes, dead, 1);
    this.sweepGrants = new IncrementalSweeper(this.grants, (members) => {
      const t = this.now();
      for (const [k, exp] of members) if (exp <= t) members.delete(k);
      return members.size === 0;
    }, 1);
  }

  get(key: string): Entry | undefined {
    const e = this.objects.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.objects.delete(key);
      return undefined;
    }
    return e;
  }

  index(map: Map<string, IndexEntry>, k: string): string | undefined {
    const e = map.get(k);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      map.delete(k);
      return undefined;
    }
    return e.key;
  }

  /** Drops a few expired entries per write (amortised), so memory does not grow with dead tokens. */
  maybeSweep(): void {
    this.sweepObjects.step();
    this.sweepUids.step();
    this.sweepUserCodes.step();
    this.sweepGrants.step();
  }

  /** Removes every record of a grant (tokens, codes) and the Grant itself. */
  revokeGrant(grantId: string): void {
    const members = this.grants.get(grantId);
    if (members) {
      for (const key of members.keys()) {
        const e = this.objects.get(key);
        this.objects.delete(key);
        if (e) this.dropSecondary(key, e.payload);
      }
      this.grants.delete(grantId);
    }
    this.objects.delete(`Grant:${grantId}`);
  }

  dropSecondary(key: string, payload: AdapterPayload): void {
    if (payload.uid && this.uids.get(payload.uid)?.key === key) this.uids.delete(payload.uid);
    if (payload.userCode && this.userCodes.get(payload.userCode)?.key === key) this.userCodes.delete(payload.userCode);
  }
}


/** Options shared by the adapters. */
export interface AdapterOptions {
  /**
   * When a one-time artefact (code, refresh token) is redeemed a second time while its first redemption is in
   * flight, revoke the whole grant (RFC 6749 §4.1.2: the code is in two hands). Default true.
   */
  revokeOnConcurrentReuse?: boolean;
}

/**
 * Compare-and-set on a record's `version` field, offered by both kyso adapters (not part of oidc-provider's
 * Adapter): for records that several processes read, change and write back (the key set), so a change made
 * meanwhile by another process is not lost.
 */
export interface VersionedUpsert {
  /**
   * Writes `payload` only if the stored record's `version` is `expected` (`undefined`: only if there is no
   * record). A stored record without a version matches nothing. Returns whether it wrote.
   */
  upsertIfVersion(id: string, payload: AdapterPayload, expiresIn: number | undefined, expected: string | undefined): Promise<boolean>;
}

/** Whether an adapter instance offers {@link VersionedUpsert}. */
export function hasVersionedUpsert(a: Adapter): a is Adapter & VersionedUpsert {
  return typeof (a as Partial<VersionedUpsert>).upsertIfVersion === 'function';
}

/** Builds an Adapter class bound to one in-memory store. */
export function memoryAdapterClass(store: MemoryOidcStore, opts: AdapterOptions = {}): new (name: string) => Adapter {
  const revokeOnReuse = opts.revokeOnConcurrentReuse ?? true;
  return class MemoryAdapter implements Adapter, VersionedUpsert {
    constructor(readonly name: string) {}

    private key(id: string): string {
      return `${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const key = this.key(id);
      const now = store.now();
      const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? now + expiresIn * 1000 : Infinity;
      const previous = store.get(key);
      if (previous) store.dropSecondary(key, previous.payload);
      // JSON, like Redis: the same payloads round-trip on both stores (and it is cheaper than structuredClone)
      const json = JSON.stringify(payload);
      const entry: Entry = { payload: JSON.parse(json) as AdapterPayload, json, expiresAt };
      // keep an existing consumed mark: a later write must never "un-consume" a code or refresh token
      if (previous?.consumed !== undefined) entry.consumed = previous.consumed;
      else if (payload.consumed) entry.consumed = payload.consumed as number;
      store.objects.set(key, entry);
      if (this.name === 'Session' && payload.uid) store.uids.set(payload.uid, { key, expiresAt });
      if (payload.userCode) store.userCodes.set(payload.userCode, { key, expiresAt });
      if (payload.grantId && GRANTABLE_MODELS.has(this.name)) {
        let members = store.grants.get(payload.grantId);
        if (!members) store.grants.set(payload.grantId, (members = new Map()));
        members.set(key, expiresAt);
      }
      store.maybeSweep();
    }

    /** {@link VersionedUpsert.upsertIfVersion}: check and write happen in one synchronous step. */
    async upsertIfVersion(id: string, payload: AdapterPayload, expiresIn: number | undefined, expected: string | undefined): Promise<boolean> {
      const e = store.get(this.key(id));
      const v = e?.payload.version;
      const cur = e ? (typeof v === 'string' && v !== '' ? v : '\0none') : '';
      if (cur !== (expected ?? '')) return false;
      await this.upsert(id, payload, expiresIn);
      return true;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const e = store.get(this.key(id));
      if (!e) return undefined;
      const out = JSON.parse(e.json) as AdapterPayload;
      if (e.consumed !== undefined) out.consumed = e.consumed;
      return out;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const key = store.index(store.uids, uid);
      if (!key || !key.startsWith(`${this.name}:`)) return undefined;
      return this.find(key.slice(this.name.length + 1));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const key = store.index(store.userCodes, userCode);
      if (!key || !key.startsWith(`${this.name}:`)) return undefined;
      return this.find(key.slice(this.name.length + 1));
    }

    /** Atomic: exactly one caller marks the record consumed; later callers get invalid_grant. */
    async consume(id: string): Promise<void> {
      const e = store.get(this.key(id));
      if (!e) throw new errors.InvalidGrant(`${this.name} not found or expired`);
      if (e.consumed !== undefined) {
        if (revokeOnReuse && e.payload.grantId) store.revokeGrant(e.payload.grantId);
        throw new errors.InvalidGrant(`${this.name} already consumed`);
      }
      e.consumed = epochSeconds(store.now());
    }

    async destroy(id: string): Promise<void> {
      const key = this.key(id);
      const e = store.objects.get(key);
      store.objects.delete(key);
      if (e) {
        store.dropSecondary(key, e.payload);
        if (e.payload.grantId) store.grants.get(e.payload.grantId)?.delete(key);
      }
    }

    /** Removes every token and code of the grant (all models), like a revocation should. */
    async revokeByGrantId(grantId: string): Promise<void> {
      const members = store.grants.get(grantId);
      if (!members) return;
      for (const key of members.keys()) {
        const e = store.objects.get(key);
        store.objects.delete(key);
        if (e) store.dropSecondary(key, e.payload);
      }
      store.grants.delete(grantId);
    }
  };
}
