/**
 * Loads a seed file's relying parties and accounts into a storage (for `kyso serve idp --seed FILE` and
 * `kyso idp seed FILE`). Format: `{ "clients": [ <client metadata> ], "users": [ <NewAccount> ] }`.
 */
import type { IdpStorage, NewAccount } from '../contracts.js';
import type { ClientMetadata } from './clients.js';
import type { KysoIdpStorage } from './create-storage.js';
import { IdpError } from './errors.js';

/** A seed account: a new account, optionally naming its guardians (for a minor). */
export type SeedAccount = NewAccount & { guardians?: { id: string; relationship: string }[] };

/** A guardian link given at the top level of a seed file. */
export interface SeedGuardianLink { guardian: string; minor: string; relationship: string }

/** Seed file contents. */
export interface IdpSeed {
  clients?: ClientMetadata[];
  users?: SeedAccount[];
  guardians?: SeedGuardianLink[];
}

/** What {@link applySeed} did. */
export interface SeedResult {
  clients: number;
  usersCreated: number;
  usersExisting: number;
}

/**
 * Creates the seed's accounts and guardian links, the one way both `kyso serve idp --seed` and `kyso idp seed`
 * do it: existing personal numbers are left untouched (restarting with the same seed, or several processes
 * seeding at once, is harmless); links come from `guardians` on a minor's record or from top-level `links`,
 * and are made after every account exists; a link already there is kept.
 */
export async function seedAccounts(storage: IdpStorage, users: SeedAccount[], links: SeedGuardianLink[] = []): Promise<{ created: number; existing: number }> {
  let created = 0;
  let existing = 0;
  for (const [i, u] of users.entries()) {
    if (await storage.accounts.get(u.id)) { existing++; continue; }
    const { guardians: _g, ...account } = u;
    try {
      await storage.accounts.create(account);
      await storage.audit.append({ type: 'account.created', accountId: account.id, detail: { via: 'seed' } });
      created++;
    } catch (err) {
      const e = err as IdpError;
      if (e.code === 'ACCOUNT_EXISTS') { existing++; continue; } // another process won the race
      throw new IdpError(e.code ?? 'ACCOUNT_INVALID', `seed users[${i}]: ${e.message}`, { cause: err });
    }
  }
  const all = [...links];
  for (const u of users) for (const g of u.guardians ?? []) all.push({ guardian: g.id, minor: u.id, relationship: g.relationship });
  for (const g of all) {
    const minor = await storage.accounts.get(g.minor);
    if (!minor?.guardians.some((x) => x.id === g.guardian)) await storage.accounts.linkGuardian(g.guardian, g.minor, g.relationship);
  }
  return { created, existing };
}

/**
 * Upserts the clients into the store (`kyso idp seed FILE`), then creates the accounts and links with
 * {@link seedAccounts}.
 */
export async function applySeed(storage: KysoIdpStorage, seed: unknown): Promise<SeedResult> {
  if (!seed || typeof seed !== 'object') throw new IdpError('ACCOUNT_INVALID', 'seed must be a JSON object with "clients" and/or "users"');
  const s = seed as IdpSeed;
  if (s.clients !== undefined && !Array.isArray(s.clients)) throw new IdpError('CLIENT_INVALID', 'seed "clients" must be an array');
  if (s.users !== undefined && !Array.isArray(s.users)) throw new IdpError('ACCOUNT_INVALID', 'seed "users" must be an array');
  if (s.guardians !== undefined && !Array.isArray(s.guardians)) throw new IdpError('ACCOUNT_INVALID', 'seed "guardians" must be an array');
  let clients = 0;
  for (const c of s.clients ?? []) {
    await storage.clients.upsert(c);
    clients++;
  }
  const r = await seedAccounts(storage, s.users ?? [], s.guardians ?? []);
  return { clients, usersCreated: r.created, usersExisting: r.existing };
}
