import type { KeyBackend } from '../keys/types.js';
import { finalizeCms, prepareCms, type FinalizeCmsOptions, type PrepareCmsOptions } from './two-step.js';
import { addSignatureTimestamp, type SignatureTimestampOptions } from './timestamp.js';

/** Options of {@link buildCms}: prepare options without the certificate (the backend has it). */
export interface BuildCmsOptions extends Omit<PrepareCmsOptions, 'certificate' | 'chain'>, FinalizeCmsOptions {
  backend: KeyBackend;
  /** Chain to embed; default the backend's chain. */
  chain?: Uint8Array[];
  /** Add an RFC 3161 signature timestamp (CAdES/PAdES B-T). */
  timestamp?: SignatureTimestampOptions;
}

/** One-shot CAdES-BES detached CMS (optionally with a signature timestamp): prepare → backend.sign → finalize. */
export async function buildCms(opts: BuildCmsOptions): Promise<Uint8Array> {
  const { backend, timestamp, certificates, crls, ocsps, unsignedAttributes, verify, chain, ...prep } = opts;
  const prepared = prepareCms({ ...prep, certificate: backend.certificate, chain: chain ?? backend.chain });
  const sig = await backend.sign({ data: prepared.toBeSigned, digest: prepared.digestToSign }, prepared.signatureAlgorithm);
  let cms = finalizeCms(prepared.state, sig, {
    ...(certificates ? { certificates } : {}), ...(crls ? { crls } : {}), ...(ocsps ? { ocsps } : {}),
    ...(unsignedAttributes ? { unsignedAttributes } : {}), ...(verify !== undefined ? { verify } : {}),
  });
  if (timestamp) cms = await addSignatureTimestamp(cms, timestamp);
  return cms;
}
