/**
 * The published packages as a developer outside the repository gets them: `npm pack` of every workspace, installed
 * from the tarballs into a fresh project in the temp directory (no workspace links), then used from plain Node ESM
 * (sign a PDF, verify it), through the installed `kyso` binary (compiled JavaScript, no tsx), and from a small
 * TypeScript consumer type-checked against the published .d.ts files.
 * Third-party dependencies come from the npm cache when possible (--prefer-offline).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBasicPdf } from '../fixtures/pdf/samples.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/** Every workspace that `@kyso/cli` needs at run time: the six packages, the services and the test PKI. */
const WORKSPACES = ['packages/pdf', 'packages/pki', 'packages/signer', 'packages/verifier', 'packages/idp', 'packages/cli', 'fixtures', 'services/idp', 'services/validation', 'services/portal', 'services/signing'];
// the consumer is a plain project: no kyso-source condition, no tsx loader inherited from the test runner
const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: PLAIN_ENV, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
  return r.stdout;
}

describe('published packages (npm pack → install from tarballs → use)', function () {
  this.timeout(600_000);
  let work: string;
  let app: string;
  const tarballs: Record<string, string> = {};

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kyso-packed-'));
    app = join(work, 'app');
    mkdirSync(app);
    // dist/ of every package, as `npm run build` makes it (incremental: quick when it is up to date)
    await ok(process.execPath, [join(ROOT, 'scripts/build.mjs')], ROOT);
    const packed = JSON.parse(await ok('npm', ['pack', '--json', '--pack-destination', work, ...WORKSPACES.flatMap((w) => ['-w', w])], ROOT)) as { name: string; filename: string; files: { path: string }[] }[];
    for (const p of packed) tarballs[p.name] = join(work, p.filename);
    (this as unknown as { packed: typeof packed }).packed = packed;
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs every package with compiled JavaScript, declarations and source maps, exports pointing at dist/', async function () {
    assert.deepEqual(Object.keys(tarballs).sort(), WORKSPACES.map((w) => JSON.parse(readFileSync(join(ROOT, w, 'package.json'), 'utf8')).name).sort());
    for (const w of WORKSPACES) {
      const pkg = JSON.parse(readFileSync(join(ROOT, w, 'package.json'), 'utf8'));
      const listing = spawnSync('tar', ['tzf', tarballs[pkg.name]!], { encoding: 'utf8' }).stdout.split('\n');
      for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/index.js.map', 'package/dist/index.d.ts.map', 'package/README.md', 'package/package.json']) {
        assert.ok(listing.includes(f), `${pkg.name}: ${f} missing from the tarball`);
      }
      assert.ok(!listing.some((f) => /tsbuildinfo|\/test\/|\.test\./.test(f)), `${pkg.name}: build info or tests in the tarball`);
      const dot = pkg.exports['.'];
      assert.equal(Object.keys(dot).filter((k) => k !== 'kyso-source')[0], 'types', `${pkg.name}: types first`);
      assert.equal(dot.types, './dist/index.d.ts');
      assert.equal(dot.default, './dist/index.js');
      assert.equal(pkg.private, undefined, `${pkg.name} is private`);
      // every bare import of the compiled code is a declared dependency (or node:)
      const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }));
      // the CLI's bundle inlines kyso's signing/validation packages and the PKI.js family (see scripts/build.mjs)
      const inlined = pkg.name === '@kyso/cli' ? ['@kyso/pdf', '@kyso/pki', '@kyso/signer', '@kyso/verifier', 'pkijs', 'asn1js', '@peculiar/utils', 'bytestreamjs', '@noble/hashes', 'pvtsutils', 'pvutils', 'tslib'] : [];
      if (pkg.name === '@kyso/cli') {
        for (const f of ['bundle/main.js', 'bundle/worker.js', 'bundle/cli.cjs', 'bundle/cli.cjs.cache', 'bin/run-bundle.cjs']) assert.ok(listing.includes(`package/${f}`), `@kyso/cli: ${f} missing`);
      }
      for (const f of listing.filter((x) => (x.startsWith('package/dist/') || x.startsWith('package/bundle/')) && (x.endsWith('.js') || x.endsWith('.cjs')))) {
        // (comments removed: doc examples name packages too)
        const code = readFileSync(join(ROOT, w, f.slice('package/'.length)), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        // (bundle/cli.cjs: its dynamic imports go through run-bundle.cjs as __kysoImport(...))
        for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|(?:import|__kysoImport)\(\s*['"]([^'"]+)['"]\s*\)|require\(['"]([^'"]+)['"]\)/gm)) {
          const spec = m[1] ?? m[2] ?? m[3]!;
          if (spec.startsWith('.') || spec.startsWith('node:')) continue;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          assert.ok(declared.has(name) || (f.startsWith('package/bundle/') && inlined.includes(name)), `${pkg.name}: ${f} imports ${spec}, not a declared dependency`);
        }
      }
    }
  });

  it('installs the tarballs into a fresh project outside the repository (no workspace links)', async function () {
    assert.ok(relative(ROOT, realpathSync(app)).startsWith('..'), 'the consumer project must be outside the repository');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'kyso-consumer', private: true, type: 'module' }, null, 2));
    const typesNode = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies['@types/node'];
    await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...Object.values(tarballs), `@types/node@${typesNode}`], app);
    for (const name of Object.keys(tarballs)) {
      const dir = join(app, 'node_modules', name);
      assert.ok(existsSync(join(dir, 'dist/index.js')), `${name} not installed`);
      assert.ok(!lstatSync(dir).isSymbolicLink(), `${name} is a link, not an installed copy`);
    }
    assert.ok(!existsSync(join(app, 'node_modules/tsx')), 'tsx must not be needed by the published packages');
  });

  it('signs a PDF and verifies it from plain Node ESM', async function () {
    await ok('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '30',
      '-subj', '/CN=kyso consumer test', '-addext', 'keyUsage=critical,digitalSignature,nonRepudiation'], app);
    writeFileSync(join(app, 'in.pdf'), await makeBasicPdf(1));
    writeFileSync(join(app, 'sign-verify.mjs'), [
      "import { readFileSync } from 'node:fs';",
      "import { loadPemBackend, signPdf } from '@kyso/signer';",
      "import { verifyPdf } from '@kyso/verifier';",
      "const backend = await loadPemBackend({ key: readFileSync('key.pem'), cert: readFileSync('cert.pem') });",
      "const signed = await signPdf('in.pdf', 'out.pdf', { backend, reason: 'packed-tarball test' });",
      "const report = await verifyPdf('out.pdf', { trustAnchors: [readFileSync('cert.pem', 'utf8')], offline: true });",
      "console.log(JSON.stringify({ level: signed.level, indication: report.documentIndication, signatures: report.signatures.map((s) => s.indication) }));",
      '',
    ].join('\n'));
    const out = JSON.parse((await ok(process.execPath, ['sign-verify.mjs'], app)).trim().split('\n').pop()!);
    assert.deepEqual(out, { level: 'B-B', indication: 'TOTAL_PASSED', signatures: ['TOTAL_PASSED'] });
    // an independent validator agrees
    const pdfsig = spawnSync('pdfsig', [join(app, 'out.pdf')], { encoding: 'utf8' });
    assert.match(pdfsig.stdout, /Signature is Valid/);
    // and a tampered copy is refused by the installed verifier: one byte of the header's binary comment, which the
    // signature covers (the file still parses)
    const bytes = readFileSync(join(app, 'out.pdf'));
    const at = bytes.indexOf('\n%') + 2;
    assert.ok(at > 2 && at < 20);
    bytes[at] ^= 0x01;
    writeFileSync(join(app, 'tampered.pdf'), bytes);
    writeFileSync(join(app, 'verify-tampered.mjs'), "import { readFileSync } from 'node:fs';\nimport { verifyPdf } from '@kyso/verifier';\nconst r = await verifyPdf('tampered.pdf', { trustAnchors: [readFileSync('cert.pem', 'utf8')], offline: true });\nconsole.log(r.documentIndication);\n");
    assert.equal((await ok(process.execPath, ['verify-tampered.mjs'], app)).trim(), 'TOTAL_FAILED');
  });

  it('the ./pdf and ./xml halves of the signer and verifier load alone and share classes with the whole package', async function () {
    writeFileSync(join(app, 'halves.mjs'), [
      "import { readFileSync } from 'node:fs';",
      "import * as signer from '@kyso/signer';",
      "import * as signerPdf from '@kyso/signer/pdf';",
      "import * as signerXml from '@kyso/signer/xml';",
      "import * as verifier from '@kyso/verifier';",
      "import * as verifierPdf from '@kyso/verifier/pdf';",
      "import * as verifierXml from '@kyso/verifier/xml';",
      "const names = (m) => Object.keys(m).sort();",
      "const union = (a, b) => [...new Set([...names(a), ...names(b)])].sort();",
      "const backend = await signerPdf.loadPemBackend({ key: readFileSync('key.pem'), cert: readFileSync('cert.pem') });",
      "await signerPdf.signPdf('in.pdf', 'halves.pdf', { backend });",
      "const report = await verifierPdf.verifyPdf('halves.pdf', { trustAnchors: [readFileSync('cert.pem', 'utf8')], offline: true });",
      "console.log(JSON.stringify({",
      "  signerUnion: JSON.stringify(union(signerPdf, signerXml)) === JSON.stringify(names(signer)),",
      "  verifierUnion: JSON.stringify(union(verifierPdf, verifierXml)) === JSON.stringify(names(verifier)),",
      "  sameClass: signer.SignerError === signerPdf.SignerError && signer.signXml === signerXml.signXml && verifier.verifyXml === verifierXml.verifyXml,",
      "  xmlHasNoPdf: !('signPdf' in signerXml) && !('verifyPdf' in verifierXml),",
      "  indication: report.documentIndication,",
      "}));",
      '',
    ].join('\n'));
    const out = JSON.parse((await ok(process.execPath, ['halves.mjs'], app)).trim().split('\n').pop()!);
    assert.deepEqual(out, { signerUnion: true, verifierUnion: true, sameClass: true, xmlHasNoPdf: true, indication: 'TOTAL_PASSED' });
  });

  it("runs each package README's example as written (Node ESM, installed packages)", async function () {
    // the examples use in.pdf, key.pem and cert.pem made above; signer's writes signed.pdf, which verifier's reads
    // (the validation service's example posts signed.pdf to an installed, compiled service: its worker processes
    // must start from dist/)
    for (const pkg of ['pdf', 'pki', 'signer', 'verifier', 'idp', 'validation']) {
      const readme = readFileSync(join(ROOT, pkg === 'validation' ? 'services' : 'packages', pkg, 'README.md'), 'utf8');
      const at = readme.indexOf('## Example');
      assert.ok(at >= 0, `packages/${pkg}/README.md has no "## Example" section`);
      const code = /```js\n([\s\S]*?)\n```/.exec(readme.slice(at))?.[1];
      assert.ok(code, `packages/${pkg}/README.md: no js block in its example`);
      writeFileSync(join(app, `readme-${pkg}.mjs`), code + '\n');
      const out = await ok(process.execPath, [`readme-${pkg}.mjs`], app);
      assert.ok(out.trim().length > 0, `${pkg} example printed nothing`);
      if (pkg === 'signer' || pkg === 'verifier' || pkg === 'validation') assert.match(out, /TOTAL_PASSED/);
      if (pkg === 'pdf') assert.match(out, /updated\.pdf: 2 revision\(s\)/);
    }
  });

  it('the signing SDK alone (pdf, pki, signer, verifier) installs without the services, the CLI or native addons', async function () {
    const sdk = join(work, 'sdk');
    mkdirSync(sdk);
    writeFileSync(join(sdk, 'package.json'), JSON.stringify({ name: 'kyso-sdk-consumer', private: true, type: 'module' }));
    await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error',
      ...['@kyso/pdf', '@kyso/pki', '@kyso/signer', '@kyso/verifier'].map((n) => tarballs[n]!)], sdk);
    for (const absent of ['koa', 'oidc-provider', 'ioredis', 'graphene-pk11', 'pkcs11js', '@kyso/idp', '@kyso/cli']) {
      assert.ok(!existsSync(join(sdk, 'node_modules', absent)), `${absent} installed with the signing SDK`);
    }
    for (const f of ['key.pem', 'cert.pem', 'in.pdf', 'sign-verify.mjs']) writeFileSync(join(sdk, f), readFileSync(join(app, f)));
    const out = JSON.parse((await ok(process.execPath, ['sign-verify.mjs'], sdk)).trim().split('\n').pop()!);
    assert.equal(out.indication, 'TOTAL_PASSED');
    // PKCS#11 needs the optional peer: a clear, typed error says so
    writeFileSync(join(sdk, 'pkcs11.mjs'), "import { openPkcs11Backend } from '@kyso/signer';\ntry { await openPkcs11Backend({ module: '/nonexistent.so', pin: 'x' }); } catch (e) { console.log(e.code, e.message); }\n");
    assert.match(await ok(process.execPath, ['pkcs11.mjs'], sdk), /^PKCS11_ERROR .*npm install graphene-pk11/);
  });

  it('runs the installed kyso command (compiled JavaScript)', async function () {
    const bin = join(app, 'node_modules/.bin/kyso');
    assert.equal((await ok(bin, ['--version'], app)).trim(), `kyso ${JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version}`);
    await ok(bin, ['sign', 'in.pdf', '-o', 'cli-out.pdf', '--key', 'key.pem', '--cert', 'cert.pem', '--offline'], app);
    // the one-shot commands run the one-file bundle, and V8 takes its code cache (same Node, the shebang's flags)
    PLAIN_ENV.KYSO_CODE_CACHE_DEBUG = '1';
    const v = await run(bin, ['verify', 'cli-out.pdf', '--trust', 'cert.pem', '--offline', '--json'], app).finally(() => { delete PLAIN_ENV.KYSO_CODE_CACHE_DEBUG; });
    assert.match(v.stderr, /^kyso: code cache accepted$/m);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(JSON.parse(v.stdout).documentIndication, 'TOTAL_PASSED');
    const bad = await run(bin, ['verify', 'in.pdf', '--trust', 'cert.pem', '--offline'], app);
    assert.equal(bad.code, 1, 'an unsigned file is not TOTAL_PASSED');
    // a big folder is verified in worker threads: the compiled worker module must be found in dist/
    mkdirSync(join(app, 'many'));
    const signedBytes = readFileSync(join(app, 'cli-out.pdf'));
    for (let i = 0; i < 800; i++) writeFileSync(join(app, 'many', `f${i}.pdf`), signedBytes);
    const many = await run(bin, ['verify', 'many', '--trust', 'cert.pem', '--offline', '--workers', '2'], app);
    assert.equal(many.code, 0, many.stderr.slice(-2000));
    assert.match(many.stdout, /800 file\(s\): 800 TOTAL_PASSED/);
  });

  it('type-checks a TypeScript consumer against the published types (and catches a type error)', async function () {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      include: ['consumer.ts'],
    }));
    writeFileSync(join(app, 'consumer.ts'), [
      "import { readFileSync } from 'node:fs';",
      "import { loadPemBackend, signPdf, preparePdfSignature, finalizePdfSignature, SignerError, type KeyBackend, type PadesLevel, type PdfSignatureResult } from '@kyso/signer';",
      "import { verifyPdf, renderText, type Policy, type ValidationReport, type Indication } from '@kyso/verifier';",
      "import { signPdf as signPdfHalf, type PadesLevel as PadesLevelHalf } from '@kyso/signer/pdf';",
      "import { signXml } from '@kyso/signer/xml';",
      "import { verifyPdf as verifyPdfHalf } from '@kyso/verifier/pdf';",
      "import { verifyXml } from '@kyso/verifier/xml';",
      "const halves: [typeof signPdf, typeof verifyPdf, PadesLevelHalf] = [signPdfHalf, verifyPdfHalf, 'B-T'];",
      "void halves; void signXml; void verifyXml;",
      "import { PdfReader, PdfError } from '@kyso/pdf';",
      "import { parseCertificate, type HashName } from '@kyso/pki';",
      "import { createStorage, type IdpStorage, type KysoIdpOptions } from '@kyso/idp';",
      "import { main } from '@kyso/cli';",
      "const level: PadesLevel = 'B-B';",
      "const hash: HashName = 'SHA-256';",
      "const backend: KeyBackend = await loadPemBackend({ key: readFileSync('key.pem'), cert: readFileSync('cert.pem') });",
      "const result: PdfSignatureResult = await signPdf('in.pdf', 'ts-out.pdf', { backend, level, hash });",
      "const policy: Policy = { trustAnchors: [readFileSync('cert.pem', 'utf8')], offline: true };",
      "const report: ValidationReport = await verifyPdf('ts-out.pdf', policy);",
      'const indication: Indication = report.documentIndication;',
      "const reader = PdfReader.open('ts-out.pdf');",
      "const cert = parseCertificate(readFileSync('cert.pem'));",
      'const storage: IdpStorage = await createStorage();',
      "const options: Partial<KysoIdpOptions> = { issuer: 'https://id.example.vn' };",
      "const code: number = await main(['--version']);",
      "// @ts-expect-error internals are not part of the public API",
      "void import('@kyso/signer').then((m) => m.rc2DecryptBlockRaw);",
      'console.log(result.fileSize, indication, renderText(report), reader, cert, storage, options, code, SignerError, PdfError, preparePdfSignature, finalizePdfSignature);',
      '',
    ].join('\n'));
    const good = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    assert.equal(good.code, 0, `consumer type-check failed:\n${good.stdout}${good.stderr}`);
    // the check is real: a wrong type is reported
    writeFileSync(join(app, 'consumer.ts'), "import { verifyPdf } from '@kyso/verifier';\nconst n: number = (await verifyPdf('x.pdf')).documentIndication;\nconsole.log(n);\n");
    const bad = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /TS2322/);
  });
});
