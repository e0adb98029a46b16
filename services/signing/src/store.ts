/**
 * Shared state of the signing service: credentials, SADs, PIN counters, idempotency records, rate-limit
 * windows and the audit chain head. Two implementations with the same contract: {@link MemoryStore}
 * (embedded, one process) and `RedisStore` (any number of instances). Every operation that decides
 * something (consume hashes of a SAD, count a wrong PIN, claim an idempotency key) is atomic in both.
 */

/** How a credential's key is held. */
export interface KeyRef {
  /** `pkcs11`: generated inside the token; `software`: encrypted software keystore (no HSM configured). */
  vault: 'pkcs11' | 'software';
  /** Label / id of the key inside its vault. */
  ref: string;
  type: 'RSA' | 'EC';
  bits: number;
  curve?: 'P-256' | 'P-384';
}

/** A signing credential (one per citizen, or an agency seal). */
export interface CredentialRecord {
  id: string;
  /** Owner's subject (personal number), or for a seal the agency id. */
  owner: string;
  kind: 'citizen' | 'seal';
  /** Subjects allowed to use a seal (officers); empty for citizen credentials. */
  users: string[];
  description: string;
  key: KeyRef;
  /** Signer certificate, then the chain up to the root (base64 DER), signer first. */
  certificates: string[];
  /** argon2id hash of the PIN. */
  pinHash: string;
  createdAt: string;
}

/** What a SAD authorizes. */
export interface SadGrant {
  subject: string;
  clientId: string;
  credentialId: string;
  hashAlgorithmOID: string;
  /** Hashes (base64) still allowed, each signable once. */
  hashes: string[];
  /** Expiry, ms since the epoch. */
  exp: number;
}

export type ConsumeResult =
  | { ok: true; remaining: number }
  | { ok: false; reason: 'unknown' | 'expired' | 'subject' | 'credential' | 'algorithm' | 'hash'; hash?: string };

export type IdempotencyState = { state: 'new' } | { state: 'pending' } | { state: 'conflict' } | { state: 'done'; status: number; body: string };

/** One audit record as stored: the entry JSON and its chain hash. */
export interface StoredAudit {
  /** Position in the chain, from 1. */
  seq: number;
  /** Canonical JSON of the entry (includes `prev`). */
  entry: string;
  /** hex SHA-256 of (prev hash ‖ entry JSON). */
  hash: string;
}

export interface SigningStore {
  readonly kind: 'memory' | 'redis';
  putCredential(c: CredentialRecord): Promise<boolean>;
  getCredential(id: string): Promise<CredentialRecord | undefined>;
  /** Credentials owned by or usable by this subject. */
  listCredentials(subject: string): Promise<string[]>;
  /** Store a SAD (by its id = hash of the opaque value) for `ttlMs`. */
  putSad(id: string, g: SadGrant): Promise<void>;
  /** Atomically check caller (subject + client), credential, algorithm and that every hash is still allowed, then remove them. */
  consumeSad(id: string, caller: { subject: string; clientId: string }, credentialId: string, hashAlgorithmOID: string, hashes: string[], now: number): Promise<ConsumeResult>;
  /** Atomically replace a SAD by a new one with the remaining hashes and a new expiry. */
  extendSad(oldId: string, newId: string, caller: { subject: string; clientId: string }, credentialId: string, exp: number, now: number): Promise<ConsumeResult>;
  /** Count a wrong PIN; returns the count within the lock window. */
  pinFailure(credentialId: string, lockMs: number): Promise<number>;
  pinFailures(credentialId: string): Promise<number>;
  pinReset(credentialId: string): Promise<void>;
  /** Claim an idempotency key for a request fingerprint. */
  idemBegin(key: string, fingerprint: string, ttlMs: number): Promise<IdempotencyState>;
  idemFinish(key: string, fingerprint: string, status: number, body: string, ttlMs: number): Promise<void>;
  idemAbort(key: string): Promise<void>;
  /** Count a hit in a fixed window; returns the count. */
  rateHit(key: string, windowMs: number): Promise<number>;
  /** Append audit records if the chain head is still `expectedHead`; returns false (nothing written) otherwise. */
  auditAppend(expectedHead: { seq: number; hash: string }, records: StoredAudit[]): Promise<boolean>;
  auditHead(): Promise<{ seq: number; hash: string }>;
  /** Audit records in order, from `afterSeq` (exclusive), at most `count`. */
  auditRead(afterSeq: number, count: number): Promise<StoredAudit[]>;
  /** A short-lived value (phone approval pages): set, overwriting; `onlyIfAbsent` answers false if it exists. */
  putValue(key: string, value: string, ttlMs: number, onlyIfAbsent?: boolean): Promise<boolean>;
  getValue(key: string): Promise<string | undefined>;
  /** Liveness of the backing store. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const GENESIS = { seq: 0, hash: '0'.repeat(64) };

interface Timed<T> { v: T; exp: number }

/**
 * The embedded store: process memory. For `npm start` and a single instance; a second instance needs Redis.
 */
export class MemoryStore implements SigningStore {
  readonly kind = 'memory' as const;
  #creds = new Map<string, CredentialRecord>();
  #sads = new Map<string, Timed<SadGrant & { left: Set<string> }>>();
  #pins = new Map<string, Timed<number>>();
  #idem = new Map<string, Timed<{ fp: string; status?: number; body?: string }>>();
  #rate = new Map<string, Timed<number>>();
  #audit: StoredAudit[] = [];
  #values = new Map<string, Timed<string>>();
  #sweep = setInterval(() => this.#gc(), 30_000).unref();

  #gc(): void {
    const now = Date.now();
    for (const m of [this.#sads, this.#pins, this.#idem, this.#rate, this.#values] as Map<string, Timed<unknown>>[]) {
      for (const [k, v] of m) if (v.exp <= now) m.delete(k);
    }
  }

  async putCredential(c: CredentialRecord): Promise<boolean> {
    if (this.#creds.has(c.id)) return false;
    // records are immutable once enrolled: one frozen copy, handed out as is
    const copy = structuredClone(c);
    Object.freeze(copy.key); Object.freeze(copy.users); Object.freeze(copy.certificates);
    this.#creds.set(c.id, Object.freeze(copy));
    return true;
  }
  async getCredential(id: string) {
    return this.#creds.get(id);
  }
  async listCredentials(subject: string) {
    return [...this.#creds.values()].filter((c) => c.owner === subject || c.users.includes(subject)).map((c) => c.id).sort();
  }
  async putSad(id: string, g: SadGrant) {
    // kept a minute past expiry so that a late use is told "expired" rather than "unknown"
    this.#sads.set(id, { v: { ...g, left: new Set(g.hashes) }, exp: g.exp + 60_000 });
  }
  async consumeSad(id: string, caller: { subject: string; clientId: string }, credentialId: string, alg: string, hashes: string[], now: number): Promise<ConsumeResult> {
    const t = this.#sads.get(id);
    if (!t || t.exp <= now) return { ok: false, reason: 'unknown' };
    const s = t.v;
    if (s.exp <= now) return { ok: false, reason: 'expired' };
    if (s.subject !== caller.subject || s.clientId !== caller.clientId) return { ok: false, reason: 'subject' };
    if (s.credentialId !== credentialId) return { ok: false, reason: 'credential' };
    if (s.hashAlgorithmOID !== alg) return { ok: false, reason: 'algorithm' };
    const seen = new Set<string>();
    for (const h of hashes) {
      if (!s.left.has(h) || seen.has(h)) return { ok: false, reason: 'hash', hash: h };
      seen.add(h);
    }
    for (const h of hashes) s.left.delete(h);
    if (s.left.size === 0) this.#sads.delete(id);
    return { ok: true, remaining: s.left.size };
  }
  async extendSad(oldId: string, newId: string, caller: { subject: string; clientId: string }, credentialId: string, exp: number, now: number): Promise<ConsumeResult> {
    const t = this.#sads.get(oldId);
    if (!t || t.exp <= now) return { ok: false, reason: 'unknown' };
    const s = t.v;
    if (s.exp <= now) return { ok: false, reason: 'expired' };
    if (s.subject !== caller.subject || s.clientId !== caller.clientId) return { ok: false, reason: 'subject' };
    if (s.credentialId !== credentialId) return { ok: false, reason: 'credential' };
    this.#sads.delete(oldId);
    this.#sads.set(newId, { v: { ...s, exp, hashes: [...s.left] }, exp: exp + 60_000 });
    return { ok: true, remaining: s.left.size };
  }
  async pinFailure(credentialId: string, lockMs: number) {
    const now = Date.now();
    const t = this.#pins.get(credentialId);
    const n = t && t.exp > now ? t.v + 1 : 1;
    this.#pins.set(credentialId, { v: n, exp: now + lockMs });
    return n;
  }
  async pinFailures(credentialId: string) {
    const t = this.#pins.get(credentialId);
    return t && t.exp > Date.now() ? t.v : 0;
  }
  async pinReset(credentialId: string) { this.#pins.delete(credentialId); }
  async idemBegin(key: string, fp: string, ttlMs: number): Promise<IdempotencyState> {
    const now = Date.now();
    const t = this.#idem.get(key);
    if (!t || t.exp <= now) {
      this.#idem.set(key, { v: { fp }, exp: now + ttlMs });
      return { state: 'new' };
    }
    if (t.v.fp !== fp) return { state: 'conflict' };
    if (t.v.status === undefined) return { state: 'pending' };
    return { state: 'done', status: t.v.status, body: t.v.body! };
  }
  async idemFinish(key: string, fp: string, status: number, body: string, ttlMs: number) {
    this.#idem.set(key, { v: { fp, status, body }, exp: Date.now() + ttlMs });
  }
  async idemAbort(key: string) { this.#idem.delete(key); }
  async rateHit(key: string, windowMs: number) {
    const now = Date.now();
    const k = `${key}:${Math.floor(now / windowMs)}`;
    const t = this.#rate.get(k);
    const n = (t?.v ?? 0) + 1;
    this.#rate.set(k, { v: n, exp: now + windowMs });
    return n;
  }
  async auditAppend(expected: { seq: number; hash: string }, records: StoredAudit[]) {
    const head = await this.auditHead();
    if (head.seq !== expected.seq || head.hash !== expected.hash) return false;
    this.#audit.push(...records);
    return true;
  }
  async auditHead() {
    const last = this.#audit[this.#audit.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : { ...GENESIS };
  }
  async auditRead(afterSeq: number, count: number) {
    return this.#audit.slice(afterSeq, afterSeq + count).map((r) => ({ ...r }));
  }
  async putValue(key: string, value: string, ttlMs: number, onlyIfAbsent = false) {
    const now = Date.now();
    const t = this.#values.get(key);
    if (onlyIfAbsent && t && t.exp > now) return false;
    this.#values.set(key, { v: value, exp: now + ttlMs });
    return true;
  }
  async getValue(key: string) {
    const t = this.#values.get(key);
    return t && t.exp > Date.now() ? t.v : undefined;
  }
  /** Test hook: the raw records (to tamper with in tests). */
  auditRecords(): StoredAudit[] { return this.#audit; }
  async ping() { return true; }
  async close() { clearInterval(this.#sweep); }
}
