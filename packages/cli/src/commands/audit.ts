import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { EXIT_CODES_HELP, nonEmpty, parseCommand, redisUrl, wantsHelp, type OptionSpecs } from '../args.js';

const HELP = `Usage: kyso audit verify (--redis URL | --file FILE) [--json]
       kyso audit export --redis URL > FILE

Checks the signing service's hash-chained audit log: positions consecutive from 1, each record naming the
previous hash, each hash recomputed from its entry, and (Redis) the stored chain head matching the last record.
Prints the number of records and the head, or names the first broken link. Exit 0 = intact, 1 = broken.
  --redis URL  read the Redis stream of the signing service (REDIS_URL is used when neither option is given)
  --file FILE  read an export: one JSON object {"seq","entry","hash"} per line
  --json       print the result as JSON
'export' writes the log from Redis as such lines.
URL: redis://, rediss://, or redis+cluster://HOST:PORT,HOST:PORT for a Redis Cluster (credentials only through
REDIS_URL, never on the command line). Every option takes --opt VALUE or --opt=VALUE.
${EXIT_CODES_HELP}`;

interface Args { sub: 'verify' | 'export'; redis?: string; file?: string; json: boolean }

const OPTIONS = {
  redis: { type: 'string', parse: redisUrl() },
  file: { type: 'string', parse: nonEmpty },
  json: { type: 'boolean' },
} as const satisfies OptionSpecs;

/** `verify|export` then the shared parser (same `--opt=value`, messages, -h/--help and exit codes as every command). */
function parse(args: string[]): Args | undefined {
  const [sub, ...rest] = args;
  if (wantsHelp(args)) return undefined;
  if (sub !== 'verify' && sub !== 'export') throw new UsageError(sub === undefined ? `expected 'verify' or 'export' (see kyso audit --help)` : `unknown sub-command '${sub}' (verify | export; see kyso audit --help)`);
  const p = parseCommand(rest, OPTIONS, { see: 'kyso audit' });
  if (p.help) return undefined;
  const out: Args = { sub, json: p.values.json, ...(p.values.redis !== undefined ? { redis: p.values.redis } : {}), ...(p.values.file !== undefined ? { file: p.values.file } : {}) };
  if (out.redis && out.file) throw new UsageError('give --redis or --file, not both');
  if (!out.redis && !out.file) {
    if (process.env.REDIS_URL) out.redis = process.env.REDIS_URL;
    else throw new UsageError('give --redis URL or --file FILE (see kyso audit --help)');
  }
  if (sub === 'export' && !out.redis) throw new UsageError('export reads from --redis URL');
  return out;
}

type Stored = { seq: number; entry: string; hash: string };

export const command: Command = {
  summary: 'check the signing service\'s hash-chained audit log (`kyso audit verify --redis URL | --file F`)',
  async run(args) {
    const a = parse(args);
    if (!a) { process.stdout.write(HELP + '\n'); return 0; }
    const { verifyAuditChain, readAuditStream, connectRedis, AUDIT_HEAD_KEY } = await import('@kyso/service-signing');
    let next: (after: number) => Promise<Stored[]>;
    let head: (() => Promise<{ seq: number; hash: string } | undefined>) | undefined;
    let close = async () => {};
    if (a.redis) {
      // redis://, rediss:// or redis+cluster://host:port,host:port (the signing service's own URL forms)
      const r = connectRedis(a.redis, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true, retryStrategy: () => null });
      r.on('error', () => {});
      try { await r.connect(); } catch (e) { throw Object.assign(new Error(`cannot reach Redis at ${a.redis.replace(/\/\/[^@/]*@/, '//***@')}: ${(e as Error).message}`), { code: 'REDIS_UNREACHABLE' }); }
      next = (after) => readAuditStream(r, after, 1000);
      head = async () => {
        const v = await r.get(AUDIT_HEAD_KEY);
        if (!v) return undefined;
        const [seq, hash] = v.split(' ');
        return { seq: Number(seq), hash: hash! };
      };
      close = async () => { r.disconnect(); };
    } else {
      const { createReadStream } = await import('node:fs');
      const { createInterface } = await import('node:readline');
      let records: Stored[] = [];
      let lineNo = 0;
      try {
        for await (const line of createInterface({ input: createReadStream(a.file!), crlfDelay: Infinity })) {
          lineNo++;
          if (!line.trim()) continue;
          let o: Partial<Stored>;
          try { o = JSON.parse(line) as Partial<Stored>; } catch { throw Object.assign(new Error(`${a.file}:${lineNo}: not a JSON line`), { code: 'AUDIT_FORMAT' }); }
          if (typeof o.seq !== 'number' || typeof o.entry !== 'string' || typeof o.hash !== 'string') throw Object.assign(new Error(`${a.file}:${lineNo}: expected {"seq","entry","hash"}`), { code: 'AUDIT_FORMAT' });
          records.push(o as Stored);
        }
      } catch (e) {
        if ((e as { code?: string }).code === 'AUDIT_FORMAT') throw e;
        throw Object.assign(new Error(`cannot read ${a.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`), { code: 'AUDIT_FILE' });
      }
      let served = false;
      next = async () => { if (served) return []; served = true; const r = records; records = []; return r; };
    }
    try {
      if (a.sub === 'export') {
        for (let after = 0; ;) {
          const page = await next(after);
          if (!page.length) break;
          for (const r of page) process.stdout.write(JSON.stringify(r) + '\n');
          after = page[page.length - 1]!.seq;
        }
        return 0;
      }
      const v = await verifyAuditChain(next);
      let broken = v.broken;
      if (v.ok && head) {
        const h = await head();
        if (h && (h.seq !== v.head.seq || h.hash !== v.head.hash)) broken = { seq: v.head.seq + 1, reason: `the chain head says record ${h.seq} (${h.hash.slice(0, 16)}…) but the log ends at record ${v.head.seq}: records were removed` };
      }
      if (a.json) process.stdout.write(JSON.stringify({ ok: !broken, count: v.count, head: v.head, ...(broken ? { broken } : {}) }) + '\n');
      else if (broken) process.stdout.write(`audit chain BROKEN at record ${broken.seq}: ${broken.reason} (${v.count} records before it are intact)\n`);
      else process.stdout.write(`audit chain OK: ${v.count} records, head ${v.head.hash}\n`);
      return broken ? 1 : 0;
    } finally {
      await close();
    }
  },
};
