import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { Problem } from './problem.js';
import type { SpooledBody } from './upload.js';

/** One uploaded part spooled to a temp file. */
export interface UploadedFile extends SpooledBody {
  filename: string;
  /** Content type the client declared for the part. */
  contentType: string;
}

/** The parts of a validation request: the document (or signature) and, for a detached CMS, its data. */
export interface UploadParts {
  file: UploadedFile;
  data?: UploadedFile;
  removeAll(): Promise<void>;
}

const tmpPath = (dir: string) => join(dir, `kyso-upload-${randomUUID()}`);
const cleanName = (n: string | undefined, fallback: string) => (n ?? '').replace(/[^\p{L}\p{N}._ -]/gu, '_').slice(0, 255) || fallback;

/**
 * Parses a multipart/form-data request with busboy, streaming the `file` part (and the optional `data` part of a
 * detached signature) to temp files. Other file fields are refused; each part is limited to `maxBytes` (413).
 */
export async function parseFormData(req: IncomingMessage, maxBytes: number, dir = tmpdir()): Promise<UploadParts> {
  const files: Record<string, UploadedFile> = {};
  const removeAll = async () => { await Promise.all(Object.values(files).map((f) => f.remove())); };
  try {
    await new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, limits: { fileSize: maxBytes, files: 2, fields: 20, parts: 24, fieldSize: 64 * 1024, headerPairs: 50 } });
      } catch (e) {
        reject(new Problem(400, 'bad-multipart', 'Bad request', `the multipart/form-data body cannot be read: ${(e as Error).message}`));
        return;
      }
      let failed = false;
      const writes: Promise<void>[] = [];
      const fail = (p: Problem) => {
        if (failed) return;
        failed = true;
        req.unpipe(bb);
        req.resume();
        reject(p);
      };
      bb.on('file', (name, stream, info) => {
        if (failed) { stream.resume(); return; }
        if (name !== 'file' && name !== 'data') {
          stream.resume();
          fail(new Problem(400, 'bad-multipart', 'Bad request', `unexpected file field "${name.slice(0, 40)}" (use "file" and, for a detached signature, "data")`));
          return;
        }
        if (files[name]) { stream.resume(); fail(new Problem(400, 'bad-multipart', 'Bad request', `the field "${name}" is given twice`)); return; }
        const path = tmpPath(dir);
        const f: UploadedFile = { path, size: 0, filename: cleanName(info.filename, name === 'file' ? 'document' : 'data'), contentType: info.mimeType ?? '', remove: () => rm(path, { force: true }) };
        files[name] = f;
        const out: WriteStream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
        stream.on('data', (c: Buffer) => { f.size += c.length; });
        stream.on('limit', () => fail(new Problem(413, 'too-large', 'Payload too large', `the "${name}" part exceeds the ${maxBytes}-byte limit`)));
        writes.push(new Promise<void>((res, rej) => { out.on('finish', () => res()); out.on('error', rej); }));
        stream.pipe(out);
      });
      bb.on('partsLimit', () => fail(new Problem(400, 'bad-multipart', 'Bad request', 'too many parts')));
      bb.on('filesLimit', () => fail(new Problem(400, 'bad-multipart', 'Bad request', 'at most two files: "file" and "data"')));
      bb.on('fieldsLimit', () => fail(new Problem(400, 'bad-multipart', 'Bad request', 'too many fields')));
      bb.on('error', (e: Error) => fail(new Problem(400, 'bad-multipart', 'Bad request', `the multipart/form-data body is malformed: ${e.message}`)));
      bb.on('close', () => { if (!failed) Promise.all(writes).then(() => resolve(), (e: Error) => fail(new Problem(500, 'internal', 'Internal error', e.message))); });
      req.on('aborted', () => fail(new Problem(400, 'aborted', 'Upload aborted')));
      req.pipe(bb);
    });
  } catch (e) {
    await removeAll();
    throw e;
  }
  const file = files.file;
  if (!file) { await removeAll(); throw new Problem(400, 'missing-file', 'Bad request', 'the form has no "file" part (the signed document or the signature)'); }
  if (file.size === 0) { await removeAll(); throw new Problem(400, 'empty-file', 'Bad request', 'the "file" part is empty'); }
  return { file, ...(files.data ? { data: files.data } : {}), removeAll };
}

/** The boundary of a multipart content type (any subtype), or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /^multipart\/[a-z-]+\s*;.*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  return m?.[1] ?? m?.[2];
}

/**
 * Splits a spooled multipart/mixed body (RFC 2046) into its parts, streaming: each part's headers are read
 * (Content-Type, optional Content-Disposition filename) and its content written to its own temp file. At most
 * `maxParts` parts. Used for the raw detached-signature form of the API.
 */
export async function splitMultipartMixed(body: SpooledBody, boundary: string, maxParts = 2, dir = tmpdir()): Promise<UploadedFile[]> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  const parts: UploadedFile[] = [];
  let out: WriteStream | undefined;
  let current: UploadedFile | undefined;
  // State: 'preamble' until the first delimiter, 'headers' after a delimiter line, 'body' inside a part, 'end' after the close delimiter.
  let state: 'preamble' | 'headers' | 'body' | 'end' = 'preamble';
  let buf = Buffer.from('\r\n'); // so a delimiter at offset 0 matches
  let headerBuf = Buffer.alloc(0);
  const closePart = async () => {
    if (out) await new Promise<void>((res, rej) => { out!.end(() => res()); out!.on('error', rej); });
    out = undefined;
    current = undefined;
  };
  const write = (b: Buffer) => { if (b.length && out) { out.write(b); current!.size += b.length; } };
  try {
    for await (const chunk of createReadStream(body.path)) {
      buf = Buffer.concat([buf, chunk as Buffer]);
      for (;;) {
        if (state === 'end') { buf = Buffer.alloc(0); break; }
        if (state === 'headers') {
          const i = buf.indexOf('\r\n\r\n');
          if (i < 0) {
            if (buf.length > 16 * 1024) throw new Problem(400, 'bad-multipart', 'Bad request', 'part headers longer than 16 KiB');
            break;
          }
          headerBuf = buf.subarray(0, i);
          buf = buf.subarray(i + 4);
          if (parts.length >= maxParts) throw new Problem(400, 'bad-multipart', 'Bad request', `at most ${maxParts} parts (the signature and its data)`);
          const headers = headerBuf.toString('latin1');
          const ct = /^content-type:\s*([^\r\n;]+)/im.exec(headers)?.[1]?.trim().toLowerCase() ?? 'text/plain';
          const fn = /filename="([^"]{0,255})"/i.exec(headers)?.[1];
          const path = tmpPath(dir);
          current = { path, size: 0, filename: cleanName(fn, `part${parts.length + 1}`), contentType: ct, remove: () => rm(path, { force: true }) };
          parts.push(current);
          out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
          state = 'body';
          continue;
        }
        const i = buf.indexOf(delim);
        if (i < 0) {
          // Keep a tail that could hold the start of a delimiter.
          const keep = Math.min(buf.length, delim.length + 1);
          if (state === 'body') write(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
          break;
        }
        if (buf.length < i + delim.length + 2) break; // need the two bytes after the delimiter
        if (state === 'body') write(buf.subarray(0, i));
        await closePart();
        const after = buf.subarray(i + delim.length, i + delim.length + 2).toString('latin1');
        if (after === '--') { state = 'end'; continue; }
        const eol = buf.indexOf('\r\n', i + delim.length);
        if (eol < 0) break;
        buf = buf.subarray(eol + 2);
        state = 'headers';
      }
    }
    if (state !== 'end') throw new Problem(400, 'bad-multipart', 'Bad request', 'the multipart/mixed body is not terminated by its closing delimiter');
  } catch (e) {
    await closePart().catch(() => undefined);
    await Promise.all(parts.map((p) => p.remove()));
    throw e;
  }
  return parts;
}
