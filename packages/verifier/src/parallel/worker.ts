import { parentPort } from 'node:worker_threads';
import { basename } from 'node:path';
import { verifyPdf } from '../verify-pdf.js';
import { verifyCms } from '../verify-cms.js';
import type { Policy } from '../policy.js';
import type { ValidationReport } from '../report/model.js';

/** Message from the pool: validate one file. */
export interface WorkRequest { id: number; path: string; data?: string; policy: Policy }
/** Answer: the report, or an error message when even the report could not be produced. */
export interface WorkResponse { id: number; report?: ValidationReport; error?: string }

parentPort?.on('message', async (m: WorkRequest) => {
  try {
    const report = /\.(p7s|p7m|cms)$/i.test(m.path)
      ? await verifyCms(m.path, m.data, m.policy, { name: basename(m.path) })
      : await verifyPdf(m.path, m.policy, { name: basename(m.path) });
    parentPort!.postMessage({ id: m.id, report } satisfies WorkResponse);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error)?.message ?? String(e) } satisfies WorkResponse);
  }
});
