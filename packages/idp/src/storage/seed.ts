/**
 * Loads a seed file's relying parties and accounts into a storage (for `kyso serve idp --seed FILE` and
 * `kyso idp seed FILE`). Format: `{ "clients": [ <client metadata> ], "users": [ <NewAccount> ] }`.
 */
import type { NewAccount } from '../contracts.js';
import type { ClientMetadata } from './clients.js';
import type { KysoIdpStorage } from './create-storage.js';
import { IdpError } from './errors.js';

/** Seed file contents. */
export interface IdpSeed {
  clients?: ClientMetadata[];
  users?: (NewAccount & { guardians?: { id: string; relationship: string }[] })[];
}

/** What {@link applySeed} did. */
export interface SeedResult {
  clients: number;
  usersCreated: number;
  usersExisting: number;
}

/**
 * Upserts the clients and creates the users (existing personal numbers are left untouched, so restarting with
 * the same seed is harmless). `guardians` on a user links them after all users exist.
 */
export async function applySeed(storage: KysoIdpStorage, seed: unknown): Promise<SeedResult> {
  if (!seed || typeof seed !== 'object') throw new IdpError('ACCOUNT_INVALID', 'seed must be a JSON object with "clients" and/or "users"');
  const s = seed as IdpSeed;
  if (s.clients !== undefined && !Array.isArray(s.clients)) throw new IdpError('CLIENT_INVALID', 'seed "clients" must be an array');
  if (s.users !== undefined && !Array.isArray(s.users)) throw new IdpError('ACCOUNT_INVALID', 'seed "users" must be an array');
  const result: SeedResult = { clients: 0, usersCreated: 0, usersExisting: 0 };
  for (const c of s.clients ?? []) {
    await storage.clients.upsert(c);
    result.clients++;
  }
  for (const [i, u] of (s.users ?? []).entries()) {
    const { guardians: _g, ...account } = u;
    try {
      await storage.accounts.create(account);
      result.usersCreated++;
      await storage.audit.append({ type: 'account.created', accountId: account.id, detail: { via: 'seed' } });
    } catch (err) {
      if ((err as IdpError).code === 'ACCOUNT_EXISTS') { result.usersExisting++; continue; }
      const e = err as IdpError;
      throw new IdpError(e.code ?? 'ACCOUNT_INVALID', `seed users[${i}]: ${e.message}`, { cause: err });
    }
  }
  for (const u of s.users ?? []) {
    for (const g of u.guardians ?? []) await storage.accounts.linkGuardian(g.id, u.id, g.relationship);
  }
  return result;
}
