import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getTestPki } from '@kyso/fixtures';
import { createStorage } from '@kyso/idp';
import { createIdpServer, type IdpServer } from '@kyso/service-idp';
import { loadPemBackend, signPdfBytes } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { createValidationServer, type ValidationServer } from '../src/index.js';

// Issue 11, point 5: while a hostile upload is being verified, the other services in the same process (the
// identity provider's discovery) and the validation service's own /healthz answer within 200 ms, other uploads are
// validated, and the hostile one ends in a problem (deadline / memory) or a report, never a stalled process.

/** A one-signature PDF whose /Contents is a `derBytes`-byte hex string (a DER SEQUENCE header over junk). */
function hostilePdf(derBytes: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const objs: Buffer[] = [];
  const offsets: number[] = [];
  let pos = head.length;
  const add = (b: Buffer) => { offsets.push(pos); objs.push(b); pos += b.length; };
  add(Buffer.from('1 0 obj\n<</Type /Catalog /Pages 2 0 R /AcroForm <</Fields [4 0 R] /SigFlags 3>>>>\nendobj\n'));
  add(Buffer.from('2 0 obj\n<</Type /Pages /Kids [3 0 R] /Count 1>>\nendobj\n'));
  add(Buffer.from('3 0 obj\n<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R]>>\nendobj\n'));
  add(Buffer.from('4 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /F 132 /Rect [0 0 0 0] /P 3 0 R /V 5 0 R>>\nendobj\n'));
  const der = Buffer.alloc(derBytes, 0xa5);
  der[0] = 0x30; der[1] = 0x84; der.writeUInt32BE(derBytes - 6, 2);
  const hex = der.toString('hex');
  const sigStart = pos + Buffer.byteLength('5 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 0000000000 0000000000 0000000000] /Contents ');
  const sigEnd = sigStart + hex.length + 2;
  const tail = '>>\nendobj\n';
  const obj5 = `5 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 ${String(sigStart).padStart(10, '0')} ${String(sigEnd).padStart(10, '0')} LLLLLLLLLL] /Contents <`;
  const xrefAt = sigEnd + tail.length;
  const xref = `xref\n0 6\n0000000000 65535 f \n${[...offsets, pos].map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<</Size 6 /Root 1 0 R>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  const total = xrefAt + xref.length;
  const obj5Final = obj5.replace('LLLLLLLLLL', String(total - sigEnd).padStart(10, '0'));
  return Buffer.concat([head, ...objs, Buffer.from(obj5Final, 'latin1'), Buffer.from(hex, 'latin1'), Buffer.from(`>${tail}`, 'latin1'), Buffer.from(xref, 'latin1')]);
}

/** POSTs a file as application/pdf from a separate Node process; resolves with status, content type and body. */
function uploadFromChild(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const script = `const [u, p] = process.argv.slice(1);
    const body = require('node:fs').readFileSync(p);
    fetch(u, { method: 'POST', body, headers: { 'content-type': 'application/pdf' } })
      .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() })))
      .catch((e) => process.stdout.write(JSON.stringify({ status: 0, type: '', body: String(e) })));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, url, path], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as { status: number; type: string; body: string });
    });
  });
}

describe('validation service: a hostile upload cannot stall the process (idp + validation in one process)', function () {
  this.timeout(180_000);
  let idp: IdpServer;
  let val: ValidationServer;
  let closeStorage: () => Promise<void>;
  let signed: Uint8Array;

  before(async () => {
    const pki = await getTestPki();
    const storage = await createStorage({});
    closeStorage = () => storage.close();
    idp = await createIdpServer({ port: 0, host: '127.0.0.1', storage });
    val = await createValidationServer({ policy: { trustAnchors: [pki.rootPem] }, maxBytes: 256 * 1024 * 1024, size: 2, deadlineMs: 4_000, workerMemoryMb: 256 });
    const id = pki.identities.citizen1!;
    const backend = await loadPemBackend({ key: id.keyPem, cert: id.certPem, chain: id.chainPems.join('\n') });
    signed = await signPdfBytes(await makeBasicPdf(1, { text: 'binh thuong' }), { backend, level: 'B-B', fieldName: 'Signature1' });
    // Warm both services (worker start-up, first discovery document).
    assert.equal((await fetch(`${idp.issuer}/.well-known/openid-configuration`)).status, 200);
    const warm = await fetch(`${val.url}/api/v1/validate`, { method: 'POST', body: new Blob([Buffer.from(signed)]), headers: { 'content-type': 'application/pdf' } });
    assert.equal(warm.status, 200);
  });
  after(async () => {
    await val?.close();
    await idp?.close();
    await closeStorage?.();
  });

  it('during a 40 MB-/Contents upload, /healthz and /.well-known/openid-configuration answer within 200 ms, and a normal upload is validated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyso-hostile-'));
    const hostilePath = join(dir, 'hostile.pdf');
    writeFileSync(hostilePath, hostilePdf(20 * 1024 * 1024));
    const started = performance.now();
    let pending = true;
    // The attacker is another process (as it would be): this process only serves.
    const hostileReq = uploadFromChild(`${val.url}/api/v1/validate`, hostilePath)
      .then((r) => ({ ...r, ms: performance.now() - started }))
      .finally(() => { pending = false; rmSync(dir, { recursive: true, force: true }); });
    const latencies: { what: string; ms: number; status: number; during: boolean }[] = [];
    const probe = async (what: string, url: string) => {
      const t = performance.now();
      const r = await fetch(url);
      await r.arrayBuffer();
      latencies.push({ what, ms: performance.now() - t, status: r.status, during: pending });
    };
    // A normal document sent while the hostile one is being validated.
    await new Promise((r) => setTimeout(r, 300));
    const normal = fetch(`${val.url}/api/v1/validate`, { method: 'POST', body: new Blob([Buffer.from(signed)]), headers: { 'content-type': 'application/pdf' } })
      .then(async (r) => ({ status: r.status, json: (await r.json()) as { documentIndication?: string } }));
    while (pending) {
      await probe('healthz', `${val.url}/healthz`);
      await probe('discovery', `${idp.issuer}/.well-known/openid-configuration`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const h = await hostileReq;
    const n = await normal;
    const during = latencies.filter((l) => l.during);
    const worst = Math.max(...during.map((l) => l.ms));
    process.stdout.write(`      hostile upload: HTTP ${h.status} (${h.body.slice(0, 160)}) after ${Math.round(h.ms)} ms; ${during.length} probes during it, worst ${worst.toFixed(1)} ms\n`);
    assert.ok(during.filter((l) => l.what === 'discovery').length >= 3, `probed the idp while the hostile upload was pending (${during.length} probes)`);
    for (const l of during) {
      assert.equal(l.status, 200, `${l.what} answered`);
      assert.ok(l.ms < 200, `${l.what} answered in ${l.ms.toFixed(1)} ms (limit 200 ms)`);
    }
    assert.equal(n.status, 200);
    assert.equal(n.json.documentIndication, 'TOTAL_PASSED');
    // The hostile upload ends: a report (a verdict on a broken signature) or a 422 problem naming the limit that
    // stopped it (the reader's string budget, or the worker's deadline / memory).
    assert.ok(h.status === 200 || h.status === 422, `hostile upload: ${h.status} ${h.body.slice(0, 200)}`);
    if (h.status === 422) {
      assert.equal(h.type, 'application/problem+json');
      assert.match(h.body, /validation-limit|unreadable-pdf/);
      assert.match(h.body, /limit|longer than|allowed/);
    } else {
      assert.notEqual((JSON.parse(h.body) as { documentIndication: string }).documentIndication, 'TOTAL_PASSED');
    }
    assert.ok(h.ms < 4_000 + 10_000, `the hostile upload ended (${Math.round(h.ms)} ms)`);
    // The pool recovered: the next document is validated.
    const after = await fetch(`${val.url}/api/v1/validate`, { method: 'POST', body: new Blob([Buffer.from(signed)]), headers: { 'content-type': 'application/pdf' } });
    assert.equal(after.status, 200);
  });

  it('a document over the limits under a heap-limited worker is a 422 problem naming the limit; the process and the next request are fine', async () => {
    const small = await createValidationServer({ policy: { offline: true }, size: 1, deadlineMs: 60_000, workerMemoryMb: 128, maxBytes: 256 * 1024 * 1024 });
    try {
      await new Promise((r) => setTimeout(r, 3000)); // worker start-up
      const r = await fetch(`${small.url}/api/v1/validate`, { method: 'POST', body: new Blob([new Uint8Array(hostilePdf(40 * 1024 * 1024))]), headers: { 'content-type': 'application/pdf' } });
      const text = await r.text();
      process.stdout.write(`      heap-limited worker: HTTP ${r.status} ${text.slice(0, 200)}\n`);
      assert.equal(r.status, 422, text);
      // the reader refuses the 80 MB hex string by its size before allocating it (PDF_LIMIT_EXCEEDED); were a
      // document to get past the reader's budgets, the 128 MB heap cap would end it as validation-limit instead
      assert.match(text, /validation-limit|unreadable-pdf/);
      assert.match(text, /PDF_LIMIT_EXCEEDED|more than the 128 MB allowed per request/);
      const next = await fetch(`${small.url}/api/v1/validate`, { method: 'POST', body: new Blob([Buffer.from(signed)]), headers: { 'content-type': 'application/pdf' } });
      assert.equal(next.status, 200, 'a fresh worker validates the next document');
    } finally {
      await small.close();
    }
  });

  it('a document that exceeds the deadline is a 422 validation-limit problem and its worker is replaced', async () => {
    const slow = await createValidationServer({ policy: {}, size: 1, deadlineMs: 1, maxBytes: 10 * 1024 * 1024 });
    try {
      await new Promise((r) => setTimeout(r, 3000)); // worker start-up
      const r = await fetch(`${slow.url}/api/v1/validate`, { method: 'POST', body: new Blob([Buffer.from(signed)]), headers: { 'content-type': 'application/pdf' } });
      assert.equal(r.status, 422);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      const p = (await r.json()) as { type: string; detail: string };
      assert.match(p.type, /validation-limit/);
      assert.match(p.detail, /within 1 ms/);
      assert.equal((await fetch(`${slow.url}/healthz`)).status, 200);
    } finally {
      await slow.close();
    }
  });
});
