import type { SignatureReport, ValidationReport } from './model.js';

function sigLines(s: SignatureReport, i: number): string[] {
  const L: string[] = [];
  L.push(`  [${i + 1}] ${s.kind === 'document-timestamp' ? 'Document timestamp' : 'Signature'} "${s.field}": ${s.indication}${s.subIndication ? ` / ${s.subIndication}` : ''}${s.block ? ` (${s.block})` : ''}`);
  L.push(`      ${s.message}`);
  L.push(`      level: ${s.level}; intact: ${s.intact ? 'yes' : 'no'}${s.digestAlgorithm ? `; digest ${s.digestAlgorithm}` : ''}${s.signatureAlgorithm ? `; ${s.signatureAlgorithm}` : ''}`);
  if (s.signer) {
    L.push(`      signer: ${s.signer.subject}`);
    L.push(`      issuer: ${s.signer.issuer} (serial ${s.signer.serialNumber})`);
    const ids = [...s.signer.personalIdentifiers, ...s.signer.organizationIdentifiers];
    if (ids.length) L.push(`      identifiers: ${ids.join(', ')}`);
  }
  L.push(`      claimed signing time: ${s.signingTime ?? '-'}; trusted time: ${s.timestamp ?? '-'}`);
  if (s.coverage.byteRange) {
    L.push(`      covers: ByteRange [${s.coverage.byteRange.join(' ')}] of revision ${s.coverage.revision}${s.coverage.coversWholeFile ? ' (whole file)' : s.coverage.coversWholeRevision ? ' (whole revision; later revisions follow)' : ' (NOT the whole revision)'}`);
  } else if (s.coverage.dataSize !== undefined) L.push(`      covers: detached data of ${s.coverage.dataSize} bytes`);
  if (s.coverage.xml) {
    L.push(`      scope: ${s.coverage.xml.scope}`);
    for (const x of s.coverage.xml.references) L.push(`      covers: ${x.target}${x.path ? ` ${x.path}` : ''} (URI "${x.uri.slice(0, 80)}")${x.intact ? '' : ' NOT INTACT / NOT FOUND'}`);
  }
  for (const m of s.modifications) L.push(`      ${m.allowed ? (m.warning ? 'allowed (warning)' : 'allowed') : 'NOT ALLOWED'}: ${m.kind}${m.object ? ` ${m.object}` : ''} in revision ${m.revision} — ${m.description}`);
  for (const r of s.revocation) L.push(`      revocation: ${r.certificate}: ${r.status} (${r.source})${r.revokedAt ? ` revoked ${r.revokedAt}` : ''}`);
  for (const c of s.checks.filter((c) => c.status === 'warning')) L.push(`      warning: ${c.message}`);
  return L;
}

/** Readable text report (what `kyso verify` prints without --json). */
export function renderText(r: ValidationReport): string {
  const L: string[] = [];
  L.push(`${r.file}: ${r.documentIndication}${r.documentSubIndication ? ` / ${r.documentSubIndication}` : ''} (${r.signatures.length} signature(s), validated at ${r.validationTime})`);
  for (const f of r.findings) L.push(`  ${f.severity}: ${f.code}: ${f.message}`);
  r.signatures.forEach((s, i) => L.push(...sigLines(s, i)));
  return L.join('\n') + '\n';
}
