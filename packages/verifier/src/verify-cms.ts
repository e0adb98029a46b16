import { readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { resolvePolicy, type Policy } from './policy.js';
import { buildCertContext } from './context.js';
import { validateSignature } from './validate-signature.js';
import { adobeRevocationInfo, cadesValidationValues, parseSignedData } from '@kyso/pki';
import { documentVerdict, type SignatureReport, type ValidationReport } from './report/model.js';
import { nodeDigestName as nodeHashName, pemToDerList as pemBlocks } from '@kyso/pki';
import type { Fetcher } from './util/fetch.js';
import { VALIDATOR } from './version.js';

/** Options shared by verifyPdf / verifyCms. */
export interface VerifyOptions {
  /** Name shown in the report's `file` (default: the path's base name, or "input"). */
  name?: string;
  /** Replace the network access (tests, services with their own HTTP client). */
  fetcher?: Fetcher;
  /** Extra validation data supplied by the caller (DER): certificates, CRLs, OCSP responses. */
  validationData?: { certs?: Uint8Array[]; crls?: Uint8Array[]; ocsps?: Uint8Array[] };
}

function pemOrDer(b: Uint8Array): Uint8Array {
  const head = Buffer.from(b.subarray(0, 64)).toString('latin1');
  if (head.includes('-----BEGIN')) {
    const text = Buffer.from(b).toString('latin1');
    const blocks = [...pemBlocks(text, 'PKCS7'), ...pemBlocks(text, 'CMS')];
    if (blocks[0]) return blocks[0];
  }
  return b;
}

/** Content provider over a file path (streamed digests) or bytes. */
function contentOf(data: Uint8Array | string): { digest(alg: string): Promise<Uint8Array>; bytes(): Promise<Uint8Array> } {
  const cache = new Map<string, Promise<Uint8Array>>();
  return {
    digest(alg) {
      let p = cache.get(alg);
      if (!p) {
        p = typeof data === 'string'
          ? new Promise<Uint8Array>((res, rej) => {
              const h = createHash(nodeHashName(alg));
              createReadStream(data).on('data', (c) => h.update(c)).on('error', rej).on('end', () => res(new Uint8Array(h.digest())));
            })
          : Promise.resolve(new Uint8Array(createHash(nodeHashName(alg)).update(data).digest()));
        cache.set(alg, p);
      }
      return p;
    },
    bytes: async () => (typeof data === 'string' ? new Uint8Array(await readFile(data)) : data),
  };
}

/**
 * Validates a CMS / CAdES signature (`.p7s`, DER or PEM) over `data` (bytes or a file path; omit for a CMS that
 * encapsulates its content). Every SignerInfo is reported as one signature. Never throws on hostile input.
 */
export async function verifyCms(p7s: Uint8Array | string, data: Uint8Array | string | undefined, policy: Policy = {}, opts: VerifyOptions = {}): Promise<ValidationReport> {
  const resolved = resolvePolicy(policy);
  const file = opts.name ?? (typeof p7s === 'string' ? basename(p7s) : 'input.p7s');
  const report: ValidationReport = {
    file, documentIndication: 'INDETERMINATE', documentSubIndication: null, format: 'CMS',
    validationTime: resolved.validationTime.toISOString(), signatures: [], findings: [], validator: VALIDATOR,
  };
  let der: Uint8Array;
  let dataSize: number | undefined;
  try {
    der = pemOrDer(typeof p7s === 'string' ? new Uint8Array(await readFile(p7s)) : p7s);
    if (data !== undefined) dataSize = typeof data === 'string' ? (await stat(data)).size : data.length;
  } catch (e) {
    report.findings.push({ code: 'INPUT_UNREADABLE', severity: 'error', message: (e as Error).message });
    const d = documentVerdict([], report.findings);
    return { ...report, documentIndication: d.indication, documentSubIndication: d.subIndication };
  }
  const extra = { certs: [] as Uint8Array[], ocsps: [] as Uint8Array[], crls: [] as Uint8Array[] };
  let signerCount = 1;
  try {
    const cms = parseSignedData(der);
    extra.certs.push(...cms.certificates);
    extra.ocsps.push(...cms.ocsps);
    extra.crls.push(...cms.crls);
    for (const si of cms.signedData.signerInfos) {
      const a = adobeRevocationInfo(si.signedAttrs);
      extra.ocsps.push(...a.ocsps);
      extra.crls.push(...a.crls);
      const v = cadesValidationValues(si.unsignedAttrs);
      extra.certs.push(...v.certs);
      extra.ocsps.push(...v.ocsps);
      extra.crls.push(...v.crls);
    }
    signerCount = cms.signedData.signerInfos.length;
  } catch {
    // The pipeline reports the FORMAT_FAILURE with its reason.
  }
  extra.certs.push(...(opts.validationData?.certs ?? []));
  extra.crls.push(...(opts.validationData?.crls ?? []));
  extra.ocsps.push(...(opts.validationData?.ocsps ?? []));
  const certCtx = buildCertContext(resolved, extra, opts.fetcher);
  const content = data === undefined ? undefined : contentOf(data);
  const sigs: SignatureReport[] = [];
  for (let i = 0; i < signerCount; i++) {
    const job = { field: `signerInfo[${i}]`, kind: 'signature' as const, format: 'CMS' as const, cmsDer: der, ...(content ? { content } : {}), signerIndex: i, ...(dataSize !== undefined ? { dataSize } : {}) };
    sigs.push(await validateSignature(job, resolved, certCtx));
  }
  report.signatures = sigs;
  const d = documentVerdict(sigs, report.findings);
  report.documentIndication = d.indication;
  report.documentSubIndication = d.subIndication;
  return report;
}
