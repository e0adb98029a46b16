/**
 * Signing-key and cookie-key sets with rotation.
 *
 * Rotation follows "publish before use, keep until expiry":
 *   1. `addPending()` generates a new ES256 (P-256) and RSA-2048 (PS256/RS256) key. They are published in
 *      the JWKS with `key_ops: ["verify"]`, so oidc-provider never signs with them yet, while relying
 *      parties that refresh their JWKS cache learn them.
 *   2. `promote()` makes the pending keys primary (first in the set, used for new tokens) and marks the
 *      previous primary keys `retiring`: still published for verification until `retireAfter`
 *      (now + the longest lifetime of a token they signed), then dropped by `pruneRetired()`.
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
  /** Tells the other processes sharing the store that the key set changed (they reload at once). */
  announce?(): Promise<void>;
}

/** In-process key-set store (tests, single process). */
export function memoryKeySetStore(): KeySetStore {
  let rec: KeySetRecord | undefined;
  return {
    async load() { return rec ? structuredClone(rec) : undefined; },
    async save(r) { rec = structuredClone(r); },
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
    let record = await store.load();
    if (record && (!Array.isArray(record.signing) || !Array.isArray(record.cookieKeys))) {
      throw new IdpProtocolError('IDP_KEYS_INVALID', 'stored key set is malformed (signing / cookieKeys missing)');
    }
    let created = false;
    if (!record || !record.signing.some((k) => k.state === 'active')) {
      const keys = newSigningKeys(epoch()).map((k) => ({ ...k, state: 'active' as const }));
      record = { signing: keys, cookieKeys: [randomBytes(32).toString('base64url')], pairwiseSalt: '', updatedAt: epoch() };
      created = true;
    }
    if (!record.pairwiseSalt) record.pairwiseSalt = randomBytes(32).toString('base64url');
    record.version ??= randomUUID();
    await store.save(record);
    if (created) {
      // processes starting together on an empty store: the last writer wins, everyone adopts its keys
      await new Promise((r) => setTimeout(r, 150));
      record = (await store.load()) ?? record;
    }
    return new KeySetManager(store, record, opts.maxTokenLifetimeSeconds ?? 14 * 24 * 3600);
  }

  /** Called after every change (the service rebuilds its provider with the new JWKS). */
  onChange(listener: () => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  private async commit(): Promise<void> {
    this.record.updatedAt = epoch();
    this.record.version = randomUUID();
    await this.store.save(this.record);
    for (const l of this.listeners) await l();
    await this.store.announce?.();
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
    if (this.record.signing.some((k) => k.state === 'pending')) return this.kids().pending;
    const keys = newSigningKeys(epoch());
    this.record.signing.push(...keys);
    await this.commit();
    return keys.map((k) => k.jwk.kid);
  }

  /** Step 2: pending keys become primary; previous primary keys stay published until their tokens expire. */
  async promote(): Promise<void> {
    if (!this.record.signing.some((k) => k.state === 'pending')) await this.addPending();
    const retireAfter = epoch() + this.maxTokenLifetimeSeconds;
    for (const k of this.record.signing) {
      if (k.state === 'active') { k.state = 'retiring'; k.retireAfter = retireAfter; }
    }
    for (const k of this.record.signing) if (k.state === 'pending') k.state = 'active';
    await this.commit();
  }

  /** Drops retiring keys whose tokens have all expired. */
  async pruneRetired(now = epoch()): Promise<number> {
    const before = this.record.signing.length;
    this.record.signing = this.record.signing.filter((k) => k.state !== 'retiring' || (k.retireAfter ?? 0) > now);
    const removed = before - this.record.signing.length;
    if (removed) await this.commit();
    return removed;
  }

  /** New cookie key first; the previous ones (at most 2) keep verifying existing cookies. */
  async rotateCookieKeys(): Promise<void> {
    this.record.cookieKeys = [randomBytes(32).toString('base64url'), ...this.record.cookieKeys].slice(0, 3);
    await this.commit();
  }
}
