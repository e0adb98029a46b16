/** XML signatures: XMLDSig and XAdES baseline B-B/B-T/B-LT/B-LTA, the canonicalizer and the safe parser. */
export * from './core/constants.js';
export * from './core/errors.js';
export * from './core/parse.js';
export * from './core/c14n.js';
export * from './core/dom.js';
export * from './core/reference.js';
export * from './core/archive.js';
export * from './sign.js';
export { locateEndTag, type EndTagPosition } from './locate.js';
export * from './edxml.js';
export * from './core/model.js';
export * from './core/stream-tree.js';
