import { existsSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Policy, ValidationReport } from '@kyso/verifier';
import type { WorkerAnswer, WorkerJob } from './worker.js';

/** Limits of the validation worker pool. */
export interface PoolOptions {
  /** Worker processes (default 2). */
  size?: number;
  /** V8 heap limit of each worker in MB (default 384): a file that needs more ends its worker, not the service. */
  workerMemoryMb?: number;
  /** Per-request deadline in ms (default 20 000): the worker is killed and replaced when it passes. */
  deadlineMs?: number;
  /** Requests waiting for a worker beyond which new ones are refused with 503 (default 64). */
  maxQueue?: number;
}

/** Outcome of one validation in the pool. */
export type PoolResult =
  | { report: ValidationReport }
  | { notSigned: { type: string; detail: string } }
  | { limit: 'deadline' | 'memory'; detail: string }
  | { error: string };

/** A job as the app submits it (the pool adds the id and the policy). */
export type PoolJob = Omit<WorkerJob, 'id' | 'policy'>;

interface Slot { child: ChildProcess; ready: boolean; busy: boolean; stderrTail: string }

/**
 * Validation off the event loop, in worker processes with a V8 heap limit (`--max-old-space-size`) and a
 * per-request deadline: a hostile upload can exhaust only its own worker, which is killed and replaced, while
 * the service process keeps answering other requests (health checks, the identity provider when it shares the
 * process).
 *
 * Why processes and not worker threads with `resourceLimits`: a worker thread that reaches its heap limit with
 * some allocation shapes (one growing Map or array) aborts the WHOLE process with "FATAL ERROR: Reached heap
 * limit" instead of ending the worker (nodejs/node#47224; seen here with a 96 MB worker on a 40 MB /Contents).
 * A worker process that runs out of heap dies alone.
 */
export class ValidationPool {
  readonly size: number;
  readonly deadlineMs: number;
  readonly #memoryMb: number;
  readonly #maxQueue: number;
  readonly #policy: Policy;
  readonly #slots: Slot[] = [];
  readonly #queue: { job: PoolJob; resolve: (r: PoolResult) => void }[] = [];
  #nextId = 1;
  #closed = false;
  /** Workers that died before they were ready, in a row: past a few, respawning stops (no crash loop). */
  #bootFailures = 0;

  constructor(policy: Policy, opts: PoolOptions = {}) {
    this.#policy = policy;
    this.size = Math.max(1, opts.size ?? 2);
    this.deadlineMs = opts.deadlineMs ?? 20_000;
    this.#memoryMb = opts.workerMemoryMb ?? 384;
    this.#maxQueue = opts.maxQueue ?? 64;
    for (let i = 0; i < this.size; i++) this.#spawn();
  }

  #spawn(): Slot {
    // compiled (dist/, installed): the worker module itself; from the sources: the boot file that registers tsx
    const compiled = new URL('./worker.js', import.meta.url);
    const boot = fileURLToPath(existsSync(compiled) ? compiled : new URL('./worker-boot.mjs', import.meta.url));
    const child = fork(boot, [], {
      execArgv: [`--max-old-space-size=${this.#memoryMb}`, '--max-semi-space-size=16'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const slot: Slot = { child, ready: false, busy: false, stderrTail: '' };
    child.stderr?.on('data', (c: Buffer) => { slot.stderrTail = (slot.stderrTail + c.toString('latin1')).slice(-4096); });
    child.unref();
    child.channel?.unref();
    let wasReady = false;
    const onReady = (m: { ready?: boolean }) => {
      if (!m?.ready) return;
      child.off('message', onReady);
      slot.ready = true;
      wasReady = true;
      this.#bootFailures = 0;
      this.#pump();
    };
    child.on('message', onReady);
    child.on('error', () => undefined);
    child.on('exit', () => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      if (!wasReady) this.#bootFailures++;
      if (this.#closed) return;
      if (this.#bootFailures >= 3) {
        // Workers cannot start (e.g. a heap limit too small to load the verifier): fail what waits, do not loop.
        if (this.#slots.length === 0) for (const q of this.#queue.splice(0)) q.resolve({ error: 'validation workers cannot start' });
        return;
      }
      this.#spawn();
    });
    this.#slots.push(slot);
    return slot;
  }

  /** Validates one spooled document. Never rejects. */
  run(job: PoolJob): Promise<PoolResult> | { busy: true } {
    if (this.#queue.length >= this.#maxQueue) return { busy: true };
    if (this.#slots.length === 0 && this.#bootFailures >= 3) {
      // Try again after a failure streak (the cause may have been transient), without blocking on it.
      this.#bootFailures = 2;
      this.#spawn();
    }
    return new Promise<PoolResult>((resolve) => {
      this.#queue.push({ job, resolve });
      this.#pump();
    });
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.busy) continue;
      const { job, resolve } = this.#queue.shift()!;
      this.#dispatch(slot, job, resolve);
    }
  }

  #dispatch(slot: Slot, job: PoolJob, resolve: (r: PoolResult) => void): void {
    slot.busy = true;
    const id = this.#nextId++;
    const c = slot.child;
    let done = false;
    const finish = (r: PoolResult, retire: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.off('message', onMessage);
      c.off('exit', onExit);
      resolve(r);
      if (retire) {
        slot.ready = false;
        c.kill('SIGKILL');
      } else {
        slot.busy = false;
        this.#pump();
      }
    };
    const onMessage = (m: WorkerAnswer) => {
      if (m?.id !== id) return;
      if ('report' in m) finish({ report: m.report }, false);
      else if ('notSigned' in m) finish({ notSigned: m.notSigned }, false);
      else finish({ error: m.error }, false);
    };
    const onExit = () => {
      // Give stderr a moment to deliver V8's last words.
      setImmediate(() => {
        if (/heap limit|heap out of memory|Allocation failed/i.test(slot.stderrTail)) {
          finish({ limit: 'memory', detail: `validating the document needed more than the ${this.#memoryMb} MB allowed per request` }, true);
        } else {
          finish({ error: 'validation worker stopped' }, true);
        }
      });
    };
    const timer = setTimeout(() => finish({ limit: 'deadline', detail: `validation did not finish within ${this.deadlineMs} ms` }, true), this.deadlineMs);
    timer.unref?.();
    c.on('message', onMessage);
    c.on('exit', onExit);
    c.send({ ...job, id, policy: this.#policy } satisfies WorkerJob);
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const q of this.#queue.splice(0)) q.resolve({ error: 'the service is shutting down' });
    // the workers are unref'd while idle: hold the event loop until each has exited (bounded), so that a caller
    // awaiting close() at the top level is never left with an empty loop
    const hold = setInterval(() => {}, 1000);
    try {
      await Promise.all(this.#slots.map((s) => new Promise<void>((res) => {
        if (s.child.exitCode !== null || s.child.signalCode !== null) { res(); return; }
        const timer = setTimeout(res, 5000);
        s.child.once('exit', () => { clearTimeout(timer); res(); });
        s.child.kill('SIGKILL');
      })));
    } finally {
      clearInterval(hold);
    }
  }
}
