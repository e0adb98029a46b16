import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseSignerInfoFast } from '@kyso/pki';
import { children, readTlv, checkBerStructure } from '@kyso/pki';
import { makeMiniPki, addSignatureTimestamp } from './helpers/openssl-pki.js';

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
const ber = (b: { toSchema?: () => asn1js.BaseBlock; toBER?: (s?: boolean) => ArrayBuffer } | undefined) =>
  b ? hex((b.toBER ? b.toBER(false) : b.toSchema!().toBER(false))) : '';

/** SignerInfo DER slices of a CMS. */
function signerInfos(der: Uint8Array): Uint8Array[] {
  const ci = readTlv(der, 0)!;
  const sd = children(der, children(der, children(der, ci)![1]!)![0]!)!;
  return children(der, sd[sd.length - 1]!)!.map((t) => der.slice(t.start, t.end));
}

function summary(si: pkijs.SignerInfo) {
  const attrs = (a?: pkijs.SignedAndUnsignedAttributes) => a ? { enc: a.type === 0 ? hex(a.encodedValue) : '', list: a.attributes.map((x) => [x.type, x.values.map((v) => hex(v.toBER(false)))]) } : null;
  return {
    version: si.version,
    sid: si.sid instanceof pkijs.IssuerAndSerialNumber ? ['ias', ber(si.sid.issuer), hex(si.sid.serialNumber.valueBlock.valueHexView)] : ['ski', hex((si.sid as asn1js.Primitive).valueBlock.valueHexView)],
    digest: [si.digestAlgorithm.algorithmId, si.digestAlgorithm.algorithmParams ? hex((si.digestAlgorithm.algorithmParams as asn1js.BaseBlock).toBER(false)) : ''],
    sigAlg: [si.signatureAlgorithm.algorithmId, si.signatureAlgorithm.algorithmParams ? hex((si.signatureAlgorithm.algorithmParams as asn1js.BaseBlock).toBER(false)) : ''],
    signature: hex(si.signature.valueBlock.valueHexView),
    signed: attrs(si.signedAttrs),
    unsigned: attrs(si.unsignedAttrs),
  };
}

describe('verifier: CMS fast paths agree with the full ASN.1 parser', function () {
  this.timeout(60_000);

  it('SignerInfo fast parse equals pkijs on corpus and generated signatures (RSA, PSS, ECDSA, no signed attrs, timestamped)', async () => {
    const samples: Uint8Array[] = [];
    for (const f of ['pyhanko/pades-lta-dss-indirect-arrs-test.pdf', 'pyhanko/sig-no-signed-attrs.pdf', 'dss-pades/pades-ltv.pdf', 'node-signpdf/signed-once.pdf', 'dss-pades/pdf-signed-original.pdf']) {
      const text = readFileSync(join('/work/shared/corpus', f)).toString('latin1');
      for (const m of text.matchAll(/\/Contents\s*<([0-9A-Fa-f\s]+)>/g)) {
        let der = new Uint8Array(Buffer.from(m[1]!.replace(/\s/g, ''), 'hex'));
        const t = readTlv(der, 0);
        if (!t) continue;
        der = der.slice(0, t.end);
        samples.push(der);
      }
    }
    const pki = makeMiniPki();
    const data = join(pki.dir, 'x.txt');
    writeFileSync(data, 'x');
    samples.push(pki.signCms('good', data), pki.signCms('good', data, { pss: true }), pki.signCms('ec', data), pki.signCms('good', data, { noattr: true, cades: false }),
      await addSignatureTimestamp(pki.signCms('good', data), (v) => pki.timestamp(createHash('sha256').update(v).digest())));
    let compared = 0;
    for (const der of samples) {
      assert.equal(checkBerStructure(der), undefined);
      for (const bytes of signerInfos(der)) {
        const fast = parseSignerInfoFast(bytes);
        assert.ok(fast, 'fast path handles well-formed DER');
        const full = new pkijs.SignerInfo({ schema: asn1js.fromBER(bytes).result });
        assert.deepEqual(summary(fast), summary(full));
        compared++;
      }
    }
    assert.ok(compared >= 10, `${compared} SignerInfos compared`);
  });

  it('checkBerStructure rejects inconsistent lengths, trailing garbage and deep nesting; accepts BER indefinite length', () => {
    assert.match(checkBerStructure(Uint8Array.from([0x30, 0x03, 0x02, 0x01]))!, /past its container|truncated/);
    assert.match(checkBerStructure(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01, 0x07]))!, /after the CMS/);
    assert.equal(checkBerStructure(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01, 0x00, 0x00])), undefined);
    assert.equal(checkBerStructure(Uint8Array.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00])), undefined);
    assert.match(checkBerStructure(Uint8Array.from([0x30, 0x04, 0x02, 0x01, 0x01]))!, /.+/);
    const deep = new Uint8Array(200).map((_, i) => (i % 2 === 0 ? 0x30 : 0x80));
    assert.match(checkBerStructure(deep)!, /deep|unterminated/);
  });
});
