import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PdfError } from './errors.js';
import { PdfArray, PdfDict, type PdfObject, PdfStream, PdfString } from './objects.js';

/** ISO 32000 password padding string. */
const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

type Method = 'none' | 'rc4' | 'aes128' | 'aes256';

/** RC4 (not available in OpenSSL 3's default provider). */
function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    const t = s[i]!; s[i] = s[j]!; s[j] = t;
  }
  const out = new Uint8Array(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    const t = s[i]!; s[i] = s[j]!; s[j] = t;
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

const md5 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Constant-time equality of password checks. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function padPassword(pw: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(pw.subarray(0, 32)), PAD]).subarray(0, 32);
}

function aesDecrypt(bits: 128 | 256, key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length < 16) return new Uint8Array(0);
  const iv = data.subarray(0, 16);
  const body = data.subarray(16, 16 + Math.floor((data.length - 16) / 16) * 16);
  if (body.length === 0) return new Uint8Array(0);
  const d = createDecipheriv(`aes-${bits}-cbc`, key, iv);
  d.setAutoPadding(false);
  const out = Buffer.concat([d.update(body), d.final()]);
  const p = out[out.length - 1]!;
  return p >= 1 && p <= 16 && out.subarray(out.length - p).every((x) => x === p) ? out.subarray(0, out.length - p) : out;
}

function aesEncrypt(bits: 128 | 256, key: Uint8Array, data: Uint8Array): Uint8Array {
  const iv = randomBytes(16);
  const c = createCipheriv(`aes-${bits}-cbc`, key, iv);
  return Buffer.concat([iv, c.update(data), c.final()]);
}

/** ISO 32000-2 Algorithm 2.B (R6 hash). */
function hashR6(pw: Uint8Array, salt: Uint8Array, udata: Uint8Array): Buffer {
  let k: Buffer = createHash('sha256').update(pw).update(salt).update(udata).digest();
  for (let i = 0; ; i++) {
    const k1 = Buffer.concat(Array(64).fill(Buffer.concat([pw, k, udata])));
    const c = createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32));
    c.setAutoPadding(false);
    const e = Buffer.concat([c.update(k1), c.final()]);
    let sum = 0;
    for (let j = 0; j < 16; j++) sum += e[j]!;
    k = createHash(['sha256', 'sha384', 'sha512'][sum % 3]!).update(e).digest();
    if (i >= 63 && e[e.length - 1]! <= i + 1 - 32) break;
    if (i > 1000) break;
  }
  return k.subarray(0, 32);
}

/**
 * The Standard security handler (ISO 32000 §7.6.4): RC4 40–128 (R2–R4), AES-128 (R4 AESV2),
 * AES-256 (R5/R6 AESV3). Built from the /Encrypt dictionary, the first /ID string and a password
 * (user or owner; the empty password is tried when none is given).
 */
export class StandardSecurityHandler {
  private constructor(
    private readonly key: Uint8Array,
    private readonly revision: number,
    private readonly strMethod: Method,
    private readonly stmMethod: Method,
    readonly encryptMetadata: boolean,
    /** Whether the owner password (full access) was given. */
    readonly owner: boolean,
    /** /P permission flags. */
    readonly permissions: number = -1,
  ) {}

  /** Whether /P lets a user sign (bit 9 "fill in forms and sign", or bit 6 "annotations and forms"; R2: bit 6). */
  get allowsSigning(): boolean {
    return (this.permissions & (1 << 8)) !== 0 || (this.permissions & (1 << 5)) !== 0;
  }

  static open(enc: PdfDict, id0: Uint8Array, password: string | undefined): StandardSecurityHandler {
    if (enc.getName('Filter') !== 'Standard') throw new PdfError('PDF_ENCRYPTED', `security handler /${enc.getName('Filter') ?? '?'} is not supported (only Standard)`);
    const num = (k: string, d: number): number => (typeof enc.get(k) === 'number' ? (enc.get(k) as number) : d);
    const str = (k: string): Uint8Array => {
      const v = enc.get(k);
      if (!(v instanceof PdfString)) throw new PdfError('PDF_ENCRYPTED', `/Encrypt /${k} is missing`);
      return v.bytes;
    };
    const V = num('V', 0);
    const R = num('R', 2);
    const encryptMetadata = enc.get('EncryptMetadata') !== false;
    let strMethod: Method = 'rc4';
    let stmMethod: Method = 'rc4';
    if (V >= 4) {
      const cf = enc.get('CF');
      const method = (name: string | undefined): Method => {
        if (!name || name === 'Identity') return 'none';
        const f = cf instanceof PdfDict ? cf.get(name) : undefined;
        const cfm = f instanceof PdfDict ? f.getName('CFM') : undefined;
        if (cfm === 'AESV2') return 'aes128';
        if (cfm === 'AESV3') return 'aes256';
        if (cfm === 'V2') return 'rc4';
        if (cfm === 'None' || cfm === undefined) return 'none';
        throw new PdfError('PDF_ENCRYPTED', `crypt filter method /${cfm} is not supported`);
      };
      strMethod = method(enc.getName('StrF') ?? 'Identity');
      stmMethod = method(enc.getName('StmF') ?? 'Identity');
    } else if (V !== 1 && V !== 2) throw new PdfError('PDF_ENCRYPTED', `encryption /V ${V} is not supported`);
    const O = str('O');
    const U = str('U');
    const candidates = password === undefined ? [''] : [password];
    for (const pw of candidates) {
      const pwBytes = Buffer.from(pw, R >= 5 ? 'utf8' : 'latin1').subarray(0, 127);
      if (R >= 5) {
        const h = (p: Uint8Array, salt: Uint8Array, u: Uint8Array): Buffer => (R === 5 ? createHash('sha256').update(p).update(salt).update(u).digest() : hashR6(p, salt, u));
        const aesKey = (ikey: Uint8Array, wrapped: Uint8Array): Uint8Array => {
          const d = createDecipheriv('aes-256-cbc', ikey, Buffer.alloc(16));
          d.setAutoPadding(false);
          return Buffer.concat([d.update(wrapped), d.final()]);
        };
        const u48 = U.subarray(0, 48);
        if (same(h(pwBytes, O.subarray(32, 40), u48), O.subarray(0, 32))) {
          return new StandardSecurityHandler(aesKey(h(pwBytes, O.subarray(40, 48), u48), str('OE')), R, strMethod, stmMethod, encryptMetadata, true, num('P', -1));
        }
        if (same(h(pwBytes, U.subarray(32, 40), new Uint8Array(0)), U.subarray(0, 32))) {
          return new StandardSecurityHandler(aesKey(h(pwBytes, U.subarray(40, 48), new Uint8Array(0)), str('UE')), R, strMethod, stmMethod, encryptMetadata, false, num('P', -1));
        }
        continue;
      }
      const n = V === 1 ? 5 : Math.min(16, Math.max(5, Math.floor(num('Length', 40) / 8)));
      const P = num('P', 0);
      const pBytes = Buffer.alloc(4);
      pBytes.writeInt32LE(P | 0);
      const fileKey = (userPadded: Uint8Array): Uint8Array => {
        let h = md5(userPadded, O.subarray(0, 32), pBytes, id0, R >= 4 && !encryptMetadata ? Buffer.from([0xff, 0xff, 0xff, 0xff]) : Buffer.alloc(0));
        if (R >= 3) for (let i = 0; i < 50; i++) h = md5(h.subarray(0, n));
        return h.subarray(0, n);
      };
      const checkUser = (key: Uint8Array): boolean => {
        if (R === 2) return same(rc4(key, PAD), U.subarray(0, 32));
        let x: Uint8Array = md5(PAD, id0);
        for (let i = 0; i < 20; i++) x = rc4(key.map((b) => b ^ i), x);
        return same(x, U.subarray(0, 16));
      };
      const asUser = fileKey(padPassword(pwBytes));
      if (checkUser(asUser)) return new StandardSecurityHandler(asUser, R, strMethod, stmMethod, encryptMetadata, false, P);
      // owner password: recover the user password from /O
      let oh = md5(padPassword(pwBytes));
      if (R >= 3) for (let i = 0; i < 50; i++) oh = md5(oh);
      const okey = oh.subarray(0, n);
      let userPw: Uint8Array = O.subarray(0, 32);
      if (R === 2) userPw = rc4(okey, userPw);
      else for (let i = 19; i >= 0; i--) userPw = rc4(okey.map((b) => b ^ i), userPw);
      const asOwner = fileKey(userPw);
      if (checkUser(asOwner)) return new StandardSecurityHandler(asOwner, R, strMethod, stmMethod, encryptMetadata, true, P);
    }
    throw new PdfError('PDF_ENCRYPTED', password === undefined ? 'the PDF is encrypted with a user password: give the password' : 'wrong password for the encrypted PDF');
  }

  private objectKey(num: number, gen: number, method: Method): Uint8Array {
    if (method === 'aes256') return this.key;
    const extra = Buffer.from([num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, gen & 0xff, (gen >> 8) & 0xff]);
    const h = md5(this.key, extra, method === 'aes128' ? Buffer.from('sAlT', 'latin1') : Buffer.alloc(0));
    return h.subarray(0, Math.min(this.key.length + 5, 16));
  }

  private run(method: Method, num: number, gen: number, data: Uint8Array, encrypt: boolean): Uint8Array {
    if (method === 'none') return data;
    const k = this.objectKey(num, gen, method);
    if (method === 'rc4') return rc4(k, data);
    const bits = method === 'aes256' ? 256 : 128;
    return encrypt ? aesEncrypt(bits, k, data) : aesDecrypt(bits, k, data);
  }

  decryptString(num: number, gen: number, data: Uint8Array): Uint8Array {
    return this.run(this.strMethod, num, gen, data, false);
  }
  encryptString(num: number, gen: number, data: Uint8Array): Uint8Array {
    return this.run(this.strMethod, num, gen, data, true);
  }
  decryptStream(num: number, gen: number, data: Uint8Array): Uint8Array {
    return this.run(this.stmMethod, num, gen, data, false);
  }
  encryptStream(num: number, gen: number, data: Uint8Array): Uint8Array {
    return this.run(this.stmMethod, num, gen, data, true);
  }

  /** Revision of the handler (2–6). */
  get r(): number {
    return this.revision;
  }
}

/** Whether `d` is a signature dictionary whose /Contents is stored unencrypted. */
export function isSignatureDict(d: PdfDict): boolean {
  const t = d.getName('Type');
  return t === 'Sig' || t === 'DocTimeStamp' || (d.has('ByteRange') && d.has('Contents') && d.has('Filter'));
}

/**
 * Applies `f` to every string of an object tree (not to signature /Contents), returning a new tree
 * for containers created in memory and mutating parsed containers in place (offsets kept).
 */
export function mapStrings(o: PdfObject, f: (s: PdfString) => PdfString, depth = 0): PdfObject {
  if (depth > 128) return o;
  if (o instanceof PdfString) return f(o);
  if (o instanceof PdfArray) {
    for (let i = 0; i < o.items.length; i++) o.items[i] = mapStrings(o.items[i]!, f, depth + 1);
    return o;
  }
  if (o instanceof PdfDict) {
    const sig = isSignatureDict(o);
    for (const [k, v] of o.map) {
      if (sig && k === 'Contents') continue;
      o.map.set(k, mapStrings(v, f, depth + 1));
    }
    return o;
  }
  if (o instanceof PdfStream) {
    mapStrings(o.dict, f, depth + 1);
    return o;
  }
  return o;
}

/** A copy of `o` with every string and stream data encrypted for object `num gen` (signature /Contents left as is). */
export function encryptForWrite(o: PdfObject, num: number, gen: number, h: StandardSecurityHandler, depth = 0): PdfObject {
  if (depth > 128) throw new PdfError('PDF_WRITE_FAILED', 'object nested too deeply to encrypt');
  if (o instanceof PdfString) return new PdfString(h.encryptString(num, gen, o.bytes), true);
  if (o instanceof PdfArray) return new PdfArray(o.items.map((x) => encryptForWrite(x, num, gen, h, depth + 1)));
  if (o instanceof PdfDict) {
    const sig = isSignatureDict(o);
    const d = new PdfDict();
    for (const [k, v] of o.map) d.set(k, sig && k === 'Contents' ? v : encryptForWrite(v, num, gen, h, depth + 1));
    return d;
  }
  if (o instanceof PdfStream) {
    const d = encryptForWrite(o.dict, num, gen, h, depth + 1) as PdfDict;
    const skip = o.dict.getName('Type') === 'XRef' || (o.dict.getName('Type') === 'Metadata' && !h.encryptMetadata);
    return new PdfStream(d, skip ? o.raw() : h.encryptStream(num, gen, o.raw()));
  }
  return o;
}
