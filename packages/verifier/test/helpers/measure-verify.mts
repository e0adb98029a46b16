/**
 * Child-process probe for the hostile-resource tests: verifies one file and prints one JSON line with the
 * elapsed time, the resident set size before verification and the peak RSS of the process (getrusage).
 * Usage: node --import tsx measure-verify.mts FILE
 */
import { verifyPdf } from '@kyso/verifier';

const file = process.argv[2]!;
// Warm up module loading so that the measurement is the verification only.
await verifyPdf(new Uint8Array(0), { offline: true, revocationRequired: false }).catch(() => undefined);
const rssBefore = process.memoryUsage().rss;
const t = performance.now();
const cpu0 = process.cpuUsage();
const r = await verifyPdf(file, { offline: true, revocationRequired: false });
const ms = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
const peak = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({
  ms: Math.round(ms),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  rssBeforeMB: Math.round(rssBefore / 1048576),
  peakRssMB: Math.round(peak / 1048576),
  growthMB: Math.round((peak - rssBefore) / 1048576),
  indication: r.documentIndication,
  findings: r.findings.map((f) => f.code),
  signatures: r.signatures.map((s) => [s.indication, s.subIndication, s.message.slice(0, 160)]),
}));
