/**
 * The CSC API v2 operations, independent of HTTP: each method takes the verified caller and the JSON body and
 * returns the JSON answer or throws a {@link CscError}. Sole control (SCAL2): `authorize` checks the PIN, asks the
 * citizen on her phone, and mints an opaque SAD bound to the caller, the credential and exactly the approved
 * hashes (and to the calling service); `signHash` consumes each hash once, atomically, signs in the vault and releases the signatures only
 * after the audit record is stored.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPdf, type KeyBackend, type PadesLevel } from '@kyso/signer';
import { ALL_ALGOS, CURVE_OID, HASH_OID, canonicalHashes, hashOfOid, keyAlgos, signatureAlgorithm } from './algorithms.js';
import type { ApprovalDocument, Approver } from './approval.js';
import type { AuditEvent, AuditLog } from './audit.js';
import { pinMatches } from './credentials.js';
import { CscError, accessDenied, insufficientScope, invalidRequest } from './errors.js';
import type { KeyVault } from './keys.js';
import { PhoneApprovals, type PhoneDocument } from './phone.js';
import type { CredentialRecord, SigningStore } from './store.js';
import type { Caller } from './tokens.js';

/** Policy knobs (defaults in brackets). */
export interface ServicePolicy {
  /** SAD lifetime [300 000 ms]. */
  sadTtlMs: number;
  /** Wrong PINs before the credential locks [5]. */
  maxPinAttempts: number;
  /** How long a lock (and the wrong-PIN count) lasts [1 h]. */
  pinLockMs: number;
  /** How long the citizen has to approve [120 000 ms]. */
  approvalTimeoutMs: number;
  /** Most hashes in one authorization [100]. */
  multisign: number;
}
export const DEFAULT_POLICY: ServicePolicy = { sadTtlMs: 300_000, maxPinAttempts: 5, pinLockMs: 3_600_000, approvalTimeoutMs: 120_000, multisign: 100 };

/** XML signing hook (filled by the XAdES work): signs an XML document with the key at a level. */
export type XmlSigner = (doc: Uint8Array, backend: KeyBackend, level: PadesLevel) => Promise<Uint8Array>;

export interface SigningServiceOptions {
  store: SigningStore;
  vault: KeyVault;
  audit: AuditLog;
  approver: Approver;
  /** Display names of calling services (client id → name); default the client id. */
  serviceName?: (clientId: string) => Promise<string> | string;
  policy?: Partial<ServicePolicy>;
  /** The OAuth2 issuer advertised by `info`. */
  oauth2Issuer: string;
  /** RFC 3161 TSA for signDoc at B-T and above. */
  tsaUrl?: string;
  xmlSigner?: XmlSigner;
  /** Name shown by `info`. */
  name?: string;
}

const SCOPE_SERVICE = 'service';
/**
 * A SAD is `<transaction tag>.<secret>` (opaque to callers). It is stored under `tag:SHA-256(SAD)`: the tag keeps a
 * SAD and the one extendTransaction puts in its place together (one Redis Cluster slot); the value itself is
 * never stored.
 */
const SAD_RE = /^([A-Za-z0-9_-]{16})\.[A-Za-z0-9_-]{43}$/;
const sadTagOf = (sad: string): string | undefined => SAD_RE.exec(sad)?.[1];
const sadId = (sad: string) => {
  const digest = createHash('sha256').update(sad).digest('hex');
  const tag = sadTagOf(sad);
  return tag ? `${tag}:${digest}` : digest;
};
const newSad = (tag = randomBytes(12).toString('base64url')) => `${tag}.${randomBytes(32).toString('base64url')}`;
const str = (v: unknown, name: string, max = 256): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalidRequest(`Missing or invalid parameter ${name}`);
  return v;
};
const LEVELS: Record<string, PadesLevel> = { 'ades-b-b': 'B-B', 'ades-b-t': 'B-T', 'ades-b-lt': 'B-LT', 'ades-b-lta': 'B-LTA', 'ades-b': 'B-B', 'ades-t': 'B-T', 'ades-lt': 'B-LT', 'ades-lta': 'B-LTA' };

export class SigningService {
  readonly policy: ServicePolicy;
  /**
   * Credential records are immutable once enrolled: a short-lived per-process copy saves a store round trip per
   * signature (a cache, not state: another instance reads the store).
   */
  #creds = new Map<string, { rec: CredentialRecord; until: number }>();
  /** The records behind the phone approval pages (`/approve/<ref>`), in the shared store. */
  readonly phone: PhoneApprovals;
  constructor(readonly opts: SigningServiceOptions) {
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.phone = new PhoneApprovals(opts.store, this.policy.approvalTimeoutMs + 600_000);
  }

  async #credential(id: string): Promise<CredentialRecord | undefined> {
    const now = Date.now();
    const hit = this.#creds.get(id);
    if (hit && hit.until > now) return hit.rec;
    const rec = await this.opts.store.getCredential(id);
    if (rec) {
      if (this.#creds.size > 10_000) this.#creds.clear();
      this.#creds.set(id, { rec, until: now + 30_000 });
    }
    return rec;
  }

  #audit(e: AuditEvent): Promise<void> { return this.opts.audit.append(e); }

  /** The key backend of a credential (the vault caches it; here the certificates are decoded once per process). */
  #backends = new Map<string, Promise<KeyBackend>>();
  #backend(rec: CredentialRecord): Promise<KeyBackend> {
    let b = this.#backends.get(rec.id);
    if (!b) {
      b = this.opts.vault.backend(rec.key, rec.certificates.map((c) => Buffer.from(c, 'base64')));
      b.catch(() => this.#backends.delete(rec.id));
      if (this.#backends.size > 10_000) this.#backends.clear();
      this.#backends.set(rec.id, b);
    }
    return b;
  }

  static requireScope(caller: Caller): void {
    if (!caller.scopes.has(SCOPE_SERVICE) && !caller.scopes.has('credential')) throw insufficientScope('the token needs the "service" scope');
  }

  /** The credential if this caller may use it; otherwise the same error as for an unknown id. */
  async credentialFor(caller: Caller, id: unknown): Promise<CredentialRecord> {
    const cid = str(id, 'credentialID', 64);
    const rec = await this.#credential(cid);
    if (!rec || (rec.owner !== caller.subject && !rec.users.includes(caller.subject))) throw invalidRequest('Invalid parameter credentialID');
    return rec;
  }

  info(): Record<string, unknown> {
    return {
      specs: '2.0.0.2', name: this.opts.name ?? 'kyso remote signing', logo: '', region: 'VN', lang: 'vi',
      description: this.opts.vault.kind === 'pkcs11'
        ? 'Dịch vụ ký số từ xa: khóa của công dân trong HSM, công dân phê duyệt trên điện thoại (SCAL2)'
        : 'Dịch vụ ký số từ xa (khóa trong kho khóa phần mềm đã mã hóa, không có HSM), công dân phê duyệt trên điện thoại (SCAL2)',
      authType: ['oauth2code', 'oauth2client'], oauth2: this.opts.oauth2Issuer, oauth2Issuer: this.opts.oauth2Issuer,
      asynchronousOperationMode: false,
      methods: ['credentials/list', 'credentials/info', 'credentials/authorize', 'credentials/extendTransaction', 'signatures/signHash', 'signatures/signDoc'],
      validationInfo: false,
      signAlgorithms: { algos: ALL_ALGOS },
      signature_formats: { formats: this.opts.xmlSigner ? ['P', 'X'] : ['P'], envelope_properties: this.opts.xmlSigner ? [['Certification', 'Revision'], ['Enveloped']] : [['Certification', 'Revision']] },
      conformance_levels: ['Ades-B-B', 'Ades-B-T', 'Ades-B-LT', 'Ades-B-LTA'],
    };
  }

  async list(caller: Caller, body: Record<string, unknown>) {
    SigningService.requireScope(caller);
    if (body.userID !== undefined && body.userID !== caller.subject) throw invalidRequest('Invalid parameter userID: a service may only list the credentials of the user of its token');
    const max = body.maxResults === undefined ? 100 : Number(body.maxResults);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw invalidRequest('Invalid parameter maxResults');
    const ids = (await this.opts.store.listCredentials(caller.subject)).slice(0, max);
    const out: Record<string, unknown> = { credentialIDs: ids };
    if (body.credentialInfo === true) {
      out.credentialInfos = await Promise.all(ids.map(async (id) => ({ credentialID: id, ...(await this.#describe((await this.opts.store.getCredential(id))!, body)) })));
    }
    return out;
  }

  async #describe(rec: CredentialRecord, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const which = body.certificates ?? 'single';
    if (!['none', 'single', 'chain'].includes(String(which))) throw invalidRequest('Invalid parameter certificates');
    const fails = await this.opts.store.pinFailures(rec.id);
    const locked = fails >= this.policy.maxPinAttempts;
    const x = new X509Certificate(Buffer.from(rec.certificates[0]!, 'base64'));
    const now = Date.now();
    const cert: Record<string, unknown> = {
      status: now < Date.parse(x.validFrom) ? 'not_yet_valid' : now > Date.parse(x.validTo) ? 'expired' : 'valid',
      certificates: which === 'none' ? [] : which === 'single' ? rec.certificates.slice(0, 1) : rec.certificates,
    };
    if (body.certInfo === true) Object.assign(cert, { issuerDN: x.issuer.replace(/\n/g, ', '), serialNumber: x.serialNumber, subjectDN: x.subject.replace(/\n/g, ', '), validFrom: x.validFrom, validTo: x.validTo });
    const key: Record<string, unknown> = { status: locked ? 'disabled' : 'enabled', algo: keyAlgos(rec.key), len: rec.key.bits };
    if (rec.key.curve) key.curve = CURVE_OID[rec.key.curve];
    if (locked) key.statusMessage = 'Khóa do nhập sai mã PIN quá số lần cho phép (credential locked: too many wrong PINs)';
    const out: Record<string, unknown> = { description: rec.description, signatureQualifier: 'eu_eidas_aes', key, cert, SCAL: '2', multisign: this.policy.multisign, lang: 'vi' };
    if (body.authInfo !== false) {
      out.auth = {
        mode: 'explicit', expression: 'PIN AND OTP',
        objects: [
          { type: 'Password', id: 'PIN', format: 'N', label: 'Mã PIN', description: 'Mã PIN của chứng thư số (gửi trong authData của credentials/authorize)' },
          { type: 'Password', id: 'OTP', format: 'N', generator: 'totp', label: 'Mã OTP', description: 'Mã OTP từ ứng dụng xác thực, nhập trên điện thoại khi phê duyệt yêu cầu ký' },
        ],
      };
    }
    return out;
  }

  async credentialInfo(caller: Caller, body: Record<string, unknown>) {
    SigningService.requireScope(caller);
    const rec = await this.credentialFor(caller, body.credentialID);
    return this.#describe(rec, body);
  }

  /** PIN from `authData` (v2) or `PIN` (v1 style). */
  static pinOf(body: Record<string, unknown>): string | undefined {
    if (Array.isArray(body.authData)) {
      const e = body.authData.find((a) => (a as { id?: unknown })?.id === 'PIN') as { value?: unknown } | undefined;
      if (e && typeof e.value === 'string') return e.value;
    }
    return typeof body.PIN === 'string' ? body.PIN : undefined;
  }

  async authorize(caller: Caller, body: Record<string, unknown>, requestId?: string) {
    SigningService.requireScope(caller);
    const rec = await this.credentialFor(caller, body.credentialID);
    const hashName = hashOfOid(body.hashAlgorithmOID);
    const hashes = canonicalHashes(body.hashes, hashName);
    const n = Number(body.numSignatures);
    if (!Number.isInteger(n) || n < 1) throw invalidRequest('Missing or invalid parameter numSignatures');
    if (n !== hashes.length) throw invalidRequest(`numSignatures (${n}) must equal the number of hashes (${hashes.length})`);
    if (new Set(hashes).size !== hashes.length) throw invalidRequest('Invalid parameter hashes: duplicates');
    if (n > this.policy.multisign) throw invalidRequest(`at most ${this.policy.multisign} signatures per authorization`);
    const names = Array.isArray(body.documentNames) ? body.documentNames : [];
    const docs: ApprovalDocument[] = hashes.map((h, i) => ({ hash: h, name: typeof names[i] === 'string' ? String(names[i]).slice(0, 120) : `Tài liệu ${i + 1}` }));
    const service = await this.opts.serviceName?.(caller.clientId) ?? caller.clientId;
    const base = { subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes, ...(requestId ? { requestId } : {}) };

    const fails = await this.opts.store.pinFailures(rec.id);
    if (fails >= this.policy.maxPinAttempts) {
      await this.#audit({ ...base, type: 'authorize.refused', result: 'refused', detail: 'credential locked' });
      throw new CscError(403, 'access_denied', 'Credential locked: too many wrong PINs (Chứng thư đang bị khóa do nhập sai mã PIN quá số lần cho phép)');
    }
    const pin = SigningService.pinOf(body);
    if (pin === undefined) throw invalidRequest('Missing parameter PIN (authData id "PIN")');
    // the attempt is counted (atomically) before the PIN is checked, so that parallel guesses cannot all be checked
    // against a counter read before any of them failed; a right PIN clears the count
    const count = await this.opts.store.pinFailure(rec.id, this.policy.pinLockMs);
    if (count > this.policy.maxPinAttempts) {
      await this.#audit({ ...base, type: 'authorize.refused', result: 'refused', detail: 'credential locked' });
      throw new CscError(403, 'access_denied', 'Credential locked: too many wrong PINs (Chứng thư đang bị khóa do nhập sai mã PIN quá số lần cho phép)');
    }
    if (!(await pinMatches(rec, pin))) {
      const left = Math.max(0, this.policy.maxPinAttempts - count);
      await this.#audit({ ...base, type: left === 0 ? 'pin.locked' : 'pin.wrong', result: 'refused', detail: `wrong PIN ${count}/${this.policy.maxPinAttempts}` });
      if (left === 0) throw new CscError(403, 'access_denied', 'Credential locked: too many wrong PINs (Chứng thư đang bị khóa do nhập sai mã PIN quá số lần cho phép)');
      throw invalidRequest(`The PIN is invalid (${left} attempt${left === 1 ? '' : 's'} left)`);
    }
    await this.opts.store.pinReset(rec.id);
    // kyso extension: a plain-text summary of each document, shown on the phone page as given by the service
    const summaries = Array.isArray(body.documentSummaries) ? body.documentSummaries : [];
    const phoneDocs: PhoneDocument[] = docs.map((d, i) => ({ ...d, ...(typeof summaries[i] === 'string' && summaries[i] ? { summary: String(summaries[i]).normalize('NFC').replace(/[^\P{C}\n]/gu, '').slice(0, 2000) } : {}) }));
    const page = await this.phone.open({ subject: caller.subject, clientId: caller.clientId, service, credentialId: rec.id, credentialDescription: rec.description, hashAlgorithm: hashName, documents: phoneDocs }, body.clientData);
    await this.#audit({ ...base, type: 'authorize.requested', result: 'ok', detail: `approval asked on the phone: ${docs.map((d) => d.name).join(' | ')}`.slice(0, 500) });
    let outcome;
    try {
      outcome = await this.opts.approver.approve({
        subject: caller.subject, service, documents: docs, credentialId: rec.id, timeoutMs: this.policy.approvalTimeoutMs,
        pageRef: page.ref, onStarted: (authReqId) => this.phone.started(page.ref, authReqId),
        cancelled: () => this.phone.refused(page.ref),
      });
    } catch (e) {
      await this.phone.finish(page.ref, 'expired').catch(() => {});
      await this.#audit({ ...base, type: 'authorize.failed', result: 'error', detail: 'approval channel failed' });
      throw new CscError(502, 'server_error', `the approval could not be requested from the identity provider: ${(e as Error).message}`.slice(0, 300));
    }
    await this.phone.finish(page.ref, outcome.result === 'approved' ? 'approved' : outcome.result).catch(() => {});
    if (outcome.result !== 'approved') {
      await this.#audit({ ...base, type: 'authorize.refused', result: 'refused', detail: outcome.detail });
      throw accessDenied(outcome.result === 'expired' ? `The approval expired: ${outcome.detail}` : `The citizen refused the request: ${outcome.detail}`);
    }
    const sad = newSad();
    const exp = Date.now() + this.policy.sadTtlMs;
    await this.opts.store.putSad(sadId(sad), { subject: caller.subject, clientId: caller.clientId, credentialId: rec.id, hashAlgorithmOID: HASH_OID[hashName], hashes, exp });
    await this.#audit({ ...base, type: 'authorize.approved', result: 'ok', detail: `acr=${outcome.acr}` });
    return { SAD: sad, expiresIn: Math.floor(this.policy.sadTtlMs / 1000) };
  }

  async extendTransaction(caller: Caller, body: Record<string, unknown>, requestId?: string) {
    SigningService.requireScope(caller);
    const rec = await this.credentialFor(caller, body.credentialID);
    const sad = str(body.SAD, 'SAD', 200);
    const tag = sadTagOf(sad);
    const fresh = newSad(tag);
    const now = Date.now();
    // a value that is not a SAD of this service is unknown (no store lookup)
    const r = tag ? await this.opts.store.extendSad(sadId(sad), sadId(fresh), caller, rec.id, now + this.policy.sadTtlMs, now) : { ok: false as const, reason: 'unknown' as const };
    if (!r.ok) {
      await this.#audit({ type: 'sad.refused', subject: caller.subject, service: caller.clientId, credentialId: rec.id, result: 'refused', detail: `extend: ${r.reason}`, ...(requestId ? { requestId } : {}) });
      throw sadError(r.reason);
    }
    await this.#audit({ type: 'sad.extended', subject: caller.subject, service: caller.clientId, credentialId: rec.id, result: 'ok', ...(requestId ? { requestId } : {}) });
    return { SAD: fresh, expiresIn: Math.floor(this.policy.sadTtlMs / 1000) };
  }

  /**
   * Step one of signHash and signDoc: the hashes must be authorized, by a SAD (`explicit`) or — with no SAD — by
   * the bearer token itself (`oauth2code`: a `credential`-scoped token whose RFC 9396 `authorization_details` of
   * type `credential` name this credential and these digests; each digest signable once, until the token expires).
   */
  async #authorizeHashes(caller: Caller, rec: CredentialRecord, sad: unknown, hashOid: string, hashes: string[], requestId?: string): Promise<void> {
    if (sad !== undefined || !caller.authorizationDetails) return this.#consume(caller, rec, sadId(str(sad, 'SAD', 200)), hashOid, hashes, requestId);
    const details = caller.authorizationDetails.filter((d): d is { type: string; credentialID: string; documentDigests?: unknown; hashAlgorithmOID?: unknown } =>
      !!d && typeof d === 'object' && (d as { type?: unknown }).type === 'credential' && (d as { credentialID?: unknown }).credentialID === rec.id);
    if (!details.length) throw invalidRequest('Missing parameter SAD (the access token does not authorize this credential)');
    if (!caller.scopes.has('credential')) throw insufficientScope('a token authorizing hashes through authorization_details needs the "credential" scope');
    // one grant per token and credential (a token may name several credentials); its own hash tag (no colon)
    const credTag = createHash('sha256').update(rec.id).digest('hex').slice(0, 24);
    const grantId = `oauth2code-${caller.tokenHash}-${credTag}`;
    // the token's digests for this credential, checked before anything is recorded
    const alg = details.map((d) => (typeof d.hashAlgorithmOID === 'string' ? d.hashAlgorithmOID : HASH_OID['SHA-256']));
    if (new Set(alg).size !== 1) throw invalidRequest('authorization_details name several hash algorithms for one credential');
    const digests = details.flatMap((d) => (Array.isArray(d.documentDigests) ? d.documentDigests : []).map((x: { hash?: unknown }) => x?.hash));
    const granted = canonicalHashes(digests, hashOfOid(alg[0]));
    const marker = `tokgrant:${caller.tokenHash}:${credTag}`;
    if (await this.opts.store.putValue(marker, '1', Math.max(1000, caller.exp * 1000 - Date.now() + 60_000), true)) {
      // first use of this token for this credential: its digests become a one-time grant, like a SAD, bound to the
      // same checks (created once: a second grant would make used digests signable again)
      try {
        await this.opts.store.putSad(grantId, { subject: caller.subject, clientId: caller.clientId, credentialId: rec.id, hashAlgorithmOID: alg[0]!, hashes: [...new Set(granted)], exp: caller.exp * 1000 });
      } catch (e) {
        // not recorded: the next call may try again (the marker expires at once)
        await this.opts.store.putValue(marker, '0', 1).catch(() => {});
        throw e;
      }
      await this.#audit({ type: 'authorize.approved', subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes: granted, result: 'ok', detail: 'oauth2code: authorization_details of the access token (level 2 at the identity provider)', ...(requestId ? { requestId } : {}) });
      return this.#consume(caller, rec, grantId, hashOid, hashes, requestId);
    }
    // another call is creating the grant right now (the token's first uses in parallel): wait for it, briefly
    for (let i = 0; i < 40; i++) {
      const r = await this.opts.store.consumeSad(grantId, caller, rec.id, hashOid, hashes, Date.now());
      if (r.ok) return;
      if (r.reason !== 'unknown') break;
      await new Promise((res) => setTimeout(res, 25));
    }
    return this.#consume(caller, rec, grantId, hashOid, hashes, requestId);
  }

  /** Consumes the hashes of a SAD (refusals audited). */
  async #consume(caller: Caller, rec: CredentialRecord, id: string, hashOid: string, hashes: string[], requestId?: string): Promise<void> {
    const r = await this.opts.store.consumeSad(id, caller, rec.id, hashOid, hashes, Date.now());
    if (!r.ok) {
      await this.#audit({ type: 'sad.refused', subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes, result: 'refused', detail: r.reason, ...(requestId ? { requestId } : {}) });
      throw sadError(r.reason);
    }
  }

  async signHash(caller: Caller, body: Record<string, unknown>, requestId?: string) {
    SigningService.requireScope(caller);
    const rec = await this.credentialFor(caller, body.credentialID);
    const { alg, hashOid } = signatureAlgorithm(rec.key, body.signAlgo, body.hashAlgorithmOID, body.signAlgoParams);
    const hashes = canonicalHashes(body.hashes, alg.hash);
    if (body.operationMode !== undefined && body.operationMode !== 'S') throw invalidRequest('Invalid parameter operationMode: only synchronous ("S") is supported');
    await this.#authorizeHashes(caller, rec, body.SAD, hashOid, hashes, requestId);
    const backend = await this.#backend(rec);
    let signatures: string[];
    try {
      signatures = await Promise.all(hashes.map(async (h) => Buffer.from(await backend.sign({ digest: Buffer.from(h, 'base64') }, alg)).toString('base64')));
    } catch (e) {
      await this.#audit({ type: 'signature.failed', subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes, result: 'error', detail: (e as { code?: string }).code ?? 'SIGN_FAILED', ...(requestId ? { requestId } : {}) });
      throw new CscError(500, 'server_error', 'the key could not sign; the hashes of this request are used up, ask for a new authorization');
    }
    // released only once recorded: if the audit write fails the caller gets an error and no signature
    await this.#audit({ type: 'signature.created', subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes, result: 'ok', detail: `${alg.scheme}/${alg.hash}`, ...(requestId ? { requestId } : {}) });
    return { signatures };
  }

  async signDoc(caller: Caller, body: Record<string, unknown>, requestId?: string) {
    SigningService.requireScope(caller);
    const rec = await this.credentialFor(caller, body.credentialID);
    const docs = body.documents;
    if (!Array.isArray(docs) || docs.length === 0 || docs.length > 10) throw invalidRequest('Missing or invalid parameter documents (1-10)');
    const hashName = body.hashAlgorithmOID === undefined ? 'SHA-256' : hashOfOid(body.hashAlgorithmOID);
    const parsed = docs.map((d: Record<string, unknown>, i: number) => {
      const b64 = str(d?.document, `documents[${i}].document`, 70_000_000);
      const bytes = Buffer.from(b64, 'base64');
      const lk = String(d.conformance_level ?? 'Ades-B-B').toLowerCase();
      const level = Object.hasOwn(LEVELS, lk) ? LEVELS[lk] : undefined;
      if (!level) throw invalidRequest(`Invalid parameter documents[${i}].conformance_level`);
      const format = String(d.signature_format ?? 'P');
      if (format !== 'P' && format !== 'X') throw invalidRequest(`Invalid parameter documents[${i}].signature_format: P (PAdES) or X (XAdES)`);
      if (format === 'X' && !this.opts.xmlSigner) throw invalidRequest('XML signing (signature_format X) is not available in this deployment');
      if (format === 'P' && bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw invalidRequest(`documents[${i}] is not a PDF`);
      if (level !== 'B-B' && !this.opts.tsaUrl) throw invalidRequest(`conformance level ${level} needs a time-stamping authority, none is configured`);
      return { bytes, level, format, hash: createHash(hashName.replace('-', '').toLowerCase()).update(bytes).digest('base64') };
    });
    // the SAD must have authorized the hash of each whole document (what the citizen was shown)
    await this.#authorizeHashes(caller, rec, body.SAD, HASH_OID[hashName], parsed.map((p) => p.hash), requestId);
    const backend = await this.#backend(rec);
    const out: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'kyso-signdoc-'));
    try {
      for (const [i, p] of parsed.entries()) {
        if (p.format === 'X') { out.push(Buffer.from(await this.opts.xmlSigner!(p.bytes, backend, p.level)).toString('base64')); continue; }
        const input = join(dir, `in-${i}.pdf`);
        const output = join(dir, `out-${i}.pdf`);
        writeFileSync(input, p.bytes);
        await signPdf(input, output, { backend, level: p.level, ...(this.opts.tsaUrl ? { tsa: { url: this.opts.tsaUrl } } : {}) });
        out.push(readFileSync(output).toString('base64'));
      }
    } catch (e) {
      await this.#audit({ type: 'signature.failed', subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes: parsed.map((p) => p.hash), result: 'error', detail: (e as { code?: string }).code ?? 'SIGN_FAILED', ...(requestId ? { requestId } : {}) });
      throw new CscError(500, 'server_error', `the document could not be signed: ${(e as Error).message}`.slice(0, 300));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await this.#audit({ type: 'signature.created', subject: caller.subject, service: caller.clientId, credentialId: rec.id, hashes: parsed.map((p) => p.hash), result: 'ok', detail: `signDoc ${parsed.map((p) => `${p.format}/${p.level}`).join(',')}`, ...(requestId ? { requestId } : {}) });
    return { DocumentWithSignature: out };
  }
}

function sadError(reason: string): CscError {
  switch (reason) {
    case 'expired': return invalidRequest('SAD expired');
    case 'credential': return invalidRequest('Invalid parameter SAD: it was not issued for this credential');
    case 'algorithm': return invalidRequest('Invalid parameter hashAlgorithmOID: the SAD authorized another hash algorithm');
    case 'hash': return invalidRequest('Invalid parameter hashes: a hash was not authorized by this SAD or was already signed');
    default: return invalidRequest('Invalid parameter SAD');
  }
}
