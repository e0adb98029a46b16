import { createHash } from 'node:crypto';
import { copyFileSync, renameSync, unlinkSync, existsSync, appendFileSync } from 'node:fs';
import * as asn1js from 'asn1js';
import { IncrementalWriter, PdfArray, PdfDict, PdfName, type PdfObject, PdfReader, PdfRef, PdfStream, PdfString } from '@kyso/pdf';
import { CertInfo } from '@kyso/pki';
import { issuerAndSerial, parseSignedData } from '../crypto/cms/signed-data.js';
import { collectValidationData } from '../crypto/ltv/collect.js';
import { OID } from '../crypto/cms/oids.js';
import { editDict } from './edit.js';
import { PadesError } from './errors.js';
import { openForUpdate, tempPathFor } from './sign.js';
import { pdfDate } from './util.js';

/** Validation data for long-term validation (DER). */
export interface LtvData {
  certs: Uint8Array[];
  ocsps: Uint8Array[];
  crls: Uint8Array[];
}

/**
 * Source of revocation data for B-LT: given the certificates found in a signature (`chain`: the
 * signer certificate first, then the other CMS certificates) and those of its timestamp tokens,
 * returns the certificates, OCSP responses and CRLs to store. Default: the crypto layer's
 * `collectValidationData` (OCSP, CRL fallback, AIA for missing issuers).
 */
export type LtvProvider = (chain: Uint8Array[], timestampCerts: Uint8Array[]) => Promise<LtvData>;

/** The default LTV provider: `collectValidationData(chain, timestampCerts)` of the crypto layer. */
export const defaultLtvProvider: LtvProvider = async (chain, tsCerts) => {
  // strict: B-LT with missing revocation data is refused rather than written incomplete
  const vd = await collectValidationData(chain, tsCerts, { strict: true });
  return { certs: vd.certs, ocsps: vd.ocsps, crls: vd.crls };
};

/** A signature found in a PDF, as far as the DSS needs it. */
export interface PdfSignatureValue {
  fieldName: string;
  /** Decoded /Contents string, zero padding included. */
  contents: Uint8Array;
  /** The CMS without the trailing zero padding (DER length). */
  cms: Uint8Array;
  kind: 'signature' | 'document-timestamp';
}

/**
 * VRI key of a signature: upper-case hex SHA-1 of the /Contents string value as stored, zero
 * padding included (EN 319 142-1 §5.4.2 names "the signature's /Contents"; EU DSS hashes the
 * whole decoded string value the same way). Verifiers should also accept the key of the trimmed
 * DER, which some writers use.
 */
export function vriKey(contents: Uint8Array): string {
  return createHash('sha1').update(contents).digest('hex').toUpperCase();
}

/** Trims the zero padding after a DER SEQUENCE (returns the DER as long as its length says). */
export function trimDer(b: Uint8Array): Uint8Array {
  if (b.length < 2 || b[0] !== 0x30) return b;
  let len = b[1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4 || b.length < 2 + n) return b;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
    hdr = 2 + n;
  }
  return hdr + len <= b.length ? b.subarray(0, hdr + len) : b;
}

/** Signatures (and document timestamps) of a PDF with their /Contents values. */
export function listSignatureValues(reader: PdfReader): PdfSignatureValue[] {
  const out: PdfSignatureValue[] = [];
  for (const f of reader.fields()) {
    if (f.fieldType !== 'Sig') continue;
    const v = reader.dict(f.dict.get('V'));
    const c = v ? reader.resolve(v.get('Contents')) : undefined;
    if (!v || !(c instanceof PdfString)) continue;
    out.push({ fieldName: f.fullName, contents: c.bytes, cms: trimDer(c.bytes), kind: v.getName('Type') === 'DocTimeStamp' || v.getName('SubFilter') === 'ETSI.RFC3161' ? 'document-timestamp' : 'signature' });
  }
  return out;
}

/**
 * Certificates carried by a CMS (`chain`, the signer's certificate — matched by the SignerInfo's
 * issuer and serial — first) and by the timestamp tokens in its unsigned attributes (`timestamp`).
 */
export function certificatesOfCms(cms: Uint8Array): { chain: Uint8Array[]; timestamp: Uint8Array[] } {
  const p = parseSignedData(cms);
  const sid = Buffer.from(p.sid);
  const chain = [...p.certificates];
  const signerIdx = chain.findIndex((c) => {
    try {
      const ci = new CertInfo(c);
      return Buffer.from(issuerAndSerial(ci.issuerDer, ci.serialDer)).equals(sid);
    } catch {
      return false;
    }
  });
  if (signerIdx > 0) chain.unshift(...chain.splice(signerIdx, 1));
  const out: Uint8Array[] = [];
  for (const a of p.unsignedAttrs) {
    try {
      const seq = asn1js.fromBER(a).result as asn1js.Sequence;
      const [type, values] = seq.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Set];
      if (type.valueBlock.toString() !== OID.signatureTimeStampToken) continue;
      for (const tok of values.valueBlock.value) out.push(...parseSignedData(new Uint8Array(tok.toBER())).certificates);
    } catch {
      /* not a token we can read */
    }
  }
  return { chain, timestamp: out };
}

const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** What to put into the DSS: global data and per-signature VRI entries. */
export interface DssContent {
  certs?: Uint8Array[];
  ocsps?: Uint8Array[];
  crls?: Uint8Array[];
  /** Per-signature entries keyed by the signature's /Contents value (zero padding included). */
  vri?: { contents: Uint8Array; certs?: Uint8Array[]; ocsps?: Uint8Array[]; crls?: Uint8Array[]; time?: Date }[];
}

/**
 * Builds the DSS update (catalog /DSS with /Certs, /OCSPs, /CRLs streams and /VRI entries), merged
 * with an existing DSS; identical items are stored once. Returns the writer, ready to build.
 */
export function buildDssUpdate(reader: PdfReader, content: DssContent): IncrementalWriter {
  const w = new IncrementalWriter(reader);
  const catalog = editDict(w, reader.catalogRef);
  const old = reader.dict(catalog.get('DSS'));
  const dss = new PdfDict({ Type: PdfName.of('DSS') });
  const known = new Map<string, PdfRef>();
  const arrays: Record<'Certs' | 'OCSPs' | 'CRLs', PdfObject[]> = { Certs: [], OCSPs: [], CRLs: [] };
  for (const key of ['Certs', 'OCSPs', 'CRLs'] as const) {
    for (const item of reader.array(old?.get(key))?.items ?? []) {
      arrays[key].push(item);
      if (item instanceof PdfRef) {
        const s = reader.getObject(item);
        if (s instanceof PdfStream) {
          try {
            known.set(sha256hex(s.decode(16 * 1024 * 1024)), item);
          } catch {
            /* keep it, undecodable */
          }
        }
      }
    }
  }
  const put = (data: Uint8Array, key: 'Certs' | 'OCSPs' | 'CRLs'): PdfRef => {
    const h = sha256hex(data);
    let ref = known.get(h);
    if (!ref) {
      ref = w.add(new PdfStream(new PdfDict(), data));
      known.set(h, ref);
      arrays[key].push(ref);
    } else if (!arrays[key].some((x) => x instanceof PdfRef && x.num === ref!.num)) arrays[key].push(ref);
    return ref;
  };
  for (const c of content.certs ?? []) put(c, 'Certs');
  for (const c of content.ocsps ?? []) put(c, 'OCSPs');
  for (const c of content.crls ?? []) put(c, 'CRLs');
  const vri = reader.dict(old?.get('VRI'))?.clone() ?? new PdfDict();
  for (const v of content.vri ?? []) {
    const e = new PdfDict();
    const certs = (v.certs ?? []).map((c) => put(c, 'Certs'));
    const ocsps = (v.ocsps ?? []).map((c) => put(c, 'OCSPs'));
    const crls = (v.crls ?? []).map((c) => put(c, 'CRLs'));
    if (certs.length) e.set('Cert', new PdfArray(certs));
    if (ocsps.length) e.set('OCSP', new PdfArray(ocsps));
    if (crls.length) e.set('CRL', new PdfArray(crls));
    e.set('TU', PdfString.fromText(pdfDate(v.time ?? new Date())));
    vri.set(vriKey(v.contents), e);
  }
  for (const key of ['Certs', 'OCSPs', 'CRLs'] as const) if (arrays[key].length) dss.set(key, new PdfArray(arrays[key]));
  if (vri.map.size) dss.set('VRI', vri);
  catalog.set('DSS', w.add(dss));
  // PAdES extension marker (ISO 32000-1 extension for DSS/DocTimeStamp).
  const ext = reader.dict(catalog.get('Extensions'))?.clone() ?? new PdfDict();
  if (!ext.has('ESIC')) ext.set('ESIC', new PdfDict({ BaseVersion: PdfName.of('1.7'), ExtensionLevel: 1 }));
  catalog.set('Extensions', ext);
  return w;
}

/** Options of `addDss` / `addDssInPlace`. */
export interface AddDssOptions {
  /** Where the revocation data comes from. */
  ltv?: LtvProvider;
  /** Data to add as is (used together with, or instead of, `ltv`). */
  content?: DssContent;
  /** Only these signatures (field names); default: every signature without a VRI entry. */
  fields?: string[];
  /** Password of an encrypted PDF. */
  pdfPassword?: string;
}

/** Adds a DSS revision to `path` itself (used on kyso's own temp files). */
export async function addDssInPlace(path: string, opts: AddDssOptions): Promise<void> {
  const reader = openForUpdate(path, opts.pdfPassword);
  try {
    const content: DssContent = { ...(opts.content ?? {}), vri: [...(opts.content?.vri ?? [])] };
    const existingVri = reader.dict(reader.dict(reader.catalog.get('DSS'))?.get('VRI'));
    const sigs = listSignatureValues(reader).filter((s) => (opts.fields ? opts.fields.includes(s.fieldName) : !existingVri?.has(vriKey(s.contents))));
    const ltv = opts.ltv ?? (opts.content ? undefined : defaultLtvProvider);
    if (ltv) {
      // Issuer candidates: every certificate of every signature and of the existing DSS (a document
      // timestamp token often carries only the TSA certificate).
      const pool = new Map<string, Uint8Array>();
      const addPool = (c: Uint8Array): void => { pool.set(sha256hex(c), c); };
      for (const s of listSignatureValues(reader)) {
        try {
          const c = certificatesOfCms(s.cms);
          [...c.chain, ...c.timestamp].forEach(addPool);
        } catch {
          /* unreadable CMS: not a source of issuers */
        }
      }
      for (const x of reader.array(reader.dict(reader.catalog.get('DSS'))?.get('Certs'))?.items ?? []) {
        const st = reader.resolve(x);
        if (st instanceof PdfStream) {
          try {
            addPool(st.decode(1 << 20));
          } catch {
            /* skip */
          }
        }
      }
      for (const s of sigs) {
        let certs: { chain: Uint8Array[]; timestamp: Uint8Array[] };
        try {
          certs = certificatesOfCms(s.cms);
        } catch (err) {
          throw new PadesError('LTV_FAILED', `cannot read the CMS of ${s.fieldName}: ${(err as Error).message}`);
        }
        let data: LtvData;
        try {
          const mine = new Set(certs.chain.map(sha256hex));
          data = await ltv([...certs.chain, ...[...pool.entries()].filter(([h]) => !mine.has(h)).map(([, c]) => c)], certs.timestamp);
        } catch (err) {
          throw new PadesError('LTV_FAILED', `revocation data for ${s.fieldName} could not be collected: ${(err as Error).message}`, { cause: err });
        }
        content.vri!.push({ contents: s.contents, certs: data.certs, ocsps: data.ocsps, crls: data.crls });
      }
    }
    const w = buildDssUpdate(reader, content);
    const u = w.build();
    reader.close();
    appendFileSync(path, u.bytes);
  } finally {
    reader.close();
  }
}

/** Adds a DSS revision: `input` → `output` (through a temp file renamed on success). */
export async function addDss(input: string, output: string, opts: AddDssOptions): Promise<void> {
  const tmp = tempPathFor(output);
  try {
    copyFileSync(input, tmp);
    await addDssInPlace(tmp, opts);
    renameSync(tmp, output);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
}
