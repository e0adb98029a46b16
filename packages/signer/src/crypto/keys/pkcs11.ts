import * as graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import { CertInfo, HASH_LENGTHS, HASH_OIDS, algId, int, nul, octets, seq, type HashName, type SignatureAlgorithm } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { orderChain } from './chain.js';
import { assertAlgorithmFitsKey, describeKey } from './software.js';
import type { KeyAlgorithmInfo, KeyBackend, ToBeSigned } from './types.js';

/** Where the key is on a PKCS#11 token (`--pkcs11-module SO --pkcs11-token LABEL --pkcs11-key LABEL`). */
export interface Pkcs11BackendOptions {
  /** Path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  module: string;
  /** Token label (or give `slot`). */
  token?: string;
  /** Slot index among slots with a token present. */
  slot?: number;
  /** User PIN (from the environment or a prompt, never argv). */
  pin: string;
  /** CKA_LABEL of the private key (or give `keyId`). */
  keyLabel?: string;
  /** CKA_ID of the private key, hex. */
  keyId?: string;
  /** Signer certificate (DER) when it is not stored on the token next to the key. */
  certificate?: Uint8Array;
  /** Chain (DER). Default: the other certificates found on the token. */
  chain?: Uint8Array[];
}

const CKF_OS_LOCKING_OK = pkcs11js.CKF_OS_LOCKING_OK;

interface LoadedModule { mod: graphene.Module; refs: number; ownsInit: boolean }
const modules = new Map<string, LoadedModule>();

function acquireModule(path: string): graphene.Module {
  const m = modules.get(path);
  if (m) { m.refs++; return m.mod; }
  let mod: graphene.Module;
  let ownsInit = true;
  try {
    mod = graphene.Module.load(path, 'kyso');
  } catch (e) {
    throw new SignerError('PKCS11_ERROR', `PKCS#11 module ${path} could not be loaded: ${pkcs11Reason(e)}`, { cause: e });
  }
  try {
    // OS locking: signing runs on pkcs11js worker threads, several sessions at once (without it SoftHSM2's heap
    // is corrupted by concurrent C_Sign calls on different sessions)
    mod.initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (e) {
    // Someone else in this process initialised the library: share it, never finalise it.
    if (pkcs11Reason(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      throw new SignerError('PKCS11_ERROR', `PKCS#11 module ${path} could not be initialised: ${pkcs11Reason(e)}`, { cause: e });
    }
    ownsInit = false;
  }
  modules.set(path, { mod, refs: 1, ownsInit });
  return mod;
}

function releaseModule(path: string): void {
  const m = modules.get(path);
  if (!m) return;
  if (--m.refs > 0) return;
  modules.delete(path);
  if (m.ownsInit) { try { m.mod.finalize(); } catch { /* already finalized */ } }
}

function pkcs11Reason(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  const ck = /CKR_[A-Z_]+/.exec(m);
  return ck ? ck[0] : m.split('\n')[0]!;
}

/** C_Sign on pkcs11js's worker thread, so an HSM round trip does not block the event loop. */
function signAsync(signer: graphene.Sign, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => signer.once(data, (err, out) => (err ? reject(err) : resolve(out))));
}

const HASH_MECH: Record<HashName, graphene.MechanismEnum> = {
  'SHA-256': graphene.MechanismEnum.SHA256, 'SHA-384': graphene.MechanismEnum.SHA384, 'SHA-512': graphene.MechanismEnum.SHA512,
};
const MGF: Record<HashName, graphene.RsaMgf> = {
  'SHA-256': graphene.RsaMgf.MGF1_SHA256, 'SHA-384': graphene.RsaMgf.MGF1_SHA384, 'SHA-512': graphene.RsaMgf.MGF1_SHA512,
};

/**
 * A key on a PKCS#11 token (HSM, smart card, SoftHSM2). Signing uses the raw mechanisms over
 * the digest (CKM_RSA_PKCS over DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA), so the private key never
 * leaves the token. Wrong PIN → BAD_PIN, locked PIN → PIN_LOCKED, unknown token → TOKEN_NOT_FOUND.
 */
export class Pkcs11KeyBackend implements KeyBackend {
  readonly kind = 'pkcs11' as const;
  readonly keyAlgorithm: KeyAlgorithmInfo;
  readonly certificate: Uint8Array;
  readonly chain: Uint8Array[];
  #session: graphene.Session | undefined;
  #key: graphene.PrivateKey;
  #modulePath: string;
  /** One PKCS#11 session runs one signing operation at a time: calls queue here. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(modulePath: string, session: graphene.Session, key: graphene.PrivateKey, certificate: Uint8Array, chain: Uint8Array[]) {
    this.#modulePath = modulePath;
    this.#session = session;
    this.#key = key;
    this.certificate = certificate;
    this.chain = chain;
    this.keyAlgorithm = describeKey(new CertInfo(certificate).x509.publicKey);
  }

  /** Open the token, log in and find the key and its certificate. */
  static async open(opts: Pkcs11BackendOptions): Promise<Pkcs11KeyBackend> {
    const mod = acquireModule(opts.module);
    let session: graphene.Session | undefined;
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      const labels: string[] = [];
      for (let i = 0; i < slots.length; i++) {
        const s = slots.items(i);
        const label = s.getToken().label.trim();
        labels.push(label);
        if ((opts.token !== undefined && label === opts.token) || (opts.token === undefined && opts.slot === i)) { slot = s; break; }
      }
      if (!slot && opts.token === undefined && opts.slot === undefined && slots.length === 1) slot = slots.items(0);
      if (!slot) throw new SignerError('TOKEN_NOT_FOUND', `PKCS#11 token ${opts.token !== undefined ? `"${opts.token}"` : `slot ${opts.slot ?? '?'}`} not found (tokens: ${labels.map((l) => `"${l}"`).join(', ') || 'none'})`);
      session = slot.open(graphene.SessionFlag.SERIAL_SESSION);
      try {
        session.login(opts.pin, graphene.UserType.USER);
      } catch (e) {
        const r = pkcs11Reason(e);
        if (r === 'CKR_USER_ALREADY_LOGGED_IN') { /* another session of this process logged in */ }
        else if (r === 'CKR_PIN_INCORRECT' || r === 'CKR_PIN_LEN_RANGE') throw new SignerError('BAD_PIN', `PKCS#11 token "${slot.getToken().label.trim()}": wrong PIN`, { cause: e });
        else if (r === 'CKR_PIN_LOCKED') throw new SignerError('PIN_LOCKED', `PKCS#11 token "${slot.getToken().label.trim()}": the PIN is locked`, { cause: e });
        else throw new SignerError('PKCS11_ERROR', `PKCS#11 login failed: ${r}`, { cause: e });
      }
      const tmpl: graphene.ITemplate = { class: graphene.ObjectClass.PRIVATE_KEY };
      if (opts.keyLabel !== undefined) tmpl.label = opts.keyLabel;
      if (opts.keyId !== undefined) tmpl.id = Buffer.from(opts.keyId, 'hex');
      const keys = session.find(tmpl);
      if (keys.length === 0) throw new SignerError('KEY_NOT_FOUND', `no private key ${opts.keyLabel !== undefined ? `labelled "${opts.keyLabel}"` : opts.keyId ? `with id ${opts.keyId}` : ''} on the token`);
      if (keys.length > 1 && opts.keyLabel === undefined && opts.keyId === undefined) throw new SignerError('KEY_NOT_FOUND', `${keys.length} private keys on the token: choose one by label`);
      const key = keys.items(0).toType<graphene.PrivateKey>();
      const keyId: Buffer = key.id;
      const certs: Uint8Array[] = [];
      let own: Uint8Array | undefined = opts.certificate;
      const found = session.find({ class: graphene.ObjectClass.CERTIFICATE });
      for (let i = 0; i < found.length; i++) {
        const obj = found.items(i);
        const value = new Uint8Array(obj.getAttribute('value') as Buffer);
        certs.push(value);
        if (!own) {
          const id = obj.getAttribute('id') as Buffer | null;
          const label = obj.getAttribute('label') as string | null;
          if ((keyId?.length && id && Buffer.compare(id, keyId) === 0) || (opts.keyLabel !== undefined && label === opts.keyLabel)) own = value;
        }
      }
      if (!own) throw new SignerError('CERT_PARSE', 'no certificate for the PKCS#11 key: store it on the token with the key\'s CKA_ID/label or pass it');
      const signer = own;
      const chain = orderChain(signer, opts.chain ?? certs.filter((c) => Buffer.compare(Buffer.from(c), Buffer.from(signer)) !== 0));
      const backend = new Pkcs11KeyBackend(opts.module, session, key, signer, chain);
      return backend;
    } catch (e) {
      // No C_Logout: the login is shared by all sessions of this application on the token;
      // closing the last session ends it.
      try { session?.close(); } catch { /* closed */ }
      releaseModule(opts.module);
      if (e instanceof SignerError) throw e;
      throw new SignerError('PKCS11_ERROR', `PKCS#11: ${pkcs11Reason(e)}`, { cause: e });
    }
  }

  sign(input: ToBeSigned, alg: SignatureAlgorithm): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#signNow(input, alg));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #signNow(input: ToBeSigned, alg: SignatureAlgorithm): Promise<Uint8Array> {
    const session = this.#session;
    if (!session) throw new SignerError('KEY_LOCKED', 'PKCS#11 backend is closed');
    assertAlgorithmFitsKey(this.keyAlgorithm, alg);
    if (input.digest.length !== HASH_LENGTHS[alg.hash]) throw new SignerError('ALG_UNSUPPORTED', `digest length ${input.digest.length} does not fit ${alg.hash}`);
    try {
      if (alg.scheme === 'RSA-PKCS1') {
        const di = seq(algId(HASH_OIDS[alg.hash], nul()), octets(input.digest));
        return new Uint8Array(await signAsync(session.createSign('RSA_PKCS', this.#key), Buffer.from(di)));
      }
      if (alg.scheme === 'RSA-PSS') {
        const mech: graphene.IAlgorithm = { name: 'RSA_PKCS_PSS', params: new graphene.RsaPssParams(HASH_MECH[alg.hash], MGF[alg.hash], alg.saltLength ?? HASH_LENGTHS[alg.hash]) };
        return new Uint8Array(await signAsync(session.createSign(mech, this.#key), Buffer.from(input.digest)));
      }
      const raw = new Uint8Array(await signAsync(session.createSign('ECDSA', this.#key), Buffer.from(input.digest)));
      const n = raw.length / 2;
      return seq(int(raw.subarray(0, n)), int(raw.subarray(n)));
    } catch (e) {
      throw new SignerError('SIGN_FAILED', `PKCS#11 signing with ${alg.scheme}/${alg.hash} failed: ${pkcs11Reason(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.#queue;
    const s = this.#session;
    if (!s) return;
    this.#session = undefined;
    // No C_Logout here: other open backends share the token login (closing the last session ends it).
    try { s.close(); } catch { /* already closed */ }
    releaseModule(this.#modulePath);
  }
}

/** Open a PKCS#11 key backend (see {@link Pkcs11KeyBackend.open}). */
export const openPkcs11Backend = (opts: Pkcs11BackendOptions): Promise<Pkcs11KeyBackend> => Pkcs11KeyBackend.open(opts);

/**
 * Store a certificate object on a token next to a key (same CKA_ID and label) — for test
 * set-ups and provisioning; softhsm2-util imports keys but not certificates.
 */
export async function storeCertificateOnToken(opts: { module: string; token: string; pin: string; label: string; id: string; certificate: Uint8Array }): Promise<void> {
  const mod = acquireModule(opts.module);
  let session: graphene.Session | undefined;
  try {
    const slots = mod.getSlots(true);
    let slot: graphene.Slot | undefined;
    for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === opts.token) slot = slots.items(i);
    if (!slot) throw new SignerError('TOKEN_NOT_FOUND', `PKCS#11 token "${opts.token}" not found`);
    session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    try { session.login(opts.pin, graphene.UserType.USER); } catch (e) {
      if (pkcs11Reason(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw new SignerError('BAD_PIN', `PKCS#11 token "${opts.token}": login failed (${pkcs11Reason(e)})`, { cause: e });
    }
    const cert = new CertInfo(opts.certificate);
    session.create({
      class: graphene.ObjectClass.CERTIFICATE, certType: graphene.CertificateType.X_509, token: true, private: false,
      label: opts.label, id: Buffer.from(opts.id, 'hex'), subject: Buffer.from(cert.subjectDer),
      issuer: Buffer.from(cert.issuerDer), serial: Buffer.from(int(cert.serialDer)), value: Buffer.from(opts.certificate),
    });
  } finally {
    try { session?.close(); } catch { /* ignore */ }
    releaseModule(opts.module);
  }
}
