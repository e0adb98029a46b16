/**
 * The one argument parser of every `kyso` command: `node:util` `parseArgs` (strict) with shared
 * validators, one set of messages, `-h/--help` and one table of exit codes.
 *
 * Every command declares its options once ({@link OptionSpec}); {@link parseCommand} then gives
 * - `--opt value` and `--opt=value` for every string option, `-x value` / `-xvalue` for short ones;
 * - `-h` / `--help` anywhere before `--` → help (exit 0), whatever else is on the line;
 * - the refusal of secrets on argv (`--password`, `--pin`, `--secret`, ... in any spelling) with a
 *   pointer to the environment-variable option or the prompt;
 * - usage errors as {@link UsageError} (exit 2, one line on stderr: `kyso CMD: MESSAGE`).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { UsageError } from './command.js';

/**
 * Exit codes of every `kyso` command (documented in `kyso --help` and each command's help).
 * 0 success; 1 the operation failed or a document is not valid; 2 usage error; 3 the input was
 * refused as damaged or unsupported (PDF_DAMAGED, IMAGE_UNSUPPORTED, RECT_OUTSIDE_PAGE);
 * 4 a network service could not be reached (TSA_UNREACHABLE, REVOCATION_UNREACHABLE).
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INPUT_REFUSED: 3, SERVICE_UNREACHABLE: 4 } as const;

/** The exit-code table as printed in the help texts. */
export const EXIT_CODES_HELP = `Exit codes: 0 success, 1 failure (one-line reason with its code on stderr), 2 usage error,
  3 input refused (damaged or unsupported input: PDF_DAMAGED, IMAGE_UNSUPPORTED, RECT_OUTSIDE_PAGE),
  4 a network service (TSA, OCSP, CRL, CSC signing service, Redis) could not be reached (TSA_UNREACHABLE,
  REVOCATION_UNREACHABLE, CSC_UNREACHABLE, REDIS_UNREACHABLE, IDP_STORAGE_UNAVAILABLE).`;

const INPUT_CODES = new Set(['PDF_DAMAGED', 'IMAGE_UNSUPPORTED', 'RECT_OUTSIDE_PAGE', 'PDF_BAD_STRUCTURE', 'PDF_XREF_BROKEN', 'PDF_TRUNCATED', 'PDF_NOT_PDF']);
const SERVICE_CODES = new Set(['TSA_UNREACHABLE', 'REVOCATION_UNREACHABLE', 'CSC_UNREACHABLE', 'REDIS_UNREACHABLE', 'IDP_STORAGE_UNAVAILABLE']);

/** Exit code for an error thrown by a command (UsageError → 2, typed input / service codes → 3 / 4, else 1). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && INPUT_CODES.has(code)) return EXIT.INPUT_REFUSED;
  if (typeof code === 'string' && SERVICE_CODES.has(code)) return EXIT.SERVICE_UNREACHABLE;
  return EXIT.FAILED;
}

/** One-line reason of an error: `CODE: first line of the message`. */
export function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  return `${typeof e?.code === 'string' && !/^ERR_/.test(e.code) ? e.code + ': ' : ''}${msg.split('\n')[0]}`;
}

/** Validator of an option's value: returns the parsed value or throws (its message becomes `--opt: MESSAGE`). */
export type Validator<T> = (value: string) => T;

/** Declaration of one option. */
export interface OptionSpec<T = unknown> {
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable (values collected in order). */
  multiple?: boolean;
  /** Turns the text value into a typed one (string options only). */
  parse?: Validator<T>;
  /** Default value when the option is absent. */
  default?: T;
}

/** Options of a command. */
export type OptionSpecs = Record<string, OptionSpec>;

/** Parsed value of one option. */
type ValueOf<S extends OptionSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { parse: Validator<infer T> } ? (S extends { multiple: true } ? T[] : T) : (S extends { multiple: true } ? string[] : string);

/** Parsed options (absent string options are undefined unless they have a default; booleans default to false). */
export type ParsedValues<S extends OptionSpecs> = { [K in keyof S]: S[K] extends { type: 'boolean' } ? boolean : S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined };

/** Result of {@link parseCommand}. */
export type Parsed<S extends OptionSpecs> = { help: true } | { help: false; values: ParsedValues<S>; positionals: string[] };

/** Names that carry a secret: never accepted on the command line, whatever the command. */
const SECRET_OPTION = /^--?(password|passwd|pass|pin|pkcs11-pin|user-pin|so-pin|secret|client-secret|otp|totp|totp-secret|token|passphrase|key-password|pdf-password|api-key)(=|$)/i;

/** Where a refused secret should come from instead. */
function secretAdvice(name: string, specs: OptionSpecs): string {
  const n = name.replace(/^-+/, '').toLowerCase();
  const env = [`${n}-env`, n === 'pin' || n.endsWith('-pin') ? 'pin-env' : 'password-env'].find((c) => c in specs);
  return env ? `use --${env} VAR or the prompt` : 'use the environment variable or the prompt named in --help';
}

function secretKind(name: string): string {
  const n = name.replace(/^-+/, '').toLowerCase();
  if (n === 'pin' || n.endsWith('-pin')) return 'PIN';
  if (/secret/.test(n)) return 'secret';
  if (/token|otp|api-key/.test(n)) return 'token or one-time code';
  return 'password';
}

/**
 * Refuses secrets on argv (`--password x`, `--password=x`, `--pin`, `--secret`, ...), whatever the
 * command declares: `never put a password on the command line` plus where it should come from
 * (`advice`, else the command's `--password-env` / `--pin-env` option, else the prompt).
 */
export function refuseSecrets(args: readonly string[], specs: OptionSpecs = {}, advice?: string): void {
  for (const a of args) {
    if (a === '--') return;
    const m = SECRET_OPTION.exec(a);
    if (m) {
      const name = a.split('=')[0]!;
      throw new UsageError(`${name} is not accepted: never put a ${secretKind(name)} on the command line (it ends up in shell history and the process list); ${advice ?? secretAdvice(name, specs)}`);
    }
  }
}

/** True when `-h` or `--help` appears before `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

/**
 * Parses a command's arguments: help, secret refusal, strict options with `--opt=value`,
 * positionals within `positionals.min..max`, then each option's validator.
 */
export function parseCommand<S extends OptionSpecs>(args: readonly string[], specs: S, opts: { positionals?: { min?: number; max?: number; name?: string }; see?: string; secrets?: string } = {}): Parsed<S> {
  if (wantsHelp(args)) return { help: true };
  refuseSecrets(args, specs, opts.secrets);
  const see = opts.see ? ` (see ${opts.see} --help)` : '';
  const nodeOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries(specs)) nodeOptions[name] = { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) };
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = nodeParseArgs({ args: [...args], options: nodeOptions, strict: true, allowPositionals: true }));
  } catch (err) {
    throw new UsageError(parseErrorMessage(err as NodeJS.ErrnoException, specs) + see);
  }
  const min = opts.positionals?.min ?? 0;
  const max = opts.positionals?.max ?? 0;
  const what = opts.positionals?.name ?? 'argument';
  if (positionals.length < min) throw new UsageError(`missing ${what}${min > 1 ? ` (${min} expected)` : ''}${see}`);
  if (positionals.length > max) {
    throw new UsageError(max === 0 ? `unexpected argument '${positionals[0]}'${see}` : `too many arguments: at most ${max} ${what}${max > 1 ? 's' : ''}, got ${positionals.length}${see}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(specs)) {
    const v = values[name];
    if (v === undefined) {
      out[name] = s.type === 'boolean' ? (s.default ?? false) : s.default;
      continue;
    }
    if (s.type === 'boolean' || !s.parse) {
      out[name] = v;
      continue;
    }
    const one = (x: string): unknown => {
      try {
        return s.parse!(x);
      } catch (err) {
        if (err instanceof UsageError && err.message.startsWith('--')) throw err;
        throw new UsageError(`--${name}: ${(err as Error).message}`);
      }
    };
    out[name] = Array.isArray(v) ? (v as string[]).map(one) : one(v as string);
  }
  return { help: false, values: out as ParsedValues<S>, positionals };
}

function parseErrorMessage(err: NodeJS.ErrnoException, specs: OptionSpecs): string {
  const msg = err.message ?? String(err);
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const m = /Unknown option '([^']+)'/.exec(msg);
      const name = m?.[1] ?? '';
      const near = name.startsWith('--') ? Object.keys(specs).find((k) => k.startsWith(name.slice(2)) || name.slice(2).startsWith(k)) : undefined;
      return `unknown option ${name || msg}${near ? ` (did you mean --${near}?)` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const m = /Option '(?:-\w, )?(--[\w-]+)/.exec(msg);
      const name = m?.[1] ?? 'option';
      if (/argument missing/.test(msg)) return `${name} needs a value`;
      if (/ambiguous/.test(msg)) return `${name} needs a value (to give a value starting with '-', write ${name}=VALUE)`;
      if (/does not take an argument/.test(msg)) return `${name} takes no value`;
      return `${name}: ${msg.split('\n')[0]}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const m = /Unexpected argument '([^']*)'/.exec(msg);
      return `unexpected argument '${m?.[1] ?? ''}'`;
    }
    default:
      return msg.split('\n')[0]!;
  }
}

// ---------------------------------------------------------------- validators

/** A TCP port 0..65535 (0 = any free port), or up to `max`. */
export function port(max = 65535): Validator<number> {
  return (v) => {
    if (!/^\d{1,5}$/.test(v) || Number(v) > max) throw new Error(`must be a port number 0-${max}, got '${v}'`);
    return Number(v);
  };
}

/** An integer in `min..max`. */
export function intRange(min: number, max: number): Validator<number> {
  return (v) => {
    if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) throw new Error(`must be an integer ${min}-${max}, got '${v}'`);
    return Number(v);
  };
}

/** One of `values` (matched case-insensitively when `ignoreCase`; returns the canonical spelling). */
export function oneOf<T extends string>(values: readonly T[], ignoreCase = true): Validator<T> {
  return (v) => {
    const hit = values.find((x) => (ignoreCase ? x.toLowerCase() === v.toLowerCase() : x === v));
    if (hit === undefined) throw new Error(`must be one of ${values.join(', ')}, got '${v}'`);
    return hit;
  };
}

/** An absolute http(s) URL (other protocols with `protocols`); trailing slashes kept. */
export function url(protocols: readonly string[] = ['http:', 'https:']): Validator<string> {
  return (v) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new Error(`'${v}' is not a URL`);
    }
    if (!protocols.includes(u.protocol)) throw new Error(`must be a ${protocols.map((p) => p.replace(/:$/, '')).join('/')} URL, got '${u.protocol.replace(/:$/, '')}'`);
    if (u.username || u.password) throw new Error('must not carry credentials (user:password@): secrets never go on the command line');
    return v;
  };
}

/**
 * A Redis URL: `redis://` or `rediss://` (host, port, database), or `redis+cluster://HOST:PORT,HOST:PORT` (also
 * `rediss+cluster://`) for a Redis Cluster. Credentials are refused as for every URL on the command line (give
 * them through REDIS_URL instead).
 */
export function redisUrl(): Validator<string> {
  return (v) => {
    const m = /^(rediss?)(\+cluster)?:\/\/([^/?#]*)(.*)$/.exec(v);
    if (!m) throw new Error(`must be a redis://, rediss:// or redis+cluster:// URL, got '${v}'`);
    if (m[3]!.includes('@')) throw new Error('must not carry credentials (user:password@): secrets never go on the command line; use REDIS_URL');
    const hosts = m[3]!.split(',');
    if (!m[2] && hosts.length > 1) throw new Error(`several hosts need redis+cluster://, got '${v}'`);
    for (const h of hosts) {
      const hm = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(h);
      if (!hm || (hm[2] !== undefined && (Number(hm[2]) < 1 || Number(hm[2]) > 65535))) throw new Error(`'${h}' is not a host[:port]`);
    }
    if (m[2] && m[4] && m[4] !== '/') throw new Error('a cluster URL has no database or options');
    return v;
  };
}

/** The name of an environment variable (the value is read later, never printed). */
export const envName: Validator<string> = (v) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new Error(`'${v}' is not an environment variable name`);
  return v;
};

/** An ISO 8601 date/time. */
export const isoTime: Validator<Date> = (v) => {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw new Error(`needs an ISO 8601 time, got '${v}'`);
  return d;
};

/** A non-empty string. */
export const nonEmpty: Validator<string> = (v) => {
  if (!v.trim()) throw new Error('must not be empty');
  return v;
};

/** Reads the value of an environment variable named by an option; a missing one is a usage error. */
export function fromEnv(name: string, what: string): string {
  const v = process.env[name];
  if (v === undefined) throw new UsageError(`environment variable ${name} (${what}) is not set`);
  return v;
}

/**
 * Runs a command body and maps its failures to the exit-code table: a UsageError goes on to the
 * dispatcher (exit 2); any other error prints `kyso NAME: CODE: reason` (one line) and returns 1, 3 or 4.
 */
export async function guard(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    process.stderr.write(`kyso ${name}: ${reasonOf(err)}\n`);
    return exitCodeFor(err);
  }
}
