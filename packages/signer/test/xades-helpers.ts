/** Test helpers for XML signatures: run xmlsec1 (the independent peer) on a signed document. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `xmlsec1 --verify` against `rootPath` (ID attributes of XAdES / ds:Object / edXML declared); returns status and output. */
export function xmlsecVerify(xml: Uint8Array | string, rootPath: string, opts: { detached?: Record<string, Uint8Array>; idAttrs?: string[]; nodeId?: string } = {}): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-xmlsec-'));
  try {
    const f = join(dir, 'signed.xml');
    writeFileSync(f, xml);
    const args = ['--verify', '--trusted-pem', rootPath,
      '--id-attr:Id', 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties', '--id-attr:Id', 'Object', '--id-attr:Id', 'SignatureValue'];
    for (const a of opts.idAttrs ?? []) args.push('--id-attr:Id', a);
    if (opts.nodeId) args.push('--id-attr:Id', 'http://www.w3.org/2000/09/xmldsig#:Signature', '--node-id', opts.nodeId);
    for (const [uri, data] of Object.entries(opts.detached ?? {})) {
      const p = join(dir, `detached-${Math.random().toString(36).slice(2)}`);
      writeFileSync(p, data);
      args.push(`--url-map:${uri}`, p);
    }
    args.push(f);
    const r = spawnSync('xmlsec1', args, { encoding: 'utf8' });
    if (r.error) throw new Error(`xmlsec1 could not run: ${r.error.message}`);
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** `xmlsec1 --sign` of a template with a PEM key and certificate; returns the signed document. */
export function xmlsecSign(template: string, keyPath: string, certPath: string, idAttrs: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'kyso-xmlsec-'));
  try {
    const f = join(dir, 'tmpl.xml');
    writeFileSync(f, template);
    const args = ['--sign', '--privkey-pem', `${keyPath},${certPath}`, '--output', join(dir, 'out.xml')];
    for (const a of idAttrs) args.push('--id-attr:Id', a);
    args.push(f);
    const r = spawnSync('xmlsec1', args, { encoding: 'utf8' });
    if (r.error) throw new Error(`xmlsec1 could not run: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`xmlsec1 --sign failed: ${r.stderr}`);
    return spawnSync('cat', [join(dir, 'out.xml')], { encoding: 'utf8' }).stdout;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** Flip one character of the text between `after` and the next '<' (a tampered byte in signed content). */
export function tamper(xml: Uint8Array | string, after: string): string {
  const s = typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8');
  const i = s.indexOf(after);
  if (i < 0) throw new Error(`marker ${after} not found`);
  const j = i + after.length;
  const c = s[j]!;
  return s.slice(0, j) + (c === 'A' ? 'B' : 'A') + s.slice(j + 1);
}
