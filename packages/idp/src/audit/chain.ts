/**
 * Hash chain of audit records: hash = SHA-256(prevHash || canonical JSON of the record without `hash`).
 * Canonical JSON = keys sorted, no whitespace (RFC 8785-style for the string/number/boolean values used here).
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, AuditEventType, AuditRecord } from '../contracts.js';

/** prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted recursively. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** The record's hash. */
export function recordHash(rec: Omit<AuditRecord, 'hash'>): string {
  const { prevHash, ...rest } = rec as AuditRecord;
  delete (rest as Partial<AuditRecord>).hash;
  return createHash('sha256').update(prevHash, 'utf8').update(canonicalJson({ ...rest, prevHash })).digest('hex');
}

const EVENT_TYPES: ReadonlySet<string> = new Set<AuditEventType>([
  'login.success', 'login.failure', 'login.rate-limited', 'mfa.success', 'mfa.failure', 'mfa.enrolled', 'mfa.reset',
  'mfa.recovery-used', 'consent.granted', 'consent.revoked', 'logout', 'account.created', 'account.disabled',
  'account.enabled', 'password.changed', 'ciba.requested', 'ciba.approved', 'ciba.denied',
  'guardian.acting', 'guardian.token', 'guardian.refused', 'guardian.linked', 'guardian.unlinked', 'guardian.revoked',
]);

/** Detail keys whose values are never stored (replaced by "[redacted]"). */
const SECRET_KEY = /pass(word|wd|phrase)?|secret|token|otp|totp|pin\b|^pin|recovery|cookie|authori[sz]ation|assertion|private|credential|sad|^code$|verifier|api[-_]?key|^key$/i;

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Keeps only the known, non-secret fields of an event (also strips secret-looking detail keys). */
export function sanitiseEvent(e: AuditEvent): AuditEvent {
  if (!e || typeof e !== 'object' || !EVENT_TYPES.has(e.type)) {
    throw new TypeError(`audit: unknown event type ${JSON.stringify((e as { type?: unknown })?.type)}`);
  }
  const out: AuditEvent = { type: e.type };
  if (typeof e.accountId === 'string') out.accountId = clip(e.accountId, 64);
  if (typeof e.clientId === 'string') out.clientId = clip(e.clientId, 256);
  if (typeof e.ip === 'string') out.ip = clip(e.ip, 64);
  if (e.detail && typeof e.detail === 'object') {
    const d: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(e.detail).slice(0, 32)) {
      if (SECRET_KEY.test(k)) { d[clip(k, 64)] = '[redacted]'; continue; }
      if (typeof v === 'string') d[clip(k, 64)] = clip(v, 512);
      else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') d[clip(k, 64)] = v;
    }
    out.detail = d;
  }
  return out;
}

/** Builds the next record of the chain. */
export function nextRecord(event: AuditEvent, seq: number, prevHash: string, at: string): AuditRecord {
  const base: Omit<AuditRecord, 'hash'> = { ...sanitiseEvent(event), seq, at, prevHash };
  return { ...base, hash: recordHash(base) };
}

/** Streaming chain check: feed records oldest first, then ask whether they end at the recorded head. */
export class ChainVerifier {
  private prev = GENESIS_HASH;
  private count = 0;
  private broken = false;

  /** Adds the next record; returns false as soon as the chain is broken. */
  push(r: AuditRecord): boolean {
    if (this.broken) return false;
    if (!r || typeof r !== 'object' || r.seq !== this.count + 1 || r.prevHash !== this.prev || recordHash(r) !== r.hash) {
      this.broken = true;
      return false;
    }
    this.prev = r.hash;
    this.count++;
    return true;
  }

  /** True when every record linked and, if given, the last one is the head (detects removal of the newest). */
  end(head?: { seq: number; hash: string }): boolean {
    if (this.broken) return false;
    if (head && (head.seq !== this.count || (this.count > 0 && head.hash !== this.prev))) return false;
    return true;
  }
}

/** Checks a full chain (oldest first) and, when given, that its last record is the recorded head. */
export function verifyRecords(records: AuditRecord[], head?: { seq: number; hash: string }): boolean {
  const v = new ChainVerifier();
  for (const r of records) if (!v.push(r)) return false;
  return v.end(head);
}
