import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { type IncrementalWriter, PdfRaw, type PdfRef } from '@kyso/pdf';
import { nodeHashName, type HashName } from '@kyso/pki';
import { PadesError } from './errors.js';

/** Width of the /ByteRange array text, patched in place later. */
const BR_PLACEHOLDER = '[0 0000000000 0000000000 0000000000]';

/** The /ByteRange placeholder value (fixed width). */
export const byteRangePlaceholder = (): PdfRaw => new PdfRaw(BR_PLACEHOLDER);

/** A zero-filled hex /Contents placeholder for `bytes` bytes of CMS. */
export const contentsPlaceholder = (bytes: number): PdfRaw => new PdfRaw('<' + '0'.repeat(bytes * 2) + '>');

/** Where the placeholders of a written signature dictionary are, in the final file. */
export interface PlaceholderLayout {
  byteRange: [number, number, number, number];
  /** Offset of the `<` of /Contents. */
  contentsOffset: number;
  /** Number of hex digits between `<` and `>`. */
  contentsHexLength: number;
  /** Final file size. */
  fileSize: number;
  /** Digest of the ByteRange bytes. */
  contentDigest: Uint8Array;
}

const CHUNK = 1 << 20;
/** From this size on, copy in the kernel and digest in parallel. */
const PARALLEL_COPY_MIN = 8 * 1024 * 1024;

/** Feeds the first `length` bytes of `path` to `h`, 1 MiB at a time. */
function digestFile(path: string, length: number, h: Hash): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let p = 0; p < length; ) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, length - p), p);
      if (n <= 0) throw new PadesError('OUTPUT_FAILED', `short read of ${path}`);
      h.update(buf.subarray(0, n));
      p += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Serialises the writer's update (which holds the signature dictionary `sigRef` with both
 * placeholders), patches /ByteRange in the update buffer, and writes `source bytes + update` to
 * `target` while digesting the ByteRange in the same pass. With `inPlace`, the update is appended to
 * `target` (which is the reader's own file) and the ranges are digested from the file.
 */
export async function writeSignedUpdate(opts: {
  writer: IncrementalWriter;
  sigRef: PdfRef;
  /** Original bytes or file path (ignored with inPlace). */
  source: Uint8Array | string;
  target: string;
  inPlace?: boolean;
  hash: HashName;
}): Promise<PlaceholderLayout> {
  const { writer, sigRef, hash } = opts;
  const { u, base, cStartRel, cEndRel, contentsOffset, contentsEnd, fileSize, byteRange } = layOutByteRange(writer, sigRef);

  const h = createHash(nodeHashName(hash));
  const upd = u.bytes;
  const hashUpdateParts = (): void => {
    h.update(upd.subarray(0, cStartRel));
    h.update(upd.subarray(cEndRel + 1));
  };
  if (opts.inPlace) {
    writer.reader.close();
    const fd = openSync(opts.target, 'r+');
    try {
      const size = fstatSync(fd).size;
      if (size !== base) throw new PadesError('OUTPUT_FAILED', `${opts.target} changed while signing`);
      writeAll(fd, upd, base);
    } finally {
      closeSync(fd);
    }
    digestFile(opts.target, base, h);
    hashUpdateParts();
  } else if (typeof opts.source === 'string' && base >= PARALLEL_COPY_MIN) {
    // Large file: the kernel copies it (reflink where the file system can) in the libuv thread pool
    // while this thread digests the same bytes from the page cache: about one SHA pass of wall time.
    const copying = copyFile(opts.source, opts.target, constants.COPYFILE_FICLONE);
    let hashErr: unknown;
    try {
      digestFile(opts.source, base, h);
    } catch (err) {
      hashErr = err;
    }
    await copying;
    if (hashErr) throw hashErr;
    const out = openSync(opts.target, 'r+');
    try {
      if (fstatSync(out).size !== base) throw new PadesError('OUTPUT_FAILED', `${opts.source} changed while signing`);
      writeAll(out, upd, base);
    } finally {
      closeSync(out);
    }
    hashUpdateParts();
  } else {
    const out = openSync(opts.target, 'w', 0o644);
    try {
      if (typeof opts.source === 'string') {
        const inFd = openSync(opts.source, 'r');
        try {
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, base)));
          let p = 0;
          while (p < base) {
            const n = readSync(inFd, buf, 0, Math.min(buf.length, base - p), p);
            if (n <= 0) throw new PadesError('OUTPUT_FAILED', `short read of ${opts.source}`);
            const chunk = buf.subarray(0, n);
            h.update(chunk);
            writeAll(out, chunk, p);
            p += n;
          }
        } finally {
          closeSync(inFd);
        }
      } else {
        if (opts.source.length !== base) throw new PadesError('OUTPUT_FAILED', 'input bytes changed while signing');
        h.update(opts.source);
        writeAll(out, opts.source, 0);
      }
      writeAll(out, upd, base);
      hashUpdateParts();
    } finally {
      closeSync(out);
    }
  }
  return { byteRange, contentsOffset, contentsHexLength: cEndRel - cStartRel - 1, fileSize, contentDigest: new Uint8Array(h.digest()) };
}

/** An incremental update with its placeholders located, not written anywhere (two-step signing). */
export interface DetachedUpdate {
  /** The update bytes (ByteRange filled in, /Contents all zeros). */
  update: Buffer;
  /** Offset of the `<` of /Contents inside `update`. */
  contentsRel: number;
  layout: PlaceholderLayout;
  /** Size and SHA-256 of the original bytes the update goes after. */
  base: { size: number; sha256: Uint8Array };
}

/**
 * Serialises the writer's update like {@link writeSignedUpdate} but writes no file: digests the
 * ByteRange (original bytes + update without /Contents) and the original's SHA-256 in one pass.
 */
export function detachSignedUpdate(opts: { writer: IncrementalWriter; sigRef: PdfRef; source: Uint8Array | string; hash: HashName }): DetachedUpdate {
  const { writer, sigRef, hash } = opts;
  const { u, base, cStartRel, cEndRel, contentsOffset, contentsEnd, fileSize, byteRange } = layOutByteRange(writer, sigRef);
  const h = createHash(nodeHashName(hash));
  // With SHA-256 the original's digest is a copy of the ByteRange hash state after the original: one pass.
  const same = hash === 'SHA-256';
  const s256 = same ? undefined : createHash('sha256');
  if (typeof opts.source === 'string') {
    const fd = openSync(opts.source, 'r');
    try {
      if (fstatSync(fd).size !== base) throw new PadesError('OUTPUT_FAILED', `${opts.source} changed while signing`);
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, base)));
      for (let p = 0; p < base; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, base - p), p);
        if (n <= 0) throw new PadesError('OUTPUT_FAILED', `short read of ${opts.source}`);
        h.update(buf.subarray(0, n));
        s256?.update(buf.subarray(0, n));
        p += n;
      }
    } finally {
      closeSync(fd);
    }
  } else {
    if (opts.source.length !== base) throw new PadesError('OUTPUT_FAILED', 'input bytes changed while signing');
    h.update(opts.source);
    s256?.update(opts.source);
  }
  const baseSha256 = new Uint8Array((s256 ?? h.copy()).digest());
  h.update(u.bytes.subarray(0, cStartRel));
  h.update(u.bytes.subarray(cEndRel + 1));
  return {
    update: u.bytes,
    contentsRel: cStartRel,
    layout: { byteRange, contentsOffset, contentsHexLength: cEndRel - cStartRel - 1, fileSize, contentDigest: new Uint8Array(h.digest()) },
    base: { size: base, sha256: baseSha256 },
  };
}

/** Writes all of `data` at `position`. */
export function writeAll(fd: number, data: Uint8Array, position: number): void {
  let off = 0;
  while (off < data.length) {
    const n = writeSync(fd, data, off, data.length - off, position + off);
    if (n <= 0) throw new PadesError('OUTPUT_FAILED', 'write failed');
    off += n;
  }
}

/**
 * Writes the CMS (hex, zero padded) into the /Contents placeholder of `path`.
 * Too large → CONTENTS_TOO_SMALL (the file is left as it was).
 */
export function embedContents(path: string, contentsOffset: number, contentsHexLength: number, cms: Uint8Array): void {
  const hex = Buffer.from(cms).toString('hex');
  if (hex.length > contentsHexLength) {
    throw new PadesError('CONTENTS_TOO_SMALL', `signature needs ${cms.length} bytes but the /Contents placeholder holds ${contentsHexLength / 2}; sign again with a larger placeholder (contentsSize)`);
  }
  const fd = openSync(path, 'r+');
  try {
    const check = Buffer.alloc(1);
    readSync(fd, check, 0, 1, contentsOffset);
    if (check[0] !== 0x3c) throw new PadesError('STATE_INVALID', `no /Contents placeholder at offset ${contentsOffset} of the prepared file`);
    writeAll(fd, Buffer.from(hex, 'latin1'), contentsOffset + 1);
  } finally {
    closeSync(fd);
  }
}

/**
 * Builds the update and fills in its /ByteRange placeholder: where /Contents starts and ends (relative to the
 * update and in the whole file) and the final ByteRange. The one place that knows the placeholder layout.
 */
function layOutByteRange(writer: IncrementalWriter, sigRef: PdfRef) {
  const u = writer.build();
  const base = u.base;
  const objOff = u.offsets.get(sigRef.num);
  if (objOff === undefined) throw new PadesError('OUTPUT_FAILED', 'signature dictionary missing from the update');
  const rel = objOff - base;
  const objEnd = u.bytes.indexOf('endobj', rel, 'latin1');
  const brRel = u.bytes.indexOf('/ByteRange ' + BR_PLACEHOLDER, rel, 'latin1');
  const ctRel = u.bytes.indexOf('/Contents <', rel, 'latin1');
  if (brRel < 0 || ctRel < 0 || brRel > objEnd || ctRel > objEnd) throw new PadesError('OUTPUT_FAILED', 'placeholders not found in the signature dictionary');
  const cStartRel = ctRel + '/Contents '.length;
  const cEndRel = u.bytes.indexOf('>', cStartRel);
  const contentsOffset = base + cStartRel;
  const contentsEnd = base + cEndRel + 1;
  const fileSize = base + u.bytes.length;
  const byteRange: [number, number, number, number] = [0, contentsOffset, contentsEnd, fileSize - contentsEnd];
  const text = `[${byteRange.join(' ')}]`;
  if (text.length > BR_PLACEHOLDER.length) throw new PadesError('OUTPUT_FAILED', 'file too large for the /ByteRange placeholder');
  u.bytes.write(text.padEnd(BR_PLACEHOLDER.length, ' '), brRel + '/ByteRange '.length, 'latin1');
  return { u, base, cStartRel, cEndRel, contentsOffset, contentsEnd, fileSize, byteRange };
}
