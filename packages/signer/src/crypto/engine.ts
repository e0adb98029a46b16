import * as pkijs from 'pkijs';

let done = false;
/** Install Node's native WebCrypto as PKI.js's engine (once per process). */
export function ensurePkijsEngine(): void {
  if (done) return;
  pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto as unknown as Crypto }));
  done = true;
}
