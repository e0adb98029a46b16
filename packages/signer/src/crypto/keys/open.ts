import { SignerError } from '../errors.js';
import { loadPemFiles } from './pem.js';
import { loadPkcs12File } from './pkcs12.js';
import { openPkcs11Backend, type Pkcs11BackendOptions } from './pkcs11.js';
import type { KeyBackend } from './types.js';

/** Where the signing key comes from, as the CLI flags describe it. */
export type KeySource =
  | { type: 'pkcs12'; path: string; password?: string }
  | { type: 'pem'; keyPath: string; certPath: string; chainPath?: string; password?: string }
  | ({ type: 'pkcs11' } & Pkcs11BackendOptions);

/** Open a key backend from files or a token (`--p12` | `--key/--cert/--chain` | `--pkcs11-*`). Close it when done. */
export async function openKeyBackend(src: KeySource): Promise<KeyBackend> {
  switch (src.type) {
    case 'pkcs12': return loadPkcs12File(src.path, src.password);
    case 'pem': return loadPemFiles(src);
    case 'pkcs11': { const { type: _t, ...o } = src; return openPkcs11Backend(o); }
    default: throw new SignerError('KEY_UNSUPPORTED', 'unknown key source');
  }
}
