/**
 * Where credential keys live. {@link Pkcs11Vault}: keys generated inside the PKCS#11 token (SoftHSM2, an HSM),
 * non-extractable and sensitive; signing runs on worker threads with a session each (raw mechanisms over the
 * digest, see {@link Pkcs11SigningPool}).
 * {@link SoftwareVault}: the stand-in when no HSM is configured — RSA keys generated in Node and kept only as
 * encrypted PKCS#8 (AES-256, scrypt-derived key) inside the credential record; the service says so at start.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import type { HashName } from '@kyso/pki';
import { describeKey, SignerError, SoftwareKeyBackend, type KeyAlgorithmInfo, type KeyBackend, type SignatureAlgorithm, type ToBeSigned } from '@kyso/signer';
import { Pkcs11SigningPool, acquirePkcs11Module, releasePkcs11Module, type Pkcs11SignError, type PoolMechanism } from './pkcs11-pool.js';
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

/**
 * A credential key in the token, signed with by the vault's signing threads ({@link Pkcs11SigningPool}): the
 * digest goes to a thread, the signature comes back; the key stays in the token.
 */
class PooledPkcs11Backend implements KeyBackend {
  readonly kind = 'pkcs11' as const;
  readonly keyAlgorithm: KeyAlgorithmInfo;
  constructor(readonly pool: Pkcs11SigningPool, readonly keyId: string, readonly certificate: Uint8Array, readonly chain: Uint8Array[]) {
    this.keyAlgorithm = describeKey(new X509Certificate(certificate).publicKey);
  }

  async sign(input: ToBeSigned, alg: SignatureAlgorithm): Promise<Uint8Array> {
    const ec = this.keyAlgorithm.type === 'EC';
    if ((alg.scheme === 'ECDSA') !== ec) throw new SignerError('ALG_UNSUPPORTED', `${alg.scheme} does not fit the ${this.keyAlgorithm.type} key`);
    if (input.digest.length !== HASH_BYTES[alg.hash]) throw new SignerError('ALG_UNSUPPORTED', `digest length ${input.digest.length} does not fit ${alg.hash}`);
    const mech: PoolMechanism = alg.scheme === 'ECDSA' ? { scheme: 'ECDSA' }
      : alg.scheme === 'RSA-PSS' ? { scheme: 'RSA-PSS', hash: alg.hash, saltLength: alg.saltLength ?? HASH_BYTES[alg.hash] }
        : { scheme: 'RSA-PKCS1', hash: alg.hash };
    try {
      return await this.pool.sign(this.keyId, mech, input.digest);
    } catch (e) {
      throw new SignerError('SIGN_FAILED', `PKCS#11 signing with ${alg.scheme}/${alg.hash} failed: ${(e as Pkcs11SignError).code ?? (e as Error).message}`, { cause: e });
    }
  }

  async close() { /* the vault owns the threads */ }
}

const HASH_BYTES: Record<HashName, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** Keys inside a PKCS#11 token. */
export class Pkcs11Vault implements KeyVault {
  readonly kind = 'pkcs11' as const;
  readonly description: string;
  #backends = new Map<string, Promise<KeyBackend>>();

  #pool: Promise<Pkcs11SigningPool> | undefined;

  /**
   * @param opts.signingThreads threads signing in the token, one session each, shared by all keys [CPUs, at least
   *   2]; `sessionsPerKey` is the older name of the same knob.
   */
  constructor(readonly opts: { module: string; token: string; pin: string; signingThreads?: number; sessionsPerKey?: number }) {
    this.description = `PKCS#11 token "${opts.token}" (${opts.module})`;
  }

  #module: graphene.Module | undefined;

  /** This vault holds a reference in the process-wide module registry (released at close). */
  #acquired = false;

  /**
   * A short RW session for key generation. The library stays initialised while the vault or its signing threads
   * use it; after the last user in the process, it is finalised, so that a later C_Initialize reads the token
   * configuration afresh.
   */
  #ensureModule(): graphene.Module {
    if (!this.#module) {
      // the Cryptoki instance is initialised (OS locking: signatures run on worker threads over several sessions at
      // once) by the process-wide registry the signing threads use too, and finalised when its last user is done
      try { acquirePkcs11Module(this.opts.module); } catch (e) {
        throw new SigningError('KEY_GENERATION_FAILED', `PKCS#11 module ${this.opts.module}: ${(e as Error).message}`, { cause: e });
      }
      const mod = graphene.Module.load(this.opts.module, 'kyso-signing');
      try { mod.initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (e) {
        if (pkcs11Reason(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
          releasePkcs11Module(this.opts.module);
          throw new SigningError('KEY_GENERATION_FAILED', `PKCS#11 module ${this.opts.module}: ${pkcs11Reason(e)}`, { cause: e });
        }
      }
      this.#acquired = true;
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

  /** The signing threads, started on first use. */
  pool(): Promise<Pkcs11SigningPool> {
    if (!this.#pool) {
      this.#ensureModule(); // initialised here first, with OS locking
      const threads = this.opts.signingThreads ?? this.opts.sessionsPerKey;
      this.#pool = Pkcs11SigningPool.open({ module: this.opts.module, token: this.opts.token, pin: this.opts.pin, ...(threads ? { threads } : {}) });
      this.#pool.catch(() => { this.#pool = undefined; });
    }
    return this.#pool;
  }

  backend(ref: KeyRef, certificates: Uint8Array[]): Promise<KeyBackend> {
    let b = this.#backends.get(ref.ref);
    if (!b) {
      b = this.pool().then((pool) => new PooledPkcs11Backend(pool, ref.ref, certificates[0]!, certificates.slice(1)));
      b.catch(() => this.#backends.delete(ref.ref));
      this.#backends.set(ref.ref, b);
    }
    return b;
  }

  async close() {
    this.#backends.clear();
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) { try { await (await pool).close(); } catch { /* failed start */ } }
    this.#module = undefined;
    if (this.#acquired) { this.#acquired = false; releasePkcs11Module(this.opts.module); }
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
