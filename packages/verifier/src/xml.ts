/**
 * @kyso/verifier/xml — validation of XML signatures (XMLDSig, XAdES B-B … B-LTA, edXML) through the same report
 * model and policy as PDFs, and ETSI TS 119 612 trusted lists. The same names as `@kyso/verifier`'s XML half.
 *
 *   import { verifyXml } from '@kyso/verifier/xml';
 */
export * from './formats/xml/index.js';
