/**
 * The citizen account store: profile, argon2id password, TOTP second factor with recovery codes, guardians.
 * Records are hashes (one per account, `acct:{<id>}`) in a {@link HashKV}, so each update is a single atomic
 * operation on one key — in memory or in Redis (standalone, Sentinel or Cluster).
 */
import { randomBytes } from 'node:crypto';
import type { AccountStore, ChangeNotices, AssuranceLevel, CitizenAccount, CitizenAddress, NewAccount, PasswordCheck } from '../contracts.js';
import { IdpError } from '../storage/errors.js';
import type { HashKV } from '../storage/kv.js';
import { ACCOUNT_RECORD_NOTICE, RecentRecords } from '../storage/recent-records.js';
import { ageOn, assertPersonalNumber, parseBirthdate } from './personal-number.js';
import { PasswordHasher, assertPasswordPolicy, DEFAULT_ARGON2, type Argon2Params } from './passwords.js';
import type { SecretBox } from './secret-box.js';
import { matchTotp, newTotpSecret, normaliseBase32, qrSvg, totpSecretProblem, totpUri } from './totp.js';

/** Age under which an account is a minor that a guardian may act for. */
export const MINOR_AGE = 14;
/** Minimum age of a guardian. */
export const GUARDIAN_MIN_AGE = 18;
/** How long an administrator's enrolment code stays valid (7 days). */
export const ENROLMENT_CODE_TTL_MS = 7 * 24 * 3600_000;
/** Number of recovery codes issued at TOTP enrolment. */
export const RECOVERY_CODE_COUNT = 10;

/** Options of {@link KvAccountStore}. */
export interface AccountStoreOptions {
  kv: HashKV;
  box: SecretBox;
  /** argon2id parameters (default {@link DEFAULT_ARGON2}). */
  argon2?: Argon2Params;
  /** Issuer shown in authenticator apps (default "kyso"). */
  totpIssuer?: string;
  /** Clock (ms), for tests. */
  now?: () => number;
  /** Key prefix (default ""). */
  prefix?: string;
  /**
   * Notices between the processes sharing `kv`: every write is announced (topic `account-record`), and the
   * copies kept by {@link KvAccountStore.getRecent} are dropped when another process announces a write, instead
   * of living out their age.
   */
  notices?: ChangeNotices;
}

export { ACCOUNT_RECORD_NOTICE };

const F = {
  profile: 'profile',
  level: 'level',
  disabled: 'disabled',
  password: 'pw',
  totp: 'totp',
  totpPending: 'totpPending',
  totpStep: 'totpStep',
  /** Who enrolled the active second factor: `admin` (seed, administrator, or with an enrolment code) or `self`. */
  totpBy: 'totpBy',
  /** One-time enrolment codes (MAC → expiry ms) given by an administrator after checking the identity in person. */
  enrolPrefix: 'enrol:',
  recoveryPrefix: 'rc:',
  wardPrefix: 'ward:',
  guardianPrefix: 'guardian:',
} as const;

interface Profile {
  name: string;
  birthdate: string;
  gender?: string;
  address?: CitizenAddress;
  phone?: string;
  email?: string;
  createdAt: string;
}

const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O/1/I

/** Recovery code: 10 characters from a 32-letter alphabet (50 bits), shown as XXXXX-XXXXX. */
function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let s = '';
  for (const b of bytes) s += RECOVERY_ALPHABET[b & 31];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

function normaliseRecoveryCode(code: string): string {
  return typeof code === 'string' ? code.toUpperCase().replace(/[\s-]+/g, '') : '';
}

function cleanText(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new IdpError('ACCOUNT_INVALID', `${field} must be a string`);
  const t = v.normalize('NFC').trim();
  if (t.length > max) throw new IdpError('ACCOUNT_INVALID', `${field} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) throw new IdpError('ACCOUNT_INVALID', `${field} contains control characters`);
  return t;
}

function cleanAddress(a: CitizenAddress | string | undefined): CitizenAddress | undefined {
  if (a === undefined || a === null) return undefined;
  if (typeof a === 'string') {
    const formatted = cleanText(a, 'address', 500);
    return formatted ? { formatted } : undefined;
  }
  if (typeof a !== 'object') throw new IdpError('ACCOUNT_INVALID', 'address must be a string or an object');
  const out: CitizenAddress = {};
  for (const k of ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'] as const) {
    const v = cleanText(a[k], `address.${k}`, 500);
    if (v) out[k] = v;
  }
  return out;
}

function assertLevel(level: unknown): asserts level is AssuranceLevel {
  if (level !== 1 && level !== 2) throw new IdpError('ACCOUNT_INVALID', 'level must be 1 or 2');
}

/**
 * The same HashKV, calling `onWrite(key)` before and after every write (before: readers stop trusting copies),
 * then `announce(key)` (best effort: a lost notice only lets other processes' copies live out their age).
 */
function withWriteHook(kv: HashKV, onWrite: (key: string) => void, announce?: (key: string) => Promise<void>): HashKV {
  const wrap = <A extends unknown[], R>(fn: (key: string, ...a: A) => Promise<R>) => async (key: string, ...a: A): Promise<R> => {
    onWrite(key);
    try { return await fn.call(kv, key, ...a); } finally {
      onWrite(key);
      if (announce) await announce(key).catch(() => undefined);
    }
  };
  return {
    hgetall: (k) => kv.hgetall(k),
    hgetallMany: (ks) => kv.hgetallMany(ks),
    smembers: (k) => kv.smembers(k),
    sadd: (k, m) => kv.sadd(k, m),
    hset: wrap(kv.hset),
    hdel: wrap(kv.hdel),
    hsetIfExists: wrap(kv.hsetIfExists),
    createHash: wrap(kv.createHash),
    advanceCounter: wrap(kv.advanceCounter),
    hdelPrefix: wrap(kv.hdelPrefix),
  };
}

/** {@link AccountStore} over a {@link HashKV}. */
export class KvAccountStore implements AccountStore {
  private readonly kv: HashKV;
  private readonly box: SecretBox;
  readonly hasher: PasswordHasher;
  private readonly issuer: string;
  private readonly now: () => number;
  private readonly prefix: string;

  /** Short-lived copies for {@link getRecent}, by record key; dropped by every write through this store. */
  private readonly recent: RecentRecords<CitizenAccount>;

  constructor(opts: AccountStoreOptions) {
    // without notices the store is taken as this process's own (memory): copies are dropped by its writes only
    this.recent = new RecentRecords<CitizenAccount>({ topic: ACCOUNT_RECORD_NOTICE, maxAgeMs: 2000, ...(opts.notices ? { notices: opts.notices } : { processLocal: true }) });
    this.kv = withWriteHook(opts.kv, (key) => this.recent.drop(key), opts.notices ? (key) => this.recent.announce(key) : undefined);
    this.box = opts.box;
    this.hasher = new PasswordHasher(opts.argon2 ?? DEFAULT_ARGON2);
    this.issuer = opts.totpIssuer ?? 'kyso';
    this.now = opts.now ?? Date.now;
    this.prefix = opts.prefix ?? '';
  }

  private key(id: string): string {
    return `${this.prefix}acct:{${id}}`;
  }
  private get indexKey(): string {
    return `${this.prefix}accounts`;
  }

  private toAccount(id: string, h: Record<string, string>): CitizenAccount {
    let p: Profile;
    try {
      p = JSON.parse(h[F.profile] ?? '') as Profile;
    } catch (err) {
      throw new IdpError('IDP_STORAGE_CORRUPT', `account ${id}: stored profile is not JSON`, { cause: err });
    }
    const wards: CitizenAccount['wards'] = [];
    const guardians: CitizenAccount['guardians'] = [];
    for (const [f, v] of Object.entries(h)) {
      if (f.startsWith(F.wardPrefix)) wards.push({ id: f.slice(F.wardPrefix.length), relationship: v });
      else if (f.startsWith(F.guardianPrefix)) guardians.push({ id: f.slice(F.guardianPrefix.length), relationship: v });
    }
    wards.sort((a, b) => a.id.localeCompare(b.id));
    guardians.sort((a, b) => a.id.localeCompare(b.id));
    const acct: CitizenAccount = {
      id,
      name: p.name,
      birthdate: p.birthdate,
      level: (h[F.level] === '2' ? 2 : 1) as AssuranceLevel,
      disabled: h[F.disabled] === '1',
      totpEnabled: typeof h[F.totp] === 'string' && h[F.totp] !== '',
      // records written before `totpBy` existed were seeded or administrator-enrolled
      secondFactorAssured: typeof h[F.totp] === 'string' && h[F.totp] !== '' && h[F.totpBy] !== 'self',
      wards,
      guardians,
      createdAt: p.createdAt,
    };
    if (p.gender !== undefined) acct.gender = p.gender;
    if (p.address !== undefined) acct.address = p.address;
    if (p.phone !== undefined) acct.phone = p.phone;
    if (p.email !== undefined) acct.email = p.email;
    return acct;
  }

  private async record(id: string): Promise<Record<string, string> | undefined> {
    if (typeof id !== 'string' || !/^[0-9]{12}$/.test(id)) return undefined;
    return this.kv.hgetall(this.key(id));
  }

  private async mustRecord(id: string): Promise<Record<string, string>> {
    const r = await this.record(id);
    if (!r) throw new IdpError('ACCOUNT_NOT_FOUND', `no account with personal number ${typeof id === 'string' && /^[0-9]{12}$/.test(id) ? id : '(malformed)'}`);
    return r;
  }

  /** Creates an account; ACCOUNT_EXISTS when the personal number is taken. */
  async create(input: NewAccount): Promise<CitizenAccount> {
    if (!input || typeof input !== 'object') throw new IdpError('ACCOUNT_INVALID', 'account must be an object');
    const name = cleanText(input.name, 'name', 200);
    if (!name) throw new IdpError('ACCOUNT_INVALID', 'name is required');
    if (typeof input.birthdate !== 'string' || !parseBirthdate(input.birthdate)) {
      throw new IdpError('ACCOUNT_INVALID', 'birthdate must be a real date as YYYY-MM-DD');
    }
    if (input.birthdate < '1900-01-01' || ageOn(input.birthdate, new Date(this.now())) < 0) {
      throw new IdpError('ACCOUNT_INVALID', 'birthdate must be between 1900-01-01 and today');
    }
    const gender = cleanText(input.gender, 'gender', 32);
    assertPersonalNumber(input.id, { birthdate: input.birthdate, ...(gender ? { gender } : {}) });
    assertLevel(input.level);
    assertPasswordPolicy(input.password);
    const email = cleanText(input.email, 'email', 254);
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new IdpError('ACCOUNT_INVALID', 'email is not an address');
    const phone = cleanText(input.phone, 'phone', 32);
    if (phone && !/^\+?[0-9 ()-]{6,31}$/.test(phone)) throw new IdpError('ACCOUNT_INVALID', 'phone must contain digits only (optionally +, spaces, dashes)');
    let totpSealed: string | undefined;
    if (input.totp_secret !== undefined) {
      const problem = totpSecretProblem(input.totp_secret);
      if (problem) throw new IdpError('ACCOUNT_INVALID', `totp_secret ${problem}`);
      totpSealed = this.box.seal(normaliseBase32(input.totp_secret), `${input.id}|${F.totp}`);
    }
    const profile: Profile = { name, birthdate: input.birthdate, createdAt: new Date(this.now()).toISOString() };
    if (gender) profile.gender = gender;
    const address = cleanAddress(input.address);
    if (address) profile.address = address;
    if (phone) profile.phone = phone;
    if (email) profile.email = email;
    const fields: Record<string, string> = {
      [F.profile]: JSON.stringify(profile),
      [F.level]: String(input.level),
      [F.disabled]: '0',
      [F.password]: await this.hasher.hash(input.password),
    };
    if (totpSealed) { fields[F.totp] = totpSealed; fields[F.totpBy] = 'admin'; }
    const created = await this.kv.createHash(this.key(input.id), fields);
    if (!created) throw new IdpError('ACCOUNT_EXISTS', `an account with personal number ${input.id} already exists`);
    await this.kv.sadd(this.indexKey, input.id);
    return this.toAccount(input.id, fields);
  }

  async get(id: string): Promise<CitizenAccount | undefined> {
    const r = await this.record(id);
    return r ? this.toAccount(id, r) : undefined;
  }

  /**
   * Like {@link get}, but may answer from an in-process copy at most `maxAgeMs` old (default 1 s, capped at 2 s),
   * for the token/userinfo hot path. Every write through this store drops the copy at once; a change made by
   * another process (e.g. `kyso idp user disable` against Redis) drops it as soon as its notice arrives (stores
   * with `notices`), and in any case within `maxAgeMs`. Missing accounts are never cached. The returned object is
   * shared: treat it as read-only.
   */
  async getRecent(id: string, maxAgeMs = 1000): Promise<CitizenAccount | undefined> {
    const key = this.key(id);
    const ttl = Math.min(Math.max(maxAgeMs, 0), 2000);
    const hit = ttl > 0 ? this.recent.get(key, ttl) : undefined;
    if (hit) return hit;
    const started = this.recent.begin();
    const acct = await this.get(id);
    if (!acct) { this.recent.forget(key); return undefined; }
    // not kept if a write (here or announced by another process) ran while we read
    if (ttl > 0) this.recent.keep(key, started, acct);
    return acct;
  }

  /** Stops watching other processes' writes (the storage's close() calls it). */
  async close(): Promise<void> {
    await this.recent.close();
  }

  /** All accounts, sorted by personal number. */
  async list(): Promise<CitizenAccount[]> {
    const ids = (await this.kv.smembers(this.indexKey)).sort();
    const recs = await this.kv.hgetallMany(ids.map((id) => this.key(id)));
    const out: CitizenAccount[] = [];
    ids.forEach((id, i) => {
      const r = recs[i];
      if (r) out.push(this.toAccount(id, r));
    });
    return out;
  }

  /**
   * argon2id verification. Unknown ids cost one dummy verification; a disabled account is only reported as
   * such after a correct password (so guessers learn nothing). Rehashes when the parameters changed.
   */
  async verifyPassword(id: string, password: string): Promise<PasswordCheck> {
    const r = await this.record(id);
    if (!r || !r[F.password]) {
      await this.hasher.verifyDummy(password);
      return { ok: false, reason: 'unknown-account' };
    }
    const stored = r[F.password]!;
    if (!(await this.hasher.verify(stored, password))) return { ok: false, reason: 'bad-password' };
    if (r[F.disabled] === '1') return { ok: false, reason: 'disabled' };
    if (this.hasher.needsRehash(stored)) {
      await this.kv.hsetIfExists(this.key(id), { [F.password]: await this.hasher.hash(password) });
    }
    return { ok: true, account: this.toAccount(id, r) };
  }

  async setPassword(id: string, password: string): Promise<void> {
    assertPasswordPolicy(password);
    await this.mustRecord(id);
    await this.kv.hsetIfExists(this.key(id), { [F.password]: await this.hasher.hash(password) });
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.mustRecord(id);
    await this.kv.hsetIfExists(this.key(id), { [F.disabled]: disabled ? '1' : '0' });
  }

  async setLevel(id: string, level: AssuranceLevel): Promise<void> {
    assertLevel(level);
    await this.mustRecord(id);
    await this.kv.hsetIfExists(this.key(id), { [F.level]: String(level) });
  }

  /**
   * Changes contact and profile fields (name, gender, address, phone, email). The personal number and birth date
   * are fixed (they come from the population record); `undefined` leaves a field as is, `null` clears it.
   */
  async updateProfile(id: string, patch: { name?: string; gender?: string | null; address?: CitizenAddress | string | null; phone?: string | null; email?: string | null }): Promise<CitizenAccount> {
    const r = await this.mustRecord(id);
    const p = JSON.parse(r[F.profile]!) as Profile;
    if (patch.name !== undefined) {
      const name = cleanText(patch.name, 'name', 200);
      if (!name) throw new IdpError('ACCOUNT_INVALID', 'name is required');
      p.name = name;
    }
    if (patch.gender !== undefined) {
      const gender = patch.gender === null ? undefined : cleanText(patch.gender, 'gender', 32);
      if (gender) assertPersonalNumber(id, { gender }); else delete p.gender;
      if (gender) p.gender = gender;
    }
    if (patch.address !== undefined) {
      const a = patch.address === null ? undefined : cleanAddress(patch.address);
      if (a) p.address = a; else delete p.address;
    }
    if (patch.phone !== undefined) {
      const phone = patch.phone === null ? undefined : cleanText(patch.phone, 'phone', 32);
      if (phone && !/^\+?[0-9 ()-]{6,31}$/.test(phone)) throw new IdpError('ACCOUNT_INVALID', 'phone must contain digits only (optionally +, spaces, dashes)');
      if (phone) p.phone = phone; else delete p.phone;
    }
    if (patch.email !== undefined) {
      const email = patch.email === null ? undefined : cleanText(patch.email, 'email', 254);
      if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new IdpError('ACCOUNT_INVALID', 'email is not an address');
      if (email) p.email = email; else delete p.email;
    }
    await this.kv.hsetIfExists(this.key(id), { [F.profile]: JSON.stringify(p) });
    return this.toAccount(id, { ...r, [F.profile]: JSON.stringify(p) });
  }

  /** Starts (or restarts) enrolment with a new secret; the active factor, if any, stays until confirmation. */
  async beginTotpEnrolment(id: string): Promise<{ secret: string; otpauthUrl: string; qrSvg: string }> {
    await this.mustRecord(id);
    const secret = newTotpSecret();
    await this.kv.hsetIfExists(this.key(id), { [F.totpPending]: this.box.seal(secret, `${id}|${F.totpPending}`) });
    const otpauthUrl = totpUri(this.issuer, id, secret);
    return { secret, otpauthUrl, qrSvg: await qrSvg(otpauthUrl) };
  }

  /**
   * Activates the pending secret when `code` matches it; replaces recovery codes. With a valid administrator's
   * `enrolmentCode` (consumed) the factor counts for level 2 (`secondFactorAssured`); without one it is the
   * citizen's own (`self`) and never yields level 2. ENROLMENT_CODE_INVALID when a code is given but is wrong,
   * used or expired (nothing changes then).
   */
  async confirmTotpEnrolment(id: string, code: string, enrolmentCode?: string): Promise<{ recoveryCodes: string[]; assured: boolean } | null> {
    const r = await this.mustRecord(id);
    const pending = r[F.totpPending];
    if (!pending) throw new IdpError('TOTP_NOT_ENROLLED', `no TOTP enrolment in progress for account ${id}`);
    const secret = this.box.open(pending, `${id}|${F.totpPending}`);
    const step = await matchTotp(secret, code, this.now());
    if (step === undefined) return null;
    let assured = false;
    if (enrolmentCode !== undefined && enrolmentCode !== '') {
      if (!(await this.useEnrolmentCode(id, enrolmentCode))) throw new IdpError('ENROLMENT_CODE_INVALID', `the enrolment code for account ${id} is wrong, used or expired: ask an administrator for a new one`);
      assured = true;
    }
    if (!(await this.kv.advanceCounter(this.key(id), F.totpStep, step))) return null;
    // taking the pending secret is the lock: of two concurrent confirmations only one proceeds
    if ((await this.kv.hdel(this.key(id), [F.totpPending])) !== 1) return null;
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.kv.hdelPrefix(this.key(id), F.recoveryPrefix);
    const fields: Record<string, string> = { [F.totp]: this.box.seal(secret, `${id}|${F.totp}`), [F.totpBy]: assured ? 'admin' : 'self' };
    for (const c of codes) fields[F.recoveryPrefix + this.box.mac(normaliseRecoveryCode(c), `rc|${id}`)] = '1';
    if (!(await this.kv.hsetIfExists(this.key(id), fields))) return null;
    return { recoveryCodes: codes, assured };
  }

  /**
   * Issues a one-time enrolment code (administrator, after checking the citizen's identity in person): the
   * citizen enters it on the account page with the first TOTP code, and the factor then counts for level 2.
   * Earlier unused codes of the account are withdrawn. Shown once; only its MAC is stored.
   */
  async issueEnrolmentCode(id: string, ttlMs = ENROLMENT_CODE_TTL_MS): Promise<string> {
    await this.mustRecord(id);
    const code = `${newRecoveryCode()}-${newRecoveryCode().slice(0, 5)}`;
    await this.kv.hdelPrefix(this.key(id), F.enrolPrefix);
    await this.kv.hsetIfExists(this.key(id), { [F.enrolPrefix + this.box.mac(normaliseRecoveryCode(code), `enrol|${id}`)]: String(this.now() + ttlMs) });
    return code;
  }

  /** Consumes an enrolment code (atomic field removal: each code works once); false when wrong or expired. */
  private async useEnrolmentCode(id: string, code: string): Promise<boolean> {
    const norm = normaliseRecoveryCode(code);
    if (!/^[A-Z0-9]{15}$/.test(norm)) return false;
    const r = await this.record(id);
    if (!r) return false;
    const fields = this.box.macs(norm, `enrol|${id}`).map((m) => F.enrolPrefix + m);
    const live = fields.find((f) => r[f] !== undefined && Number(r[f]) > this.now());
    if (!live) return false;
    return (await this.kv.hdel(this.key(id), [live])) === 1;
  }

  /**
   * Sets the active TOTP secret (administrator or demo): at least 128 bits, counted as administrator-enrolled.
   * Removes a pending enrolment and the recovery codes. TOTP_SECRET_INVALID names the problem.
   */
  async setTotpSecret(id: string, secret: string, field = 'totp_secret'): Promise<void> {
    const problem = totpSecretProblem(secret);
    if (problem) throw new IdpError('TOTP_SECRET_INVALID', `${field} ${problem}`);
    await this.mustRecord(id);
    await this.kv.hdel(this.key(id), [F.totpPending]);
    await this.kv.hdelPrefix(this.key(id), F.recoveryPrefix);
    await this.kv.hsetIfExists(this.key(id), { [F.totp]: this.box.seal(normaliseBase32(secret), `${id}|${F.totp}`), [F.totpBy]: 'admin' });
  }

  /** ±1 step; the time step of an accepted code must be newer than the last accepted one (atomic). */
  async verifyTotp(id: string, code: string): Promise<boolean> {
    const r = await this.record(id);
    const sealed = r?.[F.totp];
    if (!r || !sealed || r[F.disabled] === '1') return false;
    const secret = this.box.open(sealed, `${id}|${F.totp}`);
    const step = await matchTotp(secret, code, this.now());
    if (step === undefined) return false;
    const ok = await this.kv.advanceCounter(this.key(id), F.totpStep, step);
    if (ok && this.box.isStale(sealed)) {
      // key rotation: re-seal with the current key
      await this.kv.hsetIfExists(this.key(id), { [F.totp]: this.box.seal(secret, `${id}|${F.totp}`) });
    }
    return ok;
  }

  /** Consumes a recovery code (atomic field removal, so each code works once). */
  async useRecoveryCode(id: string, code: string): Promise<boolean> {
    const norm = normaliseRecoveryCode(code);
    if (!/^[A-Z0-9]{10}$/.test(norm)) return false;
    const r = await this.record(id);
    if (!r || r[F.disabled] === '1') return false;
    // under the current key or, after a key rotation, an older one
    return (await this.kv.hdel(this.key(id), this.box.macs(norm, `rc|${id}`).map((m) => F.recoveryPrefix + m))) >= 1;
  }

  /**
   * Removes the second factor and all recovery codes; returns a one-time enrolment code ({@link issueEnrolmentCode})
   * with which the citizen enrols again at level 2.
   */
  async resetMfa(id: string): Promise<{ enrolmentCode: string }> {
    await this.mustRecord(id);
    await this.kv.hdel(this.key(id), [F.totp, F.totpPending, F.totpBy]);
    await this.kv.hdelPrefix(this.key(id), F.recoveryPrefix);
    return { enrolmentCode: await this.issueEnrolmentCode(id) };
  }

  /** Number of unused recovery codes. */
  async recoveryCodesLeft(id: string): Promise<number> {
    const r = await this.mustRecord(id);
    return Object.keys(r).filter((f) => f.startsWith(F.recoveryPrefix)).length;
  }

  /**
   * Links a guardian (adult, at least 18) to a minor (under 14 today). The relationship (e.g. "parent",
   * "cha", "mẹ", "legal guardian") is shown in both accounts.
   */
  async linkGuardian(guardianId: string, minorId: string, relationship: string): Promise<void> {
    const rel = cleanText(relationship, 'relationship', 64);
    if (!rel) throw new IdpError('GUARDIAN_INVALID', 'relationship is required');
    if (guardianId === minorId) throw new IdpError('GUARDIAN_INVALID', 'an account cannot be its own guardian');
    const g = this.toAccount(guardianId, await this.mustRecord(guardianId));
    const m = this.toAccount(minorId, await this.mustRecord(minorId));
    const today = new Date(this.now());
    if (ageOn(m.birthdate, today) >= MINOR_AGE) throw new IdpError('GUARDIAN_INVALID', `account ${minorId} is not a minor under ${MINOR_AGE}`);
    if (ageOn(g.birthdate, today) < GUARDIAN_MIN_AGE) throw new IdpError('GUARDIAN_INVALID', `guardian ${guardianId} is younger than ${GUARDIAN_MIN_AGE}`);
    await this.kv.hsetIfExists(this.key(guardianId), { [F.wardPrefix + minorId]: rel });
    await this.kv.hsetIfExists(this.key(minorId), { [F.guardianPrefix + guardianId]: rel });
  }

  /** Removes a guardian link from both accounts. */
  async unlinkGuardian(guardianId: string, minorId: string): Promise<void> {
    await this.kv.hdel(this.key(guardianId), [F.wardPrefix + minorId]);
    await this.kv.hdel(this.key(minorId), [F.guardianPrefix + guardianId]);
  }

  /**
   * Whether `guardianId` may act for `minorId` now: linked, and the minor still under 14 (the link lapses by
   * itself on the 14th birthday). Returns the relationship, or undefined.
   */
  async guardianRelationship(guardianId: string, minorId: string): Promise<string | undefined> {
    const m = await this.record(minorId);
    const rel = m?.[F.guardianPrefix + guardianId];
    if (!m || !rel) return undefined;
    const acct = this.toAccount(minorId, m);
    return ageOn(acct.birthdate, new Date(this.now())) < MINOR_AGE ? rel : undefined;
  }
}
