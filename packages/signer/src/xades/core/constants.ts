/** Namespaces and algorithm identifiers of XML Signature (XMLDSig 1.0/1.1), XAdES 1.3.2/1.4.1 and C14N. */

export const NS = {
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  ds11: 'http://www.w3.org/2009/xmldsig11#',
  dsmore: 'http://www.w3.org/2007/05/xmldsig-more#',
  xades: 'http://uri.etsi.org/01903/v1.3.2#',
  xades141: 'http://uri.etsi.org/01903/v1.4.1#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

/** Canonicalization method URIs. */
export const C14N = {
  c14n10: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  c14n10Comments: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  c14n11: 'http://www.w3.org/2006/12/xml-c14n11',
  c14n11Comments: 'http://www.w3.org/2006/12/xml-c14n11#WithComments',
  exc: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  excComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
} as const;

/** Short names accepted by the API and CLI for canonicalization methods. */
export const C14N_NAMES: Record<string, string> = {
  'c14n': C14N.c14n10, 'c14n-with-comments': C14N.c14n10Comments,
  'c14n11': C14N.c14n11, 'c14n11-with-comments': C14N.c14n11Comments,
  'exc-c14n': C14N.exc, 'exc-c14n-with-comments': C14N.excComments,
};

/** Transforms besides canonicalization that kyso accepts (the allow-list; no XSLT, no XPath). */
export const TRANSFORM = {
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  base64: 'http://www.w3.org/2000/09/xmldsig#base64',
  /** XPath Filter 2.0: accepted only as Filter="subtract" of //ds:Signature (every signature left out). */
  xpath2: 'http://www.w3.org/2002/06/xmldsig-filter2',
} as const;

/** Digest method URIs by hash name. */
export const DIGEST_URI: Record<string, string> = {
  'SHA-1': 'http://www.w3.org/2000/09/xmldsig#sha1',
  'SHA-256': 'http://www.w3.org/2001/04/xmlenc#sha256',
  'SHA-384': 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'SHA-512': 'http://www.w3.org/2001/04/xmlenc#sha512',
};

/** Hash name of a digest method URI. */
export const DIGEST_BY_URI: Record<string, string> = Object.fromEntries(Object.entries(DIGEST_URI).map(([k, v]) => [v, k]));

/** A signature method: scheme and hash. */
export interface SignatureMethodInfo { scheme: 'RSA-PKCS1' | 'RSA-PSS' | 'ECDSA' | 'DSA'; hash: string }

/** Signature method URIs (RSA PKCS#1 v1.5, RSASSA-PSS with MGF1 per RFC 6931, ECDSA, and DSA for old vectors). */
export const SIGNATURE_METHODS: Record<string, SignatureMethodInfo> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': { scheme: 'RSA-PKCS1', hash: 'SHA-1' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { scheme: 'RSA-PKCS1', hash: 'SHA-256' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { scheme: 'RSA-PKCS1', hash: 'SHA-384' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { scheme: 'RSA-PKCS1', hash: 'SHA-512' },
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1': { scheme: 'RSA-PSS', hash: 'SHA-256' },
  'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1': { scheme: 'RSA-PSS', hash: 'SHA-384' },
  'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1': { scheme: 'RSA-PSS', hash: 'SHA-512' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1': { scheme: 'ECDSA', hash: 'SHA-1' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { scheme: 'ECDSA', hash: 'SHA-256' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { scheme: 'ECDSA', hash: 'SHA-384' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { scheme: 'ECDSA', hash: 'SHA-512' },
  'http://www.w3.org/2000/09/xmldsig#dsa-sha1': { scheme: 'DSA', hash: 'SHA-1' },
  'http://www.w3.org/2009/xmldsig11#dsa-sha256': { scheme: 'DSA', hash: 'SHA-256' },
};

/** The signature method URI for a scheme and hash (signing side: no SHA-1, no DSA). */
export function signatureMethodUri(scheme: 'RSA-PKCS1' | 'RSA-PSS' | 'ECDSA', hash: string): string {
  for (const [uri, m] of Object.entries(SIGNATURE_METHODS)) if (m.scheme === scheme && m.hash === hash) return uri;
  throw new Error(`no XML signature method for ${scheme}/${hash}`);
}

/** Reference Type of XAdES SignedProperties. */
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';
