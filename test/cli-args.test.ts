/**
 * The one argument parser of `kyso` (packages/cli/src/args.ts): its behaviour in isolation, then the
 * same behaviour through every command as a user meets it (help, --opt=value, messages, refusal of
 * secrets, validators, exit codes), and the shared progress bar.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EXIT, envName, exitCodeFor, intRange, isoTime, oneOf, parseCommand, port, reasonOf, redisUrl, refuseSecrets, url, wantsHelp,
} from '../packages/cli/src/args.js';
import { UsageError } from '../packages/cli/src/command.js';
import { progressBar } from '../packages/cli/src/progress.js';

const KYSO = fileURLToPath(new URL('../packages/cli/bin/kyso.mjs', import.meta.url));

function kyso(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KYSO, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kyso ${args.join(' ')} timed out: ${stdout}${stderr}`)); }, 90_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

/** Runs `jobs` with at most `n` in flight (each is a whole kyso process start-up). */
async function limited<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

const usage = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message), String(re));
};

describe('shared argument parser (args.ts)', () => {
  const specs = {
    output: { type: 'string', short: 'o' },
    level: { type: 'string', parse: oneOf(['B-LT', 'B-LTA'] as const) },
    port: { type: 'string', parse: port() },
    count: { type: 'string', parse: intRange(1, 8), default: 2 },
    trust: { type: 'string', multiple: true },
    'password-env': { type: 'string', parse: envName },
    quiet: { type: 'boolean' },
  } as const;

  it('--opt value, --opt=value, -o value and -oVALUE give the same result; defaults and booleans', () => {
    for (const args of [['--output', 'x.pdf'], ['--output=x.pdf'], ['-o', 'x.pdf'], ['-ox.pdf']]) {
      const p = parseCommand(args, specs);
      assert.equal(p.help, false);
      if (!p.help) {
        assert.equal(p.values.output, 'x.pdf', args.join(' '));
        assert.equal(p.values.count, 2);
        assert.equal(p.values.quiet, false);
      }
    }
    const p = parseCommand(['--level=b-lta', '--port=0', '--count', '8', '--trust', 'a', '--trust=b', '--quiet', 'IN'], specs, { positionals: { max: 1 } });
    assert.ok(!p.help);
    if (!p.help) {
      assert.deepEqual([p.values.level, p.values.port, p.values.count, p.values.trust, p.values.quiet, p.positionals], ['B-LTA', 0, 8, ['a', 'b'], true, ['IN']]);
    }
    // a value that starts with '-' is given with '='
    const neg = parseCommand(['--output=-weird.pdf'], specs);
    assert.ok(!neg.help && neg.values.output === '-weird.pdf');
  });

  it('-h / --help anywhere before `--` means help, whatever else is on the line', () => {
    assert.deepEqual(parseCommand(['--bogus', '--help'], specs), { help: true });
    assert.deepEqual(parseCommand(['-h', '--password', 'x'], specs), { help: true });
    assert.equal(wantsHelp(['--', '--help']), false);
  });

  it('one message per kind of mistake', () => {
    usage(() => parseCommand(['--bogus'], specs), /^unknown option --bogus$/);
    usage(() => parseCommand(['--outpu', 'x'], specs), /unknown option --outpu \(did you mean --output\?\)/);
    usage(() => parseCommand(['--output'], specs), /^--output needs a value$/);
    usage(() => parseCommand(['--output', '--quiet'], specs), /--output needs a value \(to give a value starting with '-', write --output=VALUE\)/);
    usage(() => parseCommand(['--quiet=yes'], specs), /--quiet takes no value/);
    usage(() => parseCommand(['--level', 'B-B'], specs), /^--level: must be one of B-LT, B-LTA, got 'B-B'$/);
    usage(() => parseCommand(['--port', '65536'], specs), /^--port: must be a port number 0-65535/);
    usage(() => parseCommand(['--port=-1'], specs), /^--port: must be a port number/);
    usage(() => parseCommand(['--count', '9'], specs), /^--count: must be an integer 1-8/);
    usage(() => parseCommand(['--count', '1.5'], specs), /^--count: must be an integer 1-8/);
    usage(() => parseCommand(['--password-env', 'A-B'], specs), /is not an environment variable name/);
    usage(() => parseCommand(['a'], specs), /^unexpected argument 'a'$/);
    usage(() => parseCommand(['a', 'b'], specs, { positionals: { max: 1, name: 'FILE' } }), /too many arguments: at most 1 FILE, got 2/);
    usage(() => parseCommand([], specs, { positionals: { min: 1, max: 1, name: 'FILE' }, see: 'kyso x' }), /^missing FILE \(see kyso x --help\)$/);
  });

  it('refuses secrets on argv in every spelling, without echoing them, and says where they belong', () => {
    for (const a of [['--password', 'Hunter2'], ['--password=Hunter2'], ['--pin', '1234'], ['--pin=1234'], ['--pass', 'x'], ['--secret', 'x'], ['--client-secret=x'],
      ['--otp', '123456'], ['--totp-secret=ABC'], ['--token', 't'], ['--passphrase', 'x'], ['--PASSWORD', 'x'], ['--pdf-password', 'x']]) {
      assert.throws(() => parseCommand(a, specs), (e: unknown) => e instanceof UsageError && /never put a .* on the command line/.test(e.message) && !/Hunter2|1234|ABC/.test(e.message), a.join(' '));
    }
    assert.throws(() => refuseSecrets(['--password', 'x'], specs), /use --password-env VAR or the prompt/);
    assert.throws(() => refuseSecrets(['--pin', 'x'], { 'pin-env': { type: 'string' } }), /never put a PIN .*use --pin-env VAR/);
    assert.throws(() => refuseSecrets(['--pkcs11-pin=1234'], { 'pin-env': { type: 'string' } }), /never put a PIN .*use --pin-env VAR/);
    assert.throws(() => refuseSecrets(['--so-pin', '1234'], {}), /never put a PIN on the command line/);
    // after `--` it is data, not an option
    assert.doesNotThrow(() => refuseSecrets(['--', '--password']));
    // lookalikes are not secrets
    assert.doesNotThrow(() => refuseSecrets(['--password-env', 'X', '--pkcs11-token', 'T', '--pdf-password-env', 'Y']));
  });

  it('validators: URLs (protocol, no credentials), ISO times, enums case-insensitively', () => {
    assert.equal(url()('http://127.0.0.1:8990/tsa'), 'http://127.0.0.1:8990/tsa');
    assert.throws(() => url()('ftp://x'), /must be a http\/https URL/);
    assert.throws(() => url()('not a url'), /is not a URL/);
    assert.throws(() => url()('https://user:pw@tsa.example/'), /must not carry credentials/);
    assert.equal(isoTime('2026-01-02T03:04:05Z').toISOString(), '2026-01-02T03:04:05.000Z');
    assert.throws(() => isoTime('yesterday'), /ISO 8601/);
    assert.equal(oneOf(['SHA-256', 'SHA-384'] as const)('sha-384'), 'SHA-384');
    assert.throws(() => oneOf(['ES256'] as const, false)('es256'), /must be one of ES256/);
    assert.equal(redisUrl()('redis://127.0.0.1:6379/2'), 'redis://127.0.0.1:6379/2');
    assert.equal(redisUrl()('redis+cluster://127.0.0.1:7000,127.0.0.1:7001'), 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001');
    assert.throws(() => redisUrl()('redis://127.0.0.1:7000,127.0.0.1:7001'), /several hosts need redis\+cluster/);
    assert.throws(() => redisUrl()('rediss+cluster://u:p@a:1,b:2'), /must not carry credentials/);
    assert.throws(() => redisUrl()('redis+cluster://a:1,b:99999'), /'b:99999' is not a host\[:port\]/);
    assert.throws(() => redisUrl()('https://a'), /must be a redis:\/\//);
  });

  it('exit-code table: usage 2, failure 1, refused input 3, unreachable service 4; reasons carry the code', () => {
    assert.deepEqual(EXIT, { OK: 0, FAILED: 1, USAGE: 2, INPUT_REFUSED: 3, SERVICE_UNREACHABLE: 4 });
    const coded = (code: string) => Object.assign(new Error(`${code} happened\nsecond line`), { code });
    assert.equal(exitCodeFor(new UsageError('x')), 2);
    for (const c of ['PDF_DAMAGED', 'IMAGE_UNSUPPORTED', 'RECT_OUTSIDE_PAGE', 'PDF_NOT_PDF']) assert.equal(exitCodeFor(coded(c)), 3, c);
    for (const c of ['TSA_UNREACHABLE', 'REVOCATION_UNREACHABLE', 'CSC_UNREACHABLE', 'REDIS_UNREACHABLE', 'IDP_STORAGE_UNAVAILABLE']) assert.equal(exitCodeFor(coded(c)), 4, c);
    for (const c of ['BAD_PASSWORD', 'CERT_EXPIRED', 'TSA_FAILED', 'PDF_ENCRYPTED']) assert.equal(exitCodeFor(coded(c)), 1, c);
    assert.equal(exitCodeFor(new Error('plain')), 1);
    assert.equal(reasonOf(coded('PDF_DAMAGED')), 'PDF_DAMAGED: PDF_DAMAGED happened');
  });

  it('progress bar: nothing on a non-terminal stream, drawn in place on a terminal', () => {
    const written: string[] = [];
    const fake = (tty: boolean) => ({ isTTY: tty, columns: 80, write: (s: string) => { written.push(s); return true; } }) as unknown as NodeJS.WriteStream;
    const off = progressBar(3, fake(false));
    off.update(1, 'a.pdf');
    off.finish();
    assert.equal(off.active, false);
    assert.deepEqual(written, []);
    const on = progressBar(4, fake(true));
    on.update(2, 'b.pdf');
    assert.match(written[0]!, /^\r\[#{15}\.{15}\] 2\/4 b\.pdf/);
    on.finish();
    assert.match(written[1]!, /^\r +\r$/);
  });
});

describe('shared argument parser through every command (spawned kyso)', function () {
  this.timeout(600_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kyso-cli-args-'));
    writeFileSync(join(dir, 'a.pdf'), '%PDF-1.4\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // [command words, a valid-looking base line, a bad --opt=value with the message it must give]
  const COMMANDS: { name: string; words: string[]; base: string[]; bad: [string, RegExp] }[] = [
    { name: 'sign', words: ['sign'], base: ['IN.pdf', '-o', 'OUT.pdf', '--p12', 'k.p12'], bad: ['--level=B-X', /--level: must be one of B-B, B-T, B-LT, B-LTA/] },
    { name: 'verify', words: ['verify'], base: ['IN.pdf'], bad: ['--concurrency=0', /--concurrency: must be an integer 1-64/] },
    { name: 'extend', words: ['extend'], base: ['IN.pdf', '--in-place'], bad: ['--level=B-T', /--level: must be one of B-LT, B-LTA/] },
    { name: 'pki', words: ['pki', 'init'], base: ['DIR'], bad: ['--base-url=ftp://x', /--base-url: must be a http\/https URL/] },
    { name: 'pki', words: ['pki', 'serve'], base: ['DIR'], bad: ['--port=70000', /--port: must be a port number 0-65535/] },
    { name: 'serve', words: ['serve', 'idp'], base: [], bad: ['--port=http', /--port: must be a port number/] },
    { name: 'demo', words: ['demo'], base: [], bad: ['--port=65533', /--port: must be a port number 0-65532/] },
    { name: 'idp', words: ['idp', 'user', 'add'], base: ['--id', '1'], bad: ['--level=3', /--level: must be an integer 1-2/] },
    { name: 'idp', words: ['idp', 'client', 'add'], base: ['--id', 'c'], bad: ['--redirect-uri=javascript:alert(1)', /--redirect-uri: a javascript: URL is not allowed/] },
    { name: 'xml', words: ['xml', 'sign'], base: ['IN.xml', '-o', 'OUT.xml', '--p12', 'k.p12'], bad: ['--level=B-X', /--level: must be one of XMLDSIG, B-B, B-T, B-LT, B-LTA/] },
    { name: 'xml', words: ['xml', 'edxml'], base: ['--from', 'A', '--to', 'B', '--subject', 'S', '-o', 'M.xml'], bad: ['--attach=', /--attach: /] },
    { name: 'xml', words: ['xml', 'edxml-status'], base: ['--from', 'A', '-o', 'S.xml'], bad: ['--from=', /--from: /] },
    { name: 'audit', words: ['audit', 'verify'], base: ['--file', 'audit.jsonl'], bad: ['--redis=http://127.0.0.1:6379', /--redis: must be a redis:\/\/, rediss:\/\/ or redis\+cluster:\/\/ URL/] },
    { name: 'audit', words: ['audit', 'export'], base: [], bad: ['--redis=redis://:pw@127.0.0.1:6379', /--redis: must not carry credentials/] },
  ];

  it('every command: -h and --help print its usage (exit 0); an unknown option, a bad --opt=value and a secret exit 2 with one line `kyso CMD: ...`', async () => {
    const jobs: (() => Promise<void>)[] = [];
    for (const c of COMMANDS) {
      const label = c.words.join(' ');
      for (const h of ['-h', '--help']) {
        jobs.push(async () => {
          const r = await kyso([...c.words, ...c.base, h]);
          assert.equal(r.code, 0, `${label} ${h}: ${r.stderr}`);
          assert.match(r.stdout, /^Usage/m, `${label} ${h}`);
          assert.match(r.stdout, /--opt=VALUE/, `${label}: the help documents --opt=value`);
          assert.match(r.stdout, /Exit codes: 0 success[^]*1 failure[^]*2 usage error/, `${label}: exit-code table in the help`);
        });
      }
      jobs.push(async () => {
        const r = await kyso([...c.words, ...c.base, '--bogus-option']);
        assert.equal(r.code, 2, `${label} --bogus-option: ${r.stdout}${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, `${label}: one line: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^kyso ${c.name}: unknown option --bogus-option`), label);
      });
      jobs.push(async () => {
        const r = await kyso([...c.words, ...c.base, c.bad[0]]);
        assert.equal(r.code, 2, `${label} ${c.bad[0]}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^kyso ${c.name}: `), label);
        assert.match(r.stderr, c.bad[1], label);
        assert.equal(r.stderr.trim().split('\n').length, 1, `${label}: one line: ${r.stderr}`);
      });
      jobs.push(async () => {
        const r = await kyso([...c.words, ...c.base, '--password=S3cret-Value']);
        assert.equal(r.code, 2, `${label} --password: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /never put a password on the command line/, label);
        assert.ok(!r.stderr.includes('S3cret-Value') && !r.stdout.includes('S3cret-Value'), `${label}: the secret is not echoed`);
      });
    }
    await limited(3, jobs);
  });

  it('an unreachable signing service or Redis exits 4 with its code (CSC_UNREACHABLE, REDIS_UNREACHABLE, IDP_STORAGE_UNAVAILABLE)', async () => {
    const csc = await kyso(['sign', join(dir, 'a.pdf'), '-o', join(dir, 'out.pdf'), '--csc', 'http://127.0.0.1:1/csc/v2', '--credential', 'c1', '--pin-env', 'KYSO_TEST_PIN'], { KYSO_CSC_TOKEN: 'tok', KYSO_TEST_PIN: '123456' });
    assert.equal(csc.code, 4, csc.stderr);
    assert.match(csc.stderr, /^kyso sign: CSC_UNREACHABLE: remote signing/m);
    const redis = await kyso(['audit', 'verify', '--redis', 'redis://127.0.0.1:1']);
    assert.equal(redis.code, 4, redis.stderr);
    assert.match(redis.stderr, /^kyso audit: REDIS_UNREACHABLE: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/m);
    const idp = await kyso(['idp', 'user', 'list'], { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(idp.code, 4, idp.stderr);
    assert.match(idp.stderr, /^kyso idp: IDP_STORAGE_UNAVAILABLE: cannot connect to Redis/m);
  });

  it('a URL option carrying credentials is refused (exit 2) by every service, without echoing the secret', async () => {
    for (const svc of ['portal', 'signing']) {
      const more = svc === 'portal' ? ['--validation-url', 'http://127.0.0.1:2', '--pki', dir] : [];
      const r = await kyso(['serve', svc, '--port', '0', '--issuer', 'http://u:S3cretPw@127.0.0.1:1', '--client-id', 'c', ...more]);
      assert.equal(r.code, 2, `${svc}: ${r.stderr}`);
      assert.match(r.stderr, /--issuer: must not carry credentials/, svc);
      assert.ok(!r.stderr.includes('S3cretPw') && !r.stdout.includes('S3cretPw'), `${svc}: the secret is not echoed`);
    }
  });

  it('extend: its own usage rules (level required, -o xor --in-place, -o folder for several FILEs, never -o onto the input)', async () => {
    const a = join(dir, 'a.pdf');
    const cases: [string[], RegExp][] = [
      [['extend', a, '--in-place'], /--level B-LT\|B-LTA is required/],
      [['extend', a, '--level', 'B-LTA', '--in-place'], /B-LTA needs --tsa URL/],
      [['extend', a, '--level', 'B-LT'], /give -o OUT or --in-place/],
      [['extend', a, '--level', 'B-LT', '-o', 'x.pdf', '--in-place'], /exclude each other/],
      [['extend', a, a, '--level', 'B-LT', '-o', join(dir, 'x.pdf')], /-o must be an existing folder/],
      [['extend', a, '--level', 'B-LT', '-o', a], /use --in-place/],
      [['extend', '--level', 'B-LT', '--in-place'], /missing FILE/],
    ];
    const rs = await limited(3, cases.map(([args]) => () => kyso(args)));
    rs.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, cases[i]![1]);
    });
  });
});
