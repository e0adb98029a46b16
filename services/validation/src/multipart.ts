import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Problem } from './problem.js';
import type { SpooledBody } from './upload.js';

/** One uploaded file extracted from a multipart/form-data body. */
export interface UploadedFile extends SpooledBody {
  filename: string;
}

const HEAD_WINDOW = 64 * 1024;

/** The boundary parameter of a multipart/form-data content type, or a 400 problem. */
export function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/form-data\s*;.*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new Problem(400, 'bad-multipart', 'Bad request', 'expected multipart/form-data with a boundary');
  return b;
}

/**
 * Extracts the first file part of a spooled multipart body into its own temp file without reading the
 * body whole: the part headers are searched in the first 64 KiB and the closing delimiter in the last 64 KiB.
 * Only one file part per request is supported (the form has one file input).
 */
export async function extractFirstFile(body: SpooledBody, boundary: string): Promise<UploadedFile> {
  const delim = Buffer.from(`--${boundary}`);
  const fh = await open(body.path, 'r');
  let start = -1;
  let end = -1;
  let filename = 'upload';
  try {
    const head = Buffer.alloc(Math.min(HEAD_WINDOW, body.size));
    await fh.read(head, 0, head.length, 0);
    let pos = head.indexOf(delim);
    while (pos >= 0 && start < 0) {
      const hdrEnd = head.indexOf('\r\n\r\n', pos);
      if (hdrEnd < 0) break;
      const headers = head.subarray(pos + delim.length, hdrEnd).toString('utf8');
      const fn = /filename="([^"]{0,255})"/i.exec(headers);
      if (fn) {
        filename = fn[1]!.replace(/[^\p{L}\p{N}._ -]/gu, '_') || 'upload';
        start = hdrEnd + 4;
      } else {
        pos = head.indexOf(delim, hdrEnd);
      }
    }
    if (start < 0) throw new Problem(400, 'bad-multipart', 'Bad request', 'no file part found in the form');
    const tailLen = Math.min(HEAD_WINDOW, body.size - start);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, body.size - tailLen);
    const closing = tail.lastIndexOf(Buffer.concat([Buffer.from('\r\n'), delim]));
    if (closing < 0) throw new Problem(400, 'bad-multipart', 'Bad request', 'the multipart body is not terminated');
    end = body.size - tailLen + closing;
    if (end < start) throw new Problem(400, 'bad-multipart', 'Bad request', 'the multipart body is malformed');
    if (end === start) throw new Problem(400, 'empty-file', 'Bad request', 'the uploaded file is empty');
  } finally {
    await fh.close();
  }
  const path = `${body.path}.part`;
  await pipeline(createReadStream(body.path, { start, end: end - 1 }), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  return { path, size: end - start, filename, remove: () => rm(path, { force: true }) };
}
