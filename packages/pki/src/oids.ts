/**
 * Object identifiers kyso uses across signer, verifier and the test PKI, by readable name.
 * (The clients in `./clients/` keep a few of these as separate constants too; the values are the same.)
 */
export const OIDS = {
  // hash algorithms
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // public key / signature algorithms
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  // name attributes
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  title: '2.5.4.12',
  givenName: '2.5.4.42',
  organizationIdentifier: '2.5.4.97',
  userId: '0.9.2342.19200300.100.1.1',
  emailAddress: '1.2.840.113549.1.9.1',
  // certificate extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  cRLReason: '2.5.29.21',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  qcStatements: '1.3.6.1.5.5.7.1.3',
  // access methods
  ocspAccess: '1.3.6.1.5.5.7.48.1',
  caIssuersAccess: '1.3.6.1.5.5.7.48.2',
  // extended key usages
  ekuServerAuth: '1.3.6.1.5.5.7.3.1',
  ekuClientAuth: '1.3.6.1.5.5.7.3.2',
  ekuEmailProtection: '1.3.6.1.5.5.7.3.4',
  ekuTimeStamping: '1.3.6.1.5.5.7.3.8',
  ekuOcspSigning: '1.3.6.1.5.5.7.3.9',
  ekuDocumentSigning: '1.3.6.1.5.5.7.3.36',
  ekuCodeSigning: '1.3.6.1.5.5.7.3.3',
  ekuAny: '2.5.29.37.0',
  /** Adobe Authentic Documents Trust (document signing). */
  ekuAdobeAuthenticDocuments: '1.2.840.113583.1.1.5',
  /** Microsoft Document Signing (szOID_KP_DOCUMENT_SIGNING). */
  ekuMsDocumentSigning: '1.3.6.1.4.1.311.10.3.12',
  // more certificate / CRL extensions
  nameConstraints: '2.5.29.30',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
  freshestCRL: '2.5.29.46',
  // more key / signature algorithms
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  dsa: '1.2.840.10040.4.1',
  // OCSP
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  // CMS / PKCS#9 / ESS
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  certificateValues: '1.2.840.113549.1.9.16.2.23',
  revocationValues: '1.2.840.113549.1.9.16.2.24',
  archiveTimeStampV3: '0.4.0.1733.2.4',
  adbeRevocationInfoArchival: '1.2.840.113583.1.1.8',
  /** RFC 5940 id-ri-ocsp-response (OtherRevocationInfoFormat). */
  otherRevInfoOcsp: '1.3.6.1.5.5.7.16.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  // PKCS#12
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  // kyso test PKI (under the IANA example enterprise number 32473, RFC 5612)
  kysoTestTsaPolicy: '1.3.6.1.4.1.32473.1.3161',
  kysoTestCertPolicy: '1.3.6.1.4.1.32473.1.1',
} as const;

/** Names of the OIDs above, for messages: `oidName('2.5.4.3') === 'commonName'`. */
export function oidName(oid: string): string {
  for (const [k, v] of Object.entries(OIDS)) if (v === oid) return k;
  return oid;
}

/** Digest algorithm names (WebCrypto style) that kyso can compute or at least name. */
export type DigestName = 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA3-256' | 'SHA3-384' | 'SHA3-512' | 'MD5' | 'SHAKE256';

/** Digest algorithm OIDs → names. */
export const DIGEST_OIDS: Record<string, DigestName> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
  '2.16.840.1.101.3.4.2.8': 'SHA3-256',
  '2.16.840.1.101.3.4.2.9': 'SHA3-384',
  '2.16.840.1.101.3.4.2.10': 'SHA3-512',
  '2.16.840.1.101.3.4.2.12': 'SHAKE256',
  '1.2.840.113549.2.5': 'MD5',
};

/** Key family of a signature algorithm. */
export type SignatureKeyType = 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA';

/** Signature algorithm OIDs → (key type, digest). `digest` undefined means "given by parameters / none". */
export const SIGNATURE_OIDS: Record<string, { key: SignatureKeyType; digest?: string }> = {
  '1.2.840.113549.1.1.1': { key: 'RSA' },
  '1.2.840.113549.1.1.4': { key: 'RSA', digest: 'MD5' },
  '1.2.840.113549.1.1.5': { key: 'RSA', digest: 'SHA-1' },
  '1.2.840.113549.1.1.14': { key: 'RSA', digest: 'SHA-224' },
  '1.2.840.113549.1.1.11': { key: 'RSA', digest: 'SHA-256' },
  '1.2.840.113549.1.1.12': { key: 'RSA', digest: 'SHA-384' },
  '1.2.840.113549.1.1.13': { key: 'RSA', digest: 'SHA-512' },
  '1.2.840.113549.1.1.10': { key: 'RSA-PSS' },
  '1.2.840.10045.2.1': { key: 'EC' },
  '1.2.840.10045.4.1': { key: 'EC', digest: 'SHA-1' },
  '1.2.840.10045.4.3.1': { key: 'EC', digest: 'SHA-224' },
  '1.2.840.10045.4.3.2': { key: 'EC', digest: 'SHA-256' },
  '1.2.840.10045.4.3.3': { key: 'EC', digest: 'SHA-384' },
  '1.2.840.10045.4.3.4': { key: 'EC', digest: 'SHA-512' },
  '2.16.840.1.101.3.4.3.10': { key: 'EC', digest: 'SHA3-256' },
  '1.3.101.112': { key: 'Ed25519' },
  '1.3.101.113': { key: 'Ed448' },
  '1.2.840.10040.4.3': { key: 'DSA', digest: 'SHA-1' },
  '2.16.840.1.101.3.4.3.2': { key: 'DSA', digest: 'SHA-256' },
};

const NODE_DIGEST: Record<string, string> = {
  'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512',
  'SHA3-256': 'sha3-256', 'SHA3-384': 'sha3-384', 'SHA3-512': 'sha3-512', 'MD5': 'md5', 'SHAKE256': 'shake256',
};

/**
 * Node's hash name for a WebCrypto-style digest name ("SHA-256" → "sha256", "SHA3-256" → "sha3-256").
 * (A table, not string surgery: the verifier's former rewrite turned "SHA-384" into "sha3-84".)
 */
export function nodeDigestName(alg: string): string {
  return NODE_DIGEST[alg.toUpperCase()] ?? alg.toLowerCase().replace(/^sha-(\d)/, 'sha$1');
}

/** CRLReason names by their ENUMERATED value (RFC 5280 §5.3.1). */
export const CRL_REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'] as const;

/** Name of a CRLReason value ("keyCompromise"), or the number as text. */
export function crlReasonName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : CRL_REASONS[code] ?? String(code);
}
