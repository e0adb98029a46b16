/**
 * A remote key behind any Cloud Signature Consortium API v2 service (kyso's own services/signing among them).
 * `open` reads the credential's certificate chain (credentials/info); each `sign` authorizes exactly the digest to
 * be signed (credentials/authorize with the PIN — the service then asks the citizen to approve on her phone,
 * which may take a while: `onStatus` is told what is happening) and has it signed (signatures/signHash).
 * The SAD never leaves this object and is used once.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import * as pkijs from 'pkijs';
import { HASH_OIDS, applyDeferredCaCerts, type HashName, type SignatureAlgorithm } from '@kyso/pki';
import { SignerError } from '../errors.js';
import { orderChain } from './chain.js';
import { assertAlgorithmFitsKey, describeKey } from './software.js';
import type { KeyAlgorithmInfo, KeyBackend, ToBeSigned } from './types.js';

/** How to reach the credential. */
export interface CscBackendOptions {
  /** Service base URL: `https://host/` or `https://host/csc/v2` (the `csc/v2/` prefix is added when missing). */
  url: string;
  credentialId: string;
  /** OAuth2 bearer token of the citizen (scope `service`). Never logged. */
  token: string;
  /** The credential's PIN (authData "PIN"). Never logged. */
  pin: string;
  /** Names shown to the citizen for what is signed (one per `sign` call, in order); default none. */
  documentName?: string;
  /** A plain-text summary of what is signed, shown on the service's phone page (kyso extension `documentSummaries`). */
  documentSummary?: string;
  /**
   * Reference of the service's phone approval page (sent as CSC `clientData`; kyso's service uses 22-64 URL-safe
   * random characters as `/approve/<ref>`), so that a QR code can be shown before the request is made.
   */
  approvalRef?: string;
  /** Progress lines: "waiting for approval on the phone…", elapsed time, result. */
  onStatus?: (message: string) => void;
  /** How often the waiting status is repeated (ms, default 5000; 0 = never). */
  statusEveryMs?: number;
  /** Longest wait for one call (ms, default 180 000: the citizen's approval is in it). */
  timeoutMs?: number;
  /**
   * Allow plain `http://` to a host other than this machine (default false: the bearer token and the PIN would
   * cross the network in clear; `http://` to a loopback address is always allowed).
   */
  allowInsecureHttp?: boolean;
}

/** A loopback host name or address (plain HTTP to it does not leave the machine). */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

const SIGN_ALGO: Record<SignatureAlgorithm['scheme'], string> = {
  'RSA-PKCS1': '1.2.840.113549.1.1.1', 'RSA-PSS': '1.2.840.113549.1.1.10', ECDSA: '1.2.840.10045.2.1',
};
const HASH_LEN: Record<HashName, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

function pssParams(hash: HashName, saltLength: number): string {
  const h = new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash] });
  const p = new pkijs.RSASSAPSSParams({ hashAlgorithm: h, maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.8', algorithmParams: h.toSchema() }), saltLength });
  return Buffer.from(p.toSchema().toBER(false)).toString('base64');
}

/** A CSC error body turned into a typed SignerError. */
function remoteError(op: string, status: number, body: { error?: string; error_description?: string }): SignerError {
  const d = `${body.error ?? `HTTP ${status}`}${body.error_description ? `: ${body.error_description}` : ''}`.slice(0, 400);
  if (/PIN is invalid/i.test(body.error_description ?? '')) return new SignerError('BAD_PIN', `remote signing (${op}): ${d}`);
  if (/locked/i.test(body.error_description ?? '')) return new SignerError('PIN_LOCKED', `remote signing (${op}): ${d}`);
  if (/credentialID/.test(body.error_description ?? '')) return new SignerError('KEY_NOT_FOUND', `remote signing (${op}): ${d}`);
  return new SignerError('SIGN_FAILED', `remote signing (${op}) refused: ${d}`);
}

export class CscKeyBackend implements KeyBackend {
  readonly kind = 'external' as const;
  readonly keyAlgorithm: KeyAlgorithmInfo;
  #opts: CscBackendOptions;
  #base: string;

  private constructor(opts: CscBackendOptions, base: string, readonly certificate: Uint8Array, readonly chain: Uint8Array[]) {
    this.#opts = opts;
    this.#base = base;
    this.keyAlgorithm = describeKey(new X509Certificate(certificate).publicKey);
  }

  static #baseOf(url: string, allowInsecureHttp = false): string {
    let u: URL;
    try { u = new URL(url); } catch { throw new SignerError('KEY_NOT_FOUND', 'the CSC service URL is not a URL'); }
    if (!/^https?:$/.test(u.protocol)) throw new SignerError('KEY_NOT_FOUND', 'the CSC service URL must be http(s)');
    if (u.username || u.password) throw new SignerError('KEY_NOT_FOUND', 'the CSC service URL must not carry credentials (the bearer token is given apart)');
    if (u.protocol === 'http:' && !allowInsecureHttp && !isLoopback(u.hostname)) {
      throw new SignerError('KEY_NOT_FOUND', `the CSC service URL must be https: plain http to ${u.host} would send the bearer token and the PIN in clear (http is allowed to this machine only)`);
    }
    const path = u.pathname.replace(/\/+$/, '');
    u.pathname = /\/csc\/v2$/.test(path) ? `${path}/` : `${path}/csc/v2/`;
    u.search = ''; u.hash = '';
    return u.href;
  }

  static async #call(base: string, token: string, method: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
    let res: Response;
    await applyDeferredCaCerts();
    try {
      res = await fetch(new URL(method, base), {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new SignerError('CSC_UNREACHABLE', `remote signing (${method}): the service at ${new URL(base).origin} did not answer (${(e as Error).name === 'TimeoutError' ? 'timeout' : (e as Error).message})`, { cause: e });
    }
    let json: Record<string, unknown>;
    try { json = await res.json() as Record<string, unknown>; } catch { throw new SignerError('SIGN_FAILED', `remote signing (${method}): HTTP ${res.status} without a JSON body`); }
    if (!res.ok) throw remoteError(method, res.status, json as { error?: string; error_description?: string });
    return json;
  }

  /** Reads the credential (certificate chain, key) from the service. */
  static async open(opts: CscBackendOptions): Promise<CscKeyBackend> {
    const base = CscKeyBackend.#baseOf(opts.url, opts.allowInsecureHttp);
    const info = await CscKeyBackend.#call(base, opts.token, 'credentials/info', { credentialID: opts.credentialId, certificates: 'chain', certInfo: false, authInfo: true }, 30_000);
    const certs = ((info.cert as { certificates?: unknown } | undefined)?.certificates ?? []) as unknown[];
    if (!Array.isArray(certs) || certs.length === 0 || !certs.every((c) => typeof c === 'string')) throw new SignerError('CERT_PARSE', 'remote signing: credentials/info returned no certificate');
    const ders = (certs as string[]).map((c) => new Uint8Array(Buffer.from(c, 'base64')));
    try { new X509Certificate(ders[0]!); } catch (e) { throw new SignerError('CERT_PARSE', 'remote signing: the credential\'s certificate does not parse', { cause: e }); }
    if ((info.key as { status?: string } | undefined)?.status === 'disabled') throw new SignerError('PIN_LOCKED', `remote signing: credential ${opts.credentialId} is disabled: ${String((info.key as { statusMessage?: string }).statusMessage ?? '')}`);
    return new CscKeyBackend(opts, base, ders[0]!, orderChain(ders[0]!, ders.slice(1)));
  }

  async sign(input: ToBeSigned, alg: SignatureAlgorithm): Promise<Uint8Array> {
    assertAlgorithmFitsKey(this.keyAlgorithm, alg);
    if (input.digest.length !== HASH_LEN[alg.hash]) throw new SignerError('ALG_UNSUPPORTED', `digest length ${input.digest.length} does not fit ${alg.hash}`);
    const o = this.#opts;
    const hash = Buffer.from(input.digest).toString('base64');
    const timeout = o.timeoutMs ?? 180_000;
    const started = Date.now();
    // the reference of the service's phone page for this authorization (kyso: `/approve/<ref>` beside `/csc/v2/`)
    const ref = o.approvalRef ?? randomBytes(24).toString('base64url');
    const page = new URL(`approve/${ref}`, this.#base.replace(/csc\/v2\/?$/, '')).href;
    o.onStatus?.(`Đang chờ phê duyệt trên điện thoại (waiting for approval on the phone) — credential ${o.credentialId}, hash ${Buffer.from(input.digest).subarray(0, 4).toString('hex').toUpperCase()}… — chi tiết / details: ${page}`);
    const every = o.statusEveryMs ?? 5000;
    const tick = every > 0 && o.onStatus ? setInterval(() => o.onStatus!(`… vẫn đang chờ phê duyệt (still waiting) ${Math.round((Date.now() - started) / 1000)} s`), every) : undefined;
    let sad: string;
    try {
      const auth = await CscKeyBackend.#call(this.#base, o.token, 'credentials/authorize', {
        credentialID: o.credentialId, numSignatures: 1, hashes: [hash], hashAlgorithmOID: HASH_OIDS[alg.hash],
        authData: [{ id: 'PIN', value: o.pin }], ...(o.documentName ? { documentNames: [o.documentName], description: o.documentName } : {}),
        ...(o.documentSummary ? { documentSummaries: [o.documentSummary] } : {}), clientData: ref,
      }, timeout);
      if (typeof auth.SAD !== 'string') throw new SignerError('SIGN_FAILED', 'remote signing: credentials/authorize returned no SAD');
      sad = auth.SAD;
    } catch (e) {
      o.onStatus?.(`Không được phê duyệt (not approved): ${(e as Error).message}`);
      throw e;
    } finally {
      if (tick) clearInterval(tick);
    }
    o.onStatus?.(`Đã phê duyệt (approved) sau ${Math.round((Date.now() - started) / 1000)} s; đang ký (signing)…`);
    const body: Record<string, unknown> = { credentialID: o.credentialId, SAD: sad, hashes: [hash], hashAlgorithmOID: HASH_OIDS[alg.hash], signAlgo: SIGN_ALGO[alg.scheme] };
    if (alg.scheme === 'RSA-PSS') body.signAlgoParams = pssParams(alg.hash, alg.saltLength ?? HASH_LEN[alg.hash]);
    const res = await CscKeyBackend.#call(this.#base, o.token, 'signatures/signHash', body, 60_000);
    const sig = (res.signatures as unknown[] | undefined)?.[0];
    if (typeof sig !== 'string') throw new SignerError('SIGN_FAILED', 'remote signing: signatures/signHash returned no signature');
    return new Uint8Array(Buffer.from(sig, 'base64'));
  }

  async close(): Promise<void> { /* nothing held: the SAD is single-use */ }
}

/** Open a CSC remote key backend (see {@link CscKeyBackend.open}). */
export const openCscBackend = (opts: CscBackendOptions): Promise<CscKeyBackend> => CscKeyBackend.open(opts);
