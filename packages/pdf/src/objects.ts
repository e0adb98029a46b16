/**
 * The PDF object model. Parsed container objects carry their byte offsets in the file
 * (`start` inclusive, `end` exclusive); objects created in memory have -1.
 */

/** A name such as `/Type`; `name` holds the decoded bytes as a latin1 string, without the slash. */
export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly name: string) {}
  /** The (interned) name object for `name` (without the leading slash). */
  static of(name: string): PdfName {
    let n = PdfName.interned.get(name);
    if (!n) {
      n = new PdfName(name);
      if (PdfName.interned.size < 10000) PdfName.interned.set(name, n);
    }
    return n;
  }
  toString(): string {
    return '/' + this.name;
  }
}

/** A string object (literal `( )` or hex `< >`), with its raw position in the file when parsed. */
export class PdfString {
  constructor(
    readonly bytes: Uint8Array,
    readonly hex = false,
    /** Offset of the opening delimiter `(` or `<`. */
    readonly start = -1,
    /** Offset just after the closing delimiter. */
    readonly end = -1,
  ) {}

  /** A text string: ASCII as literal, anything else as UTF-16BE with BOM (hex). */
  static fromText(text: string): PdfString {
    if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(new TextEncoder().encode(text));
    const out = new Uint8Array(2 + text.length * 2);
    out[0] = 0xfe;
    out[1] = 0xff;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      out[2 + i * 2] = c >> 8;
      out[3 + i * 2] = c & 0xff;
    }
    return new PdfString(out, true);
  }

  /** A hex string of the given bytes. */
  static hexOf(bytes: Uint8Array): PdfString {
    return new PdfString(bytes, true);
  }

  /** Decodes as a PDF text string (UTF-16BE/UTF-8 with BOM, else PDFDocEncoding ≈ latin1). */
  text(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
      let s = '';
      for (let i = 2; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return s;
    }
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return new TextDecoder().decode(b.subarray(3));
    return latin1(b);
  }

  /** The bytes as a latin1 string (one char per byte). */
  latin1(): string {
    return latin1(this.bytes);
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** An indirect reference `num gen R`. */
export class PdfRef {
  constructor(readonly num: number, readonly gen = 0) {}
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
  equals(o: unknown): boolean {
    return o instanceof PdfRef && o.num === this.num && o.gen === this.gen;
  }
}

/** An array object. */
export class PdfArray {
  constructor(readonly items: PdfObject[] = [], readonly start = -1, readonly end = -1) {}
  get length(): number {
    return this.items.length;
  }
  get(i: number): PdfObject | undefined {
    return this.items[i];
  }
  push(...o: PdfObject[]): void {
    this.items.push(...o);
  }
}

/** A dictionary object; keys are names without the slash. */
export class PdfDict {
  readonly map: Map<string, PdfObject>;
  /** Offsets of each value in the file (parsed dictionaries only). */
  readonly valueOffsets = new Map<string, { start: number; end: number }>();
  /** Keys that occurred more than once when the dictionary was parsed (the last occurrence is kept). Readers
   *  disagree on which occurrence counts, so a verifier must treat such a dictionary as ambiguous. */
  duplicates?: string[];
  constructor(entries?: Iterable<[string, PdfObject]> | Record<string, PdfObject>, readonly start = -1, public end = -1) {
    if (entries === undefined) this.map = new Map();
    else if (Symbol.iterator in Object(entries)) this.map = new Map(entries as Iterable<[string, PdfObject]>);
    else this.map = new Map(Object.entries(entries as Record<string, PdfObject>));
  }
  get(key: string): PdfObject | undefined {
    return this.map.get(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  set(key: string, value: PdfObject): this {
    this.map.set(key, value);
    return this;
  }
  delete(key: string): boolean {
    return this.map.delete(key);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
  /** The name value of `key` (without slash), or undefined. */
  getName(key: string): string | undefined {
    const v = this.map.get(key);
    return v instanceof PdfName ? v.name : undefined;
  }
  /** A shallow copy (same values) without file offsets, for redefinition in an update. */
  clone(): PdfDict {
    return new PdfDict(this.map);
  }
}

/** Decoder of stream data, supplied by the reader (lazy, size-capped). */
export type StreamDecoder = (stream: PdfStream, maxBytes?: number) => Uint8Array;

/** A stream: dictionary + data. Parsed streams read their data from the file only when asked. */
export class PdfStream {
  private rawCache: Uint8Array | undefined;
  constructor(
    readonly dict: PdfDict,
    /** Raw (encoded) data for streams built in memory. */
    raw?: Uint8Array,
    /** Offset of the first data byte in the file (parsed streams). */
    readonly dataStart = -1,
    /** Length of the raw data in the file. */
    readonly dataLength = -1,
    private readonly loader?: (s: PdfStream) => Uint8Array,
    private readonly decoder?: StreamDecoder,
    readonly start = -1,
    public end = -1,
  ) {
    this.rawCache = raw;
  }
  /** The encoded bytes as stored. */
  raw(): Uint8Array {
    if (!this.rawCache) this.rawCache = this.loader ? this.loader(this) : new Uint8Array(0);
    return this.rawCache;
  }
  /** The decoded bytes (filters applied; throws PdfError on unsupported filter or size cap). */
  decode(maxBytes?: number): Uint8Array {
    if (this.decoder) return this.decoder(this, maxBytes);
    return this.raw();
  }
}

/** Any PDF object. `null` is the null object; integers and reals are JS numbers. */
export type PdfObject = null | boolean | number | PdfName | PdfString | PdfRef | PdfArray | PdfDict | PdfStream | PdfRaw;

/** Pre-serialised bytes written verbatim by the writer (for placeholders such as /ByteRange). */
export class PdfRaw {
  constructor(readonly text: string) {}
}

/** Shorthand for `PdfName.of`. */
export const name = (n: string): PdfName => PdfName.of(n);
