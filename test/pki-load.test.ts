import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestPki, loadTestPki, startFixtureServers, type TestPkiManifest } from '@kyso/fixtures';
import { children, decodeOid, readOne, readTlv, DerError } from '../fixtures/src/der-reader.js';

describe('test PKI: loading bad PKI directories, strict DER reader', function () {
  this.timeout(30_000);
  let work: string;
  let src: string;
  before(async () => {
    src = (await getTestPki()).dir;
    work = mkdtempSync(join(tmpdir(), 'kyso-pki-load-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const copy = (name: string, edit: (m: TestPkiManifest) => void): string => {
    const dir = join(work, name);
    cpSync(src, dir, { recursive: true });
    const p = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(p, 'utf8')) as TestPkiManifest;
    edit(m);
    writeFileSync(p, JSON.stringify(m));
    return dir;
  };
  const code = (c: string) => (e: Error & { code?: string }) => e.name === 'FixtureError' && e.code === c;

  it('loads an intact copy', async () => {
    const pki = await loadTestPki(copy('ok', () => undefined));
    assert.equal(pki.identities.citizen1.certPem, (await getTestPki()).identities.citizen1.certPem);
  });

  it('rejects a missing directory, non-JSON, missing identities, escaping paths, wrong passwords with PKI_MANIFEST', async () => {
    await assert.rejects(loadTestPki(join(work, 'nope')), code('PKI_MANIFEST'));
    const notJson = copy('notjson', () => undefined);
    writeFileSync(join(notJson, 'manifest.json'), '{ nope');
    await assert.rejects(loadTestPki(notJson), code('PKI_MANIFEST'));
    await assert.rejects(loadTestPki(copy('noid', (m) => { delete (m.identities as Record<string, unknown>)['revoked']; })), /identity "revoked" missing/);
    await assert.rejects(loadTestPki(copy('escape', (m) => { m.identities.citizen1.cert = '../../etc/passwd'; })), /escapes the PKI directory/);
    await assert.rejects(loadTestPki(copy('abs', (m) => { m.crl = '/etc/passwd'; })), /escapes the PKI directory/);
    await assert.rejects(loadTestPki(copy('pw', (m) => { m.identities.agency.password = 'wrong'; })), /does not open with the manifest's password/);
  });

  it('servers refuse to start without the CA key (PKI_MANIFEST), nothing left listening', async () => {
    const dir = copy('nokey', (m) => { m.root.key = 'ca/missing.key.pem'; });
    const pki = await loadTestPki(dir);
    await assert.rejects(startFixtureServers(pki), code('PKI_MANIFEST'));
  });

  it('DER reader: rejects non-minimal lengths, indefinite lengths, multi-byte tags, overruns and trailing bytes', () => {
    const bad: [string, number[]][] = [
      ['indefinite', [0x30, 0x80, 0x00, 0x00]],
      ['non-minimal long form', [0x04, 0x81, 0x01, 0x00]],
      ['leading zero length byte', [0x04, 0x82, 0x00, 0x90, ...new Array(0x90).fill(0)]],
      ['multi-byte tag', [0x1f, 0x81, 0x01, 0x00]],
      ['overrun', [0x30, 0x05, 0x02, 0x01]],
      ['trailing', [0x05, 0x00, 0x00]],
      ['truncated', [0x30]],
      ['child overruns parent', [0x30, 0x03, 0x04, 0x05, 0x00]],
    ];
    for (const [name, bytes] of bad) {
      assert.throws(() => { const b = new Uint8Array(bytes); const t = readOne(b); if (t.tag & 0x20) children(b, t); }, DerError, name);
    }
    const ok = new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa]);
    const kids = children(ok, readOne(ok));
    assert.deepEqual(kids.map((k) => k.tag), [0x02, 0x04]);
    assert.equal(readTlv(new Uint8Array([0x04, 0x81, 0x80, ...new Array(0x80).fill(1)]), 0).end, 0x83);
    assert.equal(decodeOid(new Uint8Array([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f])), '1.2.840.113549.1.9.16.2.47');
    assert.equal(decodeOid(new Uint8Array([0x55, 0x04, 0x61])), '2.5.4.97');
    assert.throws(() => decodeOid(new Uint8Array([0x2a, 0x86])), DerError);
    assert.throws(() => decodeOid(new Uint8Array([0x2a, 0x80, 0x01])), DerError);
  });
});
