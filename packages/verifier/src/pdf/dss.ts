/** Reads the Document Security Store (catalog /DSS) of the latest revision. */
import type { PdfDss } from './types.js';
import type { PdfHistory } from '@kyso/pdf';
import { PdfStream, PdfString } from '@kyso/pdf';
import { parsePdfDate } from './contents.js';

const MAX_ITEMS = 10000;
const MAX_ITEM_BYTES = 16 * 1024 * 1024;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

export function readDss(doc: PdfHistory): PdfDss | undefined {
  const last = doc.revisions.length - 1;
  const dss = doc.dict(doc.catalog(last)?.get('DSS'), last);
  if (!dss) return undefined;
  let total = 0;
  const streams = (o: unknown, where: string): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (const x of doc.array(o as never, last).slice(0, MAX_ITEMS)) {
      if (total > MAX_TOTAL_BYTES) {
        doc.finding('DSS_TOO_LARGE', 'warning', `DSS content beyond ${MAX_TOTAL_BYTES} bytes ignored`);
        break;
      }
      const s = doc.resolve(x, last);
      if (!(s instanceof PdfStream)) continue;
      const data = doc.tryStreamData(s, `${where} ${x}`, MAX_ITEM_BYTES);
      if (data) {
        total += data.length;
        out.push(data);
      }
    }
    return out;
  };
  const result: PdfDss = { certs: streams(dss.get('Certs'), 'DSS /Certs'), ocsps: streams(dss.get('OCSPs'), 'DSS /OCSPs'), crls: streams(dss.get('CRLs'), 'DSS /CRLs'), vri: {} };
  const vri = doc.dict(dss.get('VRI'), last);
  if (vri) {
    let n = 0;
    for (const [key, v] of vri.map) {
      if (++n > MAX_ITEMS) break;
      const e = doc.dict(v, last);
      if (!e) continue;
      const entry: PdfDss['vri'][string] = { certs: streams(e.get('Cert'), `VRI ${key} /Cert`), ocsps: streams(e.get('OCSP'), `VRI ${key} /OCSP`), crls: streams(e.get('CRL'), `VRI ${key} /CRL`) };
      const tu = doc.resolve(e.get('TU'), last);
      if (tu instanceof PdfString) {
        const t = parsePdfDate(tu.text());
        if (t) entry.time = t;
      }
      result.vri[key.toUpperCase()] = entry;
    }
  }
  return result;
}
