/**
 * `@kyso/signer/xml`: the XML signatures (XMLDSig, XAdES, edXML) and the key backends, without the PDF signer —
 * what `kyso xml` loads (a smaller start than the whole package). Everything here is also exported by the package root.
 */
export * from './xades/index.js';
export { openKeyBackend, type KeySource } from './crypto/keys/open.js';
export { type KeyBackend } from './crypto/keys/types.js';
export type { HashName, SignatureAlgorithm } from '@kyso/pki';
