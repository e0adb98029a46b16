import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestPki } from '@kyso/fixtures';
import { loadPkcs12File, signPdf } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { createValidationServer, type ValidationServer } from '../src/index.js';

describe('validation service (koa, real HTTP)', function () {
  this.timeout(60_000);
  let srv: ValidationServer;
  let signed: Uint8Array<ArrayBuffer>;
  let dir: string;

  before(async () => {
    const pki = await getTestPki();
    dir = mkdtempSync(join(tmpdir(), 'kyso-valsvc-'));
    const input = join(dir, 'in.pdf');
    writeFileSync(input, await makeBasicPdf(1, { text: 'To khai' }));
    const c = pki.identities.citizen1;
    const backend = await loadPkcs12File(c.p12Path, c.password);
    await signPdf(input, join(dir, 'signed.pdf'), { backend, level: 'B-B' } as Parameters<typeof signPdf>[2]);
    signed = new Uint8Array(readFileSync(join(dir, 'signed.pdf')));
    srv = await createValidationServer({ policy: { trustAnchors: [pki.rootPem] }, maxBytes: 2 * 1024 * 1024 });
  });
  after(async () => { await srv?.close(); });

  it('serves an upload form that works without JavaScript, with security headers', async () => {
    const r = await fetch(`${srv.url}/`);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /<form method="post" action="\/validate" enctype="multipart\/form-data">/);
    assert.match(html, /Kiểm tra chữ ký số/);
    assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.ok(r.headers.get('x-request-id'));
  });

  it('POST /api/v1/validate returns a JSON report: TOTAL_PASSED for a kyso-signed PDF', async () => {
    const r = await fetch(`${srv.url}/api/v1/validate`, { method: 'POST', body: signed, headers: { 'content-type': 'application/pdf', 'x-file-name': 'to-khai.pdf' } });
    assert.equal(r.status, 200);
    const j = (await r.json()) as { file: string; documentIndication: string; signatures: { indication: string; signer: { subject?: string } }[] };
    assert.equal(j.file, 'to-khai.pdf');
    assert.equal(j.documentIndication, 'TOTAL_PASSED');
    assert.equal(j.signatures.length, 1);
    assert.equal(j.signatures[0]!.indication, 'TOTAL_PASSED');
  });

  it('a tampered PDF (one byte changed inside the signed range) is TOTAL_FAILED', async () => {
    const bad = new Uint8Array(signed);
    // Byte 10 is inside the binary comment of the header: the structure stays readable, the digest changes.
    assert.equal(bad[9], 0x25, 'header comment starts at byte 9');
    bad[10] ^= 0x01;
    const r = await fetch(`${srv.url}/api/v1/validate`, { method: 'POST', body: bad });
    const j = (await r.json()) as { documentIndication: string; signatures: { indication: string; subIndication: string }[] };
    assert.equal(j.documentIndication, 'TOTAL_FAILED');
    assert.equal(j.signatures[0]!.subIndication, 'HASH_FAILURE');
  });

  it('the multipart form returns a readable HTML report', async () => {
    const fd = new FormData();
    fd.append('file', new Blob([signed], { type: 'application/pdf' }), 'don.pdf');
    const r = await fetch(`${srv.url}/validate`, { method: 'POST', body: fd });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    const html = await r.text();
    assert.match(html, /TOTAL_PASSED/);
    assert.match(html, /don\.pdf/);
  });

  it('?format=text renders the text report', async () => {
    const r = await fetch(`${srv.url}/api/v1/validate?format=text`, { method: 'POST', body: signed });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /TOTAL_PASSED/);
  });

  it('hostile input gets a report or a problem+json, never a crash', async () => {
    // Not a signed document: a problem naming what is wrong, never a verdict (issue 11, point 6).
    const garbage = await fetch(`${srv.url}/api/v1/validate`, { method: 'POST', body: new Uint8Array([1, 2, 3, 4]) });
    assert.equal(garbage.status, 415);
    assert.equal(garbage.headers.get('content-type'), 'application/problem+json');
    const g = (await garbage.json()) as { documentIndication?: string; detail: string };
    assert.equal(g.documentIndication, undefined);
    assert.match(g.detail, /not a signed document/);

    const empty = await fetch(`${srv.url}/api/v1/validate`, { method: 'POST', body: new Uint8Array() });
    assert.equal(empty.status, 400);
    assert.equal(empty.headers.get('content-type'), 'application/problem+json');

    const big = await fetch(`${srv.url}/api/v1/validate`, { method: 'POST', body: new Uint8Array(3 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { status: number }).status, 413);

    const noBoundary = await fetch(`${srv.url}/validate`, { method: 'POST', body: signed, headers: { 'content-type': 'multipart/form-data' } });
    assert.equal(noBoundary.status, 400);
    assert.equal(noBoundary.headers.get('content-type'), 'application/problem+json');

    const get = await fetch(`${srv.url}/api/v1/validate`);
    assert.equal(get.status, 405);

    const fmt = await fetch(`${srv.url}/api/v1/validate?format=xml`, { method: 'POST', body: signed });
    assert.equal(fmt.status, 400);

    const health = await fetch(`${srv.url}/healthz`);
    assert.equal(health.status, 200);
  });
});
