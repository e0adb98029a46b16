/** OIDs used by the CMS / CAdES builder. */
export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  ocspResponseRevInfo: '1.3.6.1.5.5.7.16.2',
  /** id-aa-ets-archiveTimestampV3 (ETSI EN 319 122-1). */
  archiveTimeStampV3: '0.4.0.1733.2.4',
  /** id-aa-ATSHashIndex-v3 (ETSI EN 319 122-1 5.5.2). */
  atsHashIndexV3: '0.4.0.19122.1.5',
} as const;
