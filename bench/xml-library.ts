/**
 * Child of bench/xml.ts: signs then verifies one file with the library in this process (no CLI start-up) and
 * prints {"signMs","verifyMs","signRssMb","verifyRssMb"} (RSS growth over the process before the operation).
 */
import { readFileSync } from 'node:fs';
import { isEdxml, loadPemFiles, parseXml, signEdxml, signXml } from '@kyso/signer';
import { verifyXml } from '@kyso/verifier';

const [file, keyPath, certPath, rootPath] = process.argv.slice(2) as [string, string, string, string];
const be = await loadPemFiles({ keyPath, certPath });
const input = readFileSync(file);
const edxml = isEdxml(parseXml(input));
(globalThis as { gc?: () => void }).gc?.();
const base = process.memoryUsage().rss;
let t = performance.now();
const out = edxml ? await signEdxml(input, { backend: be }) : await signXml(input, { backend: be });
const signMs = performance.now() - t;
const signPeak = process.resourceUsage().maxRSS * 1024;
t = performance.now();
const r = await verifyXml(out, { trustAnchors: [readFileSync(rootPath, 'latin1')], revocationRequired: false, offline: true });
const verifyMs = performance.now() - t;
const verifyPeak = process.resourceUsage().maxRSS * 1024;
if (r.documentIndication !== 'TOTAL_PASSED') throw new Error(`verify: ${r.signatures[0]?.message}`);
process.stdout.write(JSON.stringify({ signMs, verifyMs, signRssMb: (signPeak - base) / 1048576, verifyRssMb: (verifyPeak - base) / 1048576 }) + '\n');
