import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Policy } from '../policy.js';
import { resolvePolicy } from '../policy.js';
import type { ValidationReport } from '../report/model.js';
import { verifyPdf } from '../verify-pdf.js';
import { verifyCms } from '../verify-cms.js';
import type { WorkRequest, WorkResponse } from './worker.js';

/** Options of {@link verifyFiles}. */
export interface VerifyFilesOptions {
  /** Worker threads (default: available cores, at most 4; 0 or 1 = in this thread). */
  workers?: number;
  /** Files in flight per thread (default 2). */
  concurrency?: number;
  /** Data file of a `.p7s` (default: the path without the extension, when given by the caller). */
  dataFor?: (path: string) => string | undefined;
  /** Called after each file (progress bars). */
  onProgress?: (done: number, total: number, path: string) => void;
}

function failedReport(path: string, message: string): ValidationReport {
  return {
    file: basename(path), documentIndication: 'TOTAL_FAILED', documentSubIndication: 'FORMAT_FAILURE', format: 'PDF',
    validationTime: new Date().toISOString(), signatures: [], validator: 'kyso-verifier',
    findings: [{ code: 'VALIDATION_ERROR', severity: 'error', message }],
  };
}

/**
 * Validates many files (PDF, or `.p7s` with `dataFor`) with the same policy, spreading them over worker threads.
 * Reports come back in input order. The policy must be plain data (no custom fetcher across threads).
 */
export async function verifyFiles(paths: string[], policy: Policy, opts: VerifyFilesOptions = {}): Promise<ValidationReport[]> {
  resolvePolicy(policy); // fail fast on a bad policy, in this thread
  const total = paths.length;
  const out = new Array<ValidationReport>(total);
  let done = 0;
  const finish = (i: number, r: ValidationReport) => {
    out[i] = r;
    opts.onProgress?.(++done, total, paths[i]!);
  };
  const perThread = Math.max(1, opts.concurrency ?? 2);
  // Worker start-up (module loading through tsx) costs about as much as 200 small files: only for big batches.
  const workers = Math.min(opts.workers ?? Math.min(availableParallelism(), 4), Math.floor(total / 400));
  if (workers <= 1) {
    let next = 0;
    const one = async () => {
      while (next < total) {
        const i = next++;
        const p = paths[i]!;
        try {
          const r = /\.(p7s|p7m|cms)$/i.test(p) ? await verifyCms(p, opts.dataFor?.(p), policy, { name: basename(p) }) : await verifyPdf(p, policy, { name: basename(p) });
          finish(i, r);
        } catch (e) {
          finish(i, failedReport(p, (e as Error).message));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(perThread * 2, total) }, one));
    return out;
  }
  // compiled (dist/): the worker module itself; TypeScript sources: a boot file that registers tsx first, with the
  // kyso-source condition so the worker's @kyso/* imports resolve to sources too
  const fromSource = import.meta.url.endsWith('.ts');
  const boot = fileURLToPath(new URL(fromSource ? './worker-boot.mjs' : './worker.js', import.meta.url));
  // each thread has a heap limit: a hostile file can exhaust its own worker (its files are then reported), not the process
  const resourceLimits = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 32 };
  const workerOptions = fromSource ? { resourceLimits, execArgv: [...process.execArgv.filter((a) => !a.startsWith('--conditions=kyso-source')), '--conditions=kyso-source'] } : { resourceLimits };
  // node:worker_threads only here, for the big batches that use it (loading it cost every `kyso verify` ~4 ms)
  const { Worker } = await import('node:worker_threads');
  const pool = Array.from({ length: workers }, () => new Worker(boot, workerOptions));
  try {
    let next = 0;
    await Promise.all(pool.map((w) => new Promise<void>((resolve) => {
      const inFlight = new Map<number, string>();
      const send = () => {
        while (inFlight.size < perThread && next < total) {
          const i = next++;
          inFlight.set(i, paths[i]!);
          const msg: WorkRequest = { id: i, path: paths[i]!, policy };
          const d = opts.dataFor?.(paths[i]!);
          if (d !== undefined) msg.data = d;
          w.postMessage(msg);
        }
        if (inFlight.size === 0) resolve();
      };
      w.on('message', (m: WorkResponse) => {
        inFlight.delete(m.id);
        finish(m.id, m.report ?? failedReport(paths[m.id]!, m.error ?? 'worker error'));
        send();
      });
      w.on('error', (e) => {
        for (const [i, p] of inFlight) finish(i, failedReport(p, `worker failed: ${e.message}`));
        inFlight.clear();
        resolve();
      });
      send();
    })));
    // Files a crashed worker never took are validated here.
    for (let i = 0; i < total; i++) if (!out[i]) finish(i, await verifyPdf(paths[i]!, policy, { name: basename(paths[i]!) }));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return out;
}
