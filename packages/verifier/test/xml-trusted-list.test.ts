import assert from 'node:assert/strict';
import { loadPemFiles, signXml, type KeyBackend } from '@kyso/signer';
import { loadTrustedList, verifyXml, withTrustedList, TSL_NS, VerifierError } from '@kyso/verifier';
import { localPki } from '../../signer/test/crypto-testpki.js';
import { xmlsecVerify } from '../../signer/test/xades-helpers.js';

const der = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

/** A minimal ETSI TS 119 612 list with one provider and the given services. */
function tl(services: { type: string; status: string; cert: Uint8Array }[], nextUpdate: Date): string {
  const svc = services.map((s) => `<tsl:TSPService><tsl:ServiceInformation><tsl:ServiceTypeIdentifier>${s.type}</tsl:ServiceTypeIdentifier>`
    + `<tsl:ServiceName><tsl:Name xml:lang="en">Test CA</tsl:Name></tsl:ServiceName><tsl:ServiceDigitalIdentity><tsl:DigitalId><tsl:X509Certificate>${Buffer.from(s.cert).toString('base64')}</tsl:X509Certificate></tsl:DigitalId></tsl:ServiceDigitalIdentity>`
    + `<tsl:ServiceStatus>${s.status}</tsl:ServiceStatus><tsl:StatusStartingTime>2020-01-01T00:00:00Z</tsl:StatusStartingTime></tsl:ServiceInformation></tsl:TSPService>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<tsl:TrustServiceStatusList xmlns:tsl="${TSL_NS}" Id="tsl" TSLTag="http://uri.etsi.org/19612/TSLTag"><tsl:SchemeInformation>`
    + `<tsl:TSLVersionIdentifier>5</tsl:TSLVersionIdentifier><tsl:TSLSequenceNumber>7</tsl:TSLSequenceNumber><tsl:TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</tsl:TSLType>`
    + `<tsl:SchemeOperatorName><tsl:Name xml:lang="vi">Bộ TT&amp;TT (thử nghiệm)</tsl:Name></tsl:SchemeOperatorName><tsl:ListIssueDateTime>2026-01-01T00:00:00Z</tsl:ListIssueDateTime>`
    + `<tsl:NextUpdate><tsl:dateTime>${nextUpdate.toISOString()}</tsl:dateTime></tsl:NextUpdate></tsl:SchemeInformation>`
    + `<tsl:TrustServiceProviderList><tsl:TrustServiceProvider><tsl:TSPInformation><tsl:TSPName><tsl:Name xml:lang="en">kyso test TSP</tsl:Name></tsl:TSPName></tsl:TSPInformation>`
    + `<tsl:TSPServices>${svc}</tsl:TSPServices></tsl:TrustServiceProvider></tsl:TrustServiceProviderList></tsl:TrustServiceStatusList>\n`;
}

describe('trusted lists (ETSI TS 119 612): anchors only from a list whose own signature verifies', function () {
  this.timeout(60_000);
  const pki = localPki();
  const GRANTED = 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted';
  const WITHDRAWN = 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn';
  const CAQC = 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC';
  let tlSigner: KeyBackend;
  let docSigner: KeyBackend;
  let signedDoc: Uint8Array;
  const future = new Date(Date.now() + 30 * 86400_000);
  before(async () => {
    tlSigner = await loadPemFiles({ keyPath: pki.leaves.ec256.keyPath, certPath: pki.leaves.ec256.certPath });
    docSigner = await loadPemFiles({ keyPath: pki.leaves.rsa.keyPath, certPath: pki.leaves.rsa.certPath });
    signedDoc = await signXml('<hoSo xmlns="urn:x">1</hoSo>', { backend: docSigner });
  });

  it('a signed list (xmlsec1 agrees) gives the granted CA as anchor; documents then validate TOTAL_PASSED', async () => {
    const list = await signXml(tl([{ type: CAQC, status: GRANTED, cert: der(pki.rootPem) }], future), { backend: tlSigner });
    assert.ok(xmlsecVerify(list, pki.rootPath).ok);
    const loaded = await loadTrustedList(list, { signers: [tlSigner.certificate] });
    assert.equal(loaded.anchors.length, 1);
    assert.equal(loaded.operator, 'Bộ TT&TT (thử nghiệm)');
    assert.equal(loaded.sequenceNumber, '7');
    assert.equal((await verifyXml(signedDoc, { revocationRequired: false })).signatures[0]!.subIndication, 'NO_CERTIFICATE_CHAIN_FOUND');
    const policy = await withTrustedList({ revocationRequired: false }, list, { signers: [tlSigner.certificate] });
    assert.equal((await verifyXml(signedDoc, policy)).documentIndication, 'TOTAL_PASSED');
  });

  it('refused: a tampered list, a list signed by someone else, a stale list; a withdrawn service is no anchor', async () => {
    const list = Buffer.from(await signXml(tl([{ type: CAQC, status: GRANTED, cert: der(pki.rootPem) }], future), { backend: tlSigner })).toString();
    const tampered = list.replace('kyso test TSP', 'kyso evil TSP');
    await assert.rejects(loadTrustedList(Buffer.from(tampered), { signers: [tlSigner.certificate] }), (e: unknown) => e instanceof VerifierError && e.code === 'TRUSTED_LIST_INVALID');
    await assert.rejects(loadTrustedList(Buffer.from(list), { signers: [docSigner.certificate] }), (e: unknown) => e instanceof VerifierError && /not valid/.test(e.message));
    const stale = await signXml(tl([{ type: CAQC, status: GRANTED, cert: der(pki.rootPem) }], new Date(Date.now() - 86400_000)), { backend: tlSigner });
    await assert.rejects(loadTrustedList(stale, { signers: [tlSigner.certificate] }), /stale/);
    const withdrawn = await signXml(tl([{ type: CAQC, status: WITHDRAWN, cert: der(pki.rootPem) }], future), { backend: tlSigner });
    assert.equal((await loadTrustedList(withdrawn, { signers: [tlSigner.certificate] })).anchors.length, 0);
    // a list signed only over one element (not the whole list) is refused
    const partial = await signXml(tl([{ type: CAQC, status: GRANTED, cert: der(pki.rootPem) }], future).replace('<tsl:SchemeInformation>', '<tsl:SchemeInformation Id="si">'), { backend: tlSigner, references: [{ id: 'si' }] });
    await assert.rejects(loadTrustedList(partial, { signers: [tlSigner.certificate] }), /whole list/);
  });
});
