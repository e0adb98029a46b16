import * as pkijs from 'pkijs';
import { RevocationCache, defaultRevocationCache } from './cache.js';
import { PkiClientError } from './errors.js';
import { httpFetch } from './http.js';
import { pemToDerList } from './x509.js';

/** Download issuer certificates from an AIA caIssuers URL (DER certificate, PEM, or PKCS#7 certs-only). */
export async function fetchCaIssuers(url: string, opts: { timeoutMs?: number; cache?: RevocationCache | false } = {}): Promise<Uint8Array[]> {
  const run = async (): Promise<Uint8Array[]> => {
    const res = await httpFetch(url, { method: 'GET', timeoutMs: opts.timeoutMs ?? 10_000, maxBytes: 1024 * 1024 }, 'AIA');
    const b = res.body;
    if (b[0] === 0x2d) {
      const certs = pemToDerList(Buffer.from(b).toString('latin1'));
      if (certs.length) return certs;
    }
    try {
      const ci = pkijs.ContentInfo.fromBER(new Uint8Array(b));
      if (ci.contentType === '1.2.840.113549.1.7.2') {
        const sd = new pkijs.SignedData({ schema: ci.content });
        return (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate).map((c) => new Uint8Array(c.toSchema().toBER(false)));
      }
    } catch { /* not PKCS#7: try a certificate */ }
    try { pkijs.Certificate.fromBER(new Uint8Array(b)); return [b]; } catch (e) {
      throw new PkiClientError('AIA_BAD_RESPONSE', `AIA ${url}: neither a certificate nor PKCS#7 certificates`, { cause: e });
    }
  };
  if (opts.cache === false) return run();
  return (opts.cache ?? defaultRevocationCache).get(`aia|${url}`, run, () => 30 * 60_000);
}
