import { copyFileSync, existsSync, renameSync, unlinkSync } from 'node:fs';
import { IncrementalWriter, PdfDict, PdfName, PdfReader } from '@kyso/pdf';
import { PkiClientError, requestTimestamp, type HashName, type TimestampRequestOptions } from '@kyso/pki';
import { editDict } from './edit.js';
import { PadesError } from './errors.js';
import { prepareField } from './fields.js';
import { byteRangePlaceholder, contentsPlaceholder, embedContents, writeSignedUpdate } from './placeholder.js';
import { openForUpdate, tempPathFor } from './sign.js';

/** Options of a document timestamp (PAdES B-LTA). */
export interface DocumentTimestampOptions extends TimestampRequestOptions {
  url: string;
  /** Imprint hash (default SHA-256). */
  hash?: HashName;
  /** Bytes reserved for the token (default 16384). */
  contentsSize?: number;
  /** Field name (default "DocTimeStampN"). */
  fieldName?: string;
  /** Password of an encrypted PDF. */
  pdfPassword?: string;
}

/** Appends a document timestamp revision to `path` itself (kyso's own temp files). */
export async function addDocumentTimestampInPlace(path: string, opts: DocumentTimestampOptions): Promise<void> {
  const reader: PdfReader = openForUpdate(path, opts.pdfPassword);
  const hash = opts.hash ?? 'SHA-256';
  try {
    const fields = reader.fields();
    const w = new IncrementalWriter(reader);
    let name = opts.fieldName;
    if (!name) {
      const names = new Set(fields.map((f) => f.fullName));
      for (let i = 1; ; i++) if (!names.has(`DocTimeStamp${i}`)) { name = `DocTimeStamp${i}`; break; }
    }
    const target = prepareField(w, fields, { fieldName: name });
    const size = opts.contentsSize ?? 16384;
    const sig = new PdfDict({
      Type: PdfName.of('DocTimeStamp'),
      Filter: PdfName.of('Adobe.PPKLite'),
      SubFilter: PdfName.of('ETSI.RFC3161'),
      ByteRange: byteRangePlaceholder(),
      Contents: contentsPlaceholder(size),
    });
    const sigRef = w.add(sig);
    editDict(w, target.fieldRef).set('V', sigRef);
    const layout = await writeSignedUpdate({ writer: w, sigRef, source: path, target: path, inPlace: true, hash });
    let token: Uint8Array;
    try {
      token = (await requestTimestamp(opts.url, layout.contentDigest, hash, opts)).token;
    } catch (err) {
      if (err instanceof PkiClientError) throw new PadesError('TSA_FAILED', `document timestamp failed: ${err.code}: ${err.message}`, { cause: err });
      throw err;
    }
    embedContents(path, layout.contentsOffset, layout.contentsHexLength, token);
  } finally {
    reader.close();
  }
}

/** Adds a document timestamp (B-LTA): `input` → `output` through a temp file renamed on success. */
export async function addDocumentTimestamp(input: string, output: string, opts: DocumentTimestampOptions): Promise<void> {
  const tmp = tempPathFor(output);
  try {
    copyFileSync(input, tmp);
    await addDocumentTimestampInPlace(tmp, opts);
    renameSync(tmp, output);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
}
