/** Server-rendered HTML helpers: escaping, bilingual text (Vietnamese first, English second), page layout. */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** Markup that is already safe (built from escaped parts). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string { return this.value; }
}

/** Tagged template: interpolated values are escaped unless they are `Html` (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

/** Vietnamese text followed by its English translation. */
export function t(vi: string, en: string): Html {
  return html`<span lang="vi">${vi}</span> <span lang="en" class="en">${en}</span>`;
}

/** Page shell. `nonce` authorises the one inline style block under the page's CSP. */
export function layout(opts: { title: string; nonce: string; body: Html }): string {
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(opts.title)}</title>
<style nonce="${esc(opts.nonce)}">
body{font-family:system-ui,"DejaVu Sans",sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.5rem}
.en{display:block;color:#555;font-size:.85em}
label{display:block;margin-top:1rem;font-weight:600}
input[type=text],input[type=password],input[type=number]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}
button.secondary{background:#eee;border:1px solid #999}
.alert{border:2px solid #b00020;padding:.75rem;margin:1rem 0;background:#fff0f0}
.note{border:1px solid #0a5;padding:.75rem;margin:1rem 0;background:#f0fff5}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}
ul.scopes li{margin:.3rem 0}
:focus-visible{outline:3px solid #1565c0;outline-offset:2px}
code{font-size:1.05em;word-break:break-all}
</style>
</head>
<body>
<header><p><strong>kyso</strong> · <span lang="vi">Cổng định danh công dân</span> <span lang="en" class="en">Citizen identity provider</span></p></header>
<main>
${opts.body.value}
</main>
</body>
</html>
`;
}

/** Hidden CSRF field for a form. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}

/** An error message box announced to screen readers. */
export function alertBox(message: Html | undefined): Html {
  return message ? html`<div class="alert" role="alert">${message}</div>` : html``;
}
