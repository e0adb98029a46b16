/** The ByteRange digest of a signature: the one streamed implementation in @kyso/pdf. */
import { digestByteRange } from '@kyso/pdf';
import type { DigestAlgorithm } from './types.js';

/** Digest of the bytes `byteRange` designates in `input` (bytes or a file path), streamed. */
export function digestRanges(input: Uint8Array | string, _size: number, byteRange: number[], alg: DigestAlgorithm): Promise<Uint8Array> {
  return digestByteRange(input, byteRange, alg);
}
