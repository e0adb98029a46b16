// Child process of the two-step test: finalizes a PDF signature from a state file written by the parent.
import { readFileSync } from 'node:fs';
import { finalizePdfSignature } from '@kyso/signer';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: pades-finalize-child STATE.json\n');
  process.exit(2);
}
const { state, signature } = JSON.parse(readFileSync(file, 'utf8')) as { state: string; signature: string };
try {
  const r = await finalizePdfSignature(state, new Uint8Array(Buffer.from(signature, 'base64')));
  process.stdout.write(JSON.stringify({ output: r.output, cmsSize: r.cmsSize }) + '\n');
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
