/**
 * `npm run bench -- cli` — the installed `kyso` command as whole processes (start-up included), side by side in
 * one run with `node -e 0` and with the @signpdf peer (bench/cli-peer.mjs) as a whole process:
 *   - `kyso --version`                        vs `node -e 0`                  (target: within 1.5×)
 *   - `kyso sign` of the 2,000-page ~4 MB PDF  vs the peer's process, same key and file (target: ≥ 5× faster)
 *   - `kyso verify` of a one-page signed file  vs `node -e 0`                  (target: within 3×)
 * kyso runs as an installed kyso does: the bin file through its shebang, on the compiled JavaScript (KYSO_RUN=dist;
 * this bench brings dist/ up to date first, as `npm run build` does). Each command runs RUNS (9; BENCH_RUNS) times,
 * interleaved with its comparison; the tables show the best run of each and the medians.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KYSO = join(ROOT, 'packages/cli/bin/kyso.cjs');   // the package's "bin" entry
const PEER = join(ROOT, 'bench/cli-peer.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
// a plain process: no tsx, no kyso-source condition (those are for the repo's TypeScript)
// Every process runs in this environment as it is. Where it sets NODE_EXTRA_CA_CERTS (Node reads that file at
// start-up: ~40 ms for a whole distribution CA bundle, as on the machines this runs on), the installed kyso defers it
// (its shebang) and `node -e 0` pays it: the table then also gives kyso's ratio to `node -e 0` without it, the floor
// kyso starts from.
const ENV: NodeJS.ProcessEnv = { ...process.env, KYSO_RUN: 'dist', NODE_OPTIONS: '', P12_PASSWORD: 'bench', PEER_P12_PASSWORD: 'bench', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
const FLOOR_ENV: NodeJS.ProcessEnv = { ...ENV };
delete FLOOR_ENV.NODE_EXTRA_CA_CERTS;

/** Wall time of one whole process, in ms; throws when it fails. `kyso` runs as installed: the bin file itself (shebang). */
function timeProcess(args: string[], okCodes = [0], env = ENV): number {
  const [cmd, rest] = args[0] === KYSO ? [KYSO, args.slice(1)] : [process.execPath, args];
  const t0 = performance.now();
  const r = spawnSync(cmd, rest, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (r.status === null || !okCodes.includes(r.status)) throw new Error(`${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).trim().slice(-400)}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => (ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) + ' ms';

interface Pair { best: [number, number]; median: [number, number] }

/**
 * Runs `a` and `b` RUNS times each, alternating (after one warm-up of each): best (minimum) and median times. The
 * best run is the least disturbed by other work on the machine (start-up latency is measured so, e.g. by hyperfine's
 * min); the median is shown too.
 */
function sideBySide(a: () => number, b: () => number): Pair {
  a(); b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < RUNS; i++) { ta.push(a()); tb.push(b()); }
  return { best: [Math.min(...ta), Math.min(...tb)], median: [median(ta), median(tb)] };
}

async function main(): Promise<void> {
  // dist/ as `npm run build` makes it (incremental: quick when up to date; never a stale build measured)
  process.stderr.write('building dist/ (scripts/build.mjs) ...\n');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit', env: ENV });
  const dir = mkdtempSync(join(tmpdir(), 'kyso-bench-cli-'));
  try {
    process.stderr.write(`generating inputs in ${dir} ...\n`);
    const { makeManyPagesPdf } = await import('../fixtures/pdf/large.js');
    const { makeBasicPdf } = await import('../fixtures/pdf/samples.js');
    const ossl = (...a: string[]): void => { execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'signer.key', '-out', 'signer.pem', '-days', '30', '-subj', '/CN=kyso bench signer');
    // the same key and certificate for both: AES/PBKDF2 for kyso, 3DES/SHA-1 PBE for node-forge (the peer)
    ossl('pkcs12', '-export', '-inkey', 'signer.key', '-in', 'signer.pem', '-out', 'signer.p12', '-passout', 'pass:bench');
    ossl('pkcs12', '-export', '-inkey', 'signer.key', '-in', 'signer.pem', '-out', 'signer-peer.p12', '-passout', 'pass:bench', '-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1');
    const big = join(dir, 'big.pdf');
    const one = join(dir, 'one.pdf');
    writeFileSync(big, await makeManyPagesPdf(2000, 2800));
    writeFileSync(one, await makeBasicPdf(1));
    const oneSigned = join(dir, 'one-signed.pdf');
    timeProcess([KYSO, 'sign', one, '-o', oneSigned, '--p12', join(dir, 'signer.p12'), '--password-env', 'P12_PASSWORD', '--offline']);
    let n = 0;
    const kysoSign = (): number => timeProcess([KYSO, 'sign', big, '-o', join(dir, `big-kyso-${n++}.pdf`), '--p12', join(dir, 'signer.p12'), '--password-env', 'P12_PASSWORD', '--offline']);
    const peerSign = (): number => timeProcess([PEER, big, join(dir, `big-peer-${n++}.pdf`), join(dir, 'signer-peer.p12')]);
    const nodeBare = (): number => timeProcess(['-e', '0']);
    const nodeFloor = (): number => timeProcess(['-e', '0'], [0], FLOOR_ENV);
    const deferred = ENV.NODE_EXTRA_CA_CERTS !== undefined;
    const kysoVersion = (): number => timeProcess([KYSO, '--version']);
    const kysoVerify = (): number => timeProcess([KYSO, 'verify', oneSigned, '--trust', join(dir, 'signer.pem'), '--offline']);

    process.stderr.write(`kyso --version vs node -e 0 (${RUNS} runs each) ...\n`);
    const versionT = sideBySide(kysoVersion, nodeBare);
    process.stderr.write(`kyso sign vs peer, ${(statSync(big).size / 1048576).toFixed(1)} MB (${RUNS} runs each) ...\n`);
    const signT = sideBySide(kysoSign, peerSign);
    // both outputs must be valid signatures (pdfsig), or the comparison means nothing
    for (const f of [join(dir, 'big-kyso-0.pdf'), join(dir, 'big-peer-1.pdf')]) {
      const st = spawnSync('pdfsig', [f], { encoding: 'utf8' }).stdout;
      if (!/Signature is Valid/.test(st)) throw new Error(`pdfsig does not validate ${f}`);
    }
    process.stderr.write(`kyso verify (1 page) vs node -e 0 (${RUNS} runs each) ...\n`);
    const verifyT = sideBySide(kysoVerify, nodeBare);
    const floorT = deferred ? sideBySide(nodeFloor, nodeFloor) : undefined;

    const table = (pick: 'best' | 'median'): string => {
      const [version, bare1] = versionT[pick];
      const [sign, peer] = signT[pick];
      const [verify, bare2] = verifyT[pick];
      const floor = floorT ? Math.min(...floorT[pick]) : undefined;
      const toFloor = (t: number): string => (floor ? `${(t / floor).toFixed(2)}× (floor ${fmt(floor)})` : '');
      const rows: string[][] = [
        ['kyso --version', fmt(version), `${fmt(bare1)} (node -e 0)`, `${(version / bare1).toFixed(2)}× node -e 0`, toFloor(version), 'within 1.5×'],
        [`kyso sign, 2,000 pages, ${(statSync(big).size / 1048576).toFixed(1)} MB`, fmt(sign), `${fmt(peer)} (@signpdf process)`, `${(peer / sign).toFixed(1)}× faster`, '', '≥ 5× faster'],
        ['kyso verify, 1-page signed PDF', fmt(verify), `${fmt(bare2)} (node -e 0)`, `${(verify / bare2).toFixed(2)}× node -e 0`, toFloor(verify), 'within 3×'],
      ];
      if (!floor) for (const r of rows) r.splice(4, 1);
      const head = ['case', 'kyso', 'peer', 'ratio', ...(floor ? ['ratio to node -e 0 without NODE_EXTRA_CA_CERTS'] : []), 'target'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
      return [line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map(line)].join('\n') + '\n';
    };
    process.stdout.write(`\nWhole processes (start-up included), best of ${RUNS} runs each, interleaved; kyso = the installed CLI (bin/kyso.cjs on its compiled bundle/)\n\n`);
    process.stdout.write(table('best'));
    process.stdout.write(`\nThe same runs, medians\n\n`);
    process.stdout.write(table('median'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
