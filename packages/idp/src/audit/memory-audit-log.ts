/** In-memory {@link AuditLog}: appends are synchronous, so the chain stays linear. */
import type { AuditEvent, AuditLog, AuditRecord } from '../contracts.js';
import { GENESIS_HASH, nextRecord, verifyRecords } from './chain.js';

export class MemoryAuditLog implements AuditLog {
  /** The chain, oldest first. Exposed for inspection and tamper tests; do not modify in production code. */
  readonly records: AuditRecord[] = [];
  /** Last seq/hash written (detects removal of the newest records). */
  readonly head = { seq: 0, hash: GENESIS_HASH };

  constructor(private readonly now: () => number = Date.now) {}

  async append(event: AuditEvent): Promise<AuditRecord> {
    const rec = nextRecord(event, this.head.seq + 1, this.head.hash, new Date(this.now()).toISOString());
    this.records.push(Object.freeze(rec) as AuditRecord);
    this.head.seq = rec.seq;
    this.head.hash = rec.hash;
    return { ...rec };
  }

  async list(opts: { accountId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const sel = opts.accountId === undefined ? this.records : this.records.filter((r) => r.accountId === opts.accountId);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : sel.length;
    return sel.slice(-limit).map((r) => ({ ...r }));
  }

  /**
   * Recomputes the chain. With `anchor` (a head exported earlier with {@link currentHead} and kept elsewhere), also
   * requires that record to be unchanged — which detects a chain rewritten from that point with fresh hashes.
   */
  async verifyChain(anchor?: { seq: number; hash: string }): Promise<boolean> {
    if (anchor && (anchor.seq < 1 || this.records[anchor.seq - 1]?.hash !== anchor.hash)) return false;
    return verifyRecords(this.records, this.head);
  }

  /** The chain's head (seq and hash of the newest record) — export it to anchor the log externally. */
  async currentHead(): Promise<{ seq: number; hash: string }> {
    return { ...this.head };
  }
}
