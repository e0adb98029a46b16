import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { intRange, isoTime, parseCommand } from '../args.js';
import { progressBar } from '../progress.js';
import type { Policy, ValidationReport } from '@kyso/verifier';

// The verifier's halves are loaded on demand: PDF and CMS validation for .pdf/.p7s files and folders, XML validation
// for .xml files (both export the policy loader and the report renderers), so `kyso verify x.xml` never loads the PDF
// validator and `kyso verify x.pdf` never loads the XML one.
let pdfHalf: Promise<typeof import('@kyso/verifier/pdf')> | undefined;
const pdfVerifier = () => (pdfHalf ??= import('@kyso/verifier/pdf'));
const xmlVerifier = () => import('@kyso/verifier/xml');
const isXml = (path: string): boolean => /\.xml$/i.test(path);

const HELP = `Usage: kyso verify FILE|DIR... [options]

Validates signed PDFs (PAdES, adbe.pkcs7.*), detached CMS (.p7s) and XML signatures (.xml: XMLDSig, XAdES,
edXML messages) and prints an ETSI EN 319 102-1 report (the same JSON shape for every format).
Exit code 0 iff every file's every signature is TOTAL_PASSED, 1 otherwise, 2 on usage errors.

Options:
  --trust ROOT.pem       trust anchor (PEM or DER; repeatable; a PEM may hold several certificates)
  --json                 print the JSON report (one object per file; an array for several files or a folder)
  --html OUT.html        also write a self-contained HTML report (Vietnamese + English)
  --offline              never use the network (no OCSP / CRL / AIA fetch)
  --policy FILE          validation policy JSON (trustAnchors, allowedDigests, minRsaBits, revocationRequired,
                         validationTime, offline, ...); --trust and --offline add to it
  --data FILE            the signed data of a .p7s (default: the .p7s path without its extension), or the detached
                         file an XML signature references (matched by base name)
  --at ISO-TIME          validation time (default now)
  --no-revocation        do not require revocation status (soft-fail)
  --concurrency N        files in flight per thread for folders (default 2)
  --workers N            worker threads for folders (default: cores (at most 4) for 800+ files; 0 = this thread)
  -h, --help             this help

A folder is scanned for *.pdf and *.p7s files (not recursively) with a summary table (and a progress bar on
stderr when it is a terminal). Every option takes --opt VALUE or --opt=VALUE.
Exit codes: 0 success (every signature of every file TOTAL_PASSED), 1 failure (something is not TOTAL_PASSED),
  2 usage error. A hostile or damaged file never makes verify fail otherwise: its report says why.`;

interface Options {
  inputs: string[];
  trust: string[];
  json: boolean;
  html?: string;
  offline: boolean;
  policy?: string;
  data?: string;
  at?: Date;
  noRevocation: boolean;
  concurrency: number;
  workers?: number;
}

const VERIFY_OPTIONS = {
  trust: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  html: { type: 'string' },
  offline: { type: 'boolean' },
  policy: { type: 'string' },
  data: { type: 'string' },
  at: { type: 'string', parse: isoTime },
  'no-revocation': { type: 'boolean' },
  concurrency: { type: 'string', parse: intRange(1, 64), default: 2 },
  workers: { type: 'string', parse: intRange(0, 32) },
} as const;

function parseArgs(args: string[]): Options | 'help' {
  const p = parseCommand(args, VERIFY_OPTIONS, { positionals: { min: 1, max: 100_000, name: 'FILE' }, see: 'kyso verify' });
  if (p.help) return 'help';
  const v = p.values;
  return {
    inputs: p.positionals, trust: v.trust ?? [], json: v.json, offline: v.offline, noRevocation: v['no-revocation'], concurrency: v.concurrency,
    ...(v.html !== undefined ? { html: v.html } : {}), ...(v.policy !== undefined ? { policy: v.policy } : {}),
    ...(v.data !== undefined ? { data: v.data } : {}), ...(v.at !== undefined ? { at: v.at } : {}), ...(v.workers !== undefined ? { workers: v.workers } : {}),
  };
}

async function buildPolicy(o: Options, loadPolicyFile: (path: string) => Policy): Promise<Policy> {
  const p: Policy = o.policy ? loadPolicyFile(o.policy) : {};
  if (o.trust.length) {
    const anchors = [...(p.trustAnchors ?? [])];
    for (const t of o.trust) {
      try {
        anchors.push(new Uint8Array(await readFile(t)));
      } catch {
        throw new UsageError(`cannot read trust anchor ${t}`);
      }
    }
    p.trustAnchors = anchors;
  }
  if (o.offline) p.offline = true;
  if (o.noRevocation) p.revocationRequired = false;
  if (o.at) p.validationTime = o.at;
  return p;
}

function isCms(path: string): boolean {
  return /\.(p7s|p7m|cms)$/i.test(path);
}

async function verifyOne(path: string, policy: Policy, dataOpt: string | undefined): Promise<ValidationReport> {
  if (isCms(path)) {
    let data = dataOpt;
    const sibling = path.replace(/\.(p7s|p7m|cms)$/i, '');
    if (data === undefined && existsSync(sibling)) data = sibling;
    return (await pdfVerifier()).verifyCms(path, data, policy, { name: basename(path) });
  }
  if (isXml(path)) return (await import('./xml.js')).verifyXmlFile(path, policy, dataOpt);
  return (await pdfVerifier()).verifyPdf(path, policy, { name: basename(path) });
}

function summaryTable(reports: ValidationReport[]): string {
  const rows = reports.map((r) => [r.file, r.documentIndication, r.documentSubIndication ?? '', String(r.signatures.length),
    r.signatures.map((s) => s.level).filter((v, i, a) => a.indexOf(v) === i).join(',')]);
  const head = ['file', 'indication', 'sub-indication', 'sigs', 'level'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const fmt = (r: string[]) => r.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join(' | ');
  const count = (ind: string) => reports.filter((r) => r.documentIndication === ind).length;
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(fmt), '',
    `${reports.length} file(s): ${count('TOTAL_PASSED')} TOTAL_PASSED, ${count('INDETERMINATE')} INDETERMINATE, ${count('TOTAL_FAILED')} TOTAL_FAILED`].join('\n') + '\n';
}

/** `kyso verify FILE|DIR... [--trust ROOT.pem ...] [--json] [--html OUT.html] [--offline] [--policy FILE]`. */
export const command: Command = {
  summary: 'validate signed PDFs / CMS and print an ETSI-style report',
  async run(args) {
    const o = parseArgs(args);
    if (o === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (o.data !== undefined && !existsSync(o.data)) throw new UsageError(`--data ${o.data}: no such file`);
    // the policy loader and the renderers from the half the inputs need (the XML one only when every input is .xml)
    const half = o.inputs.every(isXml) ? await xmlVerifier() : await pdfVerifier();
    const { renderHtml, renderText, toJsonReport } = half;
    const policy = await buildPolicy(o, half.loadPolicyFile);
    const reports: ValidationReport[] = [];
    let sawDir = false;
    for (const input of o.inputs) {
      let st;
      try {
        st = await stat(input);
      } catch {
        throw new UsageError(`${input}: no such file or folder`);
      }
      if (st.isDirectory()) {
        sawDir = true;
        const files = (await readdir(input)).filter((f) => /\.(pdf|p7s)$/i.test(f)).sort().map((f) => join(input, f));
        if (files.length === 0) process.stderr.write(`kyso verify: ${input}: no .pdf or .p7s file\n`);
        const bar = progressBar(files.length);
        const rs = await (await pdfVerifier()).verifyFiles(files, policy, {
          concurrency: o.concurrency,
          ...(o.workers !== undefined ? { workers: o.workers } : {}),
          dataFor: (f) => { const s = f.replace(/\.(p7s|p7m|cms)$/i, ''); return s !== f && existsSync(s) ? s : undefined; },
          onProgress: (d, _total, f) => bar.update(d, basename(f)),
        });
        bar.finish();
        reports.push(...rs);
      } else {
        reports.push(await verifyOne(input, policy, o.data));
      }
    }
    if (o.json) {
      process.stdout.write(toJsonReport(reports.length === 1 && !sawDir ? reports[0]! : reports));
    } else {
      for (const r of reports) if (!sawDir || r.documentIndication !== 'TOTAL_PASSED') process.stdout.write(renderText(r));
      if (sawDir || reports.length > 1) process.stdout.write(summaryTable(reports));
    }
    if (o.html) await writeFile(o.html, renderHtml(reports));
    const ok = reports.length > 0 && reports.every((r) => r.documentIndication === 'TOTAL_PASSED' && r.signatures.every((s) => s.indication === 'TOTAL_PASSED'));
    return ok ? 0 : 1;
  },
};
