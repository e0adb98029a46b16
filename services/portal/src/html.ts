/** Escapes text for HTML element content and attribute values. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A page of the portal: Vietnamese first, English second; no script. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — Cổng dịch vụ công (demo)</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
.en{color:#555;font-weight:400}label{display:block;margin-top:.8rem;font-weight:600}
input,textarea{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}button,.button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.qr svg{width:12rem;height:12rem;display:block}.qr figcaption{overflow-wrap:anywhere}.ok{color:#1b5e20}.bad{color:#b3261e}.warn{color:#a86400}</style></head>
<body><header><strong>Cổng dịch vụ công (demo)</strong> <span class="en">/ Public services portal (demo)</span></header>
<main><h1>${esc(title)}</h1>
${body}
</main></body></html>`;
}
