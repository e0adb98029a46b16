import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { Problem } from './problem.js';

/** A request body spooled to a temporary file (so a large PDF never sits whole in memory). */
export interface SpooledBody {
  path: string;
  size: number;
  remove(): Promise<void>;
}

/**
 * Streams the request body to a temp file, refusing more than `maxBytes` (413) and closing on
 * client abort. The caller removes the file.
 */
export async function spoolBody(req: IncomingMessage, maxBytes: number, dir = tmpdir()): Promise<SpooledBody> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new Problem(413, 'too-large', 'Payload too large', `the limit is ${maxBytes} bytes`);
  }
  const path = join(dir, `kyso-upload-${randomUUID()}`);
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  let size = 0;
  const remove = () => rm(path, { force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => {
        req.unpipe(out);
        out.destroy();
        reject(e);
      };
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.pause();
          fail(new Problem(413, 'too-large', 'Payload too large', `the limit is ${maxBytes} bytes`));
        }
      });
      req.on('aborted', () => fail(new Problem(400, 'aborted', 'Upload aborted')));
      req.on('error', fail);
      out.on('error', fail);
      out.on('finish', () => resolve());
      req.pipe(out);
    });
  } catch (e) {
    await remove();
    throw e;
  }
  return { path, size, remove };
}
