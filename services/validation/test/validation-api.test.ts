import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestPki } from '@kyso/fixtures';
import { loadPemBackend, signPdfBytes, signXml } from '@kyso/signer';
import { makeBasicPdf } from '../../../fixtures/pdf/samples.js';
import { createValidationServer, type ValidationServer } from '../src/index.js';

// The API contract of POST /api/v1/validate (issue 11, point 6): raw body and multipart give the same report;
// what is not a signed document is a 4xx application/problem+json; bodies over the limit are 413.

type Problem = { type: string; title: string; status: number; detail?: string };

describe('validation service: API contract of POST /api/v1/validate', function () {
  this.timeout(120_000);
  let srv: ValidationServer;
  let pdf: Uint8Array;
  let unsigned: Uint8Array;
  let detached: Uint8Array;
  let attached: Uint8Array;
  let xml: Uint8Array;
  const data = new Uint8Array(Buffer.from('Tờ khai đăng ký thường trú — nội dung được ký\n', 'utf8'));
  const MAX = 1024 * 1024;

  before(async () => {
    const pki = await getTestPki();
    const id = pki.identities.citizen1!;
    unsigned = await makeBasicPdf(1, { text: 'To khai' });
    const backend = await loadPemBackend({ key: id.keyPem, cert: id.certPem, chain: id.chainPems.join('\n') });
    pdf = await signPdfBytes(unsigned, { backend, level: 'B-B', fieldName: 'Signature1' });
    xml = await signXml(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><ToKhai><HoTen>Nguyễn Văn A</HoTen></ToKhai>'), { backend, level: 'B-B' });
    const dir = mkdtempSync(join(tmpdir(), 'kyso-valapi-'));
    writeFileSync(join(dir, 'data.txt'), data);
    writeFileSync(join(dir, 'key.pem'), id.keyPem);
    writeFileSync(join(dir, 'cert.pem'), id.certPem);
    writeFileSync(join(dir, 'chain.pem'), id.chainPems.join('\n'));
    const sign = (out: string, extra: string[]) => execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha256', '-in', join(dir, 'data.txt'), '-signer', join(dir, 'cert.pem'),
      '-inkey', join(dir, 'key.pem'), '-certfile', join(dir, 'chain.pem'), '-outform', 'DER', '-out', join(dir, out), ...extra]);
    sign('detached.p7s', []);
    sign('attached.p7m', ['-nodetach']);
    detached = new Uint8Array(readFileSync(join(dir, 'detached.p7s')));
    attached = new Uint8Array(readFileSync(join(dir, 'attached.p7m')));
    srv = await createValidationServer({ policy: { trustAnchors: [pki.rootPem] }, maxBytes: MAX, size: 2, deadlineMs: 30_000 });
  });
  after(async () => { await srv?.close(); });

  const post = (body: FormData | Uint8Array, headers: Record<string, string> = {}, query = '') =>
    fetch(`${srv.url}/api/v1/validate${query}`, { method: 'POST', body: body instanceof Uint8Array ? new Blob([Buffer.from(body)]) : body, headers });
  const form = (file: Uint8Array, name: string, type: string, dataPart?: Uint8Array) => {
    const fd = new FormData();
    fd.append('file', new Blob([Buffer.from(file)], { type }), name);
    if (dataPart) fd.append('data', new Blob([Buffer.from(dataPart)], { type: 'text/plain' }), 'data.txt');
    return fd;
  };
  const mixed = (parts: { type: string; body: Uint8Array; name?: string }[]) => {
    const boundary = 'kyso-mixed-7d1c0e';
    const chunks: Buffer[] = [Buffer.from('preamble to ignore')];
    for (const p of parts) {
      chunks.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${p.type}\r\n${p.name ? `Content-Disposition: attachment; filename="${p.name}"\r\n` : ''}\r\n`), Buffer.from(p.body));
    }
    chunks.push(Buffer.from(`\r\n--${boundary}--\r\nepilogue`));
    return { body: Buffer.concat(chunks), type: `multipart/mixed; boundary=${boundary}` };
  };
  async function json(r: Response): Promise<Record<string, unknown>> {
    assert.equal(r.status, 200, await r.clone().text());
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    // The validation time is "now" per request: everything else must be identical whatever the upload shape.
    const j = (await r.json()) as Record<string, unknown> & { signatures: Record<string, unknown>[] };
    assert.ok(typeof j.validationTime === 'string');
    delete j.validationTime;
    for (const s of j.signatures ?? []) if (!s.timestamp) delete s.bestSignatureTime;
    return j;
  }
  async function problem(r: Response, status: number, type: RegExp): Promise<Problem> {
    const text = await r.text();
    assert.equal(r.status, status, text);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    const p = JSON.parse(text) as Problem & { documentIndication?: string; signatures?: unknown };
    assert.equal(p.status, status);
    assert.match(p.type, type);
    assert.ok(p.detail && p.detail.length > 10, 'the problem names what is wrong');
    assert.equal(p.documentIndication, undefined, 'never a verdict');
    assert.equal(p.signatures, undefined, 'never a verdict');
    return p;
  }

  it('a signed PDF: raw application/pdf and multipart/form-data give the same report (TOTAL_PASSED)', async () => {
    const raw = await json(await post(pdf, { 'content-type': 'application/pdf', 'x-file-name': 'to-khai.pdf' }));
    const viaForm = await json(await post(form(pdf, 'to-khai.pdf', 'application/pdf')));
    const octets = await json(await post(pdf, { 'content-type': 'application/octet-stream', 'x-file-name': 'to-khai.pdf' }));
    assert.equal(raw.documentIndication, 'TOTAL_PASSED');
    assert.deepEqual(viaForm, raw);
    assert.deepEqual(octets, raw);
    assert.equal(raw.file, 'to-khai.pdf');
  });

  it('a detached CMS: raw multipart/mixed (signature + data) and multipart/form-data (file + data) give the same report (TOTAL_PASSED)', async () => {
    const m = mixed([{ type: 'application/pkcs7-signature', body: detached, name: 'to-khai.p7s' }, { type: 'text/plain', body: data }]);
    const raw = await json(await post(m.body, { 'content-type': m.type }));
    const viaForm = await json(await post(form(detached, 'to-khai.p7s', 'application/pkcs7-signature', data)));
    assert.equal(raw.documentIndication, 'TOTAL_PASSED', JSON.stringify(raw));
    assert.equal(raw.format, 'CMS');
    assert.deepEqual(viaForm, raw);
    // Parts in the other order: the signature part is found by its type.
    const m2 = mixed([{ type: 'text/plain', body: data }, { type: 'application/pkcs7-signature', body: detached, name: 'to-khai.p7s' }]);
    assert.deepEqual(await json(await post(m2.body, { 'content-type': m2.type })), raw);
  });

  it('a detached CMS with other data is TOTAL_FAILED / HASH_FAILURE (a real verdict about a real signature)', async () => {
    const m = mixed([{ type: 'application/pkcs7-signature', body: detached }, { type: 'text/plain', body: new Uint8Array(Buffer.from('other data')) }]);
    const r = await json(await post(m.body, { 'content-type': m.type }));
    assert.equal(r.documentIndication, 'TOTAL_FAILED');
    assert.equal((r.signatures as { subIndication: string }[])[0]!.subIndication, 'HASH_FAILURE');
  });

  it('a CMS with encapsulated content: raw application/pkcs7-signature and the form give the same report; a detached one without data is SIGNED_DATA_NOT_FOUND', async () => {
    const raw = await json(await post(attached, { 'content-type': 'application/pkcs7-signature', 'x-file-name': 'a.p7m' }));
    const viaForm = await json(await post(form(attached, 'a.p7m', 'application/pkcs7-mime')));
    assert.equal(raw.documentIndication, 'TOTAL_PASSED', JSON.stringify(raw));
    assert.deepEqual(viaForm, raw);
    const alone = await json(await post(detached, { 'content-type': 'application/pkcs7-signature' }));
    assert.equal((alone.signatures as { subIndication: string }[])[0]!.subIndication, 'SIGNED_DATA_NOT_FOUND');
  });

  it('a signed XML document (XAdES): raw application/xml and multipart/form-data give the same report (TOTAL_PASSED); a changed byte fails', async () => {
    const raw = await json(await post(xml, { 'content-type': 'application/xml', 'x-file-name': 'to-khai.xml' }));
    const viaForm = await json(await post(form(xml, 'to-khai.xml', 'text/xml')));
    assert.equal(raw.documentIndication, 'TOTAL_PASSED', JSON.stringify(raw));
    assert.equal(raw.format, 'XML');
    assert.equal((raw.signatures as { level: string }[])[0]!.level, 'XAdES-BASELINE-B');
    assert.deepEqual(viaForm, raw);
    const tampered = Buffer.from(Buffer.from(xml).toString('utf8').replace('Nguyễn Văn A', 'Nguyễn Văn B'));
    const bad = await json(await post(new Uint8Array(tampered), { 'content-type': 'application/xml' }));
    assert.equal(bad.documentIndication, 'TOTAL_FAILED');
  });

  it('?format=text and ?format=html still render the report, for raw and form uploads alike', async () => {
    const t = await post(pdf, { 'content-type': 'application/pdf' }, '?format=text');
    assert.equal(t.status, 200);
    assert.match(t.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await t.text(), /TOTAL_PASSED/);
    const h = await post(form(pdf, 'x.pdf', 'application/pdf'), {}, '?format=html');
    assert.equal(h.status, 200);
    assert.match(await h.text(), /<html[\s\S]*TOTAL_PASSED/);
    await problem(await post(pdf, {}, '?format=yaml'), 400, /bad-format/);
  });

  it('bodies that are not signed documents get a problem+json naming what is wrong', async () => {
    const p1 = await problem(await post(new Uint8Array(Buffer.from('hello, this is plain text')), { 'content-type': 'text/plain' }), 415, /not-a-signed-document|unsupported-media-type/);
    assert.match(p1.detail!, /PDF|CMS|media type/);
    await problem(await post(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), 415, /not-a-signed-document/);
    const p2 = await problem(await post(unsigned, { 'content-type': 'application/pdf' }), 422, /no-signature/);
    assert.match(p2.detail!, /no signature/);
    await problem(await post(form(unsigned, 'blank.pdf', 'application/pdf')), 422, /no-signature/);
    await problem(await post(new Uint8Array(Buffer.from('%PDF-1.7\n%garbage, no objects, no xref, no trailer\n')), { 'content-type': 'application/pdf' }), 422, /unreadable-pdf|no-signature/);
    const p3 = await problem(await post(detached, { 'content-type': 'application/pdf' }), 415, /type-mismatch/);
    assert.match(p3.detail!, /declared as application\/pdf but its content is CMS/);
    const p4 = await problem(await post(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]), { 'content-type': 'application/pkcs7-signature' }), 422, /not-a-signature/);
    assert.match(p4.detail!, /not a CMS SignedData/);
    const p5 = await problem(await post(new Uint8Array(Buffer.from('<?xml version="1.0"?><Envelope/>')), { 'content-type': 'application/xml' }), 422, /no-signature/);
    assert.match(p5.detail!, /no ds:Signature/);
    await problem(await post(new Uint8Array(Buffer.from('<?xml version="1.0"?><a><b></a>')), { 'content-type': 'application/xml' }), 422, /unreadable-xml/);
    await problem(await post(new Uint8Array(Buffer.from('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')), { 'content-type': 'text/xml' }), 422, /unreadable-xml/);
    await problem(await post(xml, { 'content-type': 'application/pdf' }), 415, /type-mismatch/);
    await problem(await post(new Uint8Array(), { 'content-type': 'application/pdf' }), 400, /empty-file/);
  });

  it('malformed multipart bodies are 400 problems', async () => {
    const fd = new FormData();
    fd.append('note', 'no file here');
    await problem(await post(fd), 400, /missing-file/);
    const fd2 = new FormData();
    fd2.append('other', new Blob([Buffer.from(pdf)]), 'x.pdf');
    await problem(await post(fd2), 400, /bad-multipart/);
    await problem(await post(pdf, { 'content-type': 'multipart/form-data' }), 400, /bad-multipart/);
    const m = mixed([{ type: 'application/pkcs7-signature', body: detached }]);
    await problem(await post(m.body.subarray(0, m.body.length - 20), { 'content-type': m.type }), 400, /bad-multipart/);
    await problem(await post(form(pdf, 'x.pdf', 'application/pdf', data)), 400, /unexpected-data/);
  });

  it('oversized bodies are 413 problems: declared length, chunked raw body, and a multipart part', async () => {
    const big = new Uint8Array(MAX + 1);
    big.set(Buffer.from('%PDF-1.7\n'));
    await problem(await post(big, { 'content-type': 'application/pdf' }), 413, /too-large/);
    await problem(await post(form(big, 'big.pdf', 'application/pdf')), 413, /too-large/);
    // Chunked (no Content-Length): the limit is enforced while streaming.
    const status = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const u = new URL(`${srv.url}/api/v1/validate`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/pdf', 'transfer-encoding': 'chunked' } }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => { b += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: b }));
      });
      req.on('error', (e) => (String(e).includes('EPIPE') || String(e).includes('ECONNRESET') ? resolve({ status: 413, type: 'application/problem+json', body: '{}' }) : reject(e)));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 3 * MAX) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        req.end();
      };
      req.write('%PDF-1.7\n');
      pump();
    });
    assert.equal(status.status, 413);
    assert.equal(status.type, 'application/problem+json');
    const health = await fetch(`${srv.url}/healthz`);
    assert.equal(health.status, 200);
  });
});
