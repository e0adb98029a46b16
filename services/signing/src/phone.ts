/**
 * The approval page on the citizen's phone, served by the signing service itself at `/approve/<ref>`: which
 * service asks, which credential, each document's name, a readable summary of what is signed (given by the
 * requesting service, shown as such) and its full hash (hex, grouped by four); then "approve" — which opens the
 * identity provider's CIBA page, where a level-2 request still needs the password and a TOTP code — or "refuse",
 * answered here at once. Mobile first (360 px), Vietnamese first, no script (a waiting page refreshes itself with
 * a meta refresh), `lang="vi"`.
 *
 * `<ref>` is a capability: 22-64 URL-safe characters of randomness, chosen by the signing service or handed in by
 * the requesting service as CSC `clientData` (so that its desktop page can show a QR code before the request is
 * made). Knowing it shows the details and allows refusing; approving always needs the citizen's own factors at
 * the identity provider. State lives in the shared store (any instance answers).
 */
import { randomBytes } from 'node:crypto';
import type { SigningStore } from './store.js';

/** One document as shown on the phone. */
export interface PhoneDocument {
  name: string;
  /** base64 digest */
  hash: string;
  /** Plain-text summary of the content, from the requesting service (kyso extension `documentSummaries`). */
  summary?: string;
}

/** A signing authorization as the phone page shows it. */
export interface PhoneApproval {
  ref: string;
  subject: string;
  clientId: string;
  service: string;
  credentialId: string;
  credentialDescription: string;
  hashAlgorithm: string;
  documents: PhoneDocument[];
  created: number;
  exp: number;
  status: 'pending' | 'approved' | 'refused' | 'expired';
  authReqId?: string;
}

export const REF_RE = /^[A-Za-z0-9_-]{22,64}$/;
const key = (ref: string) => `approval:${ref}`;

/** The records behind the phone pages, in the service's shared store. */
export class PhoneApprovals {
  constructor(private readonly store: SigningStore, private readonly ttlMs: number) {}

  /**
   * Records a new authorization; `wanted` (the caller's `clientData`) is used as the page reference when it is
   * well formed and not held by another citizen or service, otherwise a fresh random one.
   */
  async open(a: Omit<PhoneApproval, 'ref' | 'created' | 'exp' | 'status'>, wanted?: unknown): Promise<PhoneApproval> {
    const now = Date.now();
    const rec = (ref: string): PhoneApproval => ({ ...a, ref, created: now, exp: now + this.ttlMs, status: 'pending' });
    if (typeof wanted === 'string' && REF_RE.test(wanted)) {
      const r = rec(wanted);
      if (await this.store.putValue(key(wanted), JSON.stringify(r), this.ttlMs, true)) return r;
      const old = await this.get(wanted);
      if (old && old.subject === a.subject && old.clientId === a.clientId && old.status !== 'pending') {
        // the same citizen and service try again (e.g. after a refusal) with the same QR code: a new request,
        // which the earlier refusal does not refuse
        await this.store.putValue(`refused:${wanted}`, '0', this.ttlMs + 60_000);
        await this.store.putValue(key(wanted), JSON.stringify(r), this.ttlMs);
        return r;
      }
    }
    const r = rec(randomBytes(24).toString('base64url'));
    await this.store.putValue(key(r.ref), JSON.stringify(r), this.ttlMs);
    return r;
  }

  async get(ref: string): Promise<PhoneApproval | undefined> {
    if (!REF_RE.test(ref)) return undefined;
    const v = await this.store.getValue(key(ref));
    return v ? JSON.parse(v) as PhoneApproval : undefined;
  }

  async #update(ref: string, f: (r: PhoneApproval) => void): Promise<void> {
    const r = await this.get(ref);
    if (!r) return;
    f(r);
    await this.store.putValue(key(ref), JSON.stringify(r), Math.max(1000, r.exp - Date.now() + 60_000));
  }

  started(ref: string, authReqId: string) { return this.#update(ref, (r) => { r.authReqId = authReqId; }); }
  finish(ref: string, status: PhoneApproval['status']) { return this.#update(ref, (r) => { if (r.status === 'pending') r.status = status; }); }

  /** The citizen refused on the phone page; the waiting authorization ends as refused. */
  async refuse(ref: string): Promise<boolean> {
    const r = await this.get(ref);
    if (!r || r.status !== 'pending') return false;
    await this.store.putValue(`refused:${ref}`, '1', this.ttlMs + 60_000);
    await this.finish(ref, 'refused');
    return true;
  }
  async refused(ref: string): Promise<boolean> { return (await this.store.getValue(`refused:${ref}`)) === '1'; }

  /** The identity provider's notification: where the citizen approves this CIBA request. */
  async cibaDelivered(n: { authReqId: string; approvalUrl: string }): Promise<void> {
    if (!/^https?:\/\//.test(n.approvalUrl)) return;
    await this.store.putValue(`ciba:${n.authReqId}`, n.approvalUrl, this.ttlMs + 60_000);
  }
  async approvalUrl(r: PhoneApproval): Promise<string | undefined> {
    return r.authReqId ? this.store.getValue(`ciba:${r.authReqId}`) : undefined;
  }
}

/**
 * For the identity provider's notifier: the phone page named by a CIBA request's `request_context` (as sent by
 * {@link CibaApprover}), under this signing service's public base URL — or undefined.
 */
export function approvalPageOf(requestContext: string | undefined, baseUrl: string): string | undefined {
  if (!requestContext) return undefined;
  try {
    const ref = (JSON.parse(requestContext) as { approval_page?: unknown }).approval_page;
    return typeof ref === 'string' && REF_RE.test(ref) ? new URL(`approve/${ref}`, baseUrl.replace(/\/?$/, '/')).href : undefined;
  } catch {
    return undefined;
  }
}

/** Escapes text for HTML content and attributes. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A digest as upper-case hex in groups of four (16 per line), for reading aloud or comparing. */
export function groupedHex(b64: string): string[] {
  const hex = Buffer.from(b64, 'base64').toString('hex').toUpperCase();
  const groups = hex.match(/.{1,4}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += 4) lines.push(groups.slice(i, i + 4).join(' '));
  return lines;
}

const vnTime = (ms: number) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(ms));

const CSS = `*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;overflow-wrap:anywhere}
header{background:#0b3d91;color:#fff;padding:.75rem 1rem}header strong{display:block;font-size:1.05rem}
main{padding:1rem;max-width:40rem;margin:0 auto}h1{font-size:1.3rem;line-height:1.3;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:1.25rem 0 .5rem}
.en{color:#4a4a4a;font-size:.9rem}dl{margin:0}dt{font-weight:600;margin-top:.75rem}dd{margin:0}
.doc{border:1px solid #767676;border-radius:.5rem;padding:.75rem;margin:.75rem 0}.doc h2{margin-top:0}
.summary{white-space:pre-wrap;background:#f3f5f9;border-radius:.25rem;padding:.5rem;margin:.25rem 0;font-size:.95rem}
.hash{font:1rem/1.6 ui-monospace,"DejaVu Sans Mono",monospace;letter-spacing:.02em;background:#f3f5f9;padding:.5rem;border-radius:.25rem;margin:.25rem 0}
.hash span{display:block}
.actions{display:flex;flex-direction:column;gap:.75rem;margin-top:1.25rem}
.button,button{display:block;width:100%;min-height:48px;padding:.75rem 1rem;font-family:inherit;font-size:1.05rem;font-weight:600;line-height:1.3;text-align:center;text-decoration:none;border-radius:.5rem;border:2px solid transparent;cursor:pointer}
.approve{background:#0b57d0;color:#fff}.refuse{background:#fff;color:#b3261e;border-color:#b3261e}
a:focus-visible,button:focus-visible{outline:3px solid #f9a825;outline-offset:2px}
.ok{color:#1b5e20}.bad{color:#b3261e}.note{background:#fff8e1;border-left:4px solid #a86400;padding:.5rem .75rem}
form{margin:0}`;

function layout(title: string, body: string, refreshSeconds?: number): string {
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}<title>${esc(title)} — Ký số từ xa</title>
<style>${CSS}</style></head>
<body><header><strong>Ký số từ xa</strong><span class="en" lang="en" style="color:#dfe7ff">Remote signing</span></header>
<main><h1>${esc(title)}</h1>
${body}
</main></body></html>`;
}

/**
 * `/approve` without a reference: where the citizen finds all her pending requests — her account page at the
 * identity provider (after logging in there) lists them, each approval page linking back to its details here.
 */
export function approvalIndexPage(accountUrl: string): string {
  return layout('Yêu cầu ký đang chờ', `<p>Mỗi yêu cầu ký có một trang riêng, mở bằng mã QR trên màn hình của dịch vụ.
<span class="en" lang="en">Each request has its own page, opened with the QR code shown by the service.</span></p>
<p>Để xem mọi yêu cầu đang chờ phê duyệt, hãy đăng nhập tài khoản định danh của bạn:
<span class="en" lang="en">To see every request waiting for you, log in to your citizen account:</span></p>
<div class="actions"><a class="button approve" href="${esc(accountUrl)}">Tài khoản định danh <span style="font-weight:400">/ My account</span></a></div>`);
}

/** The page for one authorization. */
export function approvalPage(r: PhoneApproval | undefined, approvalUrl: string | undefined, ref: string, now = Date.now()): { status: number; html: string } {
  if (!r) {
    return { status: 200, html: layout('Đang chờ yêu cầu ký', `<p>Chưa có yêu cầu ký nào cho mã này. Hãy bấm «Ký số» trên máy tính; trang này tự cập nhật.</p>
<p class="en" lang="en">No signing request yet for this code. Press “Sign” on the computer; this page refreshes itself.</p>
<p><a href="/approve/${esc(ref)}">Tải lại / Reload</a></p>`, 3) };
  }
  const docs = r.documents.map((d, i) => `<section class="doc" aria-labelledby="doc${i}">
<h2 id="doc${i}">${esc(d.name)}</h2>
${d.summary ? `<p class="en" style="margin:0">Nội dung (do ${esc(r.service)} cung cấp) / Content:</p><div class="summary">${esc(d.summary)}</div>` : ''}
<p style="margin:.5rem 0 0">Mã băm ${esc(r.hashAlgorithm)} <span class="en" lang="en">/ hash</span>:</p>
<div class="hash" role="group" aria-label="Mã băm của ${esc(d.name)}">${groupedHex(d.hash).map((l) => `<span>${l}</span>`).join('')}</div>
</section>`).join('\n');
  const facts = `<dl>
<dt>Dịch vụ yêu cầu <span class="en" lang="en">/ Requested by</span></dt><dd>${esc(r.service)}</dd>
<dt>Chứng thư số <span class="en" lang="en">/ Credential</span></dt><dd>${esc(r.credentialDescription)}</dd>
<dt>Thời gian <span class="en" lang="en">/ Time</span></dt><dd>${esc(vnTime(r.created))} (giờ Việt Nam)</dd>
<dt>Số tài liệu <span class="en" lang="en">/ Documents</span></dt><dd>${r.documents.length}</dd>
</dl>
${docs}`;
  if (r.status === 'approved') return { status: 200, html: layout('Đã phê duyệt', `<p class="ok" role="status">Bạn đã phê duyệt yêu cầu ký này. <span class="en" lang="en">You approved this request.</span></p>${facts}`) };
  if (r.status === 'refused') return { status: 200, html: layout('Đã từ chối', `<p class="bad" role="status">Yêu cầu ký đã bị từ chối; không có chữ ký nào được tạo. <span class="en" lang="en">The request was refused; nothing was signed.</span></p>${facts}`) };
  if (r.status === 'expired' || r.exp <= now) return { status: 200, html: layout('Yêu cầu đã hết hạn', `<p class="bad" role="status">Yêu cầu ký đã hết hạn; không có chữ ký nào được tạo. <span class="en" lang="en">The request expired; nothing was signed.</span></p>${facts}`) };
  const approve = approvalUrl
    ? `<a class="button approve" href="${esc(approvalUrl)}">Phê duyệt <span style="font-weight:400">(mật khẩu và mã OTP)</span></a>`
    : `<p class="note" role="status">Đang kết nối với hệ thống định danh… trang tự cập nhật. <span class="en" lang="en">Connecting to the identity provider…</span></p>`;
  return {
    status: 200,
    html: layout('Yêu cầu ký số', `<p>Kiểm tra kỹ nội dung trước khi phê duyệt. Chỉ phê duyệt nếu chính bạn vừa yêu cầu ký các tài liệu này.
<span class="en" lang="en">Check before approving; approve only if you asked to sign these documents.</span></p>
${facts}
<div class="actions">${approve}
<form method="post" action="/approve/${esc(r.ref)}"><input type="hidden" name="decision" value="refuse"><button type="submit" class="refuse">Từ chối <span class="en" lang="en" style="color:inherit">/ Refuse</span></button></form></div>`, approvalUrl ? undefined : 2),
  };
}
