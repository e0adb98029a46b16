/**
 * kyso's own records kept through the storage adapter (so they live in Redis in multi-process mode):
 * interaction progress, remembered consents, guardian actors of grants, CIBA approvals; and the per-account
 * lists of consents, sessions and waiting approvals (storage `lists`: atomic per member).
 */
import type { Adapter } from 'oidc-provider';
import type { AccountLists, IdpStorage } from '../contracts.js';

/** Progress of one login interaction (between the password and the TOTP step). */
export interface InteractionProgress {
  accountId: string;
  pwd: boolean;
  otp: boolean;
  /** When set, the guardian (accountId) acts for this minor. */
  actingFor?: string;
}

/** A consent remembered for (account, client). */
export interface ConsentRecord {
  clientId: string;
  grantId: string;
  scope: string;
  grantedAt: number;
}

/** A guardian acting for a minor under a grant. */
export interface ActorRecord {
  guardianId: string;
  relationship: string;
  /** The minor (the grant's account); absent in records written before it was kept. */
  minorId?: string;
}

/** A consent a guardian gave on a minor's behalf: its own record, never the minor's own consent. */
export interface GuardianConsentRecord extends ConsentRecord {
  minorId: string;
}

/** A login session of an account, as listed on the account page. */
export interface SessionEntry {
  uid: string;
  loginTs?: number;
  acr?: string;
  clients: string[];
  lastSeen: number;
}

/** A CIBA request waiting for the citizen's approval on the phone. */
export interface CibaApproval {
  authReqId: string;
  accountId: string;
  clientId: string;
  bindingMessage?: string;
  scope: string;
  /** The requesting service's page with the details (from the deployment's notifier), linked from the approval page. */
  detailsUrl?: string;
  /** Level the request asked for (`acr_values` / essential acr claim): 2 means password + TOTP on the phone. */
  level?: number;
}

type Payload = Record<string, unknown>;

const LIST_CONSENTS = 'consents';
const LIST_SESSIONS = 'sessions';
const LIST_CIBA = 'ciba';
/** Per guardian: consents given on minors' behalf (`minor|client` → grantedAt). */
const LIST_GUARDIAN_CONSENTS = 'guardian-consents';
/** Per guardian: grants given while acting (`grantId` → minor) and sessions acting (`uid` → minor), for revocation. */
const LIST_ACTING_GRANTS = 'acting-grants';
const LIST_ACTING_SESSIONS = 'acting-sessions';
/** How many sessions / waiting approvals an account lists. */
const MAX_LISTED = 20;

/** Typed access to kyso's adapter-backed records. */
export class Records {
  private readonly progress: Adapter;
  private readonly consent: Adapter;
  private readonly actor: Adapter;
  private readonly ciba: Adapter;
  private readonly acting: Adapter;
  private readonly lists: AccountLists;
  readonly keySet: Adapter;

  constructor(storage: IdpStorage) {
    this.progress = new storage.Adapter('KysoInteractionProgress');
    this.consent = new storage.Adapter('KysoConsent');
    this.actor = new storage.Adapter('KysoGrantActor');
    this.ciba = new storage.Adapter('KysoCibaApproval');
    this.acting = new storage.Adapter('KysoActing');
    this.lists = storage.lists;
    this.keySet = new storage.Adapter('KysoKeySet');
    this.sessionFactor = new storage.Adapter('KysoSessionFactor');
  }

  private readonly sessionFactor: Adapter;

  /** Marks a session in which a second factor was enrolled or replaced: it cannot step up with it. */
  async markFactorChanged(sessionUid: string, ttl: number): Promise<void> {
    await this.sessionFactor.upsert(sessionUid, { at: Date.now() }, Math.max(ttl, 1));
  }
  async factorChangedIn(sessionUid: string): Promise<boolean> {
    return !!(await this.sessionFactor.find(sessionUid));
  }

  async getProgress(uid: string): Promise<InteractionProgress | undefined> {
    return (await this.progress.find(uid)) as InteractionProgress | undefined;
  }
  async setProgress(uid: string, p: InteractionProgress, ttl: number): Promise<void> {
    await this.progress.upsert(uid, p as unknown as Payload, Math.max(ttl, 1));
  }
  async clearProgress(uid: string): Promise<void> {
    await this.progress.destroy(uid);
  }

  async getConsent(accountId: string, clientId: string): Promise<ConsentRecord | undefined> {
    return (await this.consent.find(`${accountId}|${clientId}`)) as ConsentRecord | undefined;
  }
  /** Remembered consents of an account (entries whose consent expired are dropped from the list). */
  async listConsents(accountId: string): Promise<ConsentRecord[]> {
    const clients = Object.keys(await this.lists.all(LIST_CONSENTS, accountId));
    const recs = await Promise.all(clients.map((c) => this.getConsent(accountId, c)));
    const dead = clients.filter((_, i) => !recs[i]);
    if (dead.length) await this.lists.remove(LIST_CONSENTS, accountId, dead);
    return recs.filter((r): r is ConsentRecord => !!r);
  }
  async putConsent(accountId: string, rec: ConsentRecord, ttl: number): Promise<void> {
    await this.consent.upsert(`${accountId}|${rec.clientId}`, rec as unknown as Payload, ttl);
    await this.lists.put(LIST_CONSENTS, accountId, rec.clientId, String(rec.grantedAt));
  }
  async deleteConsent(accountId: string, clientId: string): Promise<ConsentRecord | undefined> {
    const rec = await this.getConsent(accountId, clientId);
    await this.consent.destroy(`${accountId}|${clientId}`);
    await this.lists.remove(LIST_CONSENTS, accountId, [clientId]);
    return rec;
  }

  async getActor(grantId: string): Promise<ActorRecord | undefined> {
    return (await this.actor.find(grantId)) as ActorRecord | undefined;
  }
  /** Records the guardian of a grant, indexed under the guardian (so ending the link finds the grant). */
  async putActor(grantId: string, rec: ActorRecord, ttl: number): Promise<void> {
    await this.actor.upsert(grantId, rec as unknown as Payload, ttl);
    await this.lists.put(LIST_ACTING_GRANTS, rec.guardianId, grantId, rec.minorId ?? '');
  }
  async deleteActor(grantId: string): Promise<void> {
    await this.actor.destroy(grantId);
  }
  /** Grants given by a guardian while acting: grantId → minor. */
  async actingGrants(guardianId: string): Promise<Record<string, string>> {
    return this.lists.all(LIST_ACTING_GRANTS, guardianId);
  }
  async dropActingGrants(guardianId: string, grantIds: string[]): Promise<void> {
    if (grantIds.length) await this.lists.remove(LIST_ACTING_GRANTS, guardianId, grantIds);
  }

  /** Consent a guardian gave for a minor at a service (never the minor's own). */
  async getGuardianConsent(guardianId: string, minorId: string, clientId: string): Promise<GuardianConsentRecord | undefined> {
    return (await this.consent.find(`g|${guardianId}|${minorId}|${clientId}`)) as GuardianConsentRecord | undefined;
  }
  async putGuardianConsent(guardianId: string, rec: GuardianConsentRecord, ttl: number): Promise<void> {
    await this.consent.upsert(`g|${guardianId}|${rec.minorId}|${rec.clientId}`, rec as unknown as Payload, ttl);
    await this.lists.put(LIST_GUARDIAN_CONSENTS, guardianId, `${rec.minorId}|${rec.clientId}`, String(rec.grantedAt));
  }
  async deleteGuardianConsent(guardianId: string, minorId: string, clientId: string): Promise<GuardianConsentRecord | undefined> {
    const rec = await this.getGuardianConsent(guardianId, minorId, clientId);
    await this.consent.destroy(`g|${guardianId}|${minorId}|${clientId}`);
    await this.lists.remove(LIST_GUARDIAN_CONSENTS, guardianId, [`${minorId}|${clientId}`]);
    return rec;
  }
  /** Consents a guardian gave on minors' behalf (expired ones dropped from the list). */
  async listGuardianConsents(guardianId: string): Promise<GuardianConsentRecord[]> {
    const members = Object.keys(await this.lists.all(LIST_GUARDIAN_CONSENTS, guardianId));
    const recs = await Promise.all(members.map((m) => { const [minor, client] = m.split('|') as [string, string]; return this.getGuardianConsent(guardianId, minor, client); }));
    const dead = members.filter((_, i) => !recs[i]);
    if (dead.length) await this.lists.remove(LIST_GUARDIAN_CONSENTS, guardianId, dead);
    return recs.filter((r): r is GuardianConsentRecord => !!r);
  }

  /** Sessions in which a guardian acts for a minor: uid → minor. */
  async actingSessions(guardianId: string): Promise<Record<string, string>> {
    return this.lists.all(LIST_ACTING_SESSIONS, guardianId);
  }
  async dropActingSessions(guardianId: string, uids: string[]): Promise<void> {
    if (uids.length) await this.lists.remove(LIST_ACTING_SESSIONS, guardianId, uids);
  }

  /** Guardian choice, keyed by `cid:<interaction chain id>` (one authorization request) or `sid:<session uid>`. */
  async getActing(key: string): Promise<{ guardianId: string; minorId: string } | undefined> {
    return (await this.acting.find(key)) as { guardianId: string; minorId: string } | undefined;
  }
  async putActing(key: string, rec: { guardianId: string; minorId: string }, ttl: number): Promise<void> {
    await this.acting.upsert(key, rec as unknown as Payload, ttl);
    if (key.startsWith('sid:')) await this.lists.put(LIST_ACTING_SESSIONS, rec.guardianId, key.slice(4), rec.minorId);
  }
  async deleteActing(key: string): Promise<void> {
    await this.acting.destroy(key);
  }

  /** Records (or refreshes) a session in the account's session list (newest 20 kept; `ttl` = session lifetime). */
  async touchSession(accountId: string, entry: SessionEntry, ttl: number): Promise<void> {
    const value = JSON.stringify({ ...entry, expiresAt: Date.now() + ttl * 1000 });
    await this.lists.put(LIST_SESSIONS, accountId, entry.uid, value);
    const all = await this.sessionEntries(accountId);
    if (all.length > MAX_LISTED) await this.lists.remove(LIST_SESSIONS, accountId, all.slice(0, all.length - MAX_LISTED).map((e) => e.uid));
  }
  /** Live sessions of an account, oldest first. */
  async listSessions(accountId: string): Promise<SessionEntry[]> {
    return (await this.sessionEntries(accountId)).map(({ expiresAt: _e, ...e }) => e);
  }
  async dropSession(accountId: string, uid: string): Promise<void> {
    await this.lists.remove(LIST_SESSIONS, accountId, [uid]);
  }
  private async sessionEntries(accountId: string): Promise<(SessionEntry & { expiresAt: number })[]> {
    const now = Date.now();
    const live: (SessionEntry & { expiresAt: number })[] = [];
    const dead: string[] = [];
    for (const [uid, v] of Object.entries(await this.lists.all(LIST_SESSIONS, accountId))) {
      let e: (SessionEntry & { expiresAt: number }) | undefined;
      try { e = JSON.parse(v) as SessionEntry & { expiresAt: number }; } catch { e = undefined; }
      if (!e || typeof e.expiresAt !== 'number' || e.expiresAt <= now) dead.push(uid);
      else live.push(e);
    }
    if (dead.length) await this.lists.remove(LIST_SESSIONS, accountId, dead);
    return live.sort((a, b) => a.lastSeen - b.lastSeen);
  }

  async putCiba(id: string, rec: CibaApproval, ttl: number): Promise<void> {
    await this.ciba.upsert(id, rec as unknown as Payload, ttl);
    await this.lists.put(LIST_CIBA, rec.accountId, id, String(Date.now()));
  }
  async getCiba(id: string): Promise<CibaApproval | undefined> {
    return (await this.ciba.find(id)) as CibaApproval | undefined;
  }
  async takeCiba(id: string): Promise<void> {
    await this.ciba.destroy(id);
  }
  /** Approvals waiting on the phone, oldest first (newest 20; answered or expired ones are dropped). */
  async listCiba(accountId: string): Promise<{ id: string; rec: CibaApproval }[]> {
    const entries = Object.entries(await this.lists.all(LIST_CIBA, accountId)).sort((a, b) => Number(a[1]) - Number(b[1]));
    const recs = await Promise.all(entries.map(([id]) => this.getCiba(id)));
    const out: { id: string; rec: CibaApproval }[] = [];
    const dead: string[] = [];
    entries.forEach(([id], i) => { const rec = recs[i]; if (rec) out.push({ id, rec }); else dead.push(id); });
    const over = out.length > MAX_LISTED ? out.splice(0, out.length - MAX_LISTED).map((x) => x.id) : [];
    if (dead.length || over.length) await this.lists.remove(LIST_CIBA, accountId, [...dead, ...over]);
    return out;
  }
}
