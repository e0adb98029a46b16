import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import {
  loadPolicyFile, renderHtml, renderText, toJsonReport, verifyCms, verifyFiles, verifyPdf,
  type Policy, type ValidationReport,
} from '@kyso/verifier';

const HELP = `Usage: kyso verify FILE|DIR... [options]

Validates signed PDFs (PAdES, adbe.pkcs7.*) and detached CMS (.p7s) and prints an ETSI EN 319 102-1 report.
Exit code 0 iff every file's every signature is TOTAL_PASSED, 1 otherwise, 2 on usage errors.

Options:
  --trust ROOT.pem       trust anchor (PEM or DER; repeatable; a PEM may hold several certificates)
  --json                 print the JSON report (one object per file; an array for several files or a folder)
  --html OUT.html        also write a self-contained HTML report (Vietnamese + English)
  --offline              never use the network (no OCSP / CRL / AIA fetch)
  --policy FILE          validation policy JSON (trustAnchors, allowedDigests, minRsaBits, revocationRequired,
                         validationTime, offline, ...); --trust and --offline add to it
  --data FILE            the signed data of a .p7s (default: the .p7s path without its extension)
  --at ISO-TIME          validation time (default now)
  --no-revocation        do not require revocation status (soft-fail)
  --concurrency N        files in flight per thread for folders (default 2)
  --workers N            worker threads for folders (default: cores (at most 4) for 800+ files; 0 = this thread)
  -h, --help             this help

A folder is scanned for *.pdf and *.p7s files (not recursively) with a progress bar on stderr and a summary table.`;

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

function parseArgs(args: string[]): Options | 'help' {
  const o: Options = { inputs: [], trust: [], json: false, offline: false, noRevocation: false, concurrency: 2 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h': case '--help': return 'help';
      case '--trust': o.trust.push(value()); break;
      case '--json': o.json = true; break;
      case '--html': o.html = value(); break;
      case '--offline': o.offline = true; break;
      case '--policy': o.policy = value(); break;
      case '--data': o.data = value(); break;
      case '--no-revocation': o.noRevocation = true; break;
      case '--at': {
        const d = new Date(value());
        if (Number.isNaN(d.getTime())) throw new UsageError('--at needs an ISO 8601 time');
        o.at = d;
        break;
      }
      case '--workers': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 32) throw new UsageError('--workers needs an integer 0..32');
        o.workers = n;
        break;
      }
      case '--concurrency': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError('--concurrency needs an integer 1..64');
        o.concurrency = n;
        break;
      }
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a} (see kyso verify --help)`);
        o.inputs.push(a);
    }
  }
  if (o.inputs.length === 0) throw new UsageError('no FILE given (see kyso verify --help)');
  return o;
}

async function buildPolicy(o: Options): Promise<Policy> {
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
    return verifyCms(path, data, policy, { name: basename(path) });
  }
  if (/\.xml$/i.test(path)) return (await import('./xml.js')).verifyXmlFile(path, policy, dataOpt);
  return verifyPdf(path, policy, { name: basename(path) });
}

function progress(done: number, total: number, name: string): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name.slice(0, 40)}`;
  process.stderr.write(`\r${line.padEnd(90)}`);
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
    const policy = await buildPolicy(o);
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
        const rs = await verifyFiles(files, policy, {
          concurrency: o.concurrency,
          ...(o.workers !== undefined ? { workers: o.workers } : {}),
          dataFor: (f) => { const s = f.replace(/\.(p7s|p7m|cms)$/i, ''); return s !== f && existsSync(s) ? s : undefined; },
          onProgress: (d, total, f) => progress(d, total, basename(f)),
        });
        if (files.length) process.stderr.write('\n');
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
