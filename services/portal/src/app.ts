import Koa from 'koa';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oc from 'openid-client';
import QRCode from 'qrcode';
import { CscKeyBackend, SignerError, signPdf, type KeyBackend } from '@kyso/signer';
import { esc, page } from './html.js';
import { makeDeclarationPdf, type DeclarationData } from './document.js';
import { MemoryPortalStore, RedisPortalStore, fromJson, toJson, type PortalStore } from './store.js';

/** Who signs in the demo: the citizens' keys (by personal number) and the agency's key. */
export interface PortalSigners {
  /** Opens the key of the citizen with this personal number (remote-signing stand-in), or undefined. */
  citizen(personalNumber: string): Promise<KeyBackend | undefined>;
  agency(): Promise<KeyBackend>;
  agencyName: string;
  tsaUrl: string;
}

/** Options of the demo portal. */
export interface PortalOptions {
  /** Public base URL of the portal (for redirect_uri). */
  baseUrl: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  signers: PortalSigners;
  /** Validation service base URL (POST /api/v1/validate). */
  validationUrl: string;
  /**
   * Remote signing service (CSC API v2): when the citizen has a credential there, she signs with it — PIN here,
   * approval with her OTP on her phone — instead of the server-held stand-in key.
   */
  remoteSigningUrl?: string;
  /**
   * Counter-signing by an officer with the agency seal held by the remote signing service: remotely signed
   * applications wait for an officer (personal numbers listed here, logged in at level 2) instead of being
   * counter-signed automatically with the stand-in key.
   */
  officers?: { personalNumbers: string[]; sealCredentialId: string };
  /**
   * Where sessions and applications live: a store, or a Redis URL (any number of portal instances share them);
   * default the embedded memory store (one instance).
   */
  store?: PortalStore;
  redis?: string;
  /** Session lifetime, sliding [8 h]. */
  sessionTtlMs?: number;
  /**
   * Host names under which the remote signing service is reachable too: when the portal is opened under one of
   * them (a LAN address, a public name), the QR code sends the phone to the signing service under that name (same
   * scheme and port); any other Host header is ignored. Default {@link defaultPhoneHosts}.
   */
  phoneHosts?: string[];
}

/**
 * The default allow-list for the phone link: loopback names, the host names of the portal's base URL and of the
 * signing service, and this machine's own addresses (so a portal opened from the LAN gives the phone a LAN link).
 */
export function defaultPhoneHosts(baseUrl: string, signingUrl?: string): string[] {
  const out = new Set(['localhost', '127.0.0.1', '[::1]', new URL(baseUrl).hostname.toLowerCase()]);
  if (signingUrl) out.add(new URL(signingUrl).hostname.toLowerCase());
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4') out.add(a.address);
      else if (!a.address.toLowerCase().startsWith('fe80')) out.add(`[${a.address.toLowerCase()}]`);
    }
  }
  return [...out];
}

/**
 * Where the phone opens the approval page: the signing service's URL, moved to the host name the portal was
 * opened under (its `Host` header) when that name is allowed; otherwise the signing service's URL as configured.
 */
export function phoneLinkBase(hostHeader: string | undefined, signingUrl: string, allowed: readonly string[]): string {
  const target = new URL(signingUrl);
  if (!hostHeader || !/^[A-Za-z0-9.\-:[\]]{1,300}$/.test(hostHeader)) return target.href;
  let name: string;
  try { name = new URL(`http://${hostHeader}/`).hostname.toLowerCase(); } catch { return target.href; }
  if (!allowed.some((h) => h.toLowerCase() === name)) return target.href;
  target.hostname = name;
  return target.href;
}

/** An application waiting for (or done with) the agency's counter-signature. */
interface Application { id: string; citizen: string; submitted: number; pdf: Uint8Array<ArrayBuffer>; status: 'pending' | 'done'; report?: Session['report'] }

interface Session {
  login?: { state: string; nonce: string; verifier: string; officer?: boolean };
  claims?: Record<string, unknown>;
  idToken?: string;
  csrf: string;
  signed?: Uint8Array<ArrayBuffer>;
  /** Bearer token for the remote signing service (scope `service`). */
  accessToken?: string;
  acr?: string;
  /** Generated, not yet signed declaration, and the credential it will be signed with. */
  draft?: { pdf: Uint8Array<ArrayBuffer>; credentialId: string; summary?: string; approvalRef?: string };
  report?: { documentIndication: string; signatures: { field: string; indication: string; subIndication: string | null; level?: string; signer?: { subject?: string } }[] };
}

const COOKIE = 'portal_sid';
const SID_RE = /^[A-Za-z0-9_-]{32}$/;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readForm(ctx: Koa.Context, limit = 16 * 1024): Promise<URLSearchParams> {
  if (!/^application\/x-www-form-urlencoded/i.test(ctx.get('content-type'))) ctx.throw(415, 'form expected');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) ctx.throw(413, 'form too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function addressText(v: unknown): string {
  if (v && typeof v === 'object') {
    const a = v as Record<string, string>;
    return a.formatted ?? [a.street_address, a.locality, a.region, a.country].filter(Boolean).join(', ');
  }
  return str(v);
}

/** A validation verdict in plain Vietnamese (no ETSI codes). */
export function verdictText(indication: string | undefined): string {
  return indication === 'TOTAL_PASSED' ? 'Hợp lệ' : indication === 'TOTAL_FAILED' ? 'Không hợp lệ' : indication === 'INDETERMINATE' ? 'Chưa xác định được tính hợp lệ' : 'Không rõ';
}

/** What a signature's level means, in plain Vietnamese. */
export function levelText(level: string | undefined): string {
  const l = (level ?? '').toUpperCase();
  if (/-LTA$/.test(l)) return 'Có dấu thời gian, lưu trữ dài hạn';
  if (/-LT$/.test(l)) return 'Có dấu thời gian và thông tin kiểm tra dài hạn';
  if (/-T$/.test(l)) return 'Có dấu thời gian';
  if (/-B$/.test(l)) return 'Chữ ký cơ bản';
  return 'Không xác định';
}

/** The signer's name from a distinguished name (its CN), never the raw DN. */
export function signerName(subject: string | undefined): string {
  const m = /(?:^|[,/]\s*)CN=((?:\\.|[^,/+])+)/.exec(subject ?? '');
  return m ? m[1]!.replace(/\\(.)/g, '$1').trim() : 'Không rõ';
}

/** A birth date as dd/mm/yyyy (the claim is yyyy-mm-dd). */
export function vnDate(v: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : v;
}

/** The declaration as plain text, shown on the phone beside the hash of what is signed. */
function declarationSummary(d: DeclarationData): string {
  return ['Tờ khai thay đổi thông tin cư trú', `Họ, chữ đệm và tên: ${d.name}`, `Số định danh cá nhân: ${d.personalNumber}`, `Ngày sinh: ${vnDate(d.birthdate)}`,
    `Nơi thường trú: ${d.address}`, `Số điện thoại: ${d.phone}`, `Nội dung đề nghị: ${d.request}`].join('\n');
}

/**
 * The demo portal (journey 1 and 2 of DESIGN.md): login at the citizen IdP (code + PKCE), a form pre-filled from
 * the verified claims, a PDF signed by the citizen (PAdES B-T) then counter-signed by the agency with a visible
 * Vietnamese seal (B-LT), validated by the validation service.
 */
export async function createPortalApp(opts: PortalOptions): Promise<Koa> {
  const config = await oc.discovery(new URL(opts.issuer), opts.clientId, opts.clientSecret, undefined, { execute: [oc.allowInsecureRequests] });
  const store: PortalStore = opts.store ?? (opts.redis ? new RedisPortalStore(opts.redis) : new MemoryPortalStore());
  const sessionTtl = opts.sessionTtlMs ?? 8 * 3600_000;
  const phoneHosts = opts.phoneHosts ?? defaultPhoneHosts(opts.baseUrl, opts.remoteSigningUrl);
  const applications = {
    async get(id: string) { const v = await store.getApplication(id); return v ? fromJson<Application>(v) : undefined; },
    async put(a: Application) { await store.putApplication(a.id, toJson(a), a.submitted); },
    async list() { return (await store.listApplications(500)).map((v) => fromJson<Application>(v)); },
    /** One officer at a time counter-signs an application (the phone approval included: 5 minutes at most). */
    claim: (id: string, holder: string) => store.claimApplication(id, holder, 5 * 60_000),
    release: (id: string, holder: string) => store.releaseApplication(id, holder),
  };
  const vnTime = (d: number) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d);
  const redirectUri = `${opts.baseUrl}/callback`;
  const app = new Koa();
  app.silent = true;

  // one origin only: the session cookie and the login's redirect_uri belong to the base URL's host, so a portal
  // opened as `localhost` (or any other name of this loopback address) moves to it before anything else
  const base = new URL(opts.baseUrl);
  const loopback = (h: string) => /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(h);
  app.use(async (ctx, next) => {
    const host = ctx.get('host');
    if (host && host.toLowerCase() !== base.host.toLowerCase()) {
      const name = host.replace(/:\d+$/, '');
      const port = /:(\d+)$/.exec(host)?.[1] ?? (base.protocol === 'https:' ? '443' : '80');
      if (loopback(name) && loopback(base.hostname) && port === (base.port || (base.protocol === 'https:' ? '443' : '80'))) {
        ctx.status = ctx.method === 'GET' || ctx.method === 'HEAD' ? 302 : 307;
        ctx.redirect(base.origin + ctx.originalUrl);
        ctx.status = ctx.method === 'GET' || ctx.method === 'HEAD' ? 302 : 307;
        return;
      }
    }
    await next();
  });

  app.use(async (ctx, next) => {
    ctx.set({
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + new URL(opts.issuer).origin + "; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    // the session lives in the shared store (any instance answers); saved after each request
    let sid = ctx.cookies.get(COOKIE);
    const raw = sid && SID_RE.test(sid) ? await store.getSession(sid) : undefined;
    let session: Session;
    if (raw) session = fromJson<Session>(raw);
    else {
      sid = randomBytes(24).toString('base64url');
      session = { csrf: randomBytes(24).toString('base64url') };
      ctx.cookies.set(COOKIE, sid, { httpOnly: true, sameSite: 'lax', secure: false, overwrite: true });
    }
    ctx.state.session = session;
    const save = async () => {
      if (ctx.state.rotateSession) {
        // a new identifier once logged in (no session fixation); the old one is forgotten by every instance
        await store.deleteSession(sid!);
        sid = randomBytes(24).toString('base64url');
        ctx.cookies.set(COOKIE, sid, { httpOnly: true, sameSite: 'lax', secure: false, overwrite: true });
        ctx.state.rotateSession = false;
      }
      await store.putSession(sid!, toJson(session), session.claims || session.login ? sessionTtl : Math.min(sessionTtl, 1800_000));
    };
    try {
      await next();
      await save();
    } catch (e) {
      await save().catch(() => {});
      const status = (e as { status?: number }).status ?? 500;
      ctx.status = status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = page('Lỗi / Error', `<p class="bad">${esc(status < 500 ? (e as Error).message : 'Đã xảy ra lỗi nội bộ / internal error')}</p><p><a href="/">Trang chủ / Home</a></p>`);
    }
  });

  /** The citizen's credential at the remote signing service, if she has one (and the portal uses it). */
  async function remoteCredential(s: Session): Promise<string | undefined> {
    if (!opts.remoteSigningUrl || !s.accessToken) return undefined;
    try {
      const r = await fetch(new URL('csc/v2/credentials/list', opts.remoteSigningUrl.replace(/\/?$/, '/')), {
        method: 'POST', headers: { authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' }, body: '{}',
      });
      if (!r.ok) return undefined;
      const ids = ((await r.json()) as { credentialIDs?: unknown }).credentialIDs;
      return Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : undefined;
    } catch {
      return undefined;
    }
  }

  /** The citizen's signature (PAdES B-T). */
  async function signCitizen(pdf: Uint8Array, citizenKey: KeyBackend): Promise<Uint8Array<ArrayBuffer>> {
    const dir = await mkdtemp(join(tmpdir(), 'kyso-portal-'));
    try {
      await writeFile(join(dir, '0.pdf'), pdf);
      await signPdf(join(dir, '0.pdf'), join(dir, '1.pdf'), {
        backend: citizenKey, level: 'B-T', tsa: { url: opts.signers.tsaUrl }, reason: 'Người khai ký tờ khai', location: 'Cổng dịch vụ công',
      });
      return new Uint8Array(await readFile(join(dir, '1.pdf')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The agency's counter-signature (B-LT, visible, Vietnamese text) with a key (the officer's remote seal). */
  async function counterSign(pdf: Uint8Array, seal: KeyBackend, officer: string): Promise<Uint8Array<ArrayBuffer>> {
    const dir = await mkdtemp(join(tmpdir(), 'kyso-portal-'));
    try {
      await writeFile(join(dir, '1.pdf'), pdf);
      await signPdf(join(dir, '1.pdf'), join(dir, '2.pdf'), {
        backend: seal, level: 'B-LT', tsa: { url: opts.signers.tsaUrl }, reason: `Tiếp nhận hồ sơ — cán bộ ${officer}`, location: 'Hà Nội',
        visible: { page: 1, rect: [60, 100, 330, 80] },
      });
      return new Uint8Array(await readFile(join(dir, '2.pdf')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function validate(ctx: Koa.Context, pdf: Uint8Array<ArrayBuffer>): Promise<Session["report"]> {
    const r = await fetch(`${opts.validationUrl}/api/v1/validate`, { method: 'POST', body: pdf, headers: { 'content-type': 'application/pdf', 'x-file-name': 'to-khai.pdf' } });
    if (!r.ok) ctx.throw(502, `validation service answered ${r.status}`);
    return (await r.json()) as Session['report'];
  }

  /** Citizen signature (B-T), agency counter-signature (B-LT, visible seal), then the validation report. */
  async function signAndValidate(ctx: Koa.Context, s: Session, pdf: Uint8Array, citizenKey: KeyBackend): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'kyso-portal-'));
    try {
      await writeFile(join(dir, '0.pdf'), pdf);
      await signPdf(join(dir, '0.pdf'), join(dir, '1.pdf'), {
        backend: citizenKey, level: 'B-T', tsa: { url: opts.signers.tsaUrl }, reason: 'Người khai ký tờ khai', location: 'Cổng dịch vụ công',
      });
      const agency = await opts.signers.agency();
      await signPdf(join(dir, '1.pdf'), join(dir, '2.pdf'), {
        backend: agency, level: 'B-LT', tsa: { url: opts.signers.tsaUrl }, reason: 'Tiếp nhận hồ sơ', location: 'Hà Nội',
        visible: { page: 1, rect: [60, 100, 330, 80] },
      });
      s.signed = new Uint8Array(await readFile(join(dir, '2.pdf')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const r = await fetch(`${opts.validationUrl}/api/v1/validate`, { method: 'POST', body: s.signed, headers: { 'content-type': 'application/pdf', 'x-file-name': 'to-khai.pdf' } });
    if (!r.ok) ctx.throw(502, `validation service answered ${r.status}`);
    s.report = (await r.json()) as Session['report'];
  }

  app.use(async (ctx) => {
    const s = ctx.state.session as Session;
    ctx.type = 'text/html; charset=utf-8';
    if (ctx.method === 'GET' && ctx.path === '/') {
      ctx.body = page('Thay đổi thông tin cư trú', s.claims
        ? `<p>Xin chào ${esc(s.claims.name)}. <a href="/form">Tiếp tục khai / Continue</a> · <a href="/logout">Đăng xuất / Log out</a></p>`
        : `<p>Đăng nhập bằng tài khoản định danh để khai và ký số tờ khai.
<span class="en">Log in with your citizen account to fill in and sign the form.</span></p>
<p><a class="button" href="/login">Đăng nhập / Log in</a></p>`);
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/login') {
      const verifier = oc.randomPKCECodeVerifier();
      const officer = ctx.query.role === 'officer';
      const login = { state: oc.randomState(), nonce: oc.randomNonce(), verifier, officer };
      s.login = login;
      const url = oc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: opts.remoteSigningUrl ? 'openid profile address phone citizen service' : 'openid profile address phone citizen',
        state: login.state,
        nonce: login.nonce,
        code_challenge: await oc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        // `/login?acr=level2` asks for assurance level 2 (password + TOTP, or a TOTP step-up of a level-1 session);
        // the officer pages always need level 2
        acr_values: officer || ctx.query.acr === 'level2' ? 'level2' : 'level1',
        ui_locales: 'vi',
      });
      ctx.redirect(url.href);
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/callback') {
      if (!s.login) {
        ctx.status = 400;
        ctx.body = page('Chưa đăng nhập', `<p class="bad">Phiên đăng nhập đã hết hạn hoặc không tồn tại. <span class="en">The login expired or was not started here.</span></p><p><a class="button" href="/login">Đăng nhập lại / Log in again</a></p>`);
        return;
      }
      const login = s.login!;
      delete s.login;
      if (typeof ctx.query.error === 'string') {
        // the citizen cancelled at the identity provider (or it refused): a clear page, never a 500
        const cancelled = ctx.query.error === 'access_denied';
        ctx.status = cancelled ? 200 : 400;
        ctx.body = page(cancelled ? 'Đã hủy đăng nhập' : 'Không đăng nhập được', `<p class="${cancelled ? 'warn' : 'bad'}">${cancelled
          ? 'Bạn đã hủy đăng nhập. Chưa có thông tin nào được chia sẻ với cổng dịch vụ. <span class="en">You cancelled the login; nothing was shared.</span>'
          : 'Hệ thống định danh không cho phép đăng nhập lúc này. <span class="en">The identity provider refused the login.</span>'}</p><p><a class="button" href="/login${login.officer ? '?role=officer' : ''}">Đăng nhập lại / Log in again</a> · <a href="/">Trang chủ / Home</a></p>`);
        return;
      }
      let tokens: Awaited<ReturnType<typeof oc.authorizationCodeGrant>>;
      try {
        tokens = await oc.authorizationCodeGrant(config, new URL(ctx.href.replace(/^https?:\/\/[^/]+/, opts.baseUrl)), {
          pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce,
        });
      } catch {
        ctx.status = 400;
        ctx.body = page('Không đăng nhập được', `<p class="bad">Không hoàn tất được việc đăng nhập (phiên đã hết hạn hoặc không hợp lệ). <span class="en">The login could not be completed.</span></p><p><a class="button" href="/login">Đăng nhập lại / Log in again</a></p>`);
        return;
      }
      const sub = tokens.claims()?.sub;
      if (!sub) ctx.throw(400, 'no subject in the id_token');
      s.claims = { ...(await oc.fetchUserInfo(config, tokens.access_token, sub!)) };
      s.idToken = tokens.id_token;
      s.accessToken = tokens.access_token;
      s.acr = String(tokens.claims()?.acr ?? '');
      ctx.state.rotateSession = true;
      ctx.redirect(login.officer ? '/officer' : '/form');
      return;
    }
    if (ctx.path === '/form') {
      if (!s.claims) return ctx.redirect('/login');
      const c = s.claims;
      if (ctx.method === 'GET') {
        const field = (name: string, label: string, value: string, readonly = false) =>
          `<label for="${name}">${label}</label><input id="${name}" name="${name}" value="${esc(value)}"${readonly ? ' readonly' : ''}>`;
        ctx.body = page('Tờ khai thay đổi thông tin cư trú', `<p class="en">Pre-filled from your verified identity (scope <code>citizen</code>).</p>
<form method="post" action="/form"><input type="hidden" name="csrf" value="${esc(s.csrf)}">
${field('name', 'Họ và tên / Full name', str(c.name), true)}
${field('personalNumber', 'Số định danh cá nhân / Personal number', str(c.personal_number), true)}
${field('birthdate', 'Ngày sinh / Birth date', vnDate(str(c.birthdate)), true)}
${field('address', 'Nơi thường trú / Permanent address', addressText(c.population_address ?? c.address))}
${field('phone', 'Số điện thoại / Phone', str(c.phone_number))}
<label for="request">Nội dung đề nghị / Request</label><textarea id="request" name="request" rows="3" required>Đăng ký thay đổi nơi thường trú</textarea>
<button type="submit">Ký số và nộp / Sign and submit</button></form>`);
        return;
      }
      if (ctx.method === 'POST') {
        const form = await readForm(ctx);
        if (!sameSecret(form.get('csrf') ?? '', s.csrf)) ctx.throw(403, 'CSRF token không hợp lệ / invalid CSRF token');
        const data: DeclarationData = {
          // Identity fields come from the verified claims, never from the form.
          name: str(c.name), personalNumber: str(c.personal_number), birthdate: str(c.birthdate),
          address: (form.get('address') ?? '').slice(0, 200), phone: (form.get('phone') ?? '').slice(0, 30),
          request: (form.get('request') ?? '').slice(0, 300),
        };
        const remote = await remoteCredential(s);
        if (remote) {
          s.draft = { pdf: new Uint8Array(await makeDeclarationPdf(data)), credentialId: remote, summary: declarationSummary(data), approvalRef: randomBytes(24).toString('base64url') };
          ctx.redirect('/confirm');
          return;
        }
        const citizenKey = await opts.signers.citizen(data.personalNumber);
        if (!citizenKey) ctx.throw(409, 'Chưa có chứng thư số cho công dân này / no signing certificate for this citizen in the demo');
        await signAndValidate(ctx, s, await makeDeclarationPdf(data), citizenKey!);
        ctx.redirect('/result');
        return;
      }
    }
    if (ctx.method === 'GET' && ctx.path === '/draft.pdf') {
      if (!s.draft) ctx.throw(404, 'Không có tờ khai chờ ký / no document waiting for signature');
      ctx.type = 'application/pdf';
      ctx.set('Content-Disposition', 'inline; filename="to-khai-chua-ky.pdf"');
      ctx.body = Buffer.from(s.draft!.pdf);
      return;
    }
    if (ctx.path === '/confirm') {
      if (!s.claims) return ctx.redirect('/login');
      if (!s.draft) return ctx.redirect('/form');
      if (ctx.method === 'GET') {
        const signingBase = phoneLinkBase(ctx.get('host'), opts.remoteSigningUrl!, phoneHosts);
        const phoneUrl = s.draft!.approvalRef ? new URL(`approve/${s.draft!.approvalRef}`, signingBase.replace(/\/?$/, '/')).href : undefined;
        const qr = phoneUrl ? await QRCode.toString(phoneUrl, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }) : '';
        ctx.body = page('Xác nhận ký tờ khai', `<p>Kiểm tra tờ khai trước khi ký: <a href="/draft.pdf">Xem tờ khai (PDF)</a>.
<span class="en">Check the declaration before signing.</span></p>
<p>Sau khi bấm «Ký số», hãy phê duyệt yêu cầu ký trên điện thoại của bạn (mật khẩu và mã OTP).
<span class="en">After pressing “Sign”, approve the request on your phone (password and OTP).</span></p>
${phoneUrl ? `<figure class="qr"><div role="img" aria-label="Mã QR mở trang phê duyệt trên điện thoại">${qr}</div>
<figcaption>Quét mã QR bằng điện thoại để mở trang phê duyệt: <a href="${esc(phoneUrl)}" id="phone-link">${esc(phoneUrl)}</a>
<span class="en">Scan with your phone to open the approval page.</span></figcaption></figure>` : ''}
<form method="post" action="/confirm"><input type="hidden" name="csrf" value="${esc(s.csrf)}">
<label for="pin">Mã PIN chứng thư số / Signing PIN</label><input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" required>
<button type="submit" name="decision" value="sign">Ký số / Sign</button>
<button type="submit" name="decision" value="cancel" formnovalidate>Hủy / Cancel</button></form>`);
        return;
      }
      if (ctx.method === 'POST') {
        const form = await readForm(ctx);
        if (!sameSecret(form.get('csrf') ?? '', s.csrf)) ctx.throw(403, 'CSRF token không hợp lệ / invalid CSRF token');
        if (form.get('decision') === 'cancel') {
          delete s.draft;
          ctx.body = page('Đã hủy', `<p>Bạn đã hủy việc ký tờ khai. Tờ khai chưa được nộp. <span class="en">You cancelled; nothing was submitted.</span></p><p><a href="/form">Khai lại / Start again</a></p>`);
          return;
        }
        const draft = s.draft!;
        let backend: KeyBackend;
        try {
          backend = await CscKeyBackend.open({
            url: opts.remoteSigningUrl!, credentialId: draft.credentialId, token: s.accessToken ?? '', pin: form.get('pin') ?? '', documentName: 'Tờ khai cư trú.pdf',
            ...(draft.summary ? { documentSummary: draft.summary } : {}), ...(draft.approvalRef ? { approvalRef: draft.approvalRef } : {}),
          });
          if (opts.officers) {
            const signed = await signCitizen(draft.pdf, backend);
            const id = randomBytes(9).toString('base64url');
            await applications.put({ id, citizen: str(s.claims!.name), submitted: Date.now(), pdf: signed, status: 'pending' });
            delete s.draft;
            s.signed = signed;
            delete s.report;
            ctx.body = page('Đã nộp hồ sơ', `<p class="ok">Bạn đã ký và nộp tờ khai. Hồ sơ đang chờ cán bộ tiếp nhận ký xác nhận.
<span class="en">Signed and submitted; waiting for the agency's counter-signature.</span></p>
<p>Mã hồ sơ / Application: <strong>${esc(id)}</strong></p><p><a href="/document.pdf">Tải tờ khai đã ký / Download</a> · <a href="/logout">Đăng xuất / Log out</a></p>`);
            return;
          }
          await signAndValidate(ctx, s, draft.pdf, backend);
        } catch (e) {
          if (!(e instanceof SignerError)) throw e;
          const why = e.code === 'BAD_PIN' ? 'Mã PIN không đúng. / Wrong PIN.'
            : e.code === 'PIN_LOCKED' ? 'Chứng thư số đang bị khóa do nhập sai mã PIN nhiều lần. / The credential is locked (too many wrong PINs).'
              : /refused|access_denied|expired/i.test(e.message) ? 'Yêu cầu ký đã bị từ chối hoặc hết hạn trên điện thoại. / The request was refused or expired on the phone.'
                : 'Không ký được tờ khai. / The declaration could not be signed.';
          ctx.status = 400;
          ctx.body = page('Chưa ký được tờ khai', `<p class="bad">${esc(why)}</p><p><a href="/confirm">Thử lại / Try again</a> · <a href="/form">Khai lại / Start again</a></p>`);
          return;
        }
        delete s.draft;
        ctx.redirect('/result');
        return;
      }
    }
    if (ctx.method === 'GET' && ctx.path === '/result') {
      if (!s.signed || !s.report) return ctx.redirect('/form');
      const rows = s.report.signatures.map((g, i) => `<tr><td>${i + 1}</td><td>${esc(signerName(g.signer?.subject))}</td><td>${esc(levelText(g.level))}</td><td class="${g.indication === 'TOTAL_PASSED' ? 'ok' : 'bad'}">${esc(verdictText(g.indication))}</td></tr>`).join('');
      ctx.body = page('Hồ sơ đã nộp / Submitted', `<p>Tờ khai đã được ký bởi công dân và cơ quan tiếp nhận. <span class="en">Signed by the citizen and counter-signed by the agency.</span></p>
<p>Kết luận / Verdict: <strong class="${s.report.documentIndication === 'TOTAL_PASSED' ? 'ok' : 'bad'}">${esc(verdictText(s.report.documentIndication))}</strong></p>
<table><tr><th>Chữ ký / Signature</th><th>Người ký / Signer</th><th>Loại chữ ký / Kind</th><th>Kết quả / Result</th></tr>${rows}</table>
<p><a href="/document.pdf">Tải tệp PDF đã ký / Download the signed PDF</a> · <a href="/logout">Đăng xuất / Log out</a></p>`);
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/document.pdf') {
      if (!s.signed) ctx.throw(404, 'no document');
      ctx.type = 'application/pdf';
      ctx.set('Content-Disposition', 'attachment; filename="to-khai.pdf"');
      ctx.body = Buffer.from(s.signed!);
      return;
    }
    if (ctx.path === '/officer' || ctx.path.startsWith('/officer/')) {
      if (!opts.officers || !opts.remoteSigningUrl) ctx.throw(404, 'Không tìm thấy / not found');
      const officers = opts.officers!;
      if (!s.claims) return ctx.redirect('/login?role=officer');
      if (!officers.personalNumbers.includes(str(s.claims.personal_number))) ctx.throw(403, 'Bạn không phải cán bộ tiếp nhận / you are not an officer of this agency');
      if (s.acr !== 'level2') return ctx.redirect('/login?role=officer');
      const m = /^\/officer\/([A-Za-z0-9_-]{12})(\.pdf)?$/.exec(ctx.path);
      if (ctx.method === 'GET' && ctx.path === '/officer') {
        const rows = (await applications.list()).map((a) => `<tr><td><a href="/officer/${esc(a.id)}">${esc(a.id)}</a></td><td>${esc(a.citizen)}</td><td>${esc(vnTime(a.submitted))}</td><td>${a.status === 'pending' ? 'Chờ ký xác nhận' : 'Đã ký xác nhận'}</td></tr>`).join('');
        ctx.body = page('Hồ sơ chờ xử lý', `<p>Cán bộ: ${esc(s.claims.name)}</p><table><tr><th>Mã hồ sơ</th><th>Người nộp</th><th>Thời gian nộp</th><th>Trạng thái</th></tr>${rows || '<tr><td colspan="4">Không có hồ sơ</td></tr>'}</table>`);
        return;
      }
      const app = m ? await applications.get(m[1]!) : undefined;
      if (!app) ctx.throw(404, 'Không có hồ sơ này / no such application');
      if (m![2]) {
        ctx.type = 'application/pdf';
        ctx.set('Content-Disposition', `attachment; filename="ho-so-${app!.id}.pdf"`);
        ctx.body = Buffer.from(app!.pdf);
        return;
      }
      if (ctx.method === 'GET') {
        ctx.body = page('Ký xác nhận hồ sơ', app!.status === 'done'
          ? `<p class="ok">Hồ sơ đã được ký xác nhận. Kết luận: <strong>${esc(verdictText(app!.report?.documentIndication))}</strong> <span class="en">(${esc(app!.report?.documentIndication ?? '')})</span></p><p><a href="/officer/${esc(app!.id)}.pdf">Tải tệp / Download</a></p>`
          : `<p>Người nộp: ${esc(app!.citizen)} — ${esc(vnTime(app!.submitted))}. <a href="/officer/${esc(app!.id)}.pdf">Xem tờ khai đã ký (PDF)</a></p>
<form method="post" action="/officer/${esc(app!.id)}"><input type="hidden" name="csrf" value="${esc(s.csrf)}">
<label for="pin">Mã PIN con dấu điện tử / Seal PIN</label><input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" required>
<button type="submit">Ký xác nhận bằng con dấu cơ quan / Counter-sign with the agency seal</button></form>`);
        return;
      }
      if (ctx.method === 'POST') {
        const form = await readForm(ctx);
        if (!sameSecret(form.get('csrf') ?? '', s.csrf)) ctx.throw(403, 'CSRF token không hợp lệ / invalid CSRF token');
        if (app!.status === 'done') return ctx.redirect(`/officer/${app!.id}`);
        // two officers at once: one claims the application (atomically, in the shared store), the other is told
        const holder = `${str(s.claims.personal_number)}:${randomBytes(9).toString('base64url')}`;
        if (!(await applications.claim(app!.id, holder))) {
          ctx.status = 409;
          ctx.body = page('Hồ sơ đang được xử lý', `<p class="warn">Một cán bộ khác đang ký xác nhận hồ sơ này. Vui lòng xem lại sau ít phút.
<span class="en">Another officer is counter-signing this application right now; check again in a few minutes.</span></p><p><a href="/officer/${esc(app!.id)}">Xem hồ sơ / View the application</a> · <a href="/officer">Danh sách hồ sơ / Applications</a></p>`);
          return;
        }
        try {
          // read again under the claim: another officer may have finished in between
          const current = await applications.get(app!.id);
          if (!current || current.status === 'done') return ctx.redirect(`/officer/${app!.id}`);
          const seal = await CscKeyBackend.open({ url: opts.remoteSigningUrl!, credentialId: officers.sealCredentialId, token: s.accessToken ?? '', pin: form.get('pin') ?? '', documentName: `Hồ sơ ${current.id}.pdf` });
          const signed = await counterSign(current.pdf, seal, str(s.claims.name));
          current.report = await validate(ctx, signed);
          current.pdf = signed;
          current.status = 'done';
          await applications.put(current);
        } catch (e) {
          if (!(e instanceof SignerError)) throw e;
          ctx.status = 400;
          ctx.body = page('Chưa ký được', `<p class="bad">${esc(e.code === 'BAD_PIN' ? 'Mã PIN không đúng. / Wrong PIN.' : 'Không ký xác nhận được (bị từ chối, hết hạn hoặc lỗi). / Not counter-signed (refused, expired or failed).')}</p><p><a href="/officer/${esc(app!.id)}">Thử lại / Try again</a></p>`);
          return;
        } finally {
          await applications.release(app!.id, holder).catch(() => {});
        }
        ctx.redirect(`/officer/${app!.id}`);
        return;
      }
    }
    if (ctx.method === 'GET' && ctx.path === '/logout') {
      const idToken = s.idToken;
      for (const k of ['claims', 'idToken', 'signed', 'report', 'login', 'accessToken', 'draft', 'acr'] as const) delete s[k];
      ctx.redirect(idToken ? oc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${opts.baseUrl}/` }).href : '/');
      return;
    }
    ctx.throw(404, 'Không tìm thấy / not found');
  });
  return app;
}
