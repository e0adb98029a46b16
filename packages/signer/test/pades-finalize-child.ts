// Child process of the two-step tests: finalizes a PDF signature from a job file written by the parent
// (another process, standing in for another host). Two job shapes:
//   { state, signature }                                  unsealed state naming the original by path
//   { sealed, signature, key, input, output }             sealed state, original and key supplied again
import { readFileSync } from 'node:fs';
import { finalizePdfSignature } from '@kyso/signer';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: pades-finalize-child JOB.json\n');
  process.exit(2);
}
const job = JSON.parse(readFileSync(file, 'utf8')) as { state?: string; sealed?: string; signature: string; key?: string; input?: string; output?: string };
try {
  const sig = new Uint8Array(Buffer.from(job.signature, 'base64'));
  const r = job.sealed
    ? await finalizePdfSignature(job.sealed, sig, { stateKey: Buffer.from(job.key!, 'base64'), input: job.input!, output: job.output! })
    : await finalizePdfSignature(job.state!, sig);
  process.stdout.write(JSON.stringify({ output: r.output, cmsSize: r.cmsSize }) + '\n');
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`${e.code ? e.code + ': ' : ''}${e.message}\n`);
  process.exit(1);
}
