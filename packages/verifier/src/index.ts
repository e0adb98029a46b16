/**
 * @kyso/verifier: legal-validity validation of signed PDFs (PAdES / adbe.pkcs7.*) and CMS/CAdES after
 * ETSI EN 319 102-1, with reports as JSON (see report.schema.json), text and HTML.
 *
 *   const report = await verifyPdf('signed.pdf', { trustAnchors: [rootPem] });
 *   report.documentIndication  // 'TOTAL_PASSED' | 'INDETERMINATE' | 'TOTAL_FAILED'
 *
 * The public API is the union of two explicit lists, one per half, each of which can also be imported alone
 * (loading less): `@kyso/verifier/pdf` (src/pdf.ts: PDF and CMS validation, policy, reports) and
 * `@kyso/verifier/xml` (src/xml.ts → formats/xml/index.ts: XML signatures, trusted lists). A new public name is
 * added to its half's list; anything not listed is internal and may change without notice.
 */
/** PDF and CMS validation, policy, report model and renderers (also `@kyso/verifier/pdf`). */
export * from './pdf.js';
/** XML signatures (XMLDSig, XAdES B-B..B-LTA, edXML) through the same report model, and ETSI TS 119 612 trusted
 *  lists (also `@kyso/verifier/xml`). */
export * from './xml.js';
