/**
 * CSC API v2 protocol tests against the running service: real identity provider tokens (introspection), keys
 * generated in SoftHSM2, a scripted phone approval (the real CIBA path has its own test). Every refusal is
 * checked for the right CSC error AND for the absence of a signature (no signature.created audit record).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate, verify as nodeVerify, constants } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import * as asn1js from 'asn1js';
import { startRedis, type RedisInstance } from '@kyso/fixtures';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { verifyAuditChain, type AuditEntry, type CredentialRecord } from '../src/index.js';
import { ScriptedApprover, startStack, type Stack } from './helpers.js';
import { RP_REDIRECT, SECRET, type Citizen } from '../../../packages/idp/test/provider-helpers.js';
import { tokenViaLogin } from './token.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const SHA384 = '2.16.840.1.101.3.4.2.2';
const RSA = '1.2.840.113549.1.1.1';
const PSS = '1.2.840.113549.1.1.10';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

const doc = (label = randomBytes(8).toString('hex')) => Buffer.from(`document ${label}`);
const h256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

function pssParams(hashOid: string, salt: number): string {
  const hashAlg = new pkijs.AlgorithmIdentifier({ algorithmId: hashOid });
  const p = new pkijs.RSASSAPSSParams({
    hashAlgorithm: hashAlg,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.8', algorithmParams: hashAlg.toSchema() }),
    saltLength: salt,
  });
  return Buffer.from(p.toSchema().toBER(false)).toString('base64');
}

for (const backend of ['memory', 'redis'] as const) describe(`signing service: CSC API v2 protocol (SoftHSM2, kyso IdP, ${backend} store)`, function () {
  this.timeout(120_000);
  let redis: RedisInstance | undefined;
  let s: Stack;
  let approver: ScriptedApprover;
  let alice: Citizen; let bob: Citizen;
  let aliceToken: string; let bobToken: string;
  let aliceRsa: CredentialRecord; let aliceEc: CredentialRecord; let bobRsa: CredentialRecord;
  const PIN = '246810';

  before(async () => {
    redis = backend === 'redis' ? await startRedis() : undefined;
    s = await startStack(redis ? { redis: redis.url } : {});
    approver = s.approver as ScriptedApprover;
    alice = await s.citizen(1);
    bob = await s.citizen(1);
    [aliceToken, bobToken] = await Promise.all([s.tokenFor(alice), s.tokenFor(bob)]);
    aliceRsa = await s.enrol(alice.id, { type: 'RSA', bits: 2048 }, PIN);
    aliceEc = await s.enrol(alice.id, { type: 'EC', curve: 'P-256' }, PIN);
    bobRsa = await s.enrol(bob.id, { type: 'RSA', bits: 2048 }, PIN);
  });
  after(async () => { await s?.close(); await redis?.stop(); });

  async function audit(): Promise<AuditEntry[]> {
    const all = await s.signing.store.auditRead(0, 100_000);
    return all.map((r) => JSON.parse(r.entry) as AuditEntry);
  }
  const signedCount = async () => (await audit()).filter((e) => e.type === 'signature.created').length;

  async function authorize(token: string, cred: CredentialRecord, hashes: string[], extra: Record<string, unknown> = {}) {
    return s.call('credentials/authorize', token, { credentialID: cred.id, numSignatures: hashes.length, hashes, hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: PIN }], ...extra });
  }
  async function sad(token: string, cred: CredentialRecord, hashes: string[]) {
    const r = await authorize(token, cred, hashes);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.SAD as string;
  }
  /** Asserts a refusal with this status/error and that no signature was made by it. */
  async function refused(p: Promise<{ status: number; body: Record<string, unknown> }>, status: number, error: string, desc?: RegExp) {
    const before = await signedCount();
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error, error, JSON.stringify(r.body));
    assert.equal(typeof r.body.error_description, 'string');
    if (desc) assert.match(String(r.body.error_description), desc);
    assert.equal(r.body.signatures, undefined);
    assert.equal(await signedCount(), before, 'no signature was made');
    return r;
  }

  it('info answers GET and POST without a token, advertising v2 methods, algorithms and levels', async () => {
    for (const r of [await s.call('info', undefined), await s.call('info', undefined, {})]) {
      assert.equal(r.status, 200);
      assert.match(String(r.body.specs), /^2\./);
      assert.ok((r.body.methods as string[]).includes('signatures/signHash'));
      assert.ok((r.body.signAlgorithms as { algos: string[] }).algos.includes(PSS));
      assert.deepEqual(r.body.conformance_levels, ['Ades-B-B', 'Ades-B-T', 'Ades-B-LT', 'Ades-B-LTA']);
      assert.equal(r.body.oauth2, s.idp.issuer);
    }
    const nf = await s.call('nothing/here', aliceToken, {});
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error, 'invalid_request');
  });

  it('credentials/list shows only the caller\'s own credentials; another userID is refused', async () => {
    const a = await s.call('credentials/list', aliceToken, {});
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.credentialIDs, [aliceRsa.id, aliceEc.id].sort());
    const b = await s.call('credentials/list', bobToken, { credentialInfo: true });
    assert.deepEqual(b.body.credentialIDs, [bobRsa.id]);
    assert.equal((b.body.credentialInfos as unknown[]).length, 1);
    await refused(s.call('credentials/list', aliceToken, { userID: bob.id }), 400, 'invalid_request', /userID/);
  });

  it('credentials/info: chain signer first, key algorithms, explicit PIN/OTP auth, SCAL 2, multisign', async () => {
    const r = await s.call('credentials/info', aliceToken, { credentialID: aliceEc.id, certificates: 'chain', certInfo: true, authInfo: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const certs = (r.body.cert as { certificates: string[] }).certificates;
    assert.equal(certs.length, 3);
    const leaf = new X509Certificate(Buffer.from(certs[0]!, 'base64'));
    assert.match(leaf.subject, new RegExp(`CCCD:${alice.id}`));
    assert.ok(leaf.checkIssued(new X509Certificate(Buffer.from(certs[1]!, 'base64'))), 'signer first, then its issuer');
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    // the deployment CA's certificate chain is accepted by openssl
    const dir = mkdtempSync(join(tmpdir(), 'kyso-chain-'));
    const pem = (b64: string) => `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    writeFileSync(join(dir, 'leaf.pem'), pem(certs[0]!));
    writeFileSync(join(dir, 'inter.pem'), pem(certs[1]!));
    writeFileSync(join(dir, 'root.pem'), pem(certs[2]!));
    const ov = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'inter.pem'), '-purpose', 'any', join(dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.equal(ov.status, 0, ov.stdout + ov.stderr);
    const key = r.body.key as { algo: string[]; status: string; len: number; curve: string };
    assert.ok(key.algo.includes(ECDSA_SHA256));
    assert.ok(!key.algo.includes(RSA));
    assert.equal(key.status, 'enabled');
    assert.equal(key.curve, '1.2.840.10045.3.1.7');
    assert.equal(r.body.SCAL, '2');
    assert.equal(typeof r.body.multisign, 'number');
    const auth = r.body.auth as { mode: string; objects: { id: string; type: string }[] };
    assert.equal(auth.mode, 'explicit');
    assert.deepEqual(auth.objects.map((o) => o.id), ['PIN', 'OTP']);
    // somebody else's credential looks like an unknown one
    await refused(s.call('credentials/info', bobToken, { credentialID: aliceEc.id }), 400, 'invalid_request', /credentialID/);
  });

  it('authorize asks the phone (service, each document name and hash) and signHash signs several hashes: RSA PKCS#1 v1.5', async () => {
    const docs = [doc(), doc(), doc()];
    const hashes = docs.map(h256);
    approver.seen = [];
    const r = await authorize(aliceToken, aliceRsa, hashes, { documentNames: ['Tờ khai đăng ký kết hôn.pdf', 'Giấy xác nhận.pdf', 'Phụ lục.pdf'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(approver.seen.length, 1);
    const shown = approver.seen[0]!;
    assert.equal(shown.subject, alice.id);
    assert.equal(shown.service, 'Cổng dịch vụ công');
    assert.deepEqual(shown.documents.map((d) => d.hash), hashes);
    assert.equal(shown.documents[0]!.name, 'Tờ khai đăng ký kết hôn.pdf');
    const sig = await s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD: r.body.SAD, hashes, hashAlgorithmOID: SHA256, signAlgo: RSA });
    assert.equal(sig.status, 200, JSON.stringify(sig.body));
    const sigs = sig.body.signatures as string[];
    assert.equal(sigs.length, 3);
    const pub = new X509Certificate(Buffer.from(aliceRsa.certificates[0]!, 'base64')).publicKey;
    docs.forEach((d, i) => assert.ok(nodeVerify('sha256', d, { key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(sigs[i]!, 'base64')), `signature ${i} verifies`));
  });

  it('signHash: RSASSA-PSS with signAlgoParams (SHA-384) and ECDSA P-256', async () => {
    const d = doc();
    const h384 = createHash('sha384').update(d).digest('base64');
    const r = await s.call('credentials/authorize', aliceToken, { credentialID: aliceRsa.id, numSignatures: 1, hashes: [h384], hashAlgorithmOID: SHA384, authData: [{ id: 'PIN', value: PIN }] });
    assert.equal(r.status, 200);
    const pss = await s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD: r.body.SAD, hashes: [h384], signAlgo: PSS, signAlgoParams: pssParams(SHA384, 48) });
    assert.equal(pss.status, 200, JSON.stringify(pss.body));
    const pub = new X509Certificate(Buffer.from(aliceRsa.certificates[0]!, 'base64')).publicKey;
    assert.ok(nodeVerify('sha384', d, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, Buffer.from((pss.body.signatures as string[])[0]!, 'base64')));

    const e = doc();
    const esad = await sad(aliceToken, aliceEc, [h256(e)]);
    const ec = await s.call('signatures/signHash', aliceToken, { credentialID: aliceEc.id, SAD: esad, hashes: [h256(e)], signAlgo: ECDSA_SHA256 });
    assert.equal(ec.status, 200, JSON.stringify(ec.body));
    const epub = new X509Certificate(Buffer.from(aliceEc.certificates[0]!, 'base64')).publicKey;
    assert.ok(nodeVerify('sha256', e, epub, Buffer.from((ec.body.signatures as string[])[0]!, 'base64')), 'DER ECDSA signature verifies');
    // algorithm that does not fit the key, PSS without parameters
    const x = doc();
    const xsad = await sad(aliceToken, aliceEc, [h256(x)]);
    await refused(s.call('signatures/signHash', aliceToken, { credentialID: aliceEc.id, SAD: xsad, hashes: [h256(x)], hashAlgorithmOID: SHA256, signAlgo: RSA }), 400, 'invalid_request', /signAlgo/);
    await refused(s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD: xsad, hashes: [h256(x)], signAlgo: PSS }), 400, 'invalid_request', /signAlgoParams/);
    // an MGF1 parameter that is not an AlgorithmIdentifier: 400, not 500
    const bad = new pkijs.RSASSAPSSParams({ hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256 }), maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.8', algorithmParams: new asn1js.Integer({ value: 5 }) }), saltLength: 32 });
    await refused(s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD: xsad, hashes: [h256(x)], signAlgo: PSS, signAlgoParams: Buffer.from(bad.toSchema().toBER(false)).toString('base64') }), 400, 'invalid_request', /MGF1/);
  });

  it('signDoc: a conformance level named like an Object property ("constructor", "__proto__") is refused before the SAD is used', async () => {
    const pdf = Buffer.from(await makeBasicPdf());
    const digest = createHash('sha256').update(pdf).digest('base64');
    const docSad = await sad(aliceToken, aliceRsa, [digest]);
    for (const lvl of ['constructor', '__proto__', 'hasOwnProperty']) {
      await refused(s.call('signatures/signDoc', aliceToken, { credentialID: aliceRsa.id, SAD: docSad, documents: [{ document: pdf.toString('base64'), conformance_level: lvl, signature_format: 'P' }] }), 400, 'invalid_request', /conformance_level/);
    }
    // the SAD was not used up: the document still signs with it
    const ok = await s.call('signatures/signDoc', aliceToken, { credentialID: aliceRsa.id, SAD: docSad, documents: [{ document: pdf.toString('base64'), conformance_level: 'Ades-B-B', signature_format: 'P' }] });
    assert.equal(ok.status, 200, JSON.stringify(ok.body).slice(0, 300));
  });

  it('authorize checks numSignatures = number of hashes, hash sizes and the hash algorithm', async () => {
    const h = h256(doc());
    await refused(s.call('credentials/authorize', aliceToken, { credentialID: aliceRsa.id, numSignatures: 2, hashes: [h], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: PIN }] }), 400, 'invalid_request', /numSignatures/);
    await refused(s.call('credentials/authorize', aliceToken, { credentialID: aliceRsa.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: SHA384, authData: [{ id: 'PIN', value: PIN }] }), 400, 'invalid_request', /hashes\[0\]/);
    await refused(s.call('credentials/authorize', aliceToken, { credentialID: aliceRsa.id, numSignatures: 1, hashes: [h], hashAlgorithmOID: '1.3.14.3.2.26', authData: [{ id: 'PIN', value: PIN }] }), 400, 'invalid_request', /hashAlgorithmOID/);
  });

  it('a SAD signs each hash once: reuse, another hash, another credential, another caller or calling service are refused', async () => {
    const a = h256(doc()); const b = h256(doc());
    const SAD = await sad(aliceToken, aliceRsa, [a, b]);
    const body = (hashes: string[], cred = aliceRsa.id) => ({ credentialID: cred, SAD, hashes, hashAlgorithmOID: SHA256, signAlgo: RSA });
    // another hash (not approved): refused, and the approved ones stay usable
    await refused(s.call('signatures/signHash', aliceToken, body([h256(doc())])), 400, 'invalid_request', /not authorized|already signed/);
    await refused(s.call('signatures/signHash', aliceToken, body([a, h256(doc())])), 400, 'invalid_request');
    // another credential of the same citizen
    await refused(s.call('signatures/signHash', aliceToken, { ...body([a], aliceEc.id), signAlgo: ECDSA_SHA256 }), 400, 'invalid_request', /credential/);
    // another caller: with alice's credential (not his) and with his own credential
    await refused(s.call('signatures/signHash', bobToken, body([a])), 400, 'invalid_request', /credentialID/);
    await refused(s.call('signatures/signHash', bobToken, body([a], bobRsa.id)), 400, 'invalid_request', /SAD/);
    // the same citizen through another service (client rp1, pairwise subject resolved through the citizen scope)
    const viaOther = await tokenViaLogin(s.idp.issuer, alice, 'openid service citizen', { id: 'rp1', secret: SECRET, redirect: RP_REDIRECT });
    assert.equal((await s.call('credentials/list', viaOther, {})).status, 200, 'the pairwise token resolves to the citizen');
    await refused(s.call('signatures/signHash', viaOther, body([a])), 400, 'invalid_request', /SAD/);
    // the owner signs a, then a again is refused, b still works once
    assert.equal((await s.call('signatures/signHash', aliceToken, body([a]))).status, 200);
    await refused(s.call('signatures/signHash', aliceToken, body([a])), 400, 'invalid_request', /already signed/);
    assert.equal((await s.call('signatures/signHash', aliceToken, body([b]))).status, 200);
    await refused(s.call('signatures/signHash', aliceToken, body([b])), 400, 'invalid_request', /SAD/);
    // a made-up SAD
    await refused(s.call('signatures/signHash', aliceToken, { ...body([a]), SAD: randomBytes(32).toString('base64url') }), 400, 'invalid_request', /SAD/);
  });

  it('an expired SAD is refused; extendTransaction gives a fresh SAD for the remaining hashes and retires the old one', async () => {
    const policy = s.signing.service.policy;
    const keep = policy.sadTtlMs;
    policy.sadTtlMs = 1000;
    try {
      const a = h256(doc()); const b = h256(doc());
      const SAD = await sad(aliceToken, aliceRsa, [a, b]);
      assert.equal((await s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD, hashes: [a], hashAlgorithmOID: SHA256, signAlgo: RSA })).status, 200);
      const ext = await s.call('credentials/extendTransaction', aliceToken, { credentialID: aliceRsa.id, SAD });
      assert.equal(ext.status, 200, JSON.stringify(ext.body));
      assert.notEqual(ext.body.SAD, SAD);
      await refused(s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD, hashes: [b], hashAlgorithmOID: SHA256, signAlgo: RSA }), 400, 'invalid_request', /SAD/);
      await refused(s.call('credentials/extendTransaction', bobToken, { credentialID: bobRsa.id, SAD: ext.body.SAD }), 400, 'invalid_request', /SAD/);
      await new Promise((r) => setTimeout(r, 1300));
      await refused(s.call('signatures/signHash', aliceToken, { credentialID: aliceRsa.id, SAD: ext.body.SAD, hashes: [b], hashAlgorithmOID: SHA256, signAlgo: RSA }), 400, 'invalid_request', /expired/);
    } finally {
      policy.sadTtlMs = keep;
    }
  });

  it('a refused or expired approval gives access_denied and no SAD', async () => {
    approver.next.push({ result: 'refused', detail: 'the citizen refused the request' });
    await refused(authorize(aliceToken, aliceRsa, [h256(doc())]), 403, 'access_denied', /refused/);
    approver.next.push({ result: 'expired', detail: 'the citizen did not answer in time' });
    await refused(authorize(aliceToken, aliceRsa, [h256(doc())]), 403, 'access_denied', /expired/);
    const log = await audit();
    assert.equal(log.filter((e) => e.type === 'authorize.refused').length >= 2, true);
  });

  it('wrong PINs are counted per credential; beyond the limit the credential is locked and says so', async () => {
    const c = await s.enrol(bob.id, { type: 'EC', curve: 'P-256' }, '135790');
    const max = s.signing.service.policy.maxPinAttempts;
    for (let i = 1; i < max; i++) {
      const r = await refused(s.call('credentials/authorize', bobToken, { credentialID: c.id, numSignatures: 1, hashes: [h256(doc())], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '000000' }] }), 400, 'invalid_request', /PIN is invalid/);
      assert.match(String(r.body.error_description), new RegExp(`${max - i} attempt`));
    }
    approver.seen = [];
    await refused(s.call('credentials/authorize', bobToken, { credentialID: c.id, numSignatures: 1, hashes: [h256(doc())], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '000000' }] }), 403, 'access_denied', /locked/);
    // now even the right PIN is refused, the phone is not asked, and credentials/info says the key is disabled
    await refused(s.call('credentials/authorize', bobToken, { credentialID: c.id, numSignatures: 1, hashes: [h256(doc())], hashAlgorithmOID: SHA256, authData: [{ id: 'PIN', value: '135790' }] }), 403, 'access_denied', /locked/);
    assert.equal(approver.seen.length, 0);
    const info = await s.call('credentials/info', bobToken, { credentialID: c.id });
    assert.equal((info.body.key as { status: string }).status, 'disabled');
    assert.match(String((info.body.key as { statusMessage: string }).statusMessage), /locked/);
    // the counter is per credential: bob's other credential still works
    assert.equal((await authorize(bobToken, bobRsa, [h256(doc())])).status, 200);
  });

  it('tokens: missing, malformed, unknown/revoked, without the service scope, or without a subject are refused with the right error', async () => {
    const h = h256(doc());
    const SAD = await sad(aliceToken, aliceRsa, [h]);
    const body = { credentialID: aliceRsa.id, SAD, hashes: [h], hashAlgorithmOID: SHA256, signAlgo: RSA };
    let r = await refused(s.call('signatures/signHash', undefined, body), 401, 'invalid_token');
    assert.ok(r.status === 401);
    await refused(s.call('signatures/signHash', 'not a token', body), 401, 'invalid_token');
    await refused(s.call('signatures/signHash', randomBytes(32).toString('base64url'), body), 401, 'invalid_token', /not active/);
    const narrow = await s.tokenFor(alice, 'openid');
    r = await refused(s.call('signatures/signHash', narrow, body), 403, 'insufficient_scope', /service/);
    // a service token without a citizen (client_credentials)
    const cc = await fetch(`${s.idp.issuer}/token`, { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from('svc:svc-secret-0123456789abcdef').toString('base64'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    const ccTok = (await cc.json() as { access_token: string }).access_token;
    await refused(s.call('signatures/signHash', ccTok, body), 401, 'invalid_token', /subject/);
    // the SAD is still good for its owner
    assert.equal((await s.call('signatures/signHash', aliceToken, body)).status, 200);
  });

  it('idempotency key: a retried signHash returns the first answer and never signs twice', async () => {
    const h = h256(doc());
    const SAD = await sad(aliceToken, aliceRsa, [h]);
    const body = { credentialID: aliceRsa.id, SAD, hashes: [h], hashAlgorithmOID: SHA256, signAlgo: RSA };
    const before = await signedCount();
    const key = { 'idempotency-key': `k-${randomBytes(6).toString('hex')}` };
    const [r1, r2] = [await s.call('signatures/signHash', aliceToken, body, key), await s.call('signatures/signHash', aliceToken, body, key)];
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    assert.deepEqual(r2.body.signatures, r1.body.signatures);
    assert.equal(r2.headers.get('idempotent-replayed'), 'true');
    assert.equal(await signedCount(), before + 1, 'one signature record');
    const r3 = await s.call('signatures/signHash', aliceToken, { ...body, hashes: [h256(doc())] }, key);
    assert.equal(r3.status, 422);
  });

  it('signDoc signs a whole PDF at AdES-B-T through the kyso signer (pdfsig accepts it) and an XML document as XAdES (kyso verifies it)', async () => {
    const pdf = Buffer.from(await makeBasicPdf(1, { text: 'To khai dang ky' }));
    const SAD = await sad(aliceToken, aliceEc, [h256(pdf)]);
    const r = await s.call('signatures/signDoc', aliceToken, { credentialID: aliceEc.id, SAD, documents: [{ document: pdf.toString('base64'), signature_format: 'P', conformance_level: 'Ades-B-T' }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const out = Buffer.from((r.body.DocumentWithSignature as string[])[0]!, 'base64');
    assert.equal(out.subarray(0, pdf.length).compare(pdf), 0, 'incremental update: original bytes untouched');
    const dir = mkdtempSync(join(tmpdir(), 'kyso-signdoc-test-'));
    writeFileSync(join(dir, 'out.pdf'), out);
    const ps = spawnSync('pdfsig', [join(dir, 'out.pdf')], { encoding: 'utf8' });
    assert.equal(ps.error, undefined, 'pdfsig must be installed');
    assert.match(ps.stdout, /Signature is Valid/);
    assert.match(ps.stdout, /ETSI\.CAdES\.detached/);
    const x = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><ToKhai><HoTen>Nguyễn Thị Lan</HoTen></ToKhai>');
    const xs = await sad(aliceToken, aliceEc, [h256(x)]);
    const rx = await s.call('signatures/signDoc', aliceToken, { credentialID: aliceEc.id, SAD: xs, documents: [{ document: x.toString('base64'), signature_format: 'X', conformance_level: 'Ades-B-T' }] });
    assert.equal(rx.status, 200, JSON.stringify(rx.body));
    const xout = Buffer.from((rx.body.DocumentWithSignature as string[])[0]!, 'base64');
    const { verifyXml } = await import('@kyso/verifier');
    const report = await verifyXml(xout, { trustAnchors: [s.rootDer] });
    assert.equal(report.signatures.length, 1);
    assert.equal(report.signatures[0]!.intact, true, JSON.stringify(report.signatures[0]));
    assert.equal(report.signatures[0]!.level, 'XAdES-BASELINE-T', JSON.stringify(report.signatures[0]));
    assert.equal(report.documentIndication, 'TOTAL_PASSED', JSON.stringify(report.signatures[0]));
    const again = await s.call('signatures/signDoc', aliceToken, { credentialID: aliceEc.id, SAD: xs, documents: [{ document: x.toString('base64'), signature_format: 'X' }] });
    assert.notEqual(again.status, 200, 'a SAD signs its hash once');
    await refused(s.call('signatures/signDoc', aliceToken, { credentialID: aliceEc.id, SAD: xs, documents: [{ document: pdf.toString('base64'), signature_format: 'P' }] }), 400, 'invalid_request', /already signed|not authorized|Invalid parameter SAD/);
  });

  it('the audit chain verifies and every signature has its record', async () => {
    const v = await verifyAuditChain((after) => s.signing.store.auditRead(after, 500));
    assert.equal(v.ok, true, JSON.stringify(v.broken));
    const log = await audit();
    assert.equal(v.count, log.length);
    for (const e of log.filter((x) => x.type === 'signature.created')) {
      assert.ok(e.subject && e.service && e.credentialId && e.hashes?.length && e.at, 'who, service, credential, hashes, when');
    }
    assert.ok(log.some((e) => e.type === 'pin.locked'));
    assert.ok(log.some((e) => e.type === 'sad.refused'));
  });
});

void asn1js;
