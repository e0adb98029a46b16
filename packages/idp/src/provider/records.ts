/**
 * kyso's own records kept through the storage adapter (so they live in Redis in multi-process mode):
 * interaction progress, remembered consents, guardian actors of grants, CIBA approvals.
 */
import type { Adapter } from 'oidc-provider';
import type { IdpStorage } from '../contracts.js';

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
}

type Payload = Record<string, unknown>;

/** Typed access to kyso's adapter-backed records. */
export class Records {
  private readonly progress: Adapter;
  private readonly consent: Adapter;
  private readonly consentIndex: Adapter;
  private readonly actor: Adapter;
  private readonly ciba: Adapter;
  private readonly acting: Adapter;
  private readonly sessions: Adapter;
  private readonly cibaInbox: Adapter;
  readonly keySet: Adapter;

  constructor(storage: IdpStorage) {
    this.progress = new storage.Adapter('KysoInteractionProgress');
    this.consent = new storage.Adapter('KysoConsent');
    this.consentIndex = new storage.Adapter('KysoConsentIndex');
    this.actor = new storage.Adapter('KysoGrantActor');
    this.ciba = new storage.Adapter('KysoCibaApproval');
    this.acting = new storage.Adapter('KysoActing');
    this.sessions = new storage.Adapter('KysoAccountSessions');
    this.cibaInbox = new storage.Adapter('KysoCibaInbox');
    this.keySet = new storage.Adapter('KysoKeySet');
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
  async listConsents(accountId: string): Promise<ConsentRecord[]> {
    const idx = (await this.consentIndex.find(accountId)) as { clients?: string[] } | undefined;
    const out: ConsentRecord[] = [];
    for (const c of idx?.clients ?? []) {
      const r = await this.getConsent(accountId, c);
      if (r) out.push(r);
    }
    return out;
  }
  async putConsent(accountId: string, rec: ConsentRecord, ttl: number): Promise<void> {
    await this.consent.upsert(`${accountId}|${rec.clientId}`, rec as unknown as Payload, ttl);
    const idx = (await this.consentIndex.find(accountId)) as { clients?: string[] } | undefined;
    const clients = new Set(idx?.clients ?? []);
    clients.add(rec.clientId);
    await this.consentIndex.upsert(accountId, { clients: [...clients] }, ttl);
  }
  async deleteConsent(accountId: string, clientId: string): Promise<ConsentRecord | undefined> {
    const rec = await this.getConsent(accountId, clientId);
    await this.consent.destroy(`${accountId}|${clientId}`);
    return rec;
  }

  async getActor(grantId: string): Promise<ActorRecord | undefined> {
    return (await this.actor.find(grantId)) as ActorRecord | undefined;
  }
  async putActor(grantId: string, rec: ActorRecord, ttl: number): Promise<void> {
    await this.actor.upsert(grantId, rec as unknown as Payload, ttl);
  }

  /** Guardian choice, keyed by `cid:<interaction chain id>` (one authorization request) or `sid:<session uid>`. */
  async getActing(key: string): Promise<{ guardianId: string; minorId: string } | undefined> {
    return (await this.acting.find(key)) as { guardianId: string; minorId: string } | undefined;
  }
  async putActing(key: string, rec: { guardianId: string; minorId: string }, ttl: number): Promise<void> {
    await this.acting.upsert(key, rec as unknown as Payload, ttl);
  }

  /** Records (or refreshes) a session in the account's session list (newest 20 kept). */
  async touchSession(accountId: string, entry: SessionEntry, ttl: number): Promise<void> {
    const cur = (await this.sessions.find(accountId)) as { list?: SessionEntry[] } | undefined;
    const list = (cur?.list ?? []).filter((e) => e.uid !== entry.uid);
    list.push(entry);
    await this.sessions.upsert(accountId, { list: list.slice(-20) }, ttl);
  }
  async listSessions(accountId: string): Promise<SessionEntry[]> {
    const cur = (await this.sessions.find(accountId)) as { list?: SessionEntry[] } | undefined;
    return cur?.list ?? [];
  }
  async dropSession(accountId: string, uid: string, ttl: number): Promise<void> {
    const cur = (await this.sessions.find(accountId)) as { list?: SessionEntry[] } | undefined;
    if (!cur?.list) return;
    await this.sessions.upsert(accountId, { list: cur.list.filter((e) => e.uid !== uid) }, ttl);
  }

  async putCiba(id: string, rec: CibaApproval, ttl: number): Promise<void> {
    await this.ciba.upsert(id, rec as unknown as Payload, ttl);
    const inbox = (await this.cibaInbox.find(rec.accountId)) as { ids?: string[] } | undefined;
    await this.cibaInbox.upsert(rec.accountId, { ids: [...(inbox?.ids ?? []), id].slice(-20) }, ttl);
  }
  async getCiba(id: string): Promise<CibaApproval | undefined> {
    return (await this.ciba.find(id)) as CibaApproval | undefined;
  }
  async takeCiba(id: string): Promise<void> {
    await this.ciba.destroy(id);
  }
  async listCiba(accountId: string): Promise<{ id: string; rec: CibaApproval }[]> {
    const inbox = (await this.cibaInbox.find(accountId)) as { ids?: string[] } | undefined;
    const out: { id: string; rec: CibaApproval }[] = [];
    for (const id of inbox?.ids ?? []) {
      const rec = await this.getCiba(id);
      if (rec) out.push({ id, rec });
    }
    return out;
  }
}
