/**
 * Contracts between the identity provider's protocol layer (src/provider, services/idp) and its
 * storage / accounts / security layer (src/storage, src/accounts, src/security, src/audit).
 */
import type { Adapter } from 'oidc-provider';

/** Ordered assurance levels: 1 = self-registered + password, 2 = verified in person + second factor. */
export type AssuranceLevel = 1 | 2;

/** Postal address as in the population record (OIDC address claim shape). */
export interface CitizenAddress {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/** A citizen account (no secrets). */
export interface CitizenAccount {
  /** 12-digit personal identification number. */
  id: string;
  name: string;
  /** YYYY-MM-DD */
  birthdate: string;
  gender?: string;
  address?: CitizenAddress;
  phone?: string;
  email?: string;
  level: AssuranceLevel;
  disabled: boolean;
  totpEnabled: boolean;
  /**
   * The active second factor was seeded, set by an administrator or enrolled with an administrator's one-time
   * enrolment code: only then can it yield level 2 (a factor the citizen enrolled alone never does).
   */
  secondFactorAssured: boolean;
  /** Minors (under 14) this account may act for, with the relationship (e.g. "parent"). */
  wards: { id: string; relationship: string }[];
  /** Guardians of this account (set on a minor's account). */
  guardians: { id: string; relationship: string }[];
  createdAt: string;
}

/** Input to create an account (the seed file's user record). */
export interface NewAccount {
  id: string;
  password: string;
  name: string;
  birthdate: string;
  gender?: string;
  address?: CitizenAddress | string;
  phone?: string;
  email?: string;
  level: AssuranceLevel;
  /** Base32 TOTP secret already enrolled (seeded accounts). */
  totp_secret?: string;
}

/** Result of a password check. `reason` is for audit only, never shown to the user verbatim. */
export interface PasswordCheck {
  ok: boolean;
  account?: CitizenAccount;
  reason?: 'unknown-account' | 'bad-password' | 'disabled';
}

/** Accounts, passwords (argon2id) and second factor (TOTP + recovery codes). */
export interface AccountStore {
  create(input: NewAccount): Promise<CitizenAccount>;
  get(id: string): Promise<CitizenAccount | undefined>;
  list(): Promise<CitizenAccount[]>;
  /** argon2id verify (rehash when parameters changed); same work for unknown ids. */
  verifyPassword(id: string, password: string): Promise<PasswordCheck>;
  setPassword(id: string, password: string): Promise<void>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
  setLevel(id: string, level: AssuranceLevel): Promise<void>;
  /** Starts TOTP enrolment: secret, otpauth:// URL and a QR code (SVG markup). Not active until confirmed. */
  beginTotpEnrolment(id: string): Promise<{ secret: string; otpauthUrl: string; qrSvg: string }>;
  /** Confirms enrolment with a first code; returns fresh recovery codes, or null if the code is wrong. */
  confirmTotpEnrolment(id: string, code: string, enrolmentCode?: string): Promise<{ recoveryCodes: string[]; assured: boolean } | null>;
  /** One-time enrolment code that makes the next enrolment count for level 2 (administrator, identity checked). */
  issueEnrolmentCode(id: string, ttlMs?: number): Promise<string>;
  /** Sets the active TOTP secret (>= 128 bits; administrator-enrolled). */
  setTotpSecret(id: string, secret: string, field?: string): Promise<void>;
  /** ±1 time step; each accepted code is usable once (replay → false). */
  verifyTotp(id: string, code: string): Promise<boolean>;
  /** One-time recovery code (consumed on success). */
  useRecoveryCode(id: string, code: string): Promise<boolean>;
  /** Removes the second factor and recovery codes; returns a one-time enrolment code. */
  resetMfa(id: string): Promise<{ enrolmentCode: string }>;
  linkGuardian(guardianId: string, minorId: string, relationship: string): Promise<void>;
  /** Removes a guardian link from both accounts (what was issued under it: see `endGuardianLink`). */
  unlinkGuardian(guardianId: string, minorId: string): Promise<void>;
  /** The relationship when the link stands now and the minor is under 14 today; undefined otherwise. */
  guardianRelationship(guardianId: string, minorId: string): Promise<string | undefined>;
}

/** Rate limiting with exponential backoff that always expires (no permanent lockout). */
export interface RateLimiter {
  /** Whether an attempt under these keys (e.g. `ip:1.2.3.4`, `acct:0123...`) may proceed now. */
  check(keys: string[]): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  recordFailure(keys: string[]): Promise<void>;
  recordSuccess(keys: string[]): Promise<void>;
}

/** Audit event kinds written by the identity provider. */
export type AuditEventType =
  | 'login.success' | 'login.failure' | 'login.rate-limited'
  | 'mfa.success' | 'mfa.failure' | 'mfa.enrolled' | 'mfa.reset' | 'mfa.recovery-used'
  | 'consent.granted' | 'consent.revoked' | 'logout' | 'account.created' | 'account.disabled'
  | 'account.enabled' | 'password.changed' | 'ciba.requested' | 'ciba.approved' | 'ciba.denied'
  /** A guardian chose to act for a minor / tokens were issued while acting / acting was refused (link ended). */
  | 'guardian.acting' | 'guardian.token' | 'guardian.refused'
  /** A guardian link was made or ended; what was issued under it was revoked. */
  | 'guardian.linked' | 'guardian.unlinked' | 'guardian.revoked';

export interface AuditEvent {
  type: AuditEventType;
  accountId?: string;
  clientId?: string;
  ip?: string;
  /** Non-secret details only. */
  detail?: Record<string, string | number | boolean>;
}

/** A stored audit record: append-only and hash-chained. */
export interface AuditRecord extends AuditEvent {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export interface AuditLog {
  append(event: AuditEvent): Promise<AuditRecord>;
  /** Newest last. */
  list(opts?: { accountId?: string; limit?: number }): Promise<AuditRecord[]>;
  /** Recomputes the chain; false if any record was altered or removed. */
  verifyChain(): Promise<boolean>;
}

/** Redis connection settings: standalone URL, Sentinel, or Cluster. */
export interface RedisConfig {
  url?: string;
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
  cluster?: { host: string; port: number }[];
  keyPrefix?: string;
  /** AUTH username (ACL) for Sentinel/Cluster nodes; standalone URLs carry their own credentials. */
  username?: string;
  /** AUTH password for Sentinel/Cluster nodes (also used for the Sentinels themselves). */
  password?: string;
  /** Use TLS to the data nodes (standalone: use a rediss:// URL instead). */
  tls?: boolean;
}

/**
 * Small per-account collections the pages keep (remembered consents, login sessions, the CIBA inbox): one hash
 * per account and collection, one field per member. Every change is a single atomic command, so logins or
 * requests handled at the same moment by several processes never lose each other's entries.
 */
export interface AccountLists {
  /** Adds or replaces `member` with `value`. */
  put(list: string, accountId: string, member: string, value: string): Promise<void>;
  /** Removes members (absent ones are ignored). */
  remove(list: string, accountId: string, members: string[]): Promise<void>;
  /** Every member and its value (empty object when none). */
  all(list: string, accountId: string): Promise<Record<string, string>>;
}

/**
 * Change notices between the processes sharing a store (Redis pub/sub; in memory, between the users of one
 * storage object): e.g. "the key set changed", so every process re-reads it at once instead of at its next poll.
 * Best effort: a missed notice is caught up by polling.
 */
export interface ChangeNotices {
  /** Tells every watcher of `topic` (in every process) that it changed; `detail` says what (e.g. a key). */
  announce(topic: string, detail?: string): Promise<void>;
  /**
   * Calls `fn` on every notice of `topic`, with the announcer's detail; resolves once watching, to a function
   * that stops it. `fn` is also called with no detail after notices may have been missed (the subscription
   * was interrupted and is back): watchers then treat everything as changed.
   */
  watch(topic: string, fn: (detail?: string) => void): Promise<() => Promise<void>>;
  /** false while notices could be missed (subscription not connected). Absent: always live. */
  isLive?(): boolean;
}

/** Everything the identity provider stores, behind one object. */
export interface IdpStorage {
  kind: 'memory' | 'redis';
  /** oidc-provider adapter class (consume() is atomic). */
  Adapter: new (name: string) => Adapter;
  accounts: AccountStore;
  rateLimiter: RateLimiter;
  audit: AuditLog;
  lists: AccountLists;
  notices: ChangeNotices;
  close(): Promise<void>;
}

/*
 * Exported from src/index.ts by the storage layer:
 *   createStorage(opts?: { redis?: RedisConfig | string }): Promise<IdpStorage>
 *     no redis → in-memory (embedded default); redis → ioredis standalone / Sentinel / Cluster.
 */
