import type { Indication, SignatureReport, ValidationReport } from './model.js';

/** HTML-escapes any text taken from the file or the report. */
export function escapeHtml(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const VERDICT_VI: Record<Indication, string> = {
  TOTAL_PASSED: 'Hợp lệ',
  INDETERMINATE: 'Chưa xác định',
  TOTAL_FAILED: 'Không hợp lệ',
};

/** Vietnamese explanation of each sub-indication, for clerks. */
const SUB_VI: Partial<Record<string, string>> = {
  FORMAT_FAILURE: 'Cấu trúc chữ ký hoặc tài liệu không hợp lệ, hoặc tài liệu bị sửa đổi sau khi ký',
  HASH_FAILURE: 'Nội dung đã bị thay đổi sau khi ký (sai giá trị băm)',
  SIG_CRYPTO_FAILURE: 'Giá trị chữ ký không khớp với khóa công khai của người ký',
  REVOKED: 'Chứng thư số của người ký đã bị thu hồi',
  EXPIRED: 'Chữ ký được tạo sau khi chứng thư số hết hạn',
  NOT_YET_VALID: 'Chữ ký được tạo trước khi chứng thư số có hiệu lực',
  NO_CERTIFICATE_CHAIN_FOUND: 'Không xây dựng được chuỗi chứng thư tới tổ chức chứng thực gốc tin cậy',
  NO_SIGNING_CERTIFICATE_FOUND: 'Không xác định được chứng thư số của người ký',
  CRYPTO_CONSTRAINTS_FAILURE: 'Thuật toán hoặc độ dài khóa không đáp ứng chính sách',
  OUT_OF_BOUNDS_NO_POE: 'Chứng thư số đã hết hạn và không có dấu thời gian chứng minh thời điểm ký',
  TRY_LATER: 'Chưa xác định được tình trạng thu hồi chứng thư số, hãy kiểm tra lại sau',
  SIGNED_DATA_NOT_FOUND: 'Không tìm thấy dữ liệu đã ký',
  CHAIN_CONSTRAINTS_FAILURE: 'Chứng thư số không đáp ứng ràng buộc của chuỗi chứng thư',
  REVOKED_CA_NO_POE: 'Chứng thư của tổ chức chứng thực trung gian đã bị thu hồi',
  NO_SIGNATURE_FOUND: 'Tài liệu không có chữ ký số',
};

const COLORS: Record<Indication, string> = { TOTAL_PASSED: '#1b7f3b', INDETERMINATE: '#a86400', TOTAL_FAILED: '#b3261e' };

function row(vi: string, en: string, value: string): string {
  return `<tr><th><span lang="vi">${vi}</span><br><small lang="en">${en}</small></th><td>${value}</td></tr>`;
}

function badge(ind: Indication, sub: string | null): string {
  return `<span class="badge" style="background:${COLORS[ind]}">${escapeHtml(VERDICT_VI[ind])} · ${escapeHtml(ind)}${sub ? ` / ${escapeHtml(sub)}` : ''}</span>`;
}

function signatureSection(s: SignatureReport, i: number): string {
  const e = escapeHtml;
  const rows: string[] = [];
  const vi = s.subIndication ? SUB_VI[s.subIndication] : s.kind === 'document-timestamp' ? 'Dấu thời gian hợp lệ' : 'Chữ ký hợp lệ';
  rows.push(row('Kết quả', 'Result', `${badge(s.indication, s.subIndication)}<br>${vi ? `<span lang="vi">${e(vi)}</span><br>` : ''}<span lang="en">${e(s.message)}</span>${s.block ? ` <small>(${e(s.block)})</small>` : ''}`));
  rows.push(row('Mức chữ ký', 'Level', e(s.level)));
  rows.push(row('Toàn vẹn', 'Integrity', s.intact ? 'Có / yes' : 'Không / no'));
  if (s.signer) {
    rows.push(row('Người ký', 'Signer', `${e(s.signer.commonName ?? s.signer.subject)}<br><small>${e(s.signer.subject)}</small>`));
    if (s.signer.organization) rows.push(row('Tổ chức', 'Organisation', e(s.signer.organization)));
    const ids = [...s.signer.personalIdentifiers, ...s.signer.organizationIdentifiers];
    if (ids.length) rows.push(row('Mã định danh', 'Identifiers', ids.map(e).join('<br>')));
    rows.push(row('Nhà cung cấp chứng thư', 'Certificate issuer', `${e(s.signer.issuer)}<br><small>serial ${e(s.signer.serialNumber)}</small>`));
    rows.push(row('Hiệu lực chứng thư', 'Certificate validity', `${e(s.signer.notBefore)} → ${e(s.signer.notAfter)}`));
    if (s.signer.chain) rows.push(row('Chuỗi chứng thư', 'Certificate chain', s.signer.chain.map(e).join('<br>↳ ')));
  }
  rows.push(row('Thời điểm ký (khai báo)', 'Claimed signing time', e(s.signingTime ?? '—')));
  rows.push(row('Thời điểm tin cậy (dấu thời gian)', 'Trusted time (timestamp)', e(s.timestamp ?? '—')));
  if (s.coverage.byteRange) {
    rows.push(row('Phạm vi ký', 'Signed range', `ByteRange [${s.coverage.byteRange.map(e).join(' ')}], revision ${e(s.coverage.revision)}; ${s.coverage.coversWholeFile ? 'toàn bộ tệp / whole file' : s.coverage.coversWholeRevision ? 'toàn bộ phiên bản, có sửa đổi sau / whole revision, later revisions follow' : 'KHÔNG trọn phiên bản / NOT the whole revision'}`));
  } else if (s.coverage.dataSize !== undefined) rows.push(row('Phạm vi ký', 'Signed data', `${e(s.coverage.dataSize)} bytes`));
  if (s.coverage.xml) rows.push(row('Phạm vi ký', 'Signed scope', `${e(s.coverage.xml.scope)}: ${s.coverage.xml.references.map((x) => `${e(x.target)}${x.path ? ' ' + e(x.path) : ''}${x.intact ? '' : ' ✗'}`).join('; ')}`));
  if (s.modifications.length) {
    rows.push(row('Thay đổi sau khi ký', 'Changes after signing', `<ul>${s.modifications.map((m) => `<li class="${m.allowed ? (m.warning ? 'warn' : 'ok') : 'bad'}">${m.allowed ? (m.warning ? 'được phép, cần lưu ý / allowed, with a warning' : 'được phép / allowed') : '<b>không được phép / NOT allowed</b>'}: ${e(m.kind)}${m.object ? ` ${e(m.object)}` : ''} (revision ${e(m.revision)}) — ${e(m.description)}</li>`).join('')}</ul>`));
  }
  if (s.revocation.length) rows.push(row('Tình trạng thu hồi', 'Revocation status', s.revocation.map((r) => `${e(r.certificate)}: <b>${e(r.status)}</b> <small>(${e(r.source)})</small>`).join('<br>')));
  if (s.reason) rows.push(row('Lý do', 'Reason', e(s.reason)));
  if (s.location) rows.push(row('Địa điểm', 'Location', e(s.location)));
  const checks = `<details><summary>Các bước kiểm tra / Checks (${s.checks.length})</summary><ul>${s.checks.map((c) => `<li class="${c.status === 'failed' ? 'bad' : c.status === 'warning' ? 'warn' : 'ok'}">[${e(c.block)}] ${e(c.check)}: ${e(c.status)} — ${e(c.message)}</li>`).join('')}</ul></details>`;
  return `<section><h2>${i + 1}. ${s.kind === 'document-timestamp' ? 'Dấu thời gian tài liệu / Document timestamp' : 'Chữ ký / Signature'}: ${e(s.field)}</h2><table>${rows.join('')}</table>${checks}</section>`;
}

/** Self-contained HTML report (no external resources) with Vietnamese and English labels. Every value taken from
 *  the file is escaped. */
export function renderHtml(reports: ValidationReport[]): string {
  const e = escapeHtml;
  const body = reports.map((r) => `<article><h1>${e(r.file)}</h1>
<p>${badge(r.documentIndication, r.documentSubIndication)}</p>
<p><span lang="vi">Kết luận tài liệu</span> / <span lang="en">Document verdict</span>: ${e(VERDICT_VI[r.documentIndication])} (${e(r.documentIndication)}).
<span lang="vi">Thời điểm kiểm tra</span> / <span lang="en">Validation time</span>: ${e(r.validationTime)}. ${e(r.signatures.length)} <span lang="vi">chữ ký</span> / signature(s).</p>
${r.findings.length ? `<ul>${r.findings.map((f) => `<li class="${f.severity === 'error' ? 'bad' : 'warn'}">${e(f.code)}: ${e(f.message)}</li>`).join('')}</ul>` : ''}
${r.signatures.map(signatureSection).join('\n')}</article>`).join('\n<hr>\n');
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Báo cáo xác thực chữ ký số / Signature validation report</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{width:16rem;background:#f5f5f5}.badge{color:#fff;padding:.15rem .5rem;border-radius:.3rem;font-weight:600}
.bad{color:#b3261e}.warn{color:#a86400}.ok{color:#1b5e20}small{color:#555}</style></head>
<body><header><strong>kyso</strong> — Báo cáo xác thực chữ ký số / Signature validation report (ETSI EN 319 102-1)</header>
${body}
</body></html>
`;
}
