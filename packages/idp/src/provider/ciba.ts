/**
 * CIBA (OpenID Connect Client-Initiated Backchannel Authentication): hooks for oidc-provider and the
 * approval page the citizen opens on the phone (service, binding message, approve with TOTP).
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { acrFromAmr, amrFor, canReachLevel2, requiredLevelOf } from './acr.js';
import { audit, type RouteDeps } from './context.js';
import { t } from './html.js';
import { cibaPage, errorPage, retryAfterText } from './pages.js';
import { readForm, sendPage } from './web.js';

/** Longest binding message, in Unicode code points (after NFC normalisation). */
export const BINDING_MESSAGE_MAX = 64;
/**
 * Letters and marks of any script, digits, the space, dashes (hyphen, en dash, em dash: \p{Pd}), opening and
 * closing quotes (“ ” ‘ ’ « »: \p{Pi} \p{Pf}), and ordinary punctuation. Never: control or format characters
 * (\p{Cc} \p{Cf}, bidi overrides and isolates included), other spaces, markup (< > &), backslash, backtick.
 */
const BINDING_RE = /^[\p{L}\p{M}\p{N}\p{Pd}\p{Pi}\p{Pf} .,:;!?#()[\]+\/_'"%*@…·№°]+$/u;

/**
 * Binding messages may be Vietnamese: letters and marks of any script, digits, spaces and ordinary punctuation
 * (dashes and typographic quotes included), 1..64 code points, no control, formatting (bidi) or markup characters.
 */
export function checkBindingMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const nfc = message.normalize('NFC');
  const len = [...nfc].length;
  if (len < 1 || len > BINDING_MESSAGE_MAX) return `binding_message must be 1-${BINDING_MESSAGE_MAX} characters`;
  if (nfc.trim() !== nfc || /\s{2,}/u.test(nfc)) return 'binding_message must not have leading, trailing or repeated spaces';
  if (!BINDING_RE.test(nfc)) return 'binding_message may only contain letters (any language), digits, spaces, dashes, quotes and . , : ; ! ? # ( ) [ ] + / _ % * @ … · № ° (no control, bidi or markup characters)';
  return undefined;
}

/** oidc-provider `features.ciba` hooks. */
export function cibaFeature(deps: RouteDeps) {
  return {
    enabled: true,
    deliveryModes: ['poll', 'ping'] as ('poll' | 'ping')[],
    async processLoginHint(_ctx: KoaContextWithOIDC, loginHint: string) {
      if (!/^[0-9]{12}$/.test(loginHint)) throw new errors.InvalidRequest('login_hint must be a 12-digit personal identification number');
      const a = await deps.storage.accounts.get(loginHint);
      return a && !a.disabled ? a.id : undefined;
    },
    async processLoginHintToken() {
      throw new errors.InvalidRequest('login_hint_token is not supported; use login_hint');
    },
    async validateBindingMessage(_ctx: KoaContextWithOIDC, message?: string) {
      const problem = checkBindingMessage(message);
      if (problem) throw new errors.InvalidBindingMessage(problem);
    },
    async validateRequestContext(_ctx: KoaContextWithOIDC, context?: string) {
      if (context !== undefined && (context.length > 512 || /[\p{Cc}\p{Cf}]/u.test(context))) throw new errors.InvalidRequest('request_context must be at most 512 printable characters');
    },
    async verifyUserCode(_ctx: KoaContextWithOIDC, _account: unknown, userCode?: string) {
      if (userCode) throw new errors.InvalidRequest('user_code is not supported');
    },
    async triggerAuthenticationDevice(ctx: KoaContextWithOIDC, request: { jti: string; exp?: number; expiration?: number; params?: Record<string, unknown> }, account: { accountId: string }, client: { clientId: string; clientName?: string }) {
      const id = randomBytes(24).toString('base64url');
      // oidc-provider sets no `exp` on the request instance (its lifetime is `expiration`, in seconds): without
      // this the phone page's record lived one second
      const ttl = request.exp ? Math.max(1, request.exp - Math.floor(Date.now() / 1000)) : Math.max(1, Math.floor(request.expiration ?? deps.ttl.ciba));
      const bindingMessage = typeof request.params?.binding_message === 'string' ? request.params.binding_message : undefined;
      const level = requiredLevelOf({ acr_values: request.params?.acr_values, claims: request.params?.claims });
      await deps.records.putCiba(id, { authReqId: request.jti, accountId: account.accountId, clientId: client.clientId, bindingMessage, scope: String(request.params?.scope ?? 'openid'), level }, ttl);
      await audit(deps, ctx as unknown as Context, { type: 'ciba.requested', accountId: account.accountId, clientId: client.clientId });
      const requestContext = typeof request.params?.request_context === 'string' ? request.params.request_context : undefined;
      const delivered = await deps.notifyCiba({ accountId: account.accountId, clientId: client.clientId, clientName: client.clientName ?? client.clientId, bindingMessage, authReqId: request.jti, ...(requestContext ? { requestContext } : {}), approvalUrl: `${deps.issuer}/ciba/${id}` });
      const detailsUrl = delivered && typeof delivered.detailsUrl === 'string' && /^https?:\/\/[^\s"'<>]{1,500}$/.test(delivered.detailsUrl) ? delivered.detailsUrl : undefined;
      if (detailsUrl) {
        const rec = await deps.records.getCiba(id);
        if (rec) await deps.records.putCiba(id, { ...rec, detailsUrl }, ttl);
      }
    },
  };
}

/** The phone's approval page. */
export function cibaRoutes(deps: RouteDeps): Router {
  const router = new Router();

  async function load(ctx: Context) {
    const id = String(ctx.params.id);
    const rec = /^[A-Za-z0-9_-]{32}$/.test(id) ? await deps.records.getCiba(id) : undefined;
    if (!rec) {
      sendPage(ctx, 404, (nonce) => errorPage({ nonce, title: ['Yêu cầu không tồn tại hoặc đã hết hạn', 'Request not found or expired'] }));
      return undefined;
    }
    const client = await deps.provider().Client.find(rec.clientId);
    return { id, rec, clientName: (client?.clientName as string | undefined) ?? rec.clientId };
  }

  const show = (ctx: Context, l: NonNullable<Awaited<ReturnType<typeof load>>>, status = 200, error?: ReturnType<typeof t>, done?: 'approved' | 'denied') =>
    sendPage(ctx, status, (nonce) => cibaPage({ nonce, csrf: deps.csrf.token(ctx, `ciba:${l.id}`), action: `/ciba/${l.id}`,
      clientName: l.clientName, bindingMessage: l.rec.bindingMessage, scopes: l.rec.scope.split(' '), error, done, needPassword: (l.rec.level ?? 0) >= 2,
      ...(l.rec.detailsUrl ? { detailsUrl: l.rec.detailsUrl } : {}) }));

  router.get('/ciba/:id', async (ctx) => {
    const l = await load(ctx);
    if (l) show(ctx, l);
  });

  router.post('/ciba/:id', async (ctx) => {
    const l = await load(ctx);
    if (!l) return;
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, `ciba:${l.id}`, form.csrf);
    const provider = deps.provider();
    if (form.decision === 'deny') {
      await deps.records.takeCiba(l.id);
      await provider.backchannelResult(l.rec.authReqId, new errors.AccessDenied('the citizen denied the request'));
      await audit(deps, ctx, { type: 'ciba.denied', accountId: l.rec.accountId, clientId: l.rec.clientId });
      return show(ctx, l, 200, undefined, 'denied');
    }
    // a level-2 request needs both factors here, on the phone: the password and a TOTP code
    const needPassword = (l.rec.level ?? 0) >= 2;
    // the password is throttled like the login page's: a known device (device cookie) keeps its own allowance
    const device = needPassword ? deps.devices.deviceFor(ctx, l.rec.accountId) : undefined;
    const keys = [`ip:${deps.clientIp(ctx)}`, `otp:${l.rec.accountId}`, ...(needPassword ? [device ? `dev:${l.rec.accountId}:${device}` : `acct:${l.rec.accountId}`] : [])];
    const gate = await deps.limiter.check(keys);
    if (!gate.allowed) {
      ctx.set('Retry-After', String(gate.retryAfterSeconds));
      return show(ctx, l, 429, retryAfterText(gate.retryAfterSeconds));
    }
    const code = (form.code ?? '').replace(/\s+/g, '');
    let account = await deps.storage.accounts.get(l.rec.accountId);
    let pwdOk = !needPassword;
    if (needPassword && account && !account.disabled) {
      const check = typeof form.password === 'string' && form.password ? await deps.storage.accounts.verifyPassword(account.id, form.password) : { ok: false };
      pwdOk = check.ok;
    }
    const ok = pwdOk && !!account && !account.disabled && account.totpEnabled && /^[0-9]{6}$/.test(code)
      && await deps.storage.accounts.verifyTotp(l.rec.accountId, code);
    if (!ok || !account) {
      await deps.limiter.recordFailure(keys);
      await audit(deps, ctx, { type: pwdOk ? 'mfa.failure' : 'login.failure', accountId: l.rec.accountId, clientId: l.rec.clientId, detail: { ciba: true } });
      return show(ctx, l, 400, needPassword
        ? t('Mật khẩu hoặc mã không đúng.', 'Wrong password or code.')
        : t('Mã không đúng hoặc đã được sử dụng.', 'Wrong or already used code.'));
    }
    await deps.limiter.recordSuccess(needPassword ? [...keys, `acct:${account.id}`] : keys);
    if (needPassword) deps.devices.remember(ctx, account.id);
    account = (await deps.storage.accounts.get(account.id)) ?? account;
    const amr = amrFor({ pwd: needPassword, otp: true });
    const acr = acrFromAmr(amr, account);
    await deps.records.takeCiba(l.id);
    if (needPassword && acr !== 'level2') {
      // the account cannot reach level 2 (no assured second factor, or a level-1 identity): never a weaker answer
      await provider.backchannelResult(l.rec.authReqId, new errors.AccessDenied(canReachLevel2(account) ? 'level2 was not reached' : 'the account cannot reach the requested assurance level (level2)'));
      await audit(deps, ctx, { type: 'ciba.denied', accountId: account.id, clientId: l.rec.clientId, detail: { reason: 'unmet-level2' } });
      return show(ctx, l, 200, undefined, 'denied');
    }
    const grant = new provider.Grant({ accountId: account.id, clientId: l.rec.clientId });
    grant.addOIDCScope(l.rec.scope);
    const grantId = await grant.save();
    await provider.backchannelResult(l.rec.authReqId, grantId, { acr, amr, authTime: Math.floor(Date.now() / 1000) });
    await audit(deps, ctx, { type: 'ciba.approved', accountId: account.id, clientId: l.rec.clientId, detail: { acr, amr: amr.join(' ') } });
    return show(ctx, l, 200, undefined, 'approved');
  });

  return router;
}
