/**
 * Guardians acting for minors (Decree 59/2022: a parent or guardian acts for a child under 14). Every decision
 * taken while acting — choosing to act, consent, token issue, refresh, userinfo, single sign-on reuse — asks
 * {@link guardianMayAct} about the link as it stands now; ending a link or disabling a guardian revokes at once
 * what was issued under it ({@link revokeGuardianActing}), in the store every process shares.
 */
import type { AccountStore, AuditEvent, IdpStorage } from '../contracts.js';
import { Records } from './records.js';

/**
 * The relationship when `guardianId` may act for `minorId` now: both accounts exist and are enabled, the link is
 * on both records, and the minor is under 14 today (computed from the birth date at this moment); else undefined.
 * Reads the store (no copies): a link ended or an account disabled by any process is seen at once.
 */
export async function guardianMayAct(accounts: AccountStore, guardianId: string, minorId: string): Promise<string | undefined> {
  const [guardian, minor, rel] = await Promise.all([accounts.get(guardianId), accounts.get(minorId), accounts.guardianRelationship(guardianId, minorId)]);
  if (!guardian || guardian.disabled || !minor || minor.disabled || !rel) return undefined;
  if (!guardian.wards.some((w) => w.id === minorId)) return undefined;
  return rel;
}

/** What {@link revokeGuardianActing} removed. */
export interface GuardianRevocation { grants: number; sessions: number; consents: number }

const TOKEN_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'BackchannelAuthenticationRequest', 'DeviceCode'];

/**
 * Revokes everything a guardian was given while acting (for `minorId` only, or for every minor): the tokens and
 * codes of each such grant, the grant and its actor record, the sessions in which the guardian acts, and the
 * consents given on the minor's behalf. Each revocation is announced to the other processes by the store.
 */
export async function revokeGuardianActing(storage: IdpStorage, guardianId: string, minorId?: string): Promise<GuardianRevocation> {
  const records = new Records(storage);
  const out: GuardianRevocation = { grants: 0, sessions: 0, consents: 0 };
  const grants = Object.entries(await records.actingGrants(guardianId)).filter(([, m]) => !minorId || !m || m === minorId).map(([g]) => g);
  const GrantAdapter = new storage.Adapter('Grant');
  for (const grantId of grants) {
    // tokens first: a revoked token is refused at once whatever copies of the grant other processes hold
    for (const model of TOKEN_MODELS) await new storage.Adapter(model).revokeByGrantId(grantId);
    await GrantAdapter.destroy(grantId);
    await records.deleteActor(grantId);
    out.grants++;
  }
  await records.dropActingGrants(guardianId, grants);
  const SessionAdapter = new storage.Adapter('Session');
  const sessions = Object.entries(await records.actingSessions(guardianId)).filter(([, m]) => !minorId || m === minorId).map(([uid]) => uid);
  for (const uid of sessions) {
    const s = await SessionAdapter.findByUid(uid);
    if (s?.jti) { await SessionAdapter.destroy(String(s.jti)); out.sessions++; }
    await records.deleteActing(`sid:${uid}`);
  }
  await records.dropActingSessions(guardianId, sessions);
  for (const c of await records.listGuardianConsents(guardianId)) {
    if (minorId && c.minorId !== minorId) continue;
    await records.deleteGuardianConsent(guardianId, c.minorId, c.clientId);
    out.consents++;
  }
  return out;
}

async function auditSafe(storage: IdpStorage, e: AuditEvent): Promise<void> {
  await storage.audit.append(e).catch(() => undefined);
}

/**
 * Ends a guardian link (`kyso idp user unlink-guardian`): removes it from both accounts, then revokes what the
 * guardian was given while acting for this minor. Audited with the guardian named.
 */
export async function endGuardianLink(storage: IdpStorage, guardianId: string, minorId: string, via = 'api'): Promise<GuardianRevocation & { linked: boolean }> {
  const minor = await storage.accounts.get(minorId);
  const linked = !!minor?.guardians.some((g) => g.id === guardianId);
  await storage.accounts.unlinkGuardian(guardianId, minorId);
  const r = await revokeGuardianActing(storage, guardianId, minorId);
  await auditSafe(storage, { type: 'guardian.unlinked', accountId: minorId, detail: { actor: guardianId, via, grants: r.grants, sessions: r.sessions, consents: r.consents } });
  return { ...r, linked };
}

/**
 * Disables (or enables) an account. Disabling a guardian also revokes at once every grant, token, session and
 * consent given while acting for a minor (the account's own tokens stop working because it is disabled).
 */
export async function setAccountDisabled(storage: IdpStorage, id: string, disabled: boolean, via = 'api'): Promise<GuardianRevocation> {
  await storage.accounts.setDisabled(id, disabled);
  await auditSafe(storage, { type: disabled ? 'account.disabled' : 'account.enabled', accountId: id, detail: { via } });
  if (!disabled) return { grants: 0, sessions: 0, consents: 0 };
  const r = await revokeGuardianActing(storage, id);
  if (r.grants || r.sessions || r.consents) await auditSafe(storage, { type: 'guardian.revoked', accountId: id, detail: { actor: id, via, reason: 'guardian-disabled', grants: r.grants, sessions: r.sessions, consents: r.consents } });
  return r;
}
