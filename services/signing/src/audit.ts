/**
 * Hash-chained audit log: each record's hash is SHA-256(previous hash ‖ "\n" ‖ entry JSON), and the entry names
 * the previous hash and its own position. Appends are batched: concurrent requests share one atomic
 * compare-and-append on the store (a second instance appending at the same time makes the batch retry on the
 * new head). `append` resolves only once the record is stored: a signature is released after its record is.
 */
import { createHash } from 'node:crypto';
import type { SigningStore, StoredAudit } from './store.js';
import { GENESIS } from './store.js';

/** What happened. */
export type AuditType = 'authorize.requested' | 'authorize.approved' | 'authorize.refused' | 'authorize.failed'
  | 'pin.wrong' | 'pin.locked' | 'sad.refused' | 'sad.extended' | 'signature.created' | 'signature.failed' | 'credential.enrolled';

/** One audit event: who, which credential, which hashes, which service, when, result. */
export interface AuditEvent {
  type: AuditType;
  /** Subject of the bearer (personal number / officer). */
  subject?: string;
  /** The calling service (OAuth client id). */
  service?: string;
  credentialId?: string;
  /** Hashes concerned (base64). */
  hashes?: string[];
  result: 'ok' | 'refused' | 'error';
  /** Short reason or extra facts (never secrets). */
  detail?: string;
  requestId?: string;
}

/** A stored entry as hashed. */
export interface AuditEntry extends AuditEvent {
  seq: number;
  prev: string;
  /** ISO time. */
  at: string;
}

export function chainHash(prev: string, entryJson: string): string {
  return createHash('sha256').update(prev).update('\n').update(entryJson).digest('hex');
}

function entryJson(e: AuditEvent, seq: number, prev: string, at: string): string {
  // fixed key order; undefined fields are left out
  const o: Record<string, unknown> = { seq, prev, at, type: e.type, result: e.result };
  if (e.subject !== undefined) o.subject = e.subject;
  if (e.service !== undefined) o.service = e.service;
  if (e.credentialId !== undefined) o.credentialId = e.credentialId;
  if (e.hashes !== undefined) o.hashes = e.hashes;
  if (e.detail !== undefined) o.detail = e.detail;
  if (e.requestId !== undefined) o.requestId = e.requestId;
  return JSON.stringify(o);
}

interface Pending { event: AuditEvent; resolve(): void; reject(e: unknown): void }

/** The appender (one per process). */
export class AuditLog {
  #queue: Pending[] = [];
  #flushing = false;
  #head: { seq: number; hash: string } | undefined;
  readonly maxBatch: number;

  constructor(readonly store: SigningStore, opts: { maxBatch?: number } = {}) {
    this.maxBatch = opts.maxBatch ?? 256;
  }

  /** Appends an event; resolves once it is stored, rejects (StoreUnavailable) when it could not be. */
  append(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, this.maxBatch);
        try {
          for (let attempt = 0; ; attempt++) {
            const head = this.#head ?? await this.store.auditHead();
            const at = new Date().toISOString();
            const records: StoredAudit[] = [];
            let prev = head;
            for (const p of batch) {
              const seq = prev.seq + 1;
              const entry = entryJson(p.event, seq, prev.hash, at);
              const hash = chainHash(prev.hash, entry);
              records.push({ seq, entry, hash });
              prev = { seq, hash };
            }
            if (await this.store.auditAppend(head, records)) {
              this.#head = prev;
              break;
            }
            this.#head = undefined; // another instance appended: read the new head and chain again
            if (attempt > 50) throw new Error('audit chain: too many concurrent appends');
          }
          for (const p of batch) p.resolve();
        } catch (e) {
          this.#head = undefined;
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/** Result of checking a chain. */
export interface AuditVerification {
  ok: boolean;
  /** Records checked. */
  count: number;
  /** First broken link: its position and what is wrong. */
  broken?: { seq: number; reason: string };
  head: { seq: number; hash: string };
}

/**
 * Checks records in order: positions consecutive from 1, each entry names the previous hash, each hash
 * recomputes. Reads through `next(afterSeq)` in pages so a long log streams.
 */
export async function verifyAuditChain(next: (afterSeq: number) => Promise<StoredAudit[]>): Promise<AuditVerification> {
  let prev = { ...GENESIS };
  let count = 0;
  for (;;) {
    const page = await next(prev.seq);
    if (!page.length) break;
    for (const r of page) {
      const expectSeq = prev.seq + 1;
      const fail = (reason: string): AuditVerification => ({ ok: false, count, broken: { seq: expectSeq, reason }, head: prev });
      if (r.seq !== expectSeq) return fail(`record ${expectSeq} is missing (found record ${r.seq} next)`);
      let e: Partial<AuditEntry>;
      try { e = JSON.parse(r.entry) as Partial<AuditEntry>; } catch { return fail('entry is not JSON'); }
      if (e.seq !== r.seq) return fail(`entry says position ${String(e.seq)}`);
      if (e.prev !== prev.hash) return fail(`entry names previous hash ${String(e.prev).slice(0, 16)}…, chain has ${prev.hash.slice(0, 16)}…`);
      const h = chainHash(prev.hash, r.entry);
      if (h !== r.hash) return fail('hash does not match the entry (entry or hash altered)');
      prev = { seq: r.seq, hash: r.hash };
      count++;
    }
  }
  return { ok: true, count, head: prev };
}
