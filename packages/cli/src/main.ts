import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { exitCodeFor } from './args.js';

/** Sub-commands, loaded lazily so `kyso --help` stays fast. Each module exports `command`. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  pki: { summary: 'test PKI: `kyso pki init DIR`, `kyso pki serve DIR`', load: () => import('./commands/pki.js') },
  sign: { summary: 'sign a PDF (PAdES B-B..B-LTA) or any file (CAdES .p7s)', load: () => import('./commands/sign.js') },
  verify: { summary: 'validate signed PDFs / CMS and print an ETSI-style report', load: () => import('./commands/verify.js') },
  extend: { summary: 'extend signed PDFs to B-LT / B-LTA (validation data, document timestamps)', load: () => import('./commands/extend.js') },
  serve: { summary: 'run a service: `kyso serve idp|verify|portal|signing --port N`', load: () => import('./commands/serve.js') },
  idp: { summary: 'manage identity-provider clients and users (`kyso idp user add|list|disable|reset-mfa`)', load: () => import('./commands/idp.js') },
  xml: { summary: 'XML signatures: `kyso xml edxml|sign` (XMLDSig, XAdES, edXML)', load: () => import('./commands/xml.js') },
  audit: { summary: 'check the signing service\'s hash-chained audit log (`kyso audit verify`)', load: () => import('./commands/audit.js') },
  demo: { summary: 'all-in-one demo on the embedded store (what `npm start` runs)', load: () => import('./commands/demo.js') },
};

/** kyso's version, read from the CLI package. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const lines = ['kyso — ký số: sign documents, verify their legal validity, identify citizens', '', 'Usage: kyso <command> [options]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push('', 'Options:', '  --help     show this help', '  --version  print the version', '', 'Run `kyso <command> --help` for the options of a command.');
  return lines.join('\n');
}

/** Entry point: runs `kyso ARGS...` and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(help() + '\n');
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`kyso ${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[first];
  if (!entry) {
    process.stderr.write(`kyso: unknown command '${first}'. Run 'kyso --help'.\n`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kyso ${first}: ${err.message}\n`);
      return 2;
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(`kyso ${first}: ${e.code ? e.code + ': ' : ''}${e.message ?? String(err)}\n`);
    return exitCodeFor(err); // the shared table: refused input 3, unreachable service 4, else 1
  }
}
