// Training run for the CLI bundle's V8 code cache (run by scripts/build.mjs with the flags of kyso.cjs's shebang):
// loads packages/cli/bundle/cli.cjs exactly as the installed `kyso` does (bin/run-bundle.cjs), runs the usual
// one-shot commands on a throwaway test PKI (XML and edXML signing and verification, PDF and CMS signing and
// verification), then writes the bytecode V8 compiled on the way to bundle/cli.cjs.cache. A function that no
// command here calls is simply compiled on first use, as without a cache.
'use strict';
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { CACHE, loadBundle, sealCache } = require('../packages/cli/bin/run-bundle.cjs');

/** A one-page PDF, written out with its cross-reference table (no library needed). */
function onePagePdf() {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>',
    '<< /Length 0 >>\nstream\n\nendstream',
  ];
  let pdf = '%PDF-1.7\n';
  const offsets = objs.map((body, i) => { const at = pdf.length; pdf += `${i + 1} 0 obj\n${body}\nendobj\n`; return at; });
  const xref = pdf.length;
  pdf += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return pdf;
}

async function main() {
  const { exports: cli, script, source, cache } = loadBundle(false);
  if (cache !== 'none') throw new Error('training must start without a cache');
  const dir = mkdtempSync(join(tmpdir(), 'kyso-cli-cache-'));
  const run = async (...args) => {
    const code = await cli.main(args);
    if (code !== 0) throw new Error(`training: kyso ${args.join(' ')} exited ${code}`);
  };
  try {
    const pki = join(dir, 'pki');
    await run('pki', 'init', pki, '--reuse-cached-keys');
    const m = JSON.parse(readFileSync(join(pki, 'manifest.json'), 'utf8'));
    const id = m.identities.citizen1;
    const root = join(pki, m.root.cert);
    process.env.KYSO_TRAIN_PASSWORD = id.password;
    const p12 = ['--p12', join(pki, id.p12), '--password-env', 'KYSO_TRAIN_PASSWORD'];
    const pem = ['--key', join(pki, id.key), '--cert', join(pki, id.cert), '--chain', join(pki, id.chain), '--password-env', 'KYSO_TRAIN_PASSWORD'];
    const check = ['--trust', root, '--offline', '--no-revocation'];
    // XML: an edXML message, signed with a PKCS#12 and with a PEM key; a plain document, enveloped and detached
    writeFileSync(join(dir, 'a.pdf'), onePagePdf());
    writeFileSync(join(dir, 'doc.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n<doc xmlns="urn:kyso:train"><item n="1">một</item><item n="2">hai</item></doc>\n');
    await run('xml', 'edxml', '--from', 'H01', '--to', 'H02', '--subject', 'training', '--attach', join(dir, 'a.pdf'), '-o', join(dir, 'm.xml'));
    await run('xml', 'sign', join(dir, 'm.xml'), '-o', join(dir, 'm1.xml'), ...p12);
    await run('xml', 'sign', join(dir, 'm.xml'), '-o', join(dir, 'm2.xml'), ...pem);
    await run('xml', 'sign', join(dir, 'doc.xml'), '-o', join(dir, 'doc1.xml'), ...pem);
    await run('verify', join(dir, 'm1.xml'), ...check);
    await run('verify', join(dir, 'm2.xml'), ...check, '--json');
    await run('verify', join(dir, 'doc1.xml'), ...check);
    // PDF and CMS
    await run('sign', join(dir, 'a.pdf'), '-o', join(dir, 'a1.pdf'), ...p12, '--offline');
    await run('sign', join(dir, 'a.pdf'), '-o', join(dir, 'a2.pdf'), ...pem, '--offline');
    await run('sign', join(dir, 'doc.xml'), '-o', join(dir, 'doc.xml.p7s'), ...pem, '--offline');
    await run('verify', join(dir, 'a1.pdf'), ...check);
    await run('verify', join(dir, 'a2.pdf'), ...check, '--json');
    await run('verify', join(dir, 'doc.xml.p7s'), ...check);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(CACHE, sealCache(script.createCachedData(), source));
}

main().catch((e) => { process.stderr.write(`train-cli-cache: ${e && e.stack ? e.stack : e}\n`); process.exit(1); });
