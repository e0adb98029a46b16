import { readFileSync } from 'node:fs';
import type { KeySource } from '@kyso/signer/pdf';
import { fromEnv } from './args.js';
import { promptSecret } from './prompt.js';

/** The key options shared by `kyso sign` and `kyso xml sign` (one of: PKCS#12, PEM key + certificate, PKCS#11). */
export interface KeyOptions {
  p12?: string | undefined;
  key?: string | undefined;
  cert?: string | undefined;
  chain?: string | undefined;
  pkcs11Module?: string | undefined;
  pkcs11Token?: string | undefined;
  pkcs11Key?: string | undefined;
  /** Environment variable holding the PKCS#12 / PEM password. */
  passwordEnv?: string | undefined;
  /** Environment variable holding the PKCS#11 user PIN. */
  pinEnv?: string | undefined;
}

/**
 * The key source of the options, with its secret from the named environment variable or, when none is named and
 * stdin is a terminal, from the shared prompt (a PIN always; a password for a PKCS#12 file or an encrypted PEM key).
 */
export async function keySourceFrom(o: KeyOptions): Promise<KeySource> {
  if (o.pkcs11Module) {
    const pin = o.pinEnv ? fromEnv(o.pinEnv, 'PIN') : await promptSecret('PIN', { hint: 'set it with --pin-env VAR' });
    return { type: 'pkcs11', module: o.pkcs11Module, token: o.pkcs11Token!, keyLabel: o.pkcs11Key!, pin };
  }
  let password: string | undefined;
  if (o.passwordEnv) password = fromEnv(o.passwordEnv, 'password');
  else if (o.p12 && process.stdin.isTTY) password = await promptSecret('Password', { hint: 'set it with --password-env VAR' });
  else if (o.key && process.stdin.isTTY && isEncryptedPem(o.key)) password = await promptSecret('Password', { hint: 'set it with --password-env VAR' });
  if (o.p12) return { type: 'pkcs12', path: o.p12, ...(password !== undefined ? { password } : {}) };
  return { type: 'pem', keyPath: o.key!, certPath: o.cert!, ...(o.chain ? { chainPath: o.chain } : {}), ...(password !== undefined ? { password } : {}) };
}

function isEncryptedPem(path: string): boolean {
  try {
    return /ENCRYPTED/.test(readFileSync(path, 'latin1').slice(0, 4096));
  } catch {
    return false;
  }
}
