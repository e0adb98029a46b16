/**
 * Where credential keys live. {@link Pkcs11Vault}: keys generated inside the PKCS#11 token (SoftHSM2, an HSM),
 * non-extractable and sensitive; signing uses @kyso/signer's PKCS#11 backend (raw mechanisms over the digest).
 * {@link SoftwareVault}: the stand-in when no HSM is configured — RSA keys generated in Node and kept only as
 * encrypted PKCS#8 (AES-256, scrypt-derived key) inside the credential record; the service says so at start.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import { openPkcs11Backend, SoftwareKeyBackend, type KeyBackend } from '@kyso/signer';
import { SigningError } from './errors.js';
import type { KeyRef } from './store.js';

/** Key to generate. */
export interface KeySpec { type: 'RSA' | 'EC'; bits?: number; curve?: 'P-256' | 'P-384' }

export interface KeyVault {
  readonly kind: 'pkcs11' | 'software';
  /** Human-readable description for the start-up line (no secrets). */
  readonly description: string;
  /** Generates a key pair; returns its reference and public key (SPKI DER). */
  generate(label: string, spec: KeySpec): Promise<{ ref: KeyRef; spki: Uint8Array }>;
  /** A signing backend for a credential's key (cached per key). */
  backend(ref: KeyRef, certificates: Uint8Array[]): Promise<KeyBackend>;
  close(): Promise<void>;
}

const CURVE_OID_DER: Record<'P-256' | 'P-384', Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
};

function pkcs11Reason(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  return /CKR_[A-Z_]+/.exec(m)?.[0] ?? m.split('\n')[0]!;
}

/** Round-robin pool of backends for one key (one PKCS#11 session signs one thing at a time). */
class BackendPool {
  #i = 0;
  constructor(readonly items: KeyBackend[]) {}
  next(): KeyBackend { return this.items[this.#i++ % this.items.length]!; }
}

/** A key backend that spreads calls over several sessions on the same key. */
class PooledBackend implements KeyBackend {
  readonly kind: KeyBackend['kind'];
  constructor(readonly pool: BackendPool) { this.kind = pool.items[0]!.kind; }
  get certificate() { return this.pool.items[0]!.certificate; }
  get chain() { return this.pool.items[0]!.chain; }
  get keyAlgorithm() { return this.pool.items[0]!.keyAlgorithm; }
  sign(...a: Parameters<KeyBackend['sign']>) { return this.pool.next().sign(...a); }
  async close() { await Promise.all(this.pool.items.map((b) => b.close())); }
}

/** Keys inside a PKCS#11 token. */
export class Pkcs11Vault implements KeyVault {
  readonly kind = 'pkcs11' as const;
  readonly description: string;
  #backends = new Map<string, Promise<KeyBackend>>();

  constructor(readonly opts: { module: string; token: string; pin: string; sessionsPerKey?: number }) {
    this.description = `PKCS#11 token "${opts.token}" (${opts.module})`;
  }

  #module: graphene.Module | undefined;

  /**
   * A short RW session for key generation. The library stays initialised for the life of the process: the
   * signing backends (@kyso/signer) share the same Cryptoki instance, and finalising it would end their sessions.
   */
  #ensureModule(): graphene.Module {
    if (!this.#module) {
      const mod = graphene.Module.load(this.opts.module, 'kyso-signing');
      // OS locking: signatures run on worker threads over several sessions at once
      try { mod.initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (e) {
        if (pkcs11Reason(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw new SigningError('KEY_GENERATION_FAILED', `PKCS#11 module ${this.opts.module}: ${pkcs11Reason(e)}`, { cause: e });
      }
      this.#module = mod;
    }
    return this.#module;
  }

  #withSession<T>(f: (s: graphene.Session) => T): T {
    const mod = this.#ensureModule();
    let session: graphene.Session | undefined;
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === this.opts.token) slot = slots.items(i);
      if (!slot) throw new SigningError('CONFIG_INVALID', `PKCS#11 token "${this.opts.token}" not found`);
      session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
      try { session.login(this.opts.pin, graphene.UserType.USER); } catch (e) {
        if (pkcs11Reason(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw new SigningError('KEYSTORE_LOCKED', `PKCS#11 token "${this.opts.token}": login failed (${pkcs11Reason(e)})`, { cause: e });
      }
      return f(session);
    } finally {
      try { session?.close(); } catch { /* closed */ }
    }
  }

  async generate(label: string, spec: KeySpec): Promise<{ ref: KeyRef; spki: Uint8Array }> {
    const id = randomBytes(16);
    try {
      return this.#withSession((s) => {
        const priv: graphene.ITemplate = { token: true, private: true, sensitive: true, extractable: false, sign: true, label, id };
        if (spec.type === 'RSA') {
          const bits = spec.bits ?? 2048;
          const kp = s.generateKeyPair(graphene.KeyGenMechanism.RSA,
            { keyType: graphene.KeyType.RSA, token: true, verify: true, modulusBits: bits, publicExponent: Buffer.from([1, 0, 1]), label, id }, priv);
          const n = kp.publicKey.getAttribute({ modulus: null }).modulus as Buffer;
          const e = kp.publicKey.getAttribute({ publicExponent: null }).publicExponent as Buffer;
          const pub = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
          return { ref: { vault: 'pkcs11' as const, ref: id.toString('hex'), type: 'RSA' as const, bits }, spki: new Uint8Array(pub.export({ type: 'spki', format: 'der' })) };
        }
        const curve = spec.curve ?? 'P-256';
        const kp = s.generateKeyPair(graphene.KeyGenMechanism.EC,
          { keyType: graphene.KeyType.EC, token: true, verify: true, paramsEC: CURVE_OID_DER[curve], label, id }, { ...priv, keyType: graphene.KeyType.EC });
        const point = kp.publicKey.getAttribute({ pointEC: null }).pointEC as Buffer;
        // CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point 04‖X‖Y
        const size = curve === 'P-256' ? 32 : 48;
        const raw = point.subarray(point.length - (2 * size + 1));
        if (raw[0] !== 4) throw new SigningError('KEY_GENERATION_FAILED', 'token returned a compressed or malformed EC point');
        const pub = createPublicKey({ key: { kty: 'EC', crv: curve, x: raw.subarray(1, 1 + size).toString('base64url'), y: raw.subarray(1 + size).toString('base64url') }, format: 'jwk' });
        return { ref: { vault: 'pkcs11' as const, ref: id.toString('hex'), type: 'EC' as const, bits: size * 8, curve }, spki: new Uint8Array(pub.export({ type: 'spki', format: 'der' })) };
      });
    } catch (e) {
      if (e instanceof SigningError) throw e;
      throw new SigningError('KEY_GENERATION_FAILED', `key generation in the token failed: ${pkcs11Reason(e)}`, { cause: e });
    }
  }

  backend(ref: KeyRef, certificates: Uint8Array[]): Promise<KeyBackend> {
    let b = this.#backends.get(ref.ref);
    if (!b) {
      this.#ensureModule(); // initialised here first, with OS locking
      const n = Math.max(1, this.opts.sessionsPerKey ?? 2);
      b = Promise.all(Array.from({ length: n }, () => openPkcs11Backend({
        module: this.opts.module, token: this.opts.token, pin: this.opts.pin, keyId: ref.ref, certificate: certificates[0]!, chain: certificates.slice(1),
      }))).then((items) => (items.length === 1 ? items[0]! : new PooledBackend(new BackendPool(items))));
      b.catch(() => this.#backends.delete(ref.ref));
      this.#backends.set(ref.ref, b);
    }
    return b;
  }

  async close() {
    const all = [...this.#backends.values()];
    this.#backends.clear();
    await Promise.all(all.map(async (p) => { try { await (await p).close(); } catch { /* failed open */ } }));
  }
}

/** Encrypted software keystore (no HSM): RSA keys only; the private key is held encrypted in the record. */
export class SoftwareVault implements KeyVault {
  readonly kind = 'software' as const;
  readonly description = 'encrypted software keystore (NO HSM configured: keys are not hardware-protected)';
  #backends = new Map<string, Promise<KeyBackend>>();

  /** @param secret the keystore passphrase (KYSO_KEYSTORE_SECRET); never logged. */
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new SigningError('CONFIG_INVALID', 'the software keystore secret must have at least 16 characters');
  }

  async generate(_label: string, spec: KeySpec): Promise<{ ref: KeyRef; spki: Uint8Array }> {
    if (spec.type !== 'RSA') throw new SigningError('ALG_UNSUPPORTED', 'the software keystore holds RSA keys only (EC keys need the HSM: digest-only ECDSA is a PKCS#11 mechanism)');
    const bits = spec.bits ?? 2048;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    const enc = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: this.secret }) as string;
    return { ref: { vault: 'software', ref: enc, type: 'RSA', bits }, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
  }

  backend(ref: KeyRef, certificates: Uint8Array[]): Promise<KeyBackend> {
    let b = this.#backends.get(ref.ref);
    if (!b) {
      b = (async () => {
        let key: KeyObject;
        try { key = createPrivateKey({ key: ref.ref, format: 'pem', passphrase: this.secret }); } catch (e) {
          throw new SigningError('KEYSTORE_LOCKED', 'the software keystore key cannot be opened with this secret', { cause: e });
        }
        return new SoftwareKeyBackend('pem', key, certificates[0]!, certificates.slice(1));
      })();
      b.catch(() => this.#backends.delete(ref.ref));
      this.#backends.set(ref.ref, b);
    }
    return b;
  }

  async close() {
    for (const p of this.#backends.values()) { try { await (await p).close(); } catch { /* ignore */ } }
    this.#backends.clear();
  }
}
