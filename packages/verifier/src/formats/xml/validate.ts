import { constants, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { XmlDocument as Document, XmlElement as Element } from '@kyso/signer/xml';
import {
  C14N, DIGEST_BY_URI, NS, SIGNATURE_METHODS, SIGNED_PROPERTIES_TYPE, c14nMethod, canonicalize, childElements, decodeBase64, dereference,
  hashBytes, isWithin, onlyChild, pathOf, qualifyingPropertiesOf, xadesArchiveTimestampInput, type C14nMethod, type DereferencedReference, type IdIndex, type StreamedBase64,
} from '@kyso/signer/xml';
import type { ResolvedPolicy } from '../../policy.js';
import type { BuildingBlock, CheckResult, Indication, SignatureLevel, SignatureReport, SubIndication, XmlCoverage } from '../../report/model.js';
import {
  CertInfo, cryptoConstraintViolation, describeKey, signerInfoOf, tryCert, validateCertificate, validateTimestampToken,
  type CertContext, type CertValidation, type TimestampValidation,
} from './pki-bridge.js';
import { keyInfoCertificates, unsignedSignatureProperties } from './extract.js';

/** Whether `el` is all that `obj` holds: no other element, text (whitespace apart), comment or processing instruction. */
function onlyContent(obj: Element, el: Element): boolean {
  for (let c = obj.firstChild; c; c = c.nextSibling) {
    if (c === el) continue;
    if ((c.nodeType === 3 || c.nodeType === 4) && !/[^ \t\r\n]/.test((c as unknown as { data: string }).data)) continue;
    return false;
  }
  return true;
}

/** One signed reference handed back to the caller: exactly the octets that were digested. */
export interface SignedReference {
  uri: string;
  target: 'document' | 'element' | 'detached';
  /** Where the selected element is (for element references). */
  path?: string;
  /** The signed octets (canonical XML after transforms, or the detached bytes). Read these, not the document. */
  octets: Uint8Array;
}

/** Everything one XML signature validation needs. */
export interface XmlSignatureJob {
  doc: Document;
  sig: Element;
  ids: IdIndex;
  field: string;
  detached?: (uri: string) => Uint8Array | undefined;
  /** Shared budget of octets all references of the document may produce (bounds the work on hostile input). */
  budget: { left: number };
  /** Report only: whole-document and base64 references are digested as they are produced, their octets not kept
   *  (the handed-back `signed` entries of those references then have empty octets). Same checks and verdicts. */
  digestOnly?: boolean;
  /** The report-only fast path's whole-document reference, digested while the document was read (see fast-path.ts). */
  precomputed?: { ref: Element; digest: Uint8Array; size: number };
  /** Digests of base64-decoded element text computed by the references (digestOnly), for later checks. */
  base64Digests?: Map<Element, { alg: string; digest: Uint8Array; size: number }[]>;
  /** The edXML fast path's attachments, digested while the document was read (their text is not in the tree). */
  streamedBase64?: ReadonlyMap<Element, StreamedBase64>;
}

interface Verdict { indication: Exclude<Indication, 'TOTAL_PASSED'>; subIndication: SubIndication; block: BuildingBlock; message: string }

const OBJECT_TYPE = 'http://www.w3.org/2000/09/xmldsig#Object';
const MANIFEST_TYPE = 'http://www.w3.org/2000/09/xmldsig#Manifest';
const COUNTERSIGNED_TYPE = 'http://uri.etsi.org/01903#CountersignedSignature';
const RANK = { INDETERMINATE: 1, TOTAL_FAILED: 2 } as const;

/** Text of an element that must hold base64 only (no child elements or comments: xml-crypto CVE-2025-29775). */
function strictBase64(el: Element | undefined): Uint8Array | undefined {
  if (!el) return undefined;
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType !== 3) return undefined;
  return decodeBase64(el.textContent ?? '');
}

function enclosingSignature(el: Element): Element | undefined {
  for (let n = el.parentNode; n && n.nodeType === 1; n = n.parentNode) {
    const e = n as Element;
    if (e.namespaceURI === NS.ds && e.localName === 'Signature') return e;
  }
  return undefined;
}

/** Validate one ds:Signature after EN 319 102-1 (FC, ISC, CV, SAV, TSV, XCV) and build its report. Never throws. */
export async function validateXmlSignature(job: XmlSignatureJob, policy: ResolvedPolicy, certCtx: CertContext): Promise<{ report: SignatureReport; signed: SignedReference[] }> {
  const results: CheckResult[] = [];
  const verdicts: Verdict[] = [];
  const signed: SignedReference[] = [];
  const note = (check: string, block: BuildingBlock, status: CheckResult['status'], message: string) => results.push({ check, block, status, message });
  const reject = (check: string, block: BuildingBlock, indication: Verdict['indication'], sub: SubIndication, message: string) => {
    results.push({ check, block, status: 'failed', message });
    verdicts.push({ indication, subIndication: sub, block, message });
  };
  const { sig, doc, ids } = job;
  const coverage: XmlCoverage = { scope: 'PARTIAL', references: [] };
  let level: SignatureLevel = 'UNKNOWN';
  let signer: CertInfo | undefined;
  let claimed: Date | undefined;
  let digestAlgorithm: string | null = null;
  let signatureAlgorithm: string | null = null;
  let intact = false;
  const timestamps: (TimestampValidation & { kind: 'signature-timestamp' })[] = [];
  let certValidation: CertValidation | undefined;
  let poe: Date | undefined;

  const finish = (): { report: SignatureReport; signed: SignedReference[] } => {
    let worst: Verdict | undefined;
    for (const v of verdicts) if (!worst || RANK[v.indication] > RANK[worst.indication]) worst = v;
    const validTs = timestamps.filter((t) => t.valid && t.genTime).map((t) => t.genTime!.getTime());
    const earliest = validTs.length ? new Date(Math.min(...validTs)) : undefined;
    const best = poe && poe < policy.validationTime ? poe : policy.validationTime;
    return {
      signed,
      report: {
        field: job.field, kind: 'signature',
        indication: worst ? worst.indication : 'TOTAL_PASSED', subIndication: worst ? worst.subIndication : null, block: worst ? worst.block : null,
        message: worst ? worst.message : 'the signature is valid',
        level, intact: intact && !verdicts.some((v) => v.subIndication === 'HASH_FAILURE' || v.subIndication === 'SIG_CRYPTO_FAILURE'),
        signer: signer ? signerInfoOf(signer, certValidation?.chain) : null,
        signingTime: claimed ? claimed.toISOString() : null,
        timestamp: earliest ? earliest.toISOString() : null,
        bestSignatureTime: best.toISOString(),
        coverage: { xml: coverage }, modifications: [],
        timestamps: timestamps.map((t) => ({ time: t.genTime ? t.genTime.toISOString() : '', kind: t.kind, ...(t.tsa ? { tsa: t.tsa.subject } : {}), valid: t.valid, message: t.message })),
        digestAlgorithm, signatureAlgorithm,
        revocation: (certValidation?.revocation ?? []).map((r) => ({ certificate: r.certificate, status: r.status, source: r.source, ...(r.revokedAt ? { revokedAt: r.revokedAt.toISOString() } : {}), ...(r.reason ? { reason: r.reason } : {}) })),
        checks: results,
      },
    };
  };

  try {
    // ---- FC: structure of the signature ----
    const sigId = sig.getAttribute('Id') ?? '';
    const si = onlyChild(sig, NS.ds, 'SignedInfo');
    const sv = onlyChild(sig, NS.ds, 'SignatureValue');
    const siKids = si ? childElements(si) : [];
    const cm = siKids[0], sm = siKids[1];
    const refs = siKids.slice(2);
    if (!si || !sv || !cm || !sm || cm.namespaceURI !== NS.ds || cm.localName !== 'CanonicalizationMethod' || sm.namespaceURI !== NS.ds || sm.localName !== 'SignatureMethod'
      || refs.length === 0 || refs.some((r) => r.namespaceURI !== NS.ds || r.localName !== 'Reference')) {
      reject('format', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', 'ds:Signature must hold one SignedInfo (CanonicalizationMethod, SignatureMethod, Reference+) and one SignatureValue');
      return finish();
    }
    const cmUri = cm.getAttribute('Algorithm') ?? '';
    const c14n = c14nMethod(cmUri);
    if (!c14n) { reject('format', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', `SignedInfo canonicalization ${cmUri.slice(0, 100)} is not supported`); return finish(); }
    const smUri = sm.getAttribute('Algorithm') ?? '';
    const method = SIGNATURE_METHODS[smUri];
    const sigValue = strictBase64(sv);
    if (!sigValue) { reject('format', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', 'SignatureValue is not plain base64 text'); return finish(); }
    note('format', 'FC', 'passed', `SignedInfo with ${refs.length} reference(s), ${c14n.uri}`);

    // ---- XAdES structure: the SignedProperties used must be this signature's and must be signed ----
    const qp = qualifyingPropertiesOf(sig);
    let sp: Element | undefined;
    let spSigned = false;
    if (qp) {
      const qps = childElements(sig, NS.ds, 'Object').flatMap((o) => childElements(o, NS.xades, 'QualifyingProperties'));
      if (qps.length !== 1) reject('xades-structure', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', 'more than one QualifyingProperties');
      else if (qp.getAttribute('Target') !== `#${sigId}`) reject('xades-structure', 'FC', 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `QualifyingProperties Target ${qp.getAttribute('Target')} does not name this signature (#${sigId})`);
      sp = onlyChild(qp, NS.xades, 'SignedProperties');
    }

    // ---- references: dereference, check placement, digest ----
    const digestAlgs = new Set<string>();
    let hashOk = true;
    const spRefs: DereferencedReference[] = [];
    let objectsReferenced = new Set<Element>();
    let manifests = 0;
    if (refs.length > 1000) { reject('format', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', `${refs.length} references: more than 1000 are not accepted`); return finish(); }
    for (const ref of refs) {
      if (job.budget.left < 0) { reject('reference', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', 'the references produce more data than the document can justify (processing budget exceeded)'); return finish(); }
      const r = dereference(ref, { doc, signature: sig, ids, ...(job.detached ? { detached: job.detached } : {}), ...(job.digestOnly ? { digestOnly: true } : {}), ...(job.precomputed ? { precomputed: job.precomputed } : {}), ...(job.base64Digests ? { base64Digests: job.base64Digests } : {}), ...(job.streamedBase64 ? { streamedBase64: job.streamedBase64 } : {}) });
      const uri = ref.getAttribute('URI') ?? '';
      const type = ref.getAttribute('Type') ?? undefined;
      if ('kind' in r) {
        coverage.references.push({ uri, ...(type ? { type } : {}), target: 'not-found', transforms: [], digestAlgorithm: null, intact: false });
        if (r.kind === 'unsupported') reject('reference', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', `reference ${JSON.stringify(uri.slice(0, 80))}: ${r.message}`);
        else reject('reference', 'CV', 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `reference ${JSON.stringify(uri.slice(0, 80))}: ${r.message}`);
        hashOk = false;
        continue;
      }
      job.budget.left -= r.size;
      const el = r.element;
      const isSp = type === SIGNED_PROPERTIES_TYPE || (!!el && el.namespaceURI === NS.xades && el.localName === 'SignedProperties');
      // Placement rules against wrapping.
      let misplaced: string | undefined;
      if (el) {
        const inObjectOfThis = (e: Element) => { const o = e.parentNode as Element | null; return !!o && o.namespaceURI === NS.ds && o.localName === 'Object' && o.parentNode === sig; };
        if (isSp) {
          if (!sp || el !== sp) misplaced = 'the SignedProperties reference does not select this signature\'s QualifyingProperties/SignedProperties';
        } else if (type === OBJECT_TYPE || (el.namespaceURI === NS.ds && el.localName === 'Object')) {
          if (!(el.namespaceURI === NS.ds && el.localName === 'Object' && el.parentNode === sig)) misplaced = 'the referenced ds:Object is not a direct child of this signature';
          else objectsReferenced.add(el);
        } else if (type === MANIFEST_TYPE || (el.namespaceURI === NS.ds && el.localName === 'Manifest')) {
          // the Manifest itself is signed; the data its own references name is not checked here, so the ds:Object
          // holding it does not count as covered (the scope says PARTIAL, the signed content is the Manifest)
          if (!(el.namespaceURI === NS.ds && el.localName === 'Manifest' && inObjectOfThis(el))) misplaced = 'the referenced ds:Manifest is not inside a ds:Object of this signature';
          else manifests++;
        } else if (type === COUNTERSIGNED_TYPE || (el.namespaceURI === NS.ds && el.localName === 'SignatureValue')) {
          if (!(el.namespaceURI === NS.ds && el.localName === 'SignatureValue')) misplaced = 'a CountersignedSignature reference must select a ds:SignatureValue';
        } else {
          const encl = enclosingSignature(el);
          if (encl) {
            // Signed data inside a signature is only legitimate as the content of this (enveloping) signature's own ds:Object.
            let obj: Element | undefined;
            for (let n = el as Element | null; n && n !== encl; n = n.parentNode as Element | null) if (n.namespaceURI === NS.ds && n.localName === 'Object') obj = n;
            if (encl !== sig || sig !== doc.documentElement || !obj || obj.parentNode !== sig) misplaced = 'the signed element was moved inside a signature (wrapping)';
            // the ds:Object counts as covered only when the signed element is all it holds (whitespace apart):
            // anything beside it in the Object is unsigned content
            else if (el.parentNode === obj && onlyContent(obj, el)) objectsReferenced.add(obj);
          }
        }
      }
      if (misplaced) {
        coverage.references.push({ uri, ...(type ? { type } : {}), target: 'not-found', ...(el ? { path: pathOf(el) } : {}), transforms: r.transforms, digestAlgorithm: r.digestAlgorithm ?? null, intact: false });
        reject('reference', 'CV', 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', `reference ${JSON.stringify(uri.slice(0, 80))}: ${misplaced}`);
        hashOk = false;
        continue;
      }
      if (!r.digestAlgorithm) {
        reject('reference', 'SAV', 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', `reference ${JSON.stringify(uri.slice(0, 80))}: digest method ${r.digestMethodUri.slice(0, 100)} is not supported`);
        hashOk = false;
        continue;
      }
      digestAlgs.add(r.digestAlgorithm);
      const dvEl = onlyChild(ref, NS.ds, 'DigestValue');
      const claimedDigest = strictBase64(dvEl);
      const ok = !!claimedDigest && Buffer.from(r.digest ?? hashBytes(r.digestAlgorithm, r.octets)).equals(Buffer.from(claimedDigest));
      coverage.references.push({ uri, ...(type ? { type } : {}), target: isSp ? 'signed-properties' : r.target, ...(el ? { path: pathOf(el) } : {}), transforms: r.transforms, digestAlgorithm: r.digestAlgorithm, intact: ok, size: r.size });
      if (!ok) {
        reject('reference', 'CV', 'TOTAL_FAILED', 'HASH_FAILURE', `reference ${JSON.stringify(uri.slice(0, 80))}: the ${r.digestAlgorithm} digest does not match ${claimedDigest ? '' : '(DigestValue is not plain base64)'}`.trim());
        hashOk = false;
        continue;
      }
      if (isSp) spRefs.push(r);
      else signed.push({ uri, target: r.target, ...(el ? { path: pathOf(el) } : {}), octets: r.octets });
    }
    if (sp) {
      if (spRefs.length === 1) { spSigned = true; note('xades-structure', 'FC', 'passed', 'SignedProperties are signed by this signature'); }
      else if (!verdicts.some((v) => v.subIndication === 'SIGNED_DATA_NOT_FOUND')) {
        reject('xades-structure', 'CV', 'INDETERMINATE', 'SIGNED_DATA_NOT_FOUND', spRefs.length ? 'SignedProperties referenced more than once' : 'the SignedProperties are not covered by a reference of this signature');
      }
    }
    // Scope.
    const dataRefs = coverage.references.filter((r) => r.target !== 'signed-properties');
    // this signature's ds:Object elements (apart from the XAdES QualifyingProperties) that no reference covers whole:
    // unsigned content, whatever the scope (an enveloped signature's Objects are outside the document it signs)
    const ownObjects = childElements(sig, NS.ds, 'Object').filter((o) => !qp || !isWithin(qp, o));
    const unsignedObjects = ownObjects.filter((o) => !objectsReferenced.has(o));
    if (unsignedObjects.length) note('signature-scope', 'SAV', 'warning', `${unsignedObjects.length} ds:Object element(s) of this signature are not signed as a whole: ignore their content`);
    if (manifests) note('signature-scope', 'SAV', 'warning', `${manifests} ds:Manifest(s) signed: the data their own references name is not checked; read the signed content the verifier returns`);
    if (dataRefs.some((r) => r.target === 'not-found')) coverage.scope = 'SIGNED_DATA_NOT_FOUND';
    else if (dataRefs.some((r) => r.target === 'document')) coverage.scope = 'FULL';
    else if (dataRefs.length && dataRefs.every((r) => r.target === 'detached')) coverage.scope = 'DETACHED';
    else {
      const enveloping = sig === doc.documentElement && ownObjects.length > 0 && unsignedObjects.length === 0;
      coverage.scope = enveloping ? 'FULL' : 'PARTIAL';
      if (!enveloping) note('signature-scope', 'SAV', 'info', 'the signature covers only the referenced elements: read the signed content the verifier returns, not the document');
    }
    if (hashOk) note('reference', 'CV', 'passed', `${refs.length} reference digest(s) match`);
    digestAlgorithm = [...digestAlgs].join(', ') || null;

    // ---- ISC: the signing certificate ----
    const candidates = [...keyInfoCertificates(sig), ...certCtx.pool.map((c) => c.der)].map((d) => tryCert(d)).filter((c): c is CertInfo => !!c);
    const ssp = sp && spSigned ? onlyChild(sp, NS.xades, 'SignedSignatureProperties') : undefined;
    const scEl = ssp ? (onlyChild(ssp, NS.xades, 'SigningCertificateV2') ?? onlyChild(ssp, NS.xades, 'SigningCertificate')) : undefined;
    const stEl = ssp ? onlyChild(ssp, NS.xades, 'SigningTime') : undefined;
    if (stEl) { const d = new Date((stEl.textContent ?? '').trim()); if (!Number.isNaN(d.getTime())) claimed = d; }
    let signingCertBound = false;
    if (scEl) {
      const certs = childElements(scEl, NS.xades, 'Cert');
      for (const c of certs) {
        const cd = onlyChild(c, NS.xades, 'CertDigest');
        const alg = DIGEST_BY_URI[cd ? onlyChild(cd, NS.ds, 'DigestMethod')?.getAttribute('Algorithm') ?? '' : ''];
        const val = cd ? strictBase64(onlyChild(cd, NS.ds, 'DigestValue')) : undefined;
        if (!alg || !val) continue;
        const hit = candidates.find((k) => Buffer.from(hashBytes(alg, k.der)).equals(Buffer.from(val)));
        if (hit) { signer = hit; signingCertBound = true; break; }
      }
      if (!signer) {
        reject('signer-identification', 'ISC', 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'no certificate matches the signed SigningCertificate digest');
      }
    }

    // ---- CV: the signature value over the canonical SignedInfo ----
    if (!method) {
      reject('signature-value', 'SAV', 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', `signature method ${smUri.slice(0, 100)} is not supported`);
      level = levelOf(qp, spSigned, signingCertBound, sig);
      return finish();
    }
    signatureAlgorithm = `${method.scheme === 'RSA-PKCS1' ? 'RSA' : method.scheme === 'RSA-PSS' ? 'RSASSA-PSS' : method.scheme}/${method.hash}`;
    const incl = onlyChild(cm, C14N.exc, 'InclusiveNamespaces')?.getAttribute('PrefixList')?.split(/\s+/).filter(Boolean);
    const siOctets = Buffer.from(canonicalize(si, c14n, incl ? { inclusivePrefixes: incl } : {}), 'utf8');
    const verifyWith = (c: CertInfo): boolean => verifyXmlSignatureValue(method.scheme, method.hash, c.der, siOctets, sigValue);
    let cvOk = false;
    let cvError: string | undefined;
    try {
      if (signer) cvOk = verifyWith(signer);
      else if (!verdicts.some((v) => v.block === 'ISC')) {
        for (const c of keyInfoCertificates(sig).map((d) => tryCert(d)).filter((x): x is CertInfo => !!x)) {
          if (verifyWith(c)) { signer = c; cvOk = true; break; }
        }
        if (!signer) {
          const keyValueOnly = !!onlyChild(sig, NS.ds, 'KeyInfo') && keyInfoCertificates(sig).length === 0;
          reject('signer-identification', 'ISC', 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', keyValueOnly ? 'KeyInfo carries no certificate (a bare key value cannot be trusted)' : 'no certificate in KeyInfo verifies the signature value');
        }
      }
    } catch (e) { cvError = (e as Error).message; }
    if (cvError) reject('signature-value', 'CV', 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', `the signature value cannot be verified: ${cvError}`);
    else if (signer && !cvOk) reject('signature-value', 'CV', 'TOTAL_FAILED', 'SIG_CRYPTO_FAILURE', `the ${signatureAlgorithm} signature value does not verify with the key of "${signer.subject}"`);
    else if (signer) note('signature-value', 'CV', 'passed', `${signatureAlgorithm} signature value verifies with the key of "${signer.subject}"`);
    intact = cvOk && hashOk;
    level = levelOf(qp, spSigned, signingCertBound, sig);

    // ---- SAV: cryptographic constraints ----
    if (signer) {
      let key: KeyObject | undefined;
      try { key = signer.publicKey; } catch { key = undefined; }
      const scheme = { key: method.scheme === 'RSA-PKCS1' ? 'RSA' : method.scheme === 'RSA-PSS' ? 'RSA-PSS' : method.scheme === 'ECDSA' ? 'EC' : 'DSA', digest: method.hash, name: signatureAlgorithm } as const;
      const v = cryptoConstraintViolation({ ...scheme }, key, policy, 'signature')
        ?? [...digestAlgs].map((d) => (policy.allowedDigests.includes(d) ? undefined : `reference digest ${d} is not allowed by the policy`)).find(Boolean);
      if (v) reject('crypto-constraints', 'SAV', 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE', v);
      else note('crypto-constraints', 'SAV', 'passed', `${signatureAlgorithm} with ${key ? describeKey(key) : '?'} is allowed`);
    }
    if (verdicts.some((v) => v.indication === 'TOTAL_FAILED') || !signer) return finish();

    // ---- TSV: signature timestamps and archive timestamps ----
    const usp = unsignedSignatureProperties(sig);
    if (usp) {
      let stamps = 0;
      for (const ts of childElements(usp)) {
        if (/TimeStamp$/.test(ts.localName ?? '') && ++stamps > 16) { note('signature-timestamp', 'TSV', 'warning', 'more than 16 timestamps: the rest are ignored'); break; }
        const isSigTs = ts.namespaceURI === NS.xades && ts.localName === 'SignatureTimeStamp';
        const isAts = (ts.namespaceURI === NS.xades141 || ts.namespaceURI === NS.xades) && ts.localName === 'ArchiveTimeStamp';
        if (!isSigTs && !isAts) continue;
        const tsC14n = c14nMethod(onlyChild(ts, NS.ds, 'CanonicalizationMethod')?.getAttribute('Algorithm') ?? C14N.c14n10);
        const tok = strictBase64(onlyChild(ts, NS.xades, 'EncapsulatedTimeStamp'));
        if (!tsC14n || !tok) { note('signature-timestamp', 'TSV', 'warning', `${ts.localName} ignored: unsupported canonicalization or no EncapsulatedTimeStamp`); continue; }
        let input: Uint8Array;
        try {
          input = isSigTs ? Buffer.from(canonicalize(sv, tsC14n), 'utf8') : xadesArchiveTimestampInput(sig, tsC14n, { doc, signature: sig, ids, ...(job.detached ? { detached: job.detached } : {}) }, ts);
        } catch (e) { note('signature-timestamp', 'TSV', 'warning', `${ts.localName} ignored: ${(e as Error).message}`); continue; }
        const r = await validateTimestampToken(tok, async (alg) => hashBytes(alg, input), certCtx, undefined);
        if (isSigTs) timestamps.push({ ...r, kind: 'signature-timestamp' });
        note(isSigTs ? 'signature-timestamp' : 'archive-timestamp', 'TSV', r.valid ? 'passed' : 'warning', r.valid ? r.message : `${ts.localName} ignored: ${r.message}`);
      }
    }
    if (!timestamps.length) note('signature-timestamp', 'TSV', 'info', 'no signature timestamp');
    const times = timestamps.filter((t) => t.valid && t.genTime).map((t) => t.genTime!.getTime());
    if (times.length) poe = new Date(Math.min(...times));

    // ---- XCV: certificate path, validity, revocation ----
    certValidation = await validateCertificate(signer, 'signature', certCtx, poe, policy.revocationRequired);
    for (const w of certValidation.warnings) note('certificate-chain', 'XCV', 'warning', w);
    if (certValidation.indication === 'TOTAL_PASSED') note('certificate-chain', 'XCV', 'passed', certValidation.message);
    else reject('certificate-chain', certValidation.subIndication === 'EXPIRED' || certValidation.subIndication === 'OUT_OF_BOUNDS_NO_POE' ? 'PSV' : 'XCV', certValidation.indication as Verdict['indication'], certValidation.subIndication!, certValidation.message);
  } catch (e) {
    reject('internal', 'FC', 'TOTAL_FAILED', 'FORMAT_FAILURE', `the signature could not be processed: ${(e as Error)?.message ?? String(e)}`);
  }
  return finish();
}

function levelOf(qp: Element | undefined, spSigned: boolean, certBound: boolean, sig: Element): SignatureLevel {
  if (!qp) return 'XMLDSIG';
  if (!spSigned || !certBound) return 'XAdES-NOT-BASELINE';
  const usp = unsignedSignatureProperties(sig);
  const has = (ns: string, n: string) => !!usp && childElements(usp, ns, n).length > 0;
  if (!has(NS.xades, 'SignatureTimeStamp')) return 'XAdES-BASELINE-B';
  if (!(has(NS.xades, 'CertificateValues') && has(NS.xades, 'RevocationValues'))) return 'XAdES-BASELINE-T';
  return has(NS.xades141, 'ArchiveTimeStamp') || has(NS.xades, 'ArchiveTimeStamp') ? 'XAdES-BASELINE-LTA' : 'XAdES-BASELINE-LT';
}

/** Verify an XMLDSig SignatureValue: RSA PKCS#1 v1.5, RSASSA-PSS (salt = hash length), ECDSA and DSA as r‖s. */
export function verifyXmlSignatureValue(scheme: string, hash: string, certDer: Uint8Array, data: Uint8Array, value: Uint8Array): boolean {
  const c = tryCert(certDer);
  if (!c) return false;
  const key = createPublicKey({ key: Buffer.from(c.cert.subjectPublicKeyInfo.toSchema().toBER(false)), format: 'der', type: 'spki' });
  const h = hash.replace('-', '').toLowerCase();
  const buf = Buffer.from(data);
  const sig = Buffer.from(value);
  if (scheme === 'ECDSA' || scheme === 'DSA') {
    if (key.asymmetricKeyType !== (scheme === 'ECDSA' ? 'ec' : 'dsa')) return false;
    return nodeVerify(h, buf, { key, dsaEncoding: 'ieee-p1363' }, sig);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return false;
  if (scheme === 'RSA-PSS') return nodeVerify(h, buf, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: ({ 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 } as Record<string, number>)[hash] ?? 32 }, sig);
  if (key.asymmetricKeyType !== 'rsa') return false;
  return nodeVerify(h, buf, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
}
