/**
 * Logs of the services started by `kyso serve` and `kyso demo`: JSON lines on stderr, the same shape as the
 * identity provider's pino logger (`{"level":30,"time":…,"svc":"kyso-verify","msg":"…",…}`), level from
 * KYSO_LOG_LEVEL (default info). Library noise (oidc-provider's runtime notice, Node process warnings printed as
 * free text) becomes JSON lines too, or is dropped where it is expected (see {@link quietLibraryNoise}).
 */

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type LevelName = keyof typeof LEVELS;

/** A small JSON-lines logger with pino's line shape. */
export interface JsonLog {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** The level named by KYSO_LOG_LEVEL (default `fallback`); an unknown name is a usage error for the caller. */
export function logLevel(fallback: LevelName = 'info'): LevelName {
  const v = process.env.KYSO_LOG_LEVEL;
  if (v === undefined || v === '') return fallback;
  if (!(v in LEVELS)) throw new Error(`KYSO_LOG_LEVEL must be one of ${Object.keys(LEVELS).join(', ')}, got '${v}'`);
  return v as LevelName;
}

/** A JSON-lines logger for service `svc` writing to stderr. */
export function jsonLog(svc: string, level: LevelName = logLevel()): JsonLog {
  const min = LEVELS[level];
  const line = (n: number) => (fields: Record<string, unknown>, msg: string): void => {
    if (n < min) return;
    process.stderr.write(JSON.stringify({ level: n, time: Date.now(), svc, ...fields, msg }) + '\n');
  };
  return { debug: line(20), info: line(30), warn: line(40), error: line(50) };
}

/**
 * In a server process: Node's process warnings and oidc-provider's console notices become JSON log lines instead of
 * free text on stderr. `expected` lists warning codes that are normal here (e.g. KYSO_DEV_SECRET_KEY in the demo's
 * in-memory store): they are logged at debug level only. oidc-provider's "Unsupported runtime" notice (kyso supports
 * Node 20.19+) is logged at debug level. Call it before the services' modules are imported.
 */
export function quietLibraryNoise(log: JsonLog, expected: string[] = []): void {
  // Node prints warnings through its own 'warning' listener: replace it
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    const fields = { code: w.code ?? w.name, warning: w.message };
    if (w.code && expected.includes(w.code)) log.debug(fields, 'process warning');
    else log.warn(fields, 'process warning');
  });
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]): void => {
    const text = args.map(String).join(' ');
    const m = /^oidc-provider (WARNING|NOTICE): (.*)$/s.exec(text);
    if (!m) { warn(...args); return; }
    if (/Unsupported runtime/.test(m[2]!)) log.debug({ library: 'oidc-provider', notice: m[2] }, 'library notice');
    else log.warn({ library: 'oidc-provider', notice: m[2] }, 'library warning');
  };
}
