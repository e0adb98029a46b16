/**
 * Interaction routes: login (personal number + password), second factor (TOTP / recovery code), acting for
 * a minor, consent, abort. Every POST checks a CSRF token; login and TOTP are rate-limited per IP and per
 * account; every outcome is audited.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import type { CitizenAccount } from '../contracts.js';
import { acrFromAmr, amrFor, canReachLevel2, levelOfAcr, requiredLevelOf } from './acr.js';
import { audit, type RouteDeps } from './context.js';
import { guardianMayAct } from './guardians.js';
import { IdpProtocolError } from './errors.js';
import { t } from './html.js';
import { credentialDetailsOf } from './rar.js';
import { actorPage, consentPage, errorPage, loginPage, retryAfterText, totpPage } from './pages.js';
import type { InteractionProgress } from './records.js';
import { readForm, sendPage } from './web.js';

const PIN_RE = /^[0-9]{12}$/;
type Details = Awaited<ReturnType<ReturnType<RouteDeps['provider']>['interactionDetails']>>;

export function interactionRoutes(deps: RouteDeps): Router {
  const router = new Router();

  const remaining = (d: Details) => Math.max(1, d.exp - Math.floor(Date.now() / 1000));
  const clientName = async (clientId: unknown) => {
    const c = await deps.provider().Client.find(String(clientId));
    return (c?.clientName as string | undefined) ?? String(clientId);
  };

  /** The current interaction, checked against the URL and the prompt the form belongs to. */
  async function details(ctx: Context, prompt?: 'login' | 'consent'): Promise<Details> {
    const d = await deps.provider().interactionDetails(ctx.req, ctx.res);
    if (d.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    if (prompt && d.prompt.name !== prompt) throw new errors.InvalidRequest(`this form is not expected now (pending: ${d.prompt.name})`);
    return d;
  }

  async function finish(ctx: Context, result: Record<string, unknown>) {
    const returnTo = await deps.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.redirect(returnTo);
    ctx.status = 303;
  }

  /** Only the step-up check asked for login: the session is valid but its level is too low. */
  const isStepUpOnly = (d: Details) => !!d.session?.accountId && d.prompt.reasons.length > 0
    && d.prompt.reasons.every((r) => r === 'acr_step_up');

  async function renderLogin(ctx: Context, d: Details, status = 200, error?: ReturnType<typeof t>) {
    const name = await clientName(d.params.client_id);
    sendPage(ctx, status, (nonce) => loginPage({
      nonce, csrf: deps.csrf.token(ctx, d.uid), action: `/interaction/${d.uid}/login`, abortAction: `/interaction/${d.uid}/abort`,
      clientName: name, error, loginHint: typeof d.params.login_hint === 'string' && PIN_RE.test(d.params.login_hint) ? d.params.login_hint : undefined,
      stepUpNote: d.prompt.reasons.includes('login_prompt') || d.prompt.reasons.includes('max_age'),
    }));
  }

  async function renderTotp(ctx: Context, d: Details, status = 200, error?: ReturnType<typeof t>) {
    const name = await clientName(d.params.client_id);
    sendPage(ctx, status, (nonce) => totpPage({
      nonce, csrf: deps.csrf.token(ctx, d.uid), action: `/interaction/${d.uid}/totp`, abortAction: `/interaction/${d.uid}/abort`,
      clientName: name, error, stepUp: requiredLevelOf(d.params) >= 2,
    }));
  }

  async function renderConsent(ctx: Context, d: Details) {
    const pd = d.prompt.details as { missingOIDCScope?: string[] };
    const acting = await actingOf(d);
    const actingFor = acting ? (await deps.storage.accounts.get(acting.minorId))?.name : undefined;
    const name = await clientName(d.params.client_id);
    sendPage(ctx, 200, (nonce) => consentPage({
      nonce, csrf: deps.csrf.token(ctx, d.uid), action: `/interaction/${d.uid}/consent`, abortAction: `/interaction/${d.uid}/abort`,
      clientName: name, scopes: pd.missingOIDCScope ?? String(d.params.scope ?? '').split(' '), actingFor,
      signing: credentialDetailsOf(d.params as { authorization_details?: unknown }),
    }));
  }

  /** The guardian acting in this authorization request, or in this (minor's) session. */
  async function actingOf(d: Details) {
    const byRequest = await deps.records.getActing(`cid:${d.cid}`);
    if (byRequest && byRequest.minorId === d.session?.accountId) return byRequest;
    const bySession = d.session?.uid ? await deps.records.getActing(`sid:${d.session.uid}`) : undefined;
    return bySession && bySession.minorId === d.session?.accountId ? bySession : undefined;
  }

  /** Next step once the factors in `p` are established: TOTP, acting-for choice, or login result. */
  async function advance(ctx: Context, d: Details, p: InteractionProgress, account: CitizenAccount) {
    const need = requiredLevelOf(d.params);
    if (need >= 2 && !p.otp) {
      if (!canReachLevel2(account)) {
        await deps.records.clearProgress(d.uid);
        return finish(ctx, { error: 'unmet_authentication_requirements', error_description: 'the account cannot reach the requested assurance level (level2)' });
      }
      await deps.records.setProgress(d.uid, p, remaining(d));
      return renderTotp(ctx, d);
    }
    // an own step-up keeps the session's person; a guardian logging in again in a session where he acts chooses again
    if (account.wards.length > 0 && p.actingFor === undefined && !(isStepUpOnly(d) && d.session?.accountId === account.id)) {
      await deps.records.setProgress(d.uid, p, remaining(d));
      const wards: { id: string; name: string; relationship: string }[] = [];
      for (const w of account.wards) {
        // only links that stand now (the child still under 14, both accounts enabled)
        const rel = await guardianMayAct(deps.storage.accounts, account.id, w.id);
        const m = rel ? await deps.storage.accounts.get(w.id) : undefined;
        if (m) wards.push({ id: w.id, name: m.name, relationship: rel! });
      }
      if (wards.length) {
        return sendPage(ctx, 200, (nonce) => actorPage({ nonce, csrf: deps.csrf.token(ctx, d.uid), action: `/interaction/${d.uid}/actor`, self: account, wards }));
      }
    }
    // acr from the factors of this authentication only (the step-up reuses the session's password, never its acr)
    const amr = amrFor({ pwd: p.pwd, otp: p.otp });
    const acr = acrFromAmr(amr, account);
    if (need >= 2 && acr !== 'level2') {
      await deps.records.clearProgress(d.uid);
      return finish(ctx, { error: 'unmet_authentication_requirements', error_description: 'level2 needs a password and a second factor in this authentication' });
    }
    // keep progress (actingFor) for the consent step of this interaction
    await deps.records.setProgress(d.uid, p, remaining(d));
    const actingFor = p.actingFor && p.actingFor !== 'self' ? p.actingFor : undefined;
    if (actingFor) {
      const rel = await guardianMayAct(deps.storage.accounts, account.id, actingFor);
      if (!rel) {
        await audit(deps, ctx, { type: 'guardian.refused', accountId: actingFor, clientId: String(d.params.client_id), detail: { actor: account.id, where: 'choice' } });
        await deps.records.clearProgress(d.uid);
        return finish(ctx, { error: 'access_denied', error_description: 'the guardian may not act for this person' });
      }
      await deps.records.putActing(`cid:${d.cid}`, { guardianId: account.id, minorId: actingFor }, remaining(d));
      await audit(deps, ctx, { type: 'guardian.acting', accountId: actingFor, clientId: String(d.params.client_id), detail: { actor: account.id, relationship: rel } });
    }
    // `kyso.guardianId` tells loadExistingGrant (configuration.ts) that this session acts for the minor
    return finish(ctx, { login: { accountId: actingFor ?? account.id, acr, amr, remember: true }, ...(actingFor ? { kyso: { guardianId: account.id } } : {}) });
  }

  router.get('/interaction/:uid', async (ctx) => {
    const d = await details(ctx);
    if (d.prompt.name === 'login') {
      const p = await deps.records.getProgress(d.uid);
      if (p?.pwd && !p.otp && requiredLevelOf(d.params) >= 2) return renderTotp(ctx, d);
      // a session in which a guardian acts steps up with a full login (the factors are the guardian's)
      if (isStepUpOnly(d) && !(d.session?.uid && (await deps.records.getActing(`sid:${d.session.uid}`))?.minorId === d.session.accountId)) {
        const account = await deps.storage.accounts.get(d.session!.accountId);
        if (!account || account.disabled) return renderLogin(ctx, d);
        // a factor enrolled or replaced in this session does not count for it: full login again
        if (d.session?.uid && await deps.records.factorChangedIn(d.session.uid)) return renderLogin(ctx, d);
        const amr = (d.session as { amr?: string[] }).amr ?? [];
        return advance(ctx, d, { accountId: account.id, pwd: amr.includes('pwd'), otp: false }, account);
      }
      return renderLogin(ctx, d);
    }
    if (d.prompt.name === 'consent') return renderConsent(ctx, d);
    throw new errors.InvalidRequest(`unsupported prompt ${d.prompt.name}`);
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const d = await details(ctx, 'login');
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, d.uid, form.csrf);
    const login = (form.login ?? '').trim();
    // a browser where this account logged in before keeps its own allowance (device cookie); unknown browsers
    // share the account's
    const device = PIN_RE.test(login) ? deps.devices.deviceFor(ctx, login) : undefined;
    const keys = [`ip:${deps.clientIp(ctx)}`, ...(PIN_RE.test(login) ? [device ? `dev:${login}:${device}` : `acct:${login}`] : [])];
    const gate = await deps.limiter.check(keys);
    if (!gate.allowed) {
      await audit(deps, ctx, { type: 'login.rate-limited', accountId: PIN_RE.test(login) ? login : undefined, clientId: String(d.params.client_id) });
      ctx.set('Retry-After', String(gate.retryAfterSeconds));
      return renderLogin(ctx, d, 429, retryAfterText(gate.retryAfterSeconds));
    }
    const check = PIN_RE.test(login) && form.password
      ? await deps.storage.accounts.verifyPassword(login, form.password)
      : { ok: false as const, reason: 'unknown-account' as const, account: undefined };
    if (!check.ok || !check.account) {
      await deps.limiter.recordFailure(keys);
      await audit(deps, ctx, { type: 'login.failure', accountId: PIN_RE.test(login) ? login : undefined, clientId: String(d.params.client_id), detail: { reason: check.reason ?? 'bad-password' } });
      return renderLogin(ctx, d, 400, t('Số định danh hoặc mật khẩu không đúng.', 'Wrong personal number or password.'));
    }
    // a session can only step up for its own account
    const actingGuardian = isStepUpOnly(d) && d.session?.uid ? (await deps.records.getActing(`sid:${d.session.uid}`)) : undefined;
    const sessionPerson = actingGuardian && actingGuardian.minorId === d.session?.accountId ? actingGuardian.guardianId : d.session?.accountId;
    if (isStepUpOnly(d) && sessionPerson && sessionPerson !== check.account.id) {
      return renderLogin(ctx, d, 400, t('Vui lòng đăng nhập bằng tài khoản hiện tại.', 'Please log in with the current account.'));
    }
    // a successful login resets the account's counters (unknown browsers too) and remembers this browser
    await deps.limiter.recordSuccess([...keys, `acct:${check.account.id}`]);
    deps.devices.remember(ctx, check.account.id);
    await audit(deps, ctx, { type: 'login.success', accountId: check.account.id, clientId: String(d.params.client_id), detail: { factor: 'pwd', knownDevice: !!device } });
    return advance(ctx, d, { accountId: check.account.id, pwd: true, otp: false }, check.account);
  });

  router.post('/interaction/:uid/totp', async (ctx) => {
    const d = await details(ctx, 'login');
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, d.uid, form.csrf);
    const p = await deps.records.getProgress(d.uid);
    if (!p) return renderLogin(ctx, d);
    const keys = [`ip:${deps.clientIp(ctx)}`, `otp:${p.accountId}`];
    const gate = await deps.limiter.check(keys);
    if (!gate.allowed) {
      await audit(deps, ctx, { type: 'login.rate-limited', accountId: p.accountId, detail: { factor: 'otp' } });
      ctx.set('Retry-After', String(gate.retryAfterSeconds));
      return renderTotp(ctx, d, 429, retryAfterText(gate.retryAfterSeconds));
    }
    const code = (form.code ?? '').replace(/\s+/g, '');
    const recovery = form.kind === 'recovery';
    const ok = code.length > 0 && (recovery
      ? await deps.storage.accounts.useRecoveryCode(p.accountId, code)
      : /^[0-9]{6}$/.test(code) && await deps.storage.accounts.verifyTotp(p.accountId, code));
    if (!ok) {
      await deps.limiter.recordFailure(keys);
      await audit(deps, ctx, { type: 'mfa.failure', accountId: p.accountId, clientId: String(d.params.client_id), detail: { recovery } });
      return renderTotp(ctx, d, 400, t('Mã không đúng hoặc đã được sử dụng.', 'Wrong or already used code.'));
    }
    await deps.limiter.recordSuccess(keys);
    await audit(deps, ctx, { type: recovery ? 'mfa.recovery-used' : 'mfa.success', accountId: p.accountId, clientId: String(d.params.client_id) });
    const account = await deps.storage.accounts.get(p.accountId);
    if (!account || account.disabled) return renderLogin(ctx, d);
    return advance(ctx, d, { ...p, otp: true }, account);
  });

  router.post('/interaction/:uid/actor', async (ctx) => {
    const d = await details(ctx, 'login');
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, d.uid, form.csrf);
    const p = await deps.records.getProgress(d.uid);
    if (!p) return renderLogin(ctx, d);
    const account = await deps.storage.accounts.get(p.accountId);
    if (!account || account.disabled) return renderLogin(ctx, d);
    const choice = form.for === 'self' ? 'self' : account.wards.find((w) => w.id === form.for)?.id;
    if (!choice || (choice !== 'self' && !(await guardianMayAct(deps.storage.accounts, account.id, choice)))) {
      throw new IdpProtocolError('IDP_FORM_INVALID', 'the chosen person is not in your care');
    }
    return advance(ctx, d, { ...p, actingFor: choice }, account);
  });

  router.post('/interaction/:uid/consent', async (ctx) => {
    const provider = deps.provider();
    const d = await details(ctx, 'consent');
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, d.uid, form.csrf);
    if (!d.session?.accountId) throw new errors.InvalidRequest('no consent pending');
    const accountId = d.session.accountId;
    const clientId = String(d.params.client_id);
    const pd = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const acting = await actingOf(d);
    let relationship: string | undefined;
    if (acting) {
      // the link as it stands now: ended, over age or a disabled guardian means no consent on the minor's behalf
      relationship = await guardianMayAct(deps.storage.accounts, acting.guardianId, accountId);
      if (!relationship) {
        await audit(deps, ctx, { type: 'guardian.refused', accountId, clientId, detail: { actor: acting.guardianId, where: 'consent' } });
        await deps.records.clearProgress(d.uid);
        return finish(ctx, { error: 'access_denied', error_description: 'the guardian may no longer act for this person' });
      }
    }
    // loadExistingGrant only offered a grant of the same kind (the guardian's for the minor, or the account's own)
    let grant = d.grantId ? await provider.Grant.find(d.grantId) : undefined;
    if (grant && (await deps.records.getActor(grant.jti))?.guardianId !== acting?.guardianId) grant = undefined;
    if (!grant) grant = new provider.Grant({ accountId, clientId });
    if (pd.missingOIDCScope) grant.addOIDCScope(pd.missingOIDCScope.join(' '));
    if (pd.missingOIDCClaims) grant.addOIDCClaims(pd.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(pd.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    const actorId = acting?.guardianId;
    if (acting && d.session.uid) await deps.records.putActing(`sid:${d.session.uid}`, acting, deps.ttl.session);
    if (actorId) {
      await deps.records.putActor(grantId, { guardianId: actorId, relationship: relationship!, minorId: accountId }, deps.ttl.consent);
      // the guardian's own consent record for the minor, listed (and withdrawable) on the guardian's account page
      await deps.records.putGuardianConsent(actorId, { clientId, grantId, scope: grant.getOIDCScope(), grantedAt: Math.floor(Date.now() / 1000), minorId: accountId }, deps.ttl.consent);
    } else {
      // remembered per (account, service), revocable from the account page
      await deps.records.putConsent(accountId, { clientId, grantId, scope: grant.getOIDCScope(), grantedAt: Math.floor(Date.now() / 1000) }, deps.ttl.consent);
    }
    await deps.records.clearProgress(d.uid);
    await audit(deps, ctx, { type: 'consent.granted', accountId, clientId, detail: { scope: grant.getOIDCScope(), ...(actorId ? { actor: actorId } : {}) } });
    return finish(ctx, { consent: { grantId } });
  });

  router.post('/interaction/:uid/abort', async (ctx) => {
    const d = await details(ctx);
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, d.uid, form.csrf);
    await deps.records.clearProgress(d.uid);
    return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  return router;
}

/** Renders errors of the interaction/account routes as the error page (never a redirect). */
export function pageErrorHandler(deps: Pick<RouteDeps, 'log'>) {
  return async (ctx: Context, next: () => Promise<unknown>) => {
    try {
      await next();
    } catch (err) {
      const e = err as { code?: string; error?: string; error_description?: string; statusCode?: number; status?: number; message?: string };
      const code = e instanceof IdpProtocolError ? e.code : e.error ?? 'server_error';
      const status = e instanceof IdpProtocolError ? 400 : e.statusCode ?? e.status ?? 500;
      if (status >= 500) deps.log.error({ err: e.message, path: ctx.path }, 'page error');
      const detail = e instanceof IdpProtocolError ? e.message : status < 500 ? e.error_description : undefined;
      sendPage(ctx, status, (nonce) => errorPage({ nonce, title: ['Đã xảy ra lỗi', 'Something went wrong'], code, detail }));
    }
  };
}

export { levelOfAcr };
