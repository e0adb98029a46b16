/** Scopes, claims and the oidc-provider `findAccount` hook built on the account store. */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { CitizenAccount, CitizenAddress, IdpStorage } from '../contracts.js';
import type { Records } from './records.js';

/** Scope → claims. `citizen` carries the personal number and the address as in the population record. */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub', 'act', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'birthdate', 'gender'],
  email: ['email'],
  address: ['address'],
  phone: ['phone_number'],
  citizen: ['personal_number', 'population_address', 'assurance_level'],
};

export const SCOPES = ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')];

function addressClaim(a: CitizenAddress | undefined): CitizenAddress | undefined {
  if (!a) return undefined;
  const out: CitizenAddress = {};
  for (const k of ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'] as const) {
    if (a[k]) out[k] = a[k];
  }
  return out;
}

/** All claims of an account (oidc-provider filters them by the granted scopes and claims). */
export function accountClaims(a: CitizenAccount): Record<string, unknown> {
  return {
    name: a.name,
    birthdate: a.birthdate,
    gender: a.gender,
    email: a.email,
    address: addressClaim(a.address),
    phone_number: a.phone,
    personal_number: a.id,
    population_address: addressClaim(a.address),
    assurance_level: `level${a.level}`,
  };
}

/**
 * `findAccount` for oidc-provider. Disabled accounts are not found (their tokens stop working). When the
 * grant was given by a guardian acting for a minor, the `act` claim names the guardian and relationship.
 */
export function makeFindAccount(storage: IdpStorage, records: Records,
  /** The guardian's identifier for this client (pairwise for pairwise clients). */
  actorSub: (ctx: KoaContextWithOIDC, guardianId: string) => Promise<string> = async (_c, id) => id) {
  return async (ctx: KoaContextWithOIDC, sub: string, token?: { grantId?: string }) => {
    const grantId = token?.grantId ?? ctx.oidc?.entities?.Grant?.jti;
    // hot path (token, userinfo): an in-process copy at most 1 s old when the store offers one (writes in this
    // process drop it at once; a disable from another process takes effect within 1 s)
    const accounts = storage.accounts as IdpStorage['accounts'] & { getRecent?: (id: string, maxAgeMs?: number) => Promise<CitizenAccount | undefined> };
    const [account, actor] = await Promise.all([
      accounts.getRecent ? accounts.getRecent(sub, 1000) : accounts.get(sub),
      grantId ? records.getActor(grantId) : undefined,
    ]);
    if (!account || account.disabled) return undefined;
    return {
      accountId: account.id,
      async claims(_use: string, scope: string) {
        // the guardian is named the way the service names citizens: pairwise sub, personal number only
        // with the `citizen` scope
        const act = actor ? {
          sub: await actorSub(ctx, actor.guardianId),
          relationship: actor.relationship,
          ...(scope.split(' ').includes('citizen') ? { personal_number: actor.guardianId } : {}),
        } : undefined;
        return { sub: account.id, ...accountClaims(account), ...(act ? { act } : {}) };
      },
    };
  };
}
