/**
 * `--seed FILE`: relying parties and accounts loaded at start.
 * `{ "clients": [ <client metadata> ], "users": [ { id, password, name, birthdate, gender?, address?, phone?,
 *   email?, level: 1|2, totp_secret? } ], "guardians"?: [ { guardian, minor, relationship } ] }`
 */
import { readFile } from 'node:fs/promises';
import { assertClientMetadata, IdpProtocolError, seedAccounts, totpSecretProblem, type IdpStorage, type NewAccount } from '@kyso/idp';
import type { ClientMetadata } from 'oidc-provider';

export interface SeedFile {
  clients: ClientMetadata[];
  users: NewAccount[];
  /** kyso extension: guardian links (guardian acting for a minor under 14). */
  guardians?: { guardian: string; minor: string; relationship: string }[];
}

/** Validates a parsed seed document (throws IDP_SEED_INVALID with the path of the bad field). */
export function parseSeed(doc: unknown): SeedFile {
  const fail = (msg: string): never => { throw new IdpProtocolError('IDP_SEED_INVALID', `seed: ${msg}`); };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail('top level must be an object with "clients" and "users"');
  const d = doc as Record<string, unknown>;
  const clients = d.clients ?? [];
  const users = d.users ?? [];
  if (!Array.isArray(clients)) fail('"clients" must be an array');
  if (!Array.isArray(users)) fail('"users" must be an array');
  (clients as unknown[]).forEach((c, i) => {
    try { assertClientMetadata(c); } catch (e) { fail(`clients[${i}]: ${(e as Error).message}`); }
    const m = c as Record<string, unknown>;
    if (!Array.isArray(m.redirect_uris) && ((m.grant_types as string[] | undefined) ?? ['authorization_code']).includes('authorization_code')) {
      fail(`clients[${i}]: redirect_uris is required for the authorization_code grant`);
    }
  });
  (users as unknown[]).forEach((u, i) => {
    if (!u || typeof u !== 'object') fail(`users[${i}] must be an object`);
    const r = u as Record<string, unknown>;
    for (const k of ['id', 'password', 'name', 'birthdate']) if (typeof r[k] !== 'string') fail(`users[${i}].${k} must be a string`);
    if (r.level !== 1 && r.level !== 2) fail(`users[${i}].level must be 1 or 2`);
    if (r.totp_secret !== undefined) {
      const problem = totpSecretProblem(r.totp_secret);
      if (problem) fail(`users[${i}].totp_secret ${problem}`);
    }
  });
  const guardians = d.guardians ?? [];
  if (!Array.isArray(guardians)) fail('"guardians" must be an array');
  return { clients: clients as ClientMetadata[], users: users as NewAccount[], guardians: guardians as SeedFile['guardians'] };
}

/** Reads and validates a seed file. */
export async function readSeed(path: string): Promise<SeedFile> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    throw new IdpProtocolError('IDP_SEED_INVALID', `seed: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) {
    throw new IdpProtocolError('IDP_SEED_INVALID', `seed: ${path} is not valid JSON (${(e as Error).message})`);
  }
  return parseSeed(doc);
}

/** Creates the seed's accounts (existing ones are left as they are) and guardian links ({@link seedAccounts}). */
export async function applySeedUsers(storage: IdpStorage, seed: SeedFile): Promise<{ created: number; existing: number }> {
  return seedAccounts(storage, seed.users, seed.guardians ?? []);
}
