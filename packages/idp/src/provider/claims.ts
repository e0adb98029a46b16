/** Scopes, claims and the oidc-provider `findAccount` hook built on the account store. */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { CitizenAccount, CitizenAddress, IdpStorage } from '../contracts.js';
import type { ActorRecord, Records } from './records.js';

/** Scope → claims. `citizen` carries the personal number and the address as in the population record. */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub', 'act', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'birthdate', 'gender'],
  email: ['email'],
  address: ['address'],
  phone: ['phone_number'],
  citizen: ['personal_number', 'population_address', 'assurance_level'],
  // remote signing (CSC API v2): access to the signing service, and credential-scoped authorization
  service: [],
  credential: [],
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

/** How a relying party names citizens: its subject type and sector. */
export interface SubjectNaming { subjectType?: string; sectorIdentifier?: string | undefined }

/** The `act` claim (RFC 8693 §4.1) of a grant given by a guardian acting for a minor. */
export interface ActClaim { sub: string; relationship: string; personal_number?: string }

const PER_REQUEST_ACTORS = Symbol('kyso.grantActors');

/**
 * Guardian actors of grants: read at most once per request (the token endpoint needs the actor both for the
 * id_token and for the access token it mints), and turned into the `act` claim as a given service sees it.
 */
export class GrantActors {
  constructor(private readonly records: Records,
    /** The guardian's identifier for a client (pairwise for pairwise clients). */
    private readonly actorSub: (client: SubjectNaming | undefined, guardianId: string) => string) {}

  /** The actor of `grantId`, if a guardian gave it; one store read per request and grant. */
  actorOf(ctx: object | undefined, grantId: string): Promise<ActorRecord | undefined> {
    if (!ctx) return this.records.getActor(grantId);
    // kept on the request context itself, not in a WeakMap keyed by it: an entry in a long-lived WeakMap keeps
    // the whole request (context, request, response, tokens) through every young-generation GC until the next
    // full GC, which measured ~2 MB promoted per scavenge and 4-5 ms scavenge pauses on the token endpoint
    const holder = ctx as { [PER_REQUEST_ACTORS]?: Map<string, Promise<ActorRecord | undefined>> };
    const m = holder[PER_REQUEST_ACTORS] ??= new Map();
    let p = m.get(grantId);
    if (!p) {
      m.set(grantId, p = this.records.getActor(grantId).then((a) => {
        if (a) { const mm = m as unknown as { settled?: Map<string, ActorRecord> }; (mm.settled ??= new Map()).set(grantId, a); }
        return a;
      }));
    }
    return p;
  }

  /** The first guardian actor this request read (for the audit), if any. */
  static seen(ctx: object | undefined): ActorRecord | undefined {
    const m = (ctx as { [PER_REQUEST_ACTORS]?: Map<string, Promise<ActorRecord | undefined>> } | undefined)?.[PER_REQUEST_ACTORS];
    if (!m) return undefined;
    const settled = (m as unknown as { settled?: Map<string, ActorRecord> }).settled;
    for (const v of settled?.values() ?? []) if (v) return v;
    return undefined;
  }

  /** The guardian named the way the service names citizens; personal number only under the `citizen` scope. */
  claim(actor: ActorRecord, client: SubjectNaming | undefined, scope: string): ActClaim {
    return {
      sub: this.actorSub(client, actor.guardianId),
      relationship: actor.relationship,
      ...(scope.split(' ').includes('citizen') ? { personal_number: actor.guardianId } : {}),
    };
  }
}

/** The `act` an access token was minted with (kept in its `extra`); undefined when it has none. */
export function mintedAct(token: { extra?: unknown }): ActClaim | undefined {
  const act = (token.extra as { act?: unknown } | undefined)?.act as ActClaim | undefined;
  return act && typeof act === 'object' && typeof act.sub === 'string' && typeof act.relationship === 'string' ? act : undefined;
}

/**
 * `findAccount` for oidc-provider. Disabled accounts are not found (their tokens stop working). When the
 * grant was given by a guardian acting for a minor, the `act` claim names the guardian and relationship.
 * An access token carries the `act` it was minted with (see `extraTokenClaims`), so userinfo reads no actor
 * record; the token endpoint (codes, refresh tokens) reads it once per request.
 */
/** The guardian checks `findAccount` makes while a guardian acts (see guardians.ts). */
export interface GuardianGuard {
  /** Whether `actor` may act for `minorId` now (link, age limit, both accounts enabled); refusals are audited. */
  mayAct(ctx: KoaContextWithOIDC, actor: ActorRecord, minorId: string): Promise<boolean>;
  /** An authorization request reusing a session: false when the session is a guardian's acting for a minor under a link that no longer stands. */
  sessionMayAct(ctx: KoaContextWithOIDC, accountId: string): Promise<boolean>;
  /** Records that claims were released while acting (userinfo), with the guardian named. */
  released?(ctx: KoaContextWithOIDC, actor: ActorRecord, minorId: string, use: string): void;
}

export function makeFindAccount(storage: IdpStorage, actors: GrantActors, guard?: GuardianGuard) {
  return async (ctx: KoaContextWithOIDC, sub: string, token?: { kind?: string; grantId?: string; extra?: unknown }) => {
    const fromToken = token?.kind === 'AccessToken';
    const grantId = token?.grantId ?? ctx.oidc?.entities?.Grant?.jti;
    const minted = fromToken ? mintedAct(token) : undefined;
    // hot path (token, userinfo): an in-process copy at most 1 s old when the store offers one (writes in this
    // process drop it at once; a disable from another process as soon as its notice arrives, at most 1 s)
    const accounts = storage.accounts as IdpStorage['accounts'] & { getRecent?: (id: string, maxAgeMs?: number) => Promise<CitizenAccount | undefined> };
    const [account, actor] = await Promise.all([
      accounts.getRecent ? accounts.getRecent(sub, 1000) : accounts.get(sub),
      // an access token minted while acting: its guardian's grant record is read again (the link may have ended)
      grantId && (!fromToken || minted) ? actors.actorOf(ctx, grantId) : undefined,
    ]);
    if (!account || account.disabled) return undefined;
    if (guard) {
      // acting token whose guardian grant is gone (link ended, revoked): nothing for the minor
      if (minted && !actor) return undefined;
      if (actor && !(await guard.mayAct(ctx, actor, account.id))) return undefined;
      if (!token && !grantId && ctx.oidc?.session?.uid && !(await guard.sessionMayAct(ctx, account.id))) return undefined;
    }
    return {
      accountId: account.id,
      async claims(use: string, scope: string) {
        const act = fromToken ? mintedAct(token) : actor ? actors.claim(actor, ctx.oidc?.client as SubjectNaming | undefined, scope) : undefined;
        if (act && actor && use === 'userinfo') guard?.released?.(ctx, actor, account.id, use);
        return { sub: account.id, ...accountClaims(account), ...(act ? { act } : {}) };
      },
    };
  };
}
