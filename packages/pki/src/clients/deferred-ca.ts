import { readFileSync } from 'node:fs';
import { pemBlocks, toPem } from '../pem.js';

/**
 * NODE_EXTRA_CA_CERTS, read when it is needed instead of at start-up.
 *
 * Node reads the file NODE_EXTRA_CA_CERTS names as the process starts, whether or not the process will ever open a
 * TLS connection. With a distribution's whole CA bundle there (/etc/ssl/certs/ca-certificates.crt, ~140 CAs, as many
 * machines set it) that is ~35 ms of every Node process, more than Node's own start-up: `kyso verify --offline` or
 * `kyso xml sign` with a local key never open a TLS connection. The installed `kyso` command therefore starts Node
 * without the variable and hands the file name on in {@link DEFERRED_CA_ENV} (see packages/cli/bin/kyso.cjs); the
 * first https request kyso makes calls {@link applyDeferredCaCerts}, which gives fetch() the trust Node would have
 * had: its bundled root certificates plus the certificates of that file. A file that cannot be read is ignored with
 * the warning Node itself prints in that case.
 */
export const DEFERRED_CA_ENV = 'KYSO_DEFERRED_CA_CERTS';

/** The key under which Node's fetch() (undici) keeps its process-wide dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

let applied: Promise<void> | undefined;

/** The certificates of a CA bundle file as PEM (text outside the BEGIN/END blocks ignored, as OpenSSL does). */
function pemCertificates(text: string): string[] {
  return pemBlocks(text).filter((b) => b.label === 'CERTIFICATE').map((b) => toPem(b.der));
}

/**
 * Makes fetch() trust the certificates of the deferred NODE_EXTRA_CA_CERTS file (once per thread; a no-op when the
 * process was started with the variable itself, or without it). Call it before an https request.
 */
export function applyDeferredCaCerts(): Promise<void> {
  const file = process.env[DEFERRED_CA_ENV];
  if (!file) return Promise.resolve();
  return (applied ??= (async () => {
    let extra: string[];
    try {
      extra = pemCertificates(readFileSync(file, 'utf8'));
      if (extra.length === 0) throw new Error('no certificate in the file');
    } catch (e) {
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
      return;
    }
    // fetch() creates its dispatcher when first used; a data: URL makes it do so without touching the network
    await (await fetch('data:,')).arrayBuffer();
    const slot = globalThis as unknown as Record<symbol, object | undefined>;
    const current = slot[GLOBAL_DISPATCHER];
    if (!current) {
      process.emitWarning(`Ignoring extra certs from \`${file}\`: this Node.js's fetch() has no dispatcher to give them to`);
      return;
    }
    // the same Agent class, with Node's bundled roots plus the extra ones (what NODE_EXTRA_CA_CERTS does)
    const { rootCertificates } = await import('node:tls'); // loaded only here: node:tls costs ~5 ms of start-up
    try {
      const Agent = current.constructor as new (opts: { connect: { ca: string[] } }) => object;
      slot[GLOBAL_DISPATCHER] = new Agent({ connect: { ca: [...rootCertificates, ...extra] } });
    } catch (e) {
      // (another dispatcher than fetch()'s own Agent was installed, one that cannot be made this way)
      process.emitWarning(`Ignoring extra certs from \`${file}\`: ${(e as Error).message}`);
    }
  })());
}
