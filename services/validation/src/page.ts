import { escapeHtml } from '@kyso/verifier';

/** The upload page: a plain HTML form (works without JavaScript), Vietnamese first, English second. */
export function uploadPage(maxBytes: number): string {
  const mb = Math.floor(maxBytes / (1024 * 1024));
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiểm tra chữ ký số — Validate a signed document</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin:1rem 0 .3rem;font-weight:600}.en{color:#555;font-weight:400}
button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}</style></head>
<body><main>
<h1>Kiểm tra chữ ký số <span class="en">/ Validate a signed document</span></h1>
<p>Tải lên tệp PDF đã ký để nhận báo cáo hiệu lực pháp lý (chuẩn ETSI EN 319 102-1).
<span class="en">Upload a signed PDF to get a legal-validity report (ETSI EN 319 102-1).</span></p>
<form method="post" action="/validate" enctype="multipart/form-data">
<label for="file">Tệp PDF đã ký <span class="en">/ Signed PDF (max ${escapeHtml(String(mb))} MB)</span></label>
<input id="file" name="file" type="file" accept="application/pdf,.pdf" required>
<button type="submit">Kiểm tra <span class="en">/ Validate</span></button>
</form>
<p class="en">API: <code>POST /api/v1/validate</code> with the PDF as the body (<code>application/pdf</code>) →
JSON report; <code>?format=html</code> or <code>?format=text</code> for the other renderings.</p>
</main></body></html>`;
}
