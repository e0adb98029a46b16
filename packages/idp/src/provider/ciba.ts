/**
 * CIBA (OpenID Connect Client-Initiated Backchannel Authentication): hooks for oidc-provider and the
 * approval page the citizen opens on the phone (service, binding message, approve with TOTP).
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { acrForLevel } from './acr.js';
import { audit, type RouteDeps } from './context.js';
import { t } from './html.js';
import { cibaPage, errorPage, retryAfterText } from './pages.js';
import { readForm, sendPage } from './web.js';

/** Longest binding message, in Unicode code points (after NFC normalisation). */
export const BINDING_MESSAGE_MAX = 64;
const BINDING_RE = /^[\p{L}\p{M}\p{N} .,:;!?#()+\/_'"-]+$/u;

/**
 * Binding messages may be Vietnamese: letters and marks of any script, digits, spaces and common
 * punctuation, 1..64 code points, no control or formatting characters (no bidi overrides).
 */
export function checkBindingMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const nfc = message.normalize('NFC');
  const len = [...nfc].length;
  if (len < 1 || len > BINDING_MESSAGE_MAX) return `binding_message must be 1-${BINDING_MESSAGE_MAX} characters`;
  if (nfc.trim() !== nfc || /\s{2,}/u.test(nfc)) return 'binding_message must not have leading, trailing or repeated spaces';
  if (!BINDING_RE.test(nfc)) return 'binding_message may only contain letters (any language), digits, spaces and . , : ; ! ? # ( ) + / _ \' " -';
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
    async validateRequestContext() {},
    async verifyUserCode(_ctx: KoaContextWithOIDC, _account: unknown, userCode?: string) {
      if (userCode) throw new errors.InvalidRequest('user_code is not supported');
    },
    async triggerAuthenticationDevice(ctx: KoaContextWithOIDC, request: { jti: string; exp?: number; params?: Record<string, unknown> }, account: { accountId: string }, client: { clientId: string; clientName?: string }) {
      const id = randomBytes(24).toString('base64url');
      const ttl = Math.max(1, (request.exp ?? 0) - Math.floor(Date.now() / 1000)) || deps.ttl.ciba;
      const bindingMessage = typeof request.params?.binding_message === 'string' ? request.params.binding_message : undefined;
      await deps.records.putCiba(id, { authReqId: request.jti, accountId: account.accountId, clientId: client.clientId, bindingMessage, scope: String(request.params?.scope ?? 'openid') }, ttl);
      await audit(deps, ctx as unknown as Context, { type: 'ciba.requested', accountId: account.accountId, clientId: client.clientId });
      await deps.notifyCiba({ accountId: account.accountId, clientId: client.clientId, clientName: client.clientName ?? client.clientId, bindingMessage, approvalUrl: `${deps.issuer}/ciba/${id}` });
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
      clientName: l.clientName, bindingMessage: l.rec.bindingMessage, scopes: l.rec.scope.split(' '), error, done }));

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
    const keys = [`ip:${ctx.ip}`, `otp:${l.rec.accountId}`];
    const gate = await deps.limiter.check(keys);
    if (!gate.allowed) {
      ctx.set('Retry-After', String(gate.retryAfterSeconds));
      return show(ctx, l, 429, retryAfterText(gate.retryAfterSeconds));
    }
    const code = (form.code ?? '').replace(/\s+/g, '');
    const account = await deps.storage.accounts.get(l.rec.accountId);
    const ok = !!account && !account.disabled && account.totpEnabled && /^[0-9]{6}$/.test(code)
      && await deps.storage.accounts.verifyTotp(l.rec.accountId, code);
    if (!ok || !account) {
      await deps.limiter.recordFailure(keys);
      await audit(deps, ctx, { type: 'mfa.failure', accountId: l.rec.accountId, clientId: l.rec.clientId, detail: { ciba: true } });
      return show(ctx, l, 400, t('Mã không đúng hoặc đã được sử dụng.', 'Wrong or already used code.'));
    }
    await deps.limiter.recordSuccess(keys);
    await deps.records.takeCiba(l.id);
    const grant = new provider.Grant({ accountId: account.id, clientId: l.rec.clientId });
    grant.addOIDCScope(l.rec.scope);
    const grantId = await grant.save();
    await provider.backchannelResult(l.rec.authReqId, grantId, {
      acr: account.level >= 2 ? acrForLevel(2) : acrForLevel(1), amr: ['otp'], authTime: Math.floor(Date.now() / 1000),
    });
    await audit(deps, ctx, { type: 'ciba.approved', accountId: account.id, clientId: l.rec.clientId });
    return show(ctx, l, 200, undefined, 'approved');
  });

  return router;
}
