/**
 * Validation worker: validates one spooled upload at a time and answers with the report. The pool runs it in a
 * child process with a heap limit (`--max-old-space-size`) and kills it when a request's deadline passes; it also
 * works as a worker thread (parentPort).
 */
import { parentPort } from 'node:worker_threads';
import { readFile, stat } from 'node:fs/promises';
import { verifyCms, verifyPdf, verifyXml, type Policy, type ValidationReport } from '@kyso/verifier';
import { CmsFormatError, parseSignedData, pemToDerList } from '@kyso/pki';

/** One validation request sent to a worker. */
export interface WorkerJob {
  id: number;
  kind: 'pdf' | 'cms' | 'xml';
  path: string;
  dataPath?: string;
  name: string;
  policy: Policy;
}

/** A worker's answer: the report, or why the body is not a signed document, or an internal error. */
export type WorkerAnswer =
  | { id: number; report: ValidationReport }
  | { id: number; notSigned: { type: string; detail: string } }
  | { id: number; error: string };

/** Largest CMS the worker reads whole (detached signatures are small; the data file is streamed by the verifier). */
const MAX_CMS_BYTES = 64 * 1024 * 1024;
/** Largest XML document the worker validates (the XML verifier holds the document in memory). */
const MAX_XML_BYTES = 64 * 1024 * 1024;

async function cmsProblem(path: string): Promise<string | undefined> {
  const size = (await stat(path)).size;
  if (size > MAX_CMS_BYTES) return `the CMS signature is ${size} bytes, more than the ${MAX_CMS_BYTES}-byte limit`;
  let der: Uint8Array = new Uint8Array(await readFile(path));
  if (der[0] === 0x2d) {
    const text = Buffer.from(der).toString('latin1');
    der = pemToDerList(text, 'PKCS7')[0] ?? pemToDerList(text, 'CMS')[0] ?? new Uint8Array();
    if (der.length === 0) return 'the PEM text holds no PKCS7 or CMS block';
  }
  try {
    parseSignedData(der);
    return undefined;
  } catch (e) {
    return e instanceof CmsFormatError ? `not a CMS SignedData: ${e.message}` : `not a CMS SignedData (${(e as Error).message})`;
  }
}

async function run(job: WorkerJob): Promise<WorkerAnswer> {
  if (job.kind === 'cms') {
    const why = await cmsProblem(job.path);
    if (why) return { id: job.id, notSigned: { type: 'not-a-signature', detail: why } };
    const report = await verifyCms(job.path, job.dataPath, job.policy, { name: job.name });
    return { id: job.id, report };
  }
  if (job.kind === 'xml') {
    const size = (await stat(job.path)).size;
    if (size > MAX_XML_BYTES) return { id: job.id, notSigned: { type: 'too-large', detail: `the XML document is ${size} bytes, more than the ${MAX_XML_BYTES}-byte limit` } };
    const report = await verifyXml(new Uint8Array(await readFile(job.path)), job.policy, { name: job.name });
    if (report.signatures.length === 0) {
      const bad = report.findings.find((f) => f.severity === 'error');
      if (bad) return { id: job.id, notSigned: { type: 'unreadable-xml', detail: `${bad.code}: ${bad.message}` } };
      return { id: job.id, notSigned: { type: 'no-signature', detail: 'the XML document holds no ds:Signature element' } };
    }
    return { id: job.id, report };
  }
  const report = await verifyPdf(job.path, job.policy, { name: job.name });
  if (report.signatures.length === 0) {
    const unreadable = report.findings.find((f) => f.code === 'PDF_UNREADABLE');
    if (unreadable) return { id: job.id, notSigned: { type: 'unreadable-pdf', detail: unreadable.message } };
    // a signature that cannot be read at all (e.g. over the reader's limits): say which check stopped it, where
    const errors = report.findings.filter((f) => f.severity === 'error');
    if (errors.length) {
      return { id: job.id, notSigned: { type: 'unreadable-pdf', detail: `no readable signature: ${errors.slice(0, 3).map((f) => `${f.code}: ${f.message}${f.where ? ` (${f.where})` : ''}`).join('; ')}` } };
    }
    return { id: job.id, notSigned: { type: 'no-signature', detail: 'the PDF holds no signature or document timestamp (no signature field with a value)' } };
  }
  return { id: job.id, report };
}

/** Sends to the pool: IPC in a child process, the parent port in a worker thread. */
function send(m: unknown): void {
  if (process.send) process.send(m);
  else parentPort?.postMessage(m);
}

const onJob = (job: WorkerJob) => {
  run(job).then(
    (a) => send(a),
    (e) => send({ id: job.id, error: (e as Error)?.message ?? String(e) } satisfies WorkerAnswer),
  );
};
if (process.send) {
  process.on('message', onJob);
  process.on('disconnect', () => process.exit(0)); // the service is gone: so is its worker
} else {
  parentPort?.on('message', onJob);
}
send({ ready: true });
