/**
 * Signing-key and cookie-key sets with rotation.
 *
 * Rotation follows "publish before use, keep until expiry":
 *   1. `addPending()` generates a new ES256 (P-256) and RSA-2048 (PS256/RS256) key. They are published in
 *      the JWKS with `key_ops: ["verify"]`, so oidc-provider never signs with them yet, while relying
 *      parties that refresh their JWKS cache learn them.
 *   2. `promote()` makes the pending keys primary (first in the set, used for new tokens) and marks the
 *      previous primary keys `retiring`: still published for verification until `retireAfter`
 *      (now + the longest lifetime of a token they signed + a clock-skew grace), then dropped by `pruneRetired()`.
 * Cookie keys rotate the same way: the first key signs, all keys verify.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { IdpProtocolError } from './errors.js';

/** A private JWK as produced by node:crypto (kept opaque here). */
export type PrivateJwk = Record<string, unknown> & { kty: string; kid: string };

export interface StoredKey {
  jwk: PrivateJwk;
  state: 'pending' | 'active' | 'retiring';
  createdAt: number;
  /** Epoch seconds after which a retiring key is no longer published. */
  retireAfter?: number;
}

/** What is persisted (shared by every process of the provider). */
export interface KeySetRecord {
  signing: StoredKey[];
  cookieKeys: string[];
  /** Secret salt of pairwise subject identifiers (same in every process). */
  pairwiseSalt: string;
  updatedAt: number;
  /** Changes on every save (change detection across processes). */
  version?: string;
}

/** Where the key set lives; the service stores it through the storage adapter. */
export interface KeySetStore {
  load(): Promise<KeySetRecord | undefined>;
  save(record: KeySetRecord): Promise<void>;
  /**
   * Saves only if the stored record's `version` is `expected` (`undefined`: only if there is none); returns
   * whether it saved. Stores shared by several processes implement it, so two processes changing the key set
   * at the same moment cannot lose one of the changes (the loser re-reads and applies its change again).
   */
  saveIf?(record: KeySetRecord, expected: string | undefined): Promise<boolean>;
  /** Tells the other processes sharing the store that the key set changed (they reload at once). */
  announce?(): Promise<void>;
}

/** In-process key-set store (tests, single process). */
export function memoryKeySetStore(): KeySetStore {
  let rec: KeySetRecord | undefined;
  return {
    async load() { return rec ? structuredClone(rec) : undefined; },
    async save(r) { rec = structuredClone(r); },
    async saveIf(r, expected) {
      if ((rec?.version) !== expected) return false;
      rec = structuredClone(r);
      return true;
    },
  };
}

function newSigningKeys(now: number): StoredKey[] {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return [
    { jwk: { ...ec, kty: 'EC', kid: `es-${randomUUID()}`, alg: 'ES256', use: 'sig' }, state: 'pending', createdAt: now },
    // no `alg`: one RSA key serves both PS256 and RS256 (per-client id_token_signed_response_alg).
    { jwk: { ...rsa, kty: 'RSA', kid: `rsa-${randomUUID()}`, use: 'sig' }, state: 'pending', createdAt: now },
  ];
}

const epoch = () => Math.floor(Date.now() / 1000);

/** Manages the provider's signing keys and cookie keys; see the module comment for the rotation model. */
export class KeySetManager {
  private listeners: (() => void | Promise<void>)[] = [];

  private constructor(private readonly store: KeySetStore, private record: KeySetRecord,
    /** Longest lifetime (s) of anything signed with a key: how long a retiring key stays published. */
    public readonly maxTokenLifetimeSeconds: number) {}

  /** Loads the key set from `store`, creating an active key set if there is none. */
  static async open(opts: { store?: KeySetStore; maxTokenLifetimeSeconds?: number } = {}): Promise<KeySetManager> {
    const store = opts.store ?? memoryKeySetStore();
    const loaded = await store.load();
    if (loaded && (!Array.isArray(loaded.signing) || !Array.isArray(loaded.cookieKeys))) {
      throw new IdpProtocolError('IDP_KEYS_INVALID', 'stored key set is malformed (signing / cookieKeys missing)');
    }
    const empty: KeySetRecord = { signing: [], cookieKeys: [], pairwiseSalt: '', updatedAt: 0 };
    const m = new KeySetManager(store, loaded ?? empty, opts.maxTokenLifetimeSeconds ?? 14 * 24 * 3600);
    // processes starting together on an empty store: one creates the key set, the others adopt it
    // (compare-and-set); an existing record only gets what it lacks (never a new pairwise salt if it has one)
    await m.update((r) => {
      let changed = false;
      if (!r.signing.some((k) => k.state === 'active')) {
        r.signing.push(...newSigningKeys(epoch()).map((k) => ({ ...k, state: 'active' as const })));
        changed = true;
      }
      if (r.cookieKeys.length === 0) { r.cookieKeys = [randomBytes(32).toString('base64url')]; changed = true; }
      if (!r.pairwiseSalt) { r.pairwiseSalt = randomBytes(32).toString('base64url'); changed = true; }
      if (!r.version) changed = true;
      return changed;
    }, { silent: true, firstWrite: !loaded });
    return m;
  }

  /** Called after every change (the service rebuilds its provider with the new JWKS). */
  onChange(listener: () => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  /**
   * Applies `change` to a copy of the current record and saves it; when the store offers compare-and-set and
   * another process saved first, re-reads the record and applies `change` again (up to 10 times).
   * `change` returns false when there is nothing to do.
   */
  private async update(change: (r: KeySetRecord) => boolean, o: { silent?: boolean; firstWrite?: boolean } = {}): Promise<boolean> {
    let first = o.firstWrite ?? false;
    for (let attempt = 0; attempt < 10; attempt++) {
      const next = structuredClone(this.record);
      if (!change(next)) return false;
      next.updatedAt = epoch();
      next.version = randomUUID();
      // a record written before versions existed has none: it is replaced once without a check
      const expected = first ? undefined : this.record.version;
      const saved = this.store.saveIf && (expected !== undefined || first)
        ? await this.store.saveIf(next, expected)
        : (await this.store.save(next), true);
      if (saved) {
        this.record = next;
        if (!o.silent) for (const l of this.listeners) await l();
        await this.store.announce?.();
        return true;
      }
      const fresh = await this.store.load();
      if (fresh) {
        this.record = fresh;
        first = false;
        if (!o.silent) for (const l of this.listeners) await l();
      } else {
        first = true;
      }
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * (attempt + 1))));
    }
    throw new IdpProtocolError('IDP_KEYS_CONFLICT', 'the key set kept changing under this update (10 attempts); try again');
  }

  /** Re-reads the shared record (another process may have rotated); returns whether it changed. */
  async reload(): Promise<boolean> {
    const r = await this.store.load();
    if (!r || (r.version ?? r.updatedAt) === (this.record.version ?? this.record.updatedAt)) return false;
    this.record = r;
    for (const l of this.listeners) await l();
    return true;
  }

  /** Private JWKS for oidc-provider: primary keys first, pending/retiring keys verify-only. */
  providerJwks(): { keys: PrivateJwk[] } {
    const order = { active: 0, pending: 1, retiring: 2 } as const;
    const now = epoch();
    const keys = this.record.signing
      .filter((k) => k.state !== 'retiring' || (k.retireAfter ?? 0) > now)
      .sort((a, b) => order[a.state] - order[b.state] || b.createdAt - a.createdAt)
      .map((k) => (k.state === 'active' ? { ...k.jwk } : { ...k.jwk, key_ops: ['verify'] }));
    return { keys };
  }

  /** Key ids by state (for tests and the admin view). */
  kids(): { active: string[]; pending: string[]; retiring: string[] } {
    const by = (s: StoredKey['state']) => this.record.signing.filter((k) => k.state === s).map((k) => k.jwk.kid);
    return { active: by('active'), pending: by('pending'), retiring: by('retiring') };
  }

  /** Secret salt for pairwise `sub` values. */
  pairwiseSalt(): string {
    return this.record.pairwiseSalt;
  }

  /** Cookie signing keys, newest first. */
  cookieKeys(): string[] {
    return [...this.record.cookieKeys];
  }

  /** Step 1 of a rotation: publish new keys that are not used for signing yet. */
  async addPending(): Promise<string[]> {
    await this.update((r) => {
      if (r.signing.some((k) => k.state === 'pending')) return false;
      r.signing.push(...newSigningKeys(epoch()));
      return true;
    });
    return this.kids().pending;
  }

  /** Step 2: pending keys become primary; previous primary keys stay published until their tokens expire. */
  async promote(): Promise<void> {
    if (!this.record.signing.some((k) => k.state === 'pending')) await this.addPending();
    await this.update((r) => {
      // another process may have promoted them already
      if (!r.signing.some((k) => k.state === 'pending')) return false;
      // kept for the lifetime of the last tokens they signed, plus a grace for relying parties that accept
      // slightly expired tokens (clock skew): 5 min, or the lifetime itself when shorter
      const retireAfter = epoch() + this.maxTokenLifetimeSeconds + Math.min(300, this.maxTokenLifetimeSeconds);
      for (const k of r.signing) {
        if (k.state === 'active') { k.state = 'retiring'; k.retireAfter = retireAfter; }
      }
      for (const k of r.signing) if (k.state === 'pending') k.state = 'active';
      return true;
    });
  }

  /** Drops retiring keys whose tokens have all expired; returns how many. */
  async pruneRetired(now = epoch()): Promise<number> {
    let removed = 0;
    await this.update((r) => {
      const before = r.signing.length;
      r.signing = r.signing.filter((k) => k.state !== 'retiring' || (k.retireAfter ?? 0) > now);
      removed = before - r.signing.length;
      return removed > 0;
    });
    return removed;
  }

  /** New cookie key first; the previous ones (at most 2) keep verifying existing cookies. */
  async rotateCookieKeys(): Promise<void> {
    await this.update((r) => {
      r.cookieKeys = [randomBytes(32).toString('base64url'), ...r.cookieKeys].slice(0, 3);
      return true;
    });
  }
}
