/**
 * A {@link CertificateIssuer} over a CA certificate and its private key held by this process (the demo's test
 * CA, or a deployment's issuing CA key given to the service). Issues end-entity signing certificates:
 * digitalSignature + nonRepudiation, subject/authority key identifiers, optional OCSP / CRL locations.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OIDS, pkijsSignatureAlgorithm, signBytes } from '@kyso/pki';
import type { CertificateIssuer, CertificateSubject } from './credentials.js';

export interface LocalCaOptions {
  /** The issuing CA certificate (DER). */
  caCertificate: Uint8Array;
  /** Its private key. */
  caKey: KeyObject;
  /** Certificates above the CA (DER, issuer first), appended to each issued chain. */
  chainAbove?: Uint8Array[];
  /** Validity of issued certificates in days [730]. */
  days?: number;
  ocspUrl?: string;
  crlUrl?: string;
}

const utf8 = (value: string) => new asn1js.Utf8String({ value });
function subjectName(s: CertificateSubject): pkijs.RelativeDistinguishedNames {
  const tv: pkijs.AttributeTypeAndValue[] = [new pkijs.AttributeTypeAndValue({ type: OIDS.countryName, value: new asn1js.PrintableString({ value: 'VN' }) })];
  if (s.organization) tv.push(new pkijs.AttributeTypeAndValue({ type: OIDS.organizationName, value: utf8(s.organization) }));
  if (s.organizationIdentifier) tv.push(new pkijs.AttributeTypeAndValue({ type: '2.5.4.97', value: utf8(s.organizationIdentifier) }));
  if (s.serialNumber) tv.push(new pkijs.AttributeTypeAndValue({ type: OIDS.serialNumber, value: new asn1js.PrintableString({ value: s.serialNumber }) }));
  tv.push(new pkijs.AttributeTypeAndValue({ type: OIDS.commonName, value: utf8(s.commonName) }));
  return new pkijs.RelativeDistinguishedNames({ typesAndValues: tv });
}
const ext = (extnID: string, critical: boolean, v: { toSchema(): asn1js.AsnType } | asn1js.AsnType) =>
  new pkijs.Extension({ extnID, critical, extnValue: ('toSchema' in v && typeof v.toSchema === 'function' ? v.toSchema() : v as asn1js.AsnType).toBER(false) });

export function localCaIssuer(opts: LocalCaOptions): CertificateIssuer {
  const ca = pkijs.Certificate.fromBER(new Uint8Array(opts.caCertificate));
  const caKeyId = new Uint8Array(createHash('sha1').update(ca.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest());
  return {
    async issue(spki, subject) {
      const cert = new pkijs.Certificate();
      cert.version = 2;
      const serial = new Uint8Array(randomBytes(16));
      serial[0] = (serial[0]! & 0x6f) | 0x10;
      cert.serialNumber = new asn1js.Integer({ valueHex: serial });
      const alg = pkijsSignatureAlgorithm(opts.caKey, { hash: 'SHA-256' });
      cert.signature = alg;
      cert.signatureAlgorithm = alg;
      cert.issuer = ca.subject;
      cert.subject = subjectName(subject);
      const now = Date.now();
      cert.notBefore = new pkijs.Time({ type: 0, value: new Date(Math.floor(now / 1000) * 1000 - 60_000) });
      cert.notAfter = new pkijs.Time({ type: 0, value: new Date(Math.floor(now / 1000) * 1000 + (opts.days ?? 730) * 86400_000) });
      cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
      const ski = new Uint8Array(createHash('sha1').update(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest());
      const ku = new asn1js.BitString({ valueHex: new Uint8Array([0xc0]), unusedBits: 6 }); // digitalSignature, nonRepudiation
      const exts = [
        ext(OIDS.basicConstraints, true, new asn1js.Sequence({ value: [] })),
        ext(OIDS.keyUsage, true, ku),
        ext(OIDS.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
        ext(OIDS.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: caKeyId }) })),
      ];
      if (opts.ocspUrl) exts.push(ext(OIDS.authorityInfoAccess, false, new pkijs.InfoAccess({ accessDescriptions: [new pkijs.AccessDescription({ accessMethod: OIDS.ocspAccess, accessLocation: new pkijs.GeneralName({ type: 6, value: opts.ocspUrl }) })] })));
      if (opts.crlUrl) exts.push(ext(OIDS.cRLDistributionPoints, false, new pkijs.CRLDistributionPoints({ distributionPoints: [new pkijs.DistributionPoint({ distributionPoint: [new pkijs.GeneralName({ type: 6, value: opts.crlUrl })] })] })));
      cert.extensions = exts;
      const tbs = cert.encodeTBS().toBER(false);
      cert.tbsView = new Uint8Array(tbs);
      cert.signatureValue = new asn1js.BitString({ valueHex: signBytes(opts.caKey, { hash: 'SHA-256' }, new Uint8Array(tbs)) });
      return [new Uint8Array(cert.toSchema(false).toBER(false)), new Uint8Array(opts.caCertificate), ...(opts.chainAbove ?? [])];
    },
  };
}
