import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { nodeHashName, type HashName } from '@kyso/pki';
import { SignerError } from '../errors.js';

/** Content to sign: bytes, a file path, or a stream / async iterable of chunks. */
export type DetachedInput = Uint8Array | string | AsyncIterable<Uint8Array | string>;

/** Hash the content, streaming files and streams in chunks (constant memory). */
export async function digestContent(input: DetachedInput, hash: HashName): Promise<{ digest: Uint8Array; length: number }> {
  const h = createHash(nodeHashName(hash));
  let length = 0;
  if (input instanceof Uint8Array) {
    h.update(input);
    length = input.length;
  } else {
    const where = typeof input === 'string' ? `file ${input}` : 'input stream';
    const src = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;
    try {
      for await (const chunk of src) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        h.update(b);
        length += b.length;
      }
    } catch (e) {
      throw new SignerError('INPUT_READ', `cannot read ${where}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
  }
  return { digest: new Uint8Array(h.digest()), length };
}
