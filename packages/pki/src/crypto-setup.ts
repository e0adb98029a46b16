import * as pkijs from 'pkijs';

let done = false;

/**
 * Point PKI.js at Node's native WebCrypto (idempotent). Call once before using PKI.js methods that
 * need a crypto engine (sign/verify/digest); parsing and encoding work without it.
 */
export function setupCrypto(): void {
  if (done) return;
  pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto as Crypto }));
  done = true;
}
