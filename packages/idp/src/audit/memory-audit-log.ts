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

  async verifyChain(): Promise<boolean> {
    return verifyRecords(this.records, this.head);
  }
}
