/**
 * Relying-party records kept where oidc-provider reads them: the adapter's 'Client' model (oidc-provider calls
 * `Adapter('Client').find(client_id)` for clients that are not configured statically).
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { IdpError } from './errors.js';

/** Client metadata as accepted by oidc-provider (client_id required). */
export type ClientMetadata = AdapterPayload & { client_id: string };

/** Admin operations on stored clients. */
export interface ClientStore {
  /** Creates or replaces a client (no expiry). */
  upsert(metadata: ClientMetadata): Promise<void>;
  get(clientId: string): Promise<ClientMetadata | undefined>;
  /** All stored clients, sorted by client_id. */
  list(): Promise<ClientMetadata[]>;
  /** True when it existed. */
  remove(clientId: string): Promise<boolean>;
}

/** Checks the fields kyso relies on; oidc-provider validates the rest when it loads the client. */
export function assertClientMetadata(m: unknown): asserts m is ClientMetadata {
  if (!m || typeof m !== 'object') throw new IdpError('CLIENT_INVALID', 'client metadata must be an object');
  const c = m as Record<string, unknown>;
  if (typeof c.client_id !== 'string' || !/^[A-Za-z0-9._~:-]{1,128}$/.test(c.client_id)) {
    throw new IdpError('CLIENT_INVALID', 'client_id must be 1–128 characters of A-Z a-z 0-9 . _ ~ : -');
  }
  if (c.redirect_uris !== undefined) {
    if (!Array.isArray(c.redirect_uris) || !c.redirect_uris.every((u) => typeof u === 'string')) {
      throw new IdpError('CLIENT_INVALID', `client ${c.client_id}: redirect_uris must be an array of URLs`);
    }
    for (const u of c.redirect_uris as string[]) {
      let url: URL;
      try { url = new URL(u); } catch { throw new IdpError('CLIENT_INVALID', `client ${c.client_id}: redirect_uri '${u}' is not an absolute URL`); }
      if (url.hash) throw new IdpError('CLIENT_INVALID', `client ${c.client_id}: redirect_uri '${u}' must not have a fragment`);
      if (u.includes('*')) throw new IdpError('CLIENT_INVALID', `client ${c.client_id}: redirect_uri '${u}' must not contain wildcards`);
    }
  }
  if (c.client_secret !== undefined && (typeof c.client_secret !== 'string' || c.client_secret.length < 16)) {
    throw new IdpError('CLIENT_INVALID', `client ${c.client_id}: client_secret must be a string of at least 16 characters`);
  }
}

/** ClientStore over an Adapter class plus an id index. */
export function adapterClientStore(
  AdapterClass: new (name: string) => Adapter,
  index: { add(id: string): Promise<void>; remove(id: string): Promise<void>; all(): Promise<string[]> },
): ClientStore {
  const adapter = new AdapterClass('Client');
  return {
    async upsert(metadata) {
      assertClientMetadata(metadata);
      await adapter.upsert(metadata.client_id, { ...metadata });
      await index.add(metadata.client_id);
    },
    async get(clientId) {
      return ((await adapter.find(clientId)) ?? undefined) as ClientMetadata | undefined;
    },
    async list() {
      const ids = (await index.all()).sort();
      const out: ClientMetadata[] = [];
      for (const id of ids) {
        const c = await adapter.find(id);
        if (c) out.push(c as ClientMetadata);
      }
      return out;
    },
    async remove(clientId) {
      const existed = !!(await adapter.find(clientId));
      await adapter.destroy(clientId);
      await index.remove(clientId);
      return existed;
    },
  };
}
