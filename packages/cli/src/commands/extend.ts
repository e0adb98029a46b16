import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { EXIT_CODES_HELP, envName, exitCodeFor, fromEnv, intRange, oneOf, parseCommand, reasonOf, url } from '../args.js';
import { progressBar } from '../progress.js';
import { extendPdf } from '@kyso/signer/pdf';

const HELP = `Usage: kyso extend FILE... --level B-LT|B-LTA [--tsa URL] (-o OUT | --in-place)

Adds long-term validation material to the existing signatures of signed PDFs (kyso's own and those of
other tools), by incremental updates only: every earlier signature stays valid.
  B-LT   each signature and document timestamp without validation data gets a DSS entry (certificates,
         OCSP responses / CRLs, VRI); a signature with no trusted time yet first gets a document timestamp
         (needs --tsa)
  B-LTA  B-LT, then a document timestamp over everything (needs --tsa). On a document that is already
         B-LTA this renews the archive timestamp: the newest document timestamp gets its validation data,
         then a new one covers it.

Options:
  --level B-LT|B-LTA     target level (required)
  --tsa URL              RFC 3161 time-stamping authority (http or https)
  -o, --output OUT       write the result to OUT (with several FILEs: an existing folder)
  --in-place             replace each FILE (through a temp file renamed on success: never a partial file)
  --pdf-password-env VAR password of encrypted PDFs from environment variable VAR
  --timeout SECONDS      per request to the TSA / OCSP / CRL services (default 30)
  -h, --help             this help

Every option takes its value as --opt VALUE or --opt=VALUE. Revocation data is fetched online (OCSP, CRL
fallback) from the addresses in the certificates.
${EXIT_CODES_HELP}`;

const EXTEND_OPTIONS = {
  level: { type: 'string', parse: oneOf(['B-LT', 'B-LTA'] as const) },
  tsa: { type: 'string', parse: url() },
  output: { type: 'string', short: 'o' },
  'in-place': { type: 'boolean' },
  'pdf-password-env': { type: 'string', parse: envName },
  timeout: { type: 'string', parse: intRange(1, 600) },
} as const;

/** `kyso extend FILE... --level B-LT|B-LTA [--tsa URL] (-o OUT | --in-place)`. */
export const command: Command = {
  summary: 'extend signed PDFs to B-LT / B-LTA (DSS, document timestamps; renew archive timestamps)',
  async run(args) {
    const p = parseCommand(args, EXTEND_OPTIONS, { positionals: { min: 1, max: 10_000, name: 'FILE' }, see: 'kyso extend' });
    if (p.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const v = p.values;
    const files = p.positionals;
    if (!v.level) throw new UsageError('--level B-LT|B-LTA is required');
    if (v.level === 'B-LTA' && !v.tsa) throw new UsageError('--level B-LTA needs --tsa URL (for the document timestamp)');
    if (v['in-place'] && v.output !== undefined) throw new UsageError('-o and --in-place exclude each other');
    if (!v['in-place'] && v.output === undefined) throw new UsageError('give -o OUT or --in-place');
    const outDir = v.output !== undefined && existsSync(v.output) && statSync(v.output).isDirectory();
    if (files.length > 1 && v.output !== undefined && !outDir) throw new UsageError(`with ${files.length} FILEs, -o must be an existing folder`);
    const targets = files.map((f) => (v['in-place'] ? f : outDir ? join(v.output!, basename(f)) : v.output!));
    for (const [i, f] of files.entries()) {
      if (!v['in-place'] && resolve(targets[i]!) === resolve(f)) throw new UsageError(`-o would overwrite ${f}: use --in-place to replace it`);
    }
    if (new Set(targets.map((t) => resolve(t))).size !== targets.length) throw new UsageError('two FILEs would be written to the same output');
    const pdfPassword = v['pdf-password-env'] ? fromEnv(v['pdf-password-env'], 'PDF password') : undefined;
    const timeoutMs = (v.timeout ?? 30) * 1000;
    const bar = progressBar(files.length);
    let exit = 0;
    for (const [i, f] of files.entries()) {
      bar.update(i, basename(f));
      try {
        if (!existsSync(f) || !statSync(f).isFile()) throw Object.assign(new Error(`${f}: no such file`), { code: 'INPUT_READ' });
        const r = await extendPdf(f, targets[i]!, {
          level: v.level,
          ...(v.tsa ? { tsa: { url: v.tsa, timeoutMs } } : {}),
          ...(pdfPassword !== undefined ? { pdfPassword } : {}),
        });
        bar.finish();
        const what = r.revisionsAdded === 0
          ? 'already complete, nothing added'
          : [`validation data for ${r.validationDataAdded}`, `${r.documentTimestampsAdded} document timestamp${r.documentTimestampsAdded === 1 ? '' : 's'} added`, ...(r.renewed ? ['archive timestamp renewed'] : [])].join(', ');
        process.stdout.write(`extended ${r.output} (${r.level}: ${r.signatures} signature${r.signatures === 1 ? '' : 's'}; ${what}; ${r.fileSize} bytes)\n`);
      } catch (err) {
        bar.finish();
        process.stderr.write(`kyso extend: ${f}: ${reasonOf(err)}\n`);
        if (exit === 0) exit = exitCodeFor(err);
      }
    }
    bar.update(files.length, 'done');
    bar.finish();
    return exit;
  },
};
