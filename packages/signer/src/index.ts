/**
 * @kyso/signer — creation of signatures: PAdES (ETSI EN 319 142-1, B-B … B-LTA) by incremental update only,
 * CAdES detached `.p7s`, key backends (PKCS#12, PEM, PKCS#11 / HSM, external) and two-step signing.
 *
 *   import { loadPkcs12File, signPdf } from '@kyso/signer';
 *   const backend = await loadPkcs12File('signer.p12', process.env.P12_PASSWORD!);
 *   await signPdf('in.pdf', 'out.pdf', { backend, level: 'B-T', tsaUrl: 'http://tsa.example/' });
 *
 * The public API is the union of two explicit lists, one per half, each of which can also be imported alone
 * (loading less): `@kyso/signer/pdf` (src/pdf.ts: PDF and CMS signing, keys) and `@kyso/signer/xml` (src/xml.ts →
 * xades/index.ts: XML signatures). A new public name is added to its half's list; anything not listed is internal
 * and may change without notice.
 */

/** PDF and CMS signing, key backends, two-step signing (also `@kyso/signer/pdf`). */
export * from './pdf.js';
/** XML signatures: XMLDSig and XAdES B-B … B-LTA, the safe parser and canonicalizer, edXML messages (also
 *  `@kyso/signer/xml`). */
export * from './xml.js';
