/**
 * PKCS#11 signing off the event loop: a pool of worker threads, each with its own session on the token, doing
 * C_SignInit + C_Sign synchronously. SoftHSM2's C_SignInit alone (it reads and decrypts the key object) costs more
 * than an ECDSA C_Sign, and pkcs11js only offers C_Sign asynchronously: with signing on the main thread that
 * init ran there for every signature. Here the main thread only queues digests; a worker takes a batch of them
 * (everything queued, shared fairly among the threads), signs and posts the signatures back in one message.
 * The private keys never leave the token: the workers see digests and key handles only.
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashName } from '@kyso/pki';
import { SigningError } from './errors.js';

/** The mechanism of one signature: raw mechanisms over the digest (the digest is hashed by the caller). */
export type PoolMechanism = { scheme: 'ECDSA' } | { scheme: 'RSA-PKCS1'; hash: HashName } | { scheme: 'RSA-PSS'; hash: HashName; saltLength: number };

export interface Pkcs11PoolOptions {
  /** PKCS#11 module path. */
  module: string;
  /** Token label. */
  token: string;
  /** User PIN. */
  pin: string;
  /** Signing threads, one session each [the number of CPUs, at least 2, at most 16]. */
  threads?: number;
  /** Most signatures one thread takes at once [32]. */
  maxBatch?: number;
  /** Niceness of the signing threads relative to the process (Linux) [KYSO_SIGNING_NICE or 5]: the event loop keeps priority. */
  nice?: number;
}

/** An error of one signature, with the PKCS#11 reason (`CKR_…`). */
export class Pkcs11SignError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

interface Job { id: number; key: string; mech: PoolMechanism; data: Uint8Array; resolve(sig: Uint8Array): void; reject(e: Error): void }
/** Signatures from a thread (binary, see the worker) and the failures. */
interface Replies { b: Uint8Array; errors: [number, string, string][]; elapsed: number; last: boolean }
const MECH_CODE = { ECDSA: 0, 'RSA-PKCS1': 1, 'RSA-PSS': 2 } as const;
const HASH_CODE: Record<HashName, number> = { 'SHA-256': 0, 'SHA-384': 1, 'SHA-512': 2 };

// The worker: plain CommonJS (evaluated, so the same code runs from src/ under tsx and from dist/).
const WORKER = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const pkcs11js = require(workerData.pkcs11js);
const reason = (e) => { const m = /CKR_[A-Z_0-9]+/.exec(String(e && e.message)); return m ? m[0] : String(e && e.message).split('\n')[0]; };
const p = new pkcs11js.PKCS11();
let session;
function open() {
  // Linux: this thread runs at a lower priority than the event loop (nice +workerData.nice), so that the thread
  // that reads requests and writes answers is not starved by signatures; they take the CPU left over
  if (workerData.nice) {
    try { require('node:os').setPriority(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()), workerData.nice); } catch {}
  }
  p.load(workerData.module);
  try { p.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (e) { if (reason(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw e; }
  let slot;
  for (const s of p.C_GetSlotList(true)) if (p.C_GetTokenInfo(s).label.trim() === workerData.token) { slot = s; break; }
  if (slot === undefined) throw new Error('PKCS#11 token "' + workerData.token + '" not found');
  session = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  try { p.C_Login(session, pkcs11js.CKU_USER, workerData.pin); } catch (e) { if (reason(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw e; }
}
const HASH = { 'SHA-256': [pkcs11js.CKM_SHA256, pkcs11js.CKG_MGF1_SHA256, '3031300d060960864801650304020105000420'],
  'SHA-384': [pkcs11js.CKM_SHA384, pkcs11js.CKG_MGF1_SHA384, '3041300d060960864801650304020205000430'],
  'SHA-512': [pkcs11js.CKM_SHA512, pkcs11js.CKG_MGF1_SHA512, '3051300d060960864801650304020305000440'] };
for (const k of Object.keys(HASH)) HASH[k][2] = Buffer.from(HASH[k][2], 'hex');
// key handles by CKA_ID (hex), bounded: a service with a key per citizen signs with many keys over its life
const keys = new Map();
function keyHandle(id) {
  let h = keys.get(id);
  if (h) return h;
  if (keys.size >= 4096) keys.clear();
  p.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_ID, value: Buffer.from(id, 'hex') }]);
  try { h = p.C_FindObjects(session, 2); } finally { p.C_FindObjectsFinal(session); }
  if (h.length !== 1) { const e = new Error(h.length ? 'several private keys with id ' + id : 'no private key with id ' + id); e.ckr = 'KEY_NOT_FOUND'; throw e; }
  keys.set(id, h[0]);
  return h[0];
}
// DER INTEGER of an unsigned big-endian value
function int(b) {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([2, b.length]), b]);
}
function ecdsaDer(raw) {
  const n = raw.length / 2;
  const body = Buffer.concat([int(raw.subarray(0, n)), int(raw.subarray(n))]);
  return Buffer.concat([body.length < 128 ? Buffer.from([0x30, body.length]) : Buffer.from([0x30, 0x81, body.length]), body]);
}
const out = Buffer.alloc(1024);
const MECH = ['ECDSA', 'RSA-PKCS1', 'RSA-PSS'];
const HASHES = ['SHA-256', 'SHA-384', 'SHA-512'];
function signOne(key, scheme, hash, salt, digest) {
  let mech, data = digest;
  if (scheme === 'ECDSA') mech = { mechanism: pkcs11js.CKM_ECDSA };
  else if (scheme === 'RSA-PKCS1') { mech = { mechanism: pkcs11js.CKM_RSA_PKCS }; data = Buffer.concat([HASH[hash][2], digest]); }
  else mech = { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: HASH[hash][0], mgf: HASH[hash][1], saltLen: salt } };
  for (let attempt = 0; ; attempt++) {
    const h = keyHandle(key);
    try {
      p.C_SignInit(session, mech, h);
    } catch (e) {
      // a handle gone stale (object store reloaded): look the key up again once
      if (attempt === 0 && /HANDLE_INVALID/.test(reason(e))) { keys.delete(key); continue; }
      throw e;
    }
    const sig = p.C_Sign(session, data, out);
    return scheme === 'ECDSA' ? ecdsaDer(sig) : sig;
  }
}
// in: { jobs: bytes } with per job: id u32 | key length u8 | key (CKA_ID bytes) | mechanism u8 | hash u8 | salt u8 |
// length u8 | digest; out: { b: bytes, errors: [id, code, message][], elapsed ms, last } with per signature:
// id u32 | length u16 (0: failed, see errors) | signature
parentPort.on('message', (m) => {
  if (m === 'close') { try { p.C_CloseSession(session); } catch {} parentPort.close(); return; }
  const jobs = Buffer.from(m.jobs.buffer, m.jobs.byteOffset, m.jobs.byteLength);
  // replies go back at the end of the batch (about 2 ms of work), or every 2 ms when the thread is slowed down
  // (a busy machine): one message for many ECDSA signatures or a couple of RSA ones
  let parts = [], errors = [], since = performance.now();
  for (let o = 0; o < jobs.length;) {
    const id = jobs.readUInt32LE(o), kl = jobs[o + 4];
    const key = jobs.toString('hex', o + 5, o + 5 + kl);
    o += 5 + kl;
    const len = jobs[o + 3];
    const digest = jobs.subarray(o + 4, o + 4 + len);
    const head = Buffer.alloc(6);
    head.writeUInt32LE(id, 0);
    try {
      const sig = signOne(key, MECH[jobs[o]], HASHES[jobs[o + 1]], jobs[o + 2], digest);
      head.writeUInt16LE(sig.length, 4);
      parts.push(head, Buffer.from(sig));
    } catch (e) {
      parts.push(head);
      errors.push([id, (e && e.ckr) || reason(e), String(e && e.message).split('\n')[0]]);
    }
    o += 4 + len;
    const now = performance.now();
    if (o < jobs.length && now - since >= 2) {
      const b = new Uint8Array(Buffer.concat(parts));
      parentPort.postMessage({ b, errors, elapsed: now - since, last: false }, [b.buffer]);
      parts = []; errors = []; since = now;
    }
  }
  const b = new Uint8Array(Buffer.concat(parts));
  parentPort.postMessage({ b, errors, elapsed: performance.now() - since, last: true }, [b.buffer]);
});
try {
  if (workerData.failStart) process.exit(3); // test hook: a thread that dies before it is ready
  open();
  parentPort.postMessage({ ready: true });
} catch (e) {
  parentPort.postMessage({ ready: false, code: reason(e), message: String(e && e.message).split('\n')[0] });
}
`;

/**
 * The module stays loaded and initialised (OS locking) by this thread while any pool or vault uses it: the threads' own
 * handles come and go (a pool closed, another opened), and a library unloaded under them, or initialised by two
 * threads at once, breaks (SoftHSM2 then answers CKR_GENERAL_ERROR or loses its tokens). When the last user is done
 * (a pool's threads ended, the vault closed), the module is finalised if this registry initialised it, so that a later C_Initialize (by a
 * pool or by @kyso/signer) reads the token configuration afresh instead of a stale one kept for the process.
 */
const pinned = new Map<string, { p: { C_Finalize(): void }; users: number; owns: boolean }>();
export function acquirePkcs11Module(path: string): void {
  const hit = pinned.get(path);
  if (hit) { hit.users++; return; }
  const lib = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');
  const p = new lib.PKCS11();
  try {
    p.load(path);
  } catch (e) {
    throw new SigningError('CONFIG_INVALID', `PKCS#11 module ${path} could not be loaded: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  let owns = true;
  try { p.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK }); } catch (e) {
    if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((e as Error).message)) throw new SigningError('CONFIG_INVALID', `PKCS#11 module ${path} could not be initialised: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    owns = false;
  }
  pinned.set(path, { p, users: 1, owns });
}
/** One user of this module (a pool whose threads have all ended, a vault that closed) is done with it. */
export function releasePkcs11Module(path: string): void {
  const hit = pinned.get(path);
  if (!hit || --hit.users > 0) return;
  pinned.delete(path);
  if (hit.owns) { try { hit.p.C_Finalize(); } catch { /* already finalised */ } }
}

/**
 * A signing thread. It holds up to two batches: the one it signs and the next one, already in its message queue,
 * so that it never waits for the event loop between batches (that round trip left RSA threads idle 20-30 % of the time).
 */
interface Thread { worker: Worker; /** batches sent and not yet answered in full, oldest first */ batches: Job[][]; lost: boolean }
/** Batches a thread holds at once: the one being signed and the next. */
const DEPTH = 2;

/** A batch for a thread (see the worker's message format): each job carries its key's CKA_ID bytes. */
function encodeBatch(batch: Job[]): Uint8Array {
  let size = 0;
  for (const j of batch) size += 9 + j.key.length / 2 + j.data.length;
  const buf = Buffer.allocUnsafeSlow(size);
  let o = 0;
  for (const j of batch) {
    buf.writeUInt32LE(j.id, o);
    const kl = buf.write(j.key, o + 5, 'hex');
    buf[o + 4] = kl;
    o += 5 + kl;
    buf[o] = MECH_CODE[j.mech.scheme];
    buf[o + 1] = j.mech.scheme === 'ECDSA' ? 0 : HASH_CODE[j.mech.hash];
    if (j.mech.scheme === 'RSA-PSS' && !(Number.isInteger(j.mech.saltLength) && j.mech.saltLength >= 0 && j.mech.saltLength <= 255)) throw new Error('PSS salt length out of range');
    buf[o + 2] = j.mech.scheme === 'RSA-PSS' ? j.mech.saltLength : 0;
    buf[o + 3] = j.data.length;
    buf.set(j.data, o + 4);
    o += 4 + j.data.length;
  }
  if (o !== size) throw new Error('batch size mismatch');
  return new Uint8Array(buf.buffer, 0, size);
}

/** The signing threads of one token. */
export class Pkcs11SigningPool {
  readonly threads: number;
  readonly maxBatch: number;
  #workers: Thread[] = [];
  #queue: Job[] = [];
  #pending = new Map<number, Job>();
  #next = 1;
  #closed = false;
  #unpinned = false;

  private constructor(readonly opts: Pkcs11PoolOptions) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? Math.min(16, Math.max(2, availableParallelism()))));
    this.maxBatch = Math.max(1, opts.maxBatch ?? 32);
  }

  /** Starts the threads; each opens its session and logs in (throws if any cannot). */
  static async open(opts: Pkcs11PoolOptions): Promise<Pkcs11SigningPool> {
    const pool = new Pkcs11SigningPool(opts);
    const pkcs11js = createRequire(import.meta.url).resolve('pkcs11js');
    acquirePkcs11Module(opts.module);
    try {
      await Promise.all(Array.from({ length: pool.threads }, () => pool.#start(pkcs11js)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  #start(pkcs11js: string): Promise<void> {
    this.#pkcs11js = pkcs11js;
    // execArgv [] : the worker is plain JavaScript (no loader hooks needed)
    const failStart = this.#failStarts > 0 ? (this.#failStarts--, true) : false;
    const worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { pkcs11js, failStart, module: this.opts.module, token: this.opts.token, pin: this.opts.pin, nice: Math.max(0, Math.min(19, os.getPriority() + (this.opts.nice ?? Number(process.env.KYSO_SIGNING_NICE ?? 5)))) } });
    const t: Thread = { worker, batches: [], lost: false };
    this.#starting.add(t);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      // a thread that dies once ready is lost (its signatures fail, one replacement is started); one that dies
      // before it is ready only fails this start: whoever started it (open, or #respawn) decides what next
      const fail = (e: Error) => {
        this.#starting.delete(t);
        if (ready) this.#lost(t, e);
        else { t.lost = true; reject(e); }
      };
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new SigningError('KEYSTORE_LOCKED', `PKCS#11 signing thread stopped (exit ${code})`)));
      worker.once('message', (m: { ready: boolean; code?: string; message?: string }) => {
        this.#starting.delete(t);
        if (!m.ready || this.#closed) {
          t.lost = true; // not counted, not replaced
          worker.removeAllListeners('exit');
          worker.removeAllListeners('error');
          worker.on('error', () => {});
          void worker.terminate();
          reject(new SigningError('KEYSTORE_LOCKED', this.#closed ? 'the PKCS#11 signing threads are stopped' : `PKCS#11 token "${this.opts.token}": ${m.code ?? ''} ${m.message ?? ''}`.trim()));
          return;
        }
        ready = true;
        this.#workers.push(t);
        worker.on('message', (r: Replies) => this.#done(t, r));
        resolve();
        this.#pump();
      });
    });
  }

  #pkcs11js = '';
  /** Threads started, not yet ready. */
  #starting = new Set<Thread>();

  /**
   * A thread died: its signatures fail (their hashes are used up: the caller asks for a new authorization), the
   * others go on, and a new thread takes its place (retried with a growing pause while the token cannot be opened).
   */
  #lost(t: Thread, e: Error): void {
    if (t.lost) return;
    t.lost = true;
    const i = this.#workers.indexOf(t);
    if (i >= 0) this.#workers.splice(i, 1);
    for (const batch of t.batches) for (const j of batch) { if (this.#pending.delete(j.id)) j.reject(new Pkcs11SignError('THREAD_LOST', e.message)); }
    t.batches = [];
    if (!this.#workers.length) {
      for (const j of this.#queue.splice(0)) { this.#pending.delete(j.id); j.reject(new Pkcs11SignError('THREAD_LOST', e.message)); }
    }
    if (!this.#closed) this.#respawn(0);
  }

  #respawn(attempt: number): void {
    setTimeout(() => {
      if (this.#closed) return;
      // never more threads than configured (running, and starting)
      if (this.#workers.length + this.#starting.size >= this.threads) return;
      this.stats.respawned++;
      this.#start(this.#pkcs11js).catch(() => { if (!this.#closed) this.#respawn(attempt + 1); });
    }, Math.min(5000, 50 * 2 ** attempt)).unref();
  }

  #done(t: Thread, m: Replies): void {
    const errors = new Map(m.errors.map(([id, code, message]) => [id, { code, message }]));
    const b = Buffer.from(m.b.buffer, m.b.byteOffset, m.b.byteLength);
    let n = 0;
    for (let o = 0; o < b.length; n++) {
      const id = b.readUInt32LE(o);
      const len = b.readUInt16LE(o + 4);
      const sig = b.subarray(o + 6, o + 6 + len);
      o += 6 + len;
      const j = this.#pending.get(id);
      if (!j) continue;
      this.#pending.delete(id);
      if (len) j.resolve(new Uint8Array(sig));
      else {
        const e = errors.get(id);
        j.reject(new Pkcs11SignError(e?.code ?? 'SIGN_FAILED', e?.message ?? 'signing failed'));
      }
    }
    if (n) this.#perSignatureMs = 0.8 * this.#perSignatureMs + 0.2 * (m.elapsed / n);
    if (!m.last) return;
    t.batches.shift();
    this.#pump();
  }

  /** Mean time of one signature in a thread (moving average), to size batches. */
  #perSignatureMs = 1;
  /** Counters: batches sent to the threads and signatures in them. */
  readonly stats = { messages: 0, signatures: 0, respawned: 0 };
  #scheduled = false;

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // after the current I/O phase: the requests that arrived together share one message
    setImmediate(() => { this.#scheduled = false; this.#pump(); });
  }

  /**
   * Hands queued signatures to idle threads, sharing the queue fairly; a batch holds about 2 ms of work (many
   * ECDSA signatures, one or two RSA ones) so that a thread that frees up early finds work left in the queue.
   */
  #pump(): void {
    if (!this.#queue.length) return;
    const cap = Math.max(1, Math.min(this.maxBatch, Math.floor(2 / Math.max(0.01, this.#perSignatureMs))));
    // idle threads first, then threads signing a batch get their next one
    for (let depth = 0; depth < DEPTH && this.#queue.length; depth++) this.#fill(depth, cap);
  }

  /** Hands batches to the threads holding exactly `depth` batches. */
  #fill(depth: number, cap: number): void {
    const idle = this.#workers.filter((w) => w.batches.length === depth);
    for (let k = 0; k < idle.length && this.#queue.length; k++) {
      const t = idle[k]!;
      const share = Math.min(cap, Math.ceil(this.#queue.length / (idle.length - k)));
      const batch = this.#queue.splice(0, share);
      let jobs: Uint8Array;
      try {
        jobs = encodeBatch(batch);
      } catch (e) {
        // never thrown out of a timer callback: the batch fails, the pool goes on
        for (const j of batch) { if (this.#pending.delete(j.id)) j.reject(new Pkcs11SignError('SIGN_FAILED', `job could not be encoded: ${(e as Error).message}`)); }
        continue;
      }
      t.batches.push(batch);
      this.stats.messages++;
      this.stats.signatures += batch.length;
      t.worker.postMessage({ jobs }, [jobs.buffer as ArrayBuffer]);
    }
  }

  /**
   * Signs a digest (RSA PKCS#1 v1.5: the DigestInfo is built in the thread) with the private key whose CKA_ID is
   * `keyId` (hex). ECDSA signatures come back DER-encoded (Ecdsa-Sig-Value).
   */
  sign(keyId: string, mech: PoolMechanism, data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Pkcs11SignError('POOL_CLOSED', 'the PKCS#11 signing threads are stopped'));
    if (!this.#workers.length) return Promise.reject(new Pkcs11SignError('THREAD_LOST', 'no PKCS#11 signing thread is running (one is being restarted)'));
    return new Promise<Uint8Array>((resolve, reject) => {
      if (data.length > 255 || data.length === 0) { reject(new Pkcs11SignError('DATA_LEN_RANGE', 'a digest has 1 to 255 bytes')); return; }
      if (!/^(?:[0-9a-f]{2}){1,128}$/i.test(keyId)) { reject(new Pkcs11SignError('KEY_NOT_FOUND', 'invalid key id')); return; }
      const j: Job = { id: this.#next, key: keyId, mech, data, resolve, reject };
      this.#next = this.#next >= 0xffffffff ? 1 : this.#next + 1;
      this.#pending.set(j.id, j);
      this.#queue.push(j);
      this.#schedule();
    });
  }

  /** Running threads. */
  get running(): number { return this.#workers.length; }

  #failStarts = 0;
  /** Test hook: the next `n` threads started die before they are ready. */
  failStartsForTests(n: number): void { this.#failStarts = n; }

  /** Test hook: stops one thread abruptly, as a crash would. */
  async killOneThreadForTests(): Promise<void> {
    await this.#workers[0]?.worker.terminate();
  }

  /** Finishes queued signatures, then ends the sessions and the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    // queued signatures finish (a token that hangs is given 10 s)
    const until = Date.now() + 10_000;
    while (this.#pending.size && this.#workers.length && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    for (const j of this.#pending.values()) j.reject(new Pkcs11SignError('POOL_CLOSED', 'the PKCS#11 signing threads were stopped'));
    this.#pending.clear();
    this.#queue = [];
    const starting = [...this.#starting].map((t) => { t.lost = true; t.worker.removeAllListeners('exit'); t.worker.removeAllListeners('error'); t.worker.on('error', () => {}); return t.worker.terminate(); });
    this.#starting.clear();
    const ws = this.#workers.splice(0);
    await Promise.all(ws.map(async (t) => {
      t.lost = true;
      t.worker.removeAllListeners('exit');
      t.worker.removeAllListeners('error');
      t.worker.on('error', () => {});
      const exited = new Promise((r) => t.worker.once('exit', r));
      t.worker.postMessage('close');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
      await t.worker.terminate();
    }));
    await Promise.all(starting);
    if (!this.#unpinned) { this.#unpinned = true; releasePkcs11Module(this.opts.module); }
  }
}
