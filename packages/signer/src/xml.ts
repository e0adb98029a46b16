/**
 * @kyso/signer/xml — XML signatures only: XMLDSig and XAdES B-B … B-LTA (enveloped, enveloping, detached;
 * two-step), the safe parser and canonicalizer, and edXML messages (QCVN 102:2016). The same names as
 * `@kyso/signer`, without the PDF signer.
 *
 *   import { signXml } from '@kyso/signer/xml';
 */
export * from './xades/index.js';
