// Child process of the large-file test: signs INPUT → OUTPUT with KEY/CERT and prints time and peak RSS growth as JSON.
import { loadPemFiles, signPdf } from '@kyso/signer';

const [input, output, keyPath, certPath] = process.argv.slice(2);
if (!input || !output || !keyPath || !certPath) {
  process.stderr.write('usage: pades-rss-child INPUT OUTPUT KEY CERT\n');
  process.exit(2);
}
const backend = await loadPemFiles({ keyPath, certPath });
global.gc?.();
const base = process.memoryUsage().rss;
const t0 = performance.now();
await signPdf(input, output, { backend });
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, growthMb: (process.resourceUsage().maxRSS * 1024 - base) / 1048576 }) + '\n');
