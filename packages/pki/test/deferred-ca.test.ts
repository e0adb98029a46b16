/**
 * applyDeferredCaCerts (the deferred NODE_EXTRA_CA_CERTS of the installed `kyso`, see clients/deferred-ca.ts), in
 * child processes (its state is per process): no variable, no change; a readable bundle replaces fetch()'s
 * dispatcher with one of the same class; an unreadable file, a file without certificates, or a dispatcher that cannot
 * be rebuilt that way give Node's warning and leave fetch() as it was, never an exception. (The end-to-end case, an
 * https TSA trusted only through the bundle, is test/cli-startup.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestPki } from '@kyso/fixtures';

const SCRIPT = `
import { applyDeferredCaCerts } from '@kyso/pki';
const key = Symbol.for('undici.globalDispatcher.1');
await (await fetch('data:,')).arrayBuffer();
if (process.env.ODD_DISPATCHER) globalThis[key] = new (class Odd { constructor(o) { if (o) throw new Error('cannot be rebuilt'); } })();
const before = globalThis[key];
const warnings = [];
process.on('warning', (w) => warnings.push(w.message));
await applyDeferredCaCerts();
await applyDeferredCaCerts(); // once per process
await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ replaced: globalThis[key] !== before, same: globalThis[key]?.constructor === before?.constructor, warnings }));
`;

describe('@kyso/pki applyDeferredCaCerts', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'kyso-deferred-ca-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string | undefined>): { replaced: boolean; same: boolean; warnings: string[] } => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { env: e, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop()!);
  };

  it('no variable: fetch() is left alone; a CA bundle: a new dispatcher of the same class, once', async () => {
    assert.deepEqual(run({ KYSO_DEFERRED_CA_CERTS: undefined }), { replaced: false, same: true, warnings: [] });
    assert.deepEqual(run({ KYSO_DEFERRED_CA_CERTS: '' }), { replaced: false, same: true, warnings: [] });
    const bundle = join(dir, 'bundle.pem');
    writeFileSync(bundle, `# a CA bundle\n${(await getTestPki()).rootPem}\n`);
    assert.deepEqual(run({ KYSO_DEFERRED_CA_CERTS: bundle }), { replaced: true, same: true, warnings: [] });
  });

  it('an unreadable file, a file without certificates, a dispatcher it cannot rebuild: a warning, fetch() unchanged', async () => {
    const missing = run({ KYSO_DEFERRED_CA_CERTS: join(dir, 'none.pem') });
    assert.equal(missing.replaced, false);
    assert.match(missing.warnings.join('\n'), /Ignoring extra certs from `.*none\.pem`, load failed/);
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'no certificate here\n');
    const e = run({ KYSO_DEFERRED_CA_CERTS: empty });
    assert.equal(e.replaced, false);
    assert.match(e.warnings.join('\n'), /no certificate in the file/);
    const bundle = join(dir, 'bundle2.pem');
    writeFileSync(bundle, (await getTestPki()).rootPem);
    const odd = run({ KYSO_DEFERRED_CA_CERTS: bundle, ODD_DISPATCHER: '1' });
    assert.equal(odd.replaced, false);
    assert.match(odd.warnings.join('\n'), /cannot be rebuilt/);
  });
});
