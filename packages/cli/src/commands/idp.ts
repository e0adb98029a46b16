/**
 * `kyso idp client add|list|remove` and `kyso idp user add|list|disable|enable|reset-mfa|set-level|link-guardian|unlink-guardian`,
 * plus `kyso idp seed FILE` and `kyso idp audit [--verify]`, against the identity provider's Redis (REDIS_URL,
 * or REDIS_SENTINELS / REDIS_CLUSTER). Secrets (passwords, client secrets, TOTP seeds) come from the environment
 * or a prompt, never from the command line.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { EXIT_CODES_HELP, intRange, oneOf, parseCommand, url, type OptionSpecs, type Parsed } from '../args.js';
import { promptSecret as sharedPrompt } from '../prompt.js';

const HELP = `Usage: kyso idp <client|user|seed|audit|keys> ...   (needs REDIS_URL, or REDIS_SENTINELS / REDIS_CLUSTER)

  kyso idp client add --id ID --redirect-uri URI [--redirect-uri URI ...] [--public | --generate-secret]
                      [--grant-type T ...] [--post-logout-redirect-uri URI ...] [--backchannel-logout-uri URI]
                      [--auth-method M] [--id-token-alg ES256|PS256|RS256] [--name NAME]
        confidential clients take their secret from KYSO_IDP_CLIENT_SECRET (or --generate-secret prints one)
  kyso idp client list [--json]
  kyso idp client remove ID
  kyso idp user add --id PERSONAL_NUMBER --name NAME --birthdate YYYY-MM-DD [--gender male|female]
                    [--address TEXT] [--phone P] [--email E] [--level 1|2]
        password from KYSO_IDP_PASSWORD, else prompted (or one line on stdin);
        a pre-enrolled TOTP secret (base32) from KYSO_IDP_TOTP_SECRET
  kyso idp user list [--json]
  kyso idp user disable|enable|reset-mfa ID
        reset-mfa prints a one-time enrolment code (7 days): the citizen enrols a new TOTP factor with it on the
        account page, and only such a factor counts for level 2 (check the identity in person first)
  kyso idp user show ID
  kyso idp user set-password ID          password from KYSO_IDP_PASSWORD or the prompt
  kyso idp user set-level ID 1|2
  kyso idp user link-guardian GUARDIAN_ID MINOR_ID RELATIONSHIP
  kyso idp user unlink-guardian GUARDIAN_ID MINOR_ID   end the link; tokens, grants, sessions and consents given
        while the guardian acted for the minor are revoked at once (disable does the same for a guardian)
  kyso idp seed FILE            load {"clients": [...], "users": [...]} (existing users are kept)
  kyso idp audit [--account ID] [--limit N] [--json]   list events, newest last
  kyso idp audit --head                   print SEQ:HASH of the newest record (keep it elsewhere as an anchor)
  kyso idp audit --verify [--anchor SEQ:HASH]   recompute the chain (and check the anchored record)
  kyso idp keys [--json]                  signing keys by state (active, pending, retiring)
  kyso idp keys rotate [--publish-delay SECONDS]   publish new signing keys, wait (default 60 s, so that
        relying parties can fetch them), then sign with them; the old keys stay published until their tokens
        expire, then are dropped. Running identity providers pick the change up at once.

Environment: REDIS_URL | REDIS_SENTINELS (+REDIS_SENTINEL_NAME) | REDIS_CLUSTER, KYSO_IDP_REDIS_PREFIX,
KYSO_IDP_SECRET_KEY (32 bytes base64; the service must use the same key).
Every option takes --opt VALUE or --opt=VALUE; passwords, PINs and secrets are refused on the command line.
${EXIT_CODES_HELP}`;

type Storage = Awaited<ReturnType<typeof import('@kyso/idp')['createStorage']>>;

async function openStorage(): Promise<Storage> {
  const { createStorage, redisConfigFromEnv } = await import('@kyso/idp');
  const cfg = redisConfigFromEnv(process.env);
  if (!cfg) throw new UsageError('REDIS_URL is not set: point it at the identity provider\'s Redis, e.g. REDIS_URL=redis://127.0.0.1:6379 (or set REDIS_SENTINELS / REDIS_CLUSTER)');
  return createStorage({ redis: cfg });
}

/** Reads a secret from the terminal without echo, or one line from piped stdin (the shared prompt). */
function promptSecret(label: string): Promise<string> {
  return sharedPrompt(label, { allowPipe: true, hint: 'set the environment variable or pipe one line' });
}

/** Where idp secrets come from instead of argv. */
const SECRETS = 'passwords come from KYSO_IDP_PASSWORD or the prompt, client secrets from KYSO_IDP_CLIENT_SECRET or --generate-secret';

/** The shared parser for an idp sub-command: strict options, `--opt=value`, secrets refused, help. */
function parseIdp<S extends OptionSpecs>(args: string[], options: S, positionals: { min?: number; max?: number; name?: string } = {}): Parsed<S> & { help: false } {
  const p = parseCommand(args, options, { positionals, see: 'kyso idp', secrets: SECRETS });
  if (p.help) throw new HelpRequested();
  return p;
}

/** A redirect URI: an absolute URL (native apps may use their own scheme), never a script, data or file URL. */
function redirectUri(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`'${v}' is not an absolute URL`);
  }
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(u.protocol)) throw new Error(`a ${u.protocol.replace(/:$/, '')}: URL is not allowed as a redirect URI`);
  if (u.hash) throw new Error('a redirect URI must not have a fragment (#...)');
  return v;
}

/** `-h/--help` inside a sub-command: print the idp help (exit 0). */
class HelpRequested extends Error {}

async function newPassword(): Promise<string> {
  const env = process.env.KYSO_IDP_PASSWORD;
  if (env) return env;
  const p1 = await promptSecret('Password');
  if (process.stdin.isTTY) {
    const p2 = await promptSecret('Repeat password');
    if (p1 !== p2) throw new UsageError('the two passwords differ');
  }
  return p1;
}

function out(line: string): void {
  process.stdout.write(line + '\n');
}

function positional(args: string[], n: number, usage: string): string[] {
  const p = parseCommand(args, {}, { positionals: { min: 0, max: n }, see: 'kyso idp', secrets: SECRETS });
  if (p.help) throw new HelpRequested();
  if (p.positionals.length !== n) throw new UsageError(`usage: ${usage}`);
  return p.positionals;
}

async function clientCommand(sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'add') {
    const { values } = parseIdp(args, {
      id: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true, parse: redirectUri }, public: { type: 'boolean' },
      'generate-secret': { type: 'boolean' }, 'grant-type': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true, parse: redirectUri }, 'backchannel-logout-uri': { type: 'string', parse: url() },
      'auth-method': { type: 'string' }, 'id-token-alg': { type: 'string', parse: oneOf(['ES256', 'PS256', 'RS256'] as const, false) }, name: { type: 'string' },
    } as const);
    if (!values.id) throw new UsageError('client add needs --id');
    const grantTypes = values['grant-type'] ?? ['authorization_code', 'refresh_token'];
    const redirectUris = values['redirect-uri'] ?? [];
    if (grantTypes.includes('authorization_code') && !redirectUris.length) throw new UsageError('client add needs at least one --redirect-uri for authorization_code');
    const meta: Record<string, unknown> = { client_id: values.id, redirect_uris: redirectUris, grant_types: grantTypes, response_types: grantTypes.includes('authorization_code') ? ['code'] : [] };
    let generated: string | undefined;
    if (values.public) {
      if (values['generate-secret']) throw new UsageError('--public and --generate-secret exclude each other');
      meta.token_endpoint_auth_method = 'none';
    } else {
      const secret = values['generate-secret'] ? (generated = randomBytes(32).toString('base64url')) : process.env.KYSO_IDP_CLIENT_SECRET;
      if (!secret) throw new UsageError('confidential client: set KYSO_IDP_CLIENT_SECRET, or use --generate-secret or --public');
      meta.client_secret = secret;
      meta.token_endpoint_auth_method = values['auth-method'] ?? 'client_secret_basic';
    }
    if (values['post-logout-redirect-uri']) meta.post_logout_redirect_uris = values['post-logout-redirect-uri'];
    if (values['backchannel-logout-uri']) meta.backchannel_logout_uri = values['backchannel-logout-uri'];
    if (values['id-token-alg']) meta.id_token_signed_response_alg = values['id-token-alg'];
    if (values.name) meta.client_name = values.name;
    // the same defaults the service applies to seeded clients (id_token alg, subject type, ...)
    const { normalizeClient } = await import('@kyso/idp');
    const s = await openStorage();
    try {
      await s.clients.upsert(normalizeClient(meta as never) as never);
    } finally { await s.close(); }
    out(`client ${values.id} saved`);
    if (generated) out(`client_secret=${generated}`);
    return 0;
  }
  if (sub === 'list') {
    const { values } = parseIdp(args, { json: { type: 'boolean' } } as const);
    const s = await openStorage();
    try {
      const list = (await s.clients.list()).map((c) => {
        const { client_secret: secret, ...rest } = c as Record<string, unknown>;
        return { ...rest, confidential: typeof secret === 'string' } as Record<string, unknown>;
      });
      if (values.json) out(JSON.stringify(list, null, 2));
      else for (const c of list) out(`${String(c.client_id)}\t${c.confidential ? 'confidential' : 'public'}\t${((c.redirect_uris as string[]) ?? []).join(' ')}`);
    } finally { await s.close(); }
    return 0;
  }
  if (sub === 'remove') {
    const [id] = positional(args, 1, 'kyso idp client remove ID');
    const s = await openStorage();
    try {
      if (!(await s.clients.remove(id!))) { process.stderr.write(`kyso idp: no client '${id}'\n`); return 1; }
    } finally { await s.close(); }
    out(`client ${id} removed`);
    return 0;
  }
  throw new UsageError('usage: kyso idp client add|list|remove ...');
}

async function userCommand(sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'add') {
    const { values } = parseIdp(args, {
      id: { type: 'string' }, name: { type: 'string' }, birthdate: { type: 'string' }, gender: { type: 'string' },
      address: { type: 'string' }, phone: { type: 'string' }, email: { type: 'string' }, level: { type: 'string', parse: intRange(1, 2), default: 1 },
    } as const);
    if (!values.id || !values.name || !values.birthdate) throw new UsageError('user add needs --id, --name and --birthdate');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(values.birthdate)) throw new UsageError(`--birthdate: needs YYYY-MM-DD, got '${values.birthdate}'`);
    const level = values.level as 1 | 2;
    const totpSecret = process.env.KYSO_IDP_TOTP_SECRET;
    if (totpSecret) {
      const { totpSecretProblem } = await import('@kyso/idp');
      const problem = totpSecretProblem(totpSecret);
      if (problem) throw new UsageError(`KYSO_IDP_TOTP_SECRET ${problem}`);
    }
    const s = await openStorage();
    try {
      const password = await newPassword();
      const acct = await s.accounts.create({
        id: values.id, name: values.name, birthdate: values.birthdate, password, level,
        ...(values.gender ? { gender: values.gender } : {}), ...(values.address ? { address: values.address } : {}),
        ...(values.phone ? { phone: values.phone } : {}), ...(values.email ? { email: values.email } : {}),
        ...(totpSecret ? { totp_secret: totpSecret } : {}),
      });
      await s.audit.append({ type: 'account.created', accountId: acct.id, detail: { via: 'cli' } });
      out(`user ${acct.id} created (level ${acct.level}${acct.totpEnabled ? ', TOTP enrolled' : ''})`);
      if (acct.level === 2 && !acct.totpEnabled) {
        // level 2 is reached only with a second factor enrolled under this code (identity checked in person)
        out(`enrolment code (one use, 7 days; give it to the citizen in person): ${await s.accounts.issueEnrolmentCode(acct.id)}`);
      }
    } finally { await s.close(); }
    return 0;
  }
  if (sub === 'list') {
    const { values } = parseIdp(args, { json: { type: 'boolean' } } as const);
    const s = await openStorage();
    try {
      const list = await s.accounts.list();
      if (values.json) out(JSON.stringify(list, null, 2));
      else for (const a of list) out(`${a.id}\t${a.name}\tlevel ${a.level}\t${a.disabled ? 'disabled' : 'active'}\t${a.totpEnabled ? 'totp' : 'no-totp'}`);
    } finally { await s.close(); }
    return 0;
  }
  if (sub === 'disable' || sub === 'enable' || sub === 'reset-mfa') {
    const [id] = positional(args, 1, `kyso idp user ${sub} ID`);
    const s = await openStorage();
    try {
      if (sub === 'reset-mfa') {
        const { enrolmentCode } = await s.accounts.resetMfa(id!);
        await s.audit.append({ type: 'mfa.reset', accountId: id!, detail: { via: 'cli' } });
        out(`user ${id}: second factor and recovery codes removed`);
        out(`enrolment code (one use, 7 days; give it to the citizen in person): ${enrolmentCode}`);
      } else {
        // disabling a guardian also revokes at once what was issued while acting for a minor
        const { setAccountDisabled } = await import('@kyso/idp');
        const r = await setAccountDisabled(s, id!, sub === 'disable', 'cli');
        out(`user ${id} ${sub}d`);
        if (r.grants || r.sessions || r.consents) out(`revoked while acting for a minor: ${r.grants} grant(s), ${r.sessions} session(s), ${r.consents} consent(s)`);
      }
    } finally { await s.close(); }
    return 0;
  }
  if (sub === 'set-password') {
    const [id] = positional(args, 1, 'kyso idp user set-password ID   (password from KYSO_IDP_PASSWORD or the prompt)');
    const s = await openStorage();
    try {
      if (!(await s.accounts.get(id!))) { process.stderr.write(`kyso idp: no user '${id}'\n`); return 1; }
      await s.accounts.setPassword(id!, await newPassword());
      await s.audit.append({ type: 'password.changed', accountId: id!, detail: { via: 'cli' } });
    } finally { await s.close(); }
    out(`user ${id}: password changed`);
    return 0;
  }
  if (sub === 'show') {
    const [id] = positional(args, 1, 'kyso idp user show ID');
    const s = await openStorage();
    try {
      const a = await s.accounts.get(id!);
      if (!a) { process.stderr.write(`kyso idp: no user '${id}'\n`); return 1; }
      out(JSON.stringify({ ...a, recoveryCodesLeft: a.totpEnabled ? await s.accounts.recoveryCodesLeft(id!) : 0 }, null, 2));
    } finally { await s.close(); }
    return 0;
  }
  if (sub === 'set-level') {
    const [id, lvl] = positional(args, 2, 'kyso idp user set-level ID 1|2');
    if (lvl !== '1' && lvl !== '2') throw new UsageError('level must be 1 or 2');
    const s = await openStorage();
    try { await s.accounts.setLevel(id!, Number(lvl) as 1 | 2); } finally { await s.close(); }
    out(`user ${id} now level ${lvl}`);
    return 0;
  }
  if (sub === 'link-guardian') {
    const [g, m, rel] = positional(args, 3, 'kyso idp user link-guardian GUARDIAN_ID MINOR_ID RELATIONSHIP');
    const s = await openStorage();
    try {
      await s.accounts.linkGuardian(g!, m!, rel!);
      await s.audit.append({ type: 'guardian.linked', accountId: m!, detail: { actor: g!, via: 'cli' } });
    } finally { await s.close(); }
    out(`${g} is now ${rel} of ${m}`);
    return 0;
  }
  if (sub === 'unlink-guardian') {
    const [g, m] = positional(args, 2, 'kyso idp user unlink-guardian GUARDIAN_ID MINOR_ID');
    const { endGuardianLink } = await import('@kyso/idp');
    const s = await openStorage();
    try {
      const r = await endGuardianLink(s, g!, m!, 'cli');
      out(r.linked ? `${g} is no longer guardian of ${m}` : `${g} was not a guardian of ${m}`);
      out(`revoked: ${r.grants} grant(s), ${r.sessions} session(s), ${r.consents} consent(s)`);
    } finally { await s.close(); }
    return 0;
  }
  throw new UsageError('usage: kyso idp user add|list|show|disable|enable|reset-mfa|set-password|set-level|link-guardian|unlink-guardian ...');
}

/** `kyso idp keys [--json]` and `kyso idp keys rotate [--publish-delay S]`. */
async function keysCommand(args: string[]): Promise<number> {
  const rotate = args[0] === 'rotate';
  const { values, positionals } = parseIdp(rotate ? args.slice(1) : args, { json: { type: 'boolean' }, 'publish-delay': { type: 'string' } } as const, { max: 1 });
  if (positionals.length) throw new UsageError(`unknown 'kyso idp keys ${positionals[0]}': expected rotate (kyso idp --help)`);
  if (!rotate && values['publish-delay'] !== undefined) throw new UsageError('--publish-delay goes with `kyso idp keys rotate`');
  const delay = values['publish-delay'] === undefined ? 60 : Number(values['publish-delay']);
  if (!/^\d+$/.test(values['publish-delay'] ?? '60') || delay > 86_400) throw new UsageError(`--publish-delay takes whole seconds (0-86400), got '${values['publish-delay']}'`);
  const { openSharedKeySet } = await import('@kyso/idp');
  const s = await openStorage();
  try {
    const keys = await openSharedKeySet(s);
    if (rotate) {
      const dropped = await keys.pruneRetired();
      if (dropped) out(`dropped ${dropped} retired key(s) whose tokens have all expired`);
      const pending = await keys.addPending();
      out(`published (not yet used): ${pending.join(' ')}`);
      if (delay > 0) {
        out(`waiting ${delay} s before signing with them`);
        await new Promise((r) => setTimeout(r, delay * 1000));
      }
      await keys.promote();
    }
    const k = keys.kids();
    if (values.json) out(JSON.stringify(k, null, 2));
    else for (const state of ['active', 'pending', 'retiring'] as const) out(`${state}\t${k[state].join(' ') || '-'}`);
  } finally { await s.close(); }
  return 0;
}

export const command: Command = {
  summary: 'manage identity-provider clients and users (`kyso idp user add|list|disable|reset-mfa`)',
  async run(args) {
    const [group, sub] = args;
    if (!group || group === '--help' || group === '-h' || sub === '--help' || sub === '-h') {
      out(HELP);
      return group ? 0 : 2;
    }
    try {
      return await runGroup(args);
    } catch (err) {
      if (err instanceof HelpRequested) {
        out(HELP);
        return 0;
      }
      throw err;
    }
  },
};

async function runGroup(args: string[]): Promise<number> {
  {
    const [group, sub, ...rest] = args;
    if (group === 'client') return clientCommand(sub, rest);
    if (group === 'user') return userCommand(sub, rest);
    if (group === 'seed') {
      const [file] = positional([sub, ...rest].filter((x): x is string => x !== undefined), 1, 'kyso idp seed FILE');
      let seed: unknown;
      try { seed = JSON.parse(await readFile(file!, 'utf8')); } catch (err) { throw new UsageError(`cannot read seed ${file}: ${(err as Error).message}`); }
      const { applySeed } = await import('@kyso/idp');
      const s = await openStorage();
      try {
        const r = await applySeed(s, seed);
        out(`seed: ${r.clients} clients saved, ${r.usersCreated} users created, ${r.usersExisting} already existed`);
      } finally { await s.close(); }
      return 0;
    }
    if (group === 'audit') {
      const { values } = parseIdp([sub, ...rest].filter((x): x is string => x !== undefined), { account: { type: 'string' }, limit: { type: 'string', parse: intRange(1, 100_000) }, verify: { type: 'boolean' }, anchor: { type: 'string' }, head: { type: 'boolean' }, json: { type: 'boolean' } } as const);
      let anchor: { seq: number; hash: string } | undefined;
      if (values.anchor !== undefined) {
        const m = /^(\d+):([0-9a-f]{64})$/.exec(values.anchor);
        if (!m) throw new UsageError('--anchor takes SEQ:HASH as printed by `kyso idp audit --head`');
        anchor = { seq: Number(m[1]), hash: m[2]! };
      }
      const s = await openStorage();
      try {
        if (values.head) {
          const h = await s.audit.currentHead();
          out(`${h.seq}:${h.hash}`);
          return 0;
        }
        if (values.verify || anchor) {
          const ok = await s.audit.verifyChain(anchor);
          out(ok ? `audit chain: intact${anchor ? ` (anchor ${anchor.seq} matches)` : ''}` : 'audit chain: BROKEN (a record was altered, removed or the chain was rewritten)');
          return ok ? 0 : 1;
        }
        const list = await s.audit.list({ ...(values.account ? { accountId: values.account } : {}), limit: values.limit ?? 50 });
        if (values.json) out(JSON.stringify(list, null, 2));
        else for (const r of list) out(`${r.seq}\t${r.at}\t${r.type}\t${r.accountId ?? '-'}\t${r.clientId ?? '-'}\t${r.ip ?? '-'}`);
      } finally { await s.close(); }
      return 0;
    }
    if (group === 'keys') return keysCommand([sub, ...rest].filter((x): x is string => x !== undefined));
    throw new UsageError(`unknown 'kyso idp ${group}': expected client, user, seed, audit or keys (kyso idp --help)`);
  }
}
