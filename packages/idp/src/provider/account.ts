/** The citizen's account page: profile, current session, consents (revocable), TOTP enrolment, pending CIBA. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { audit, revokeGrant, type RouteDeps } from './context.js';
import { guardianMayAct } from './guardians.js';
import { t } from './html.js';
import { accountLoginNeeded, accountPage, type AccountView } from './pages.js';
import { readForm, sendPage } from './web.js';

export function accountRoutes(deps: RouteDeps): Router {
  const router = new Router();

  /** The person at the browser: the session's account, or the guardian when the session acts for a minor. */
  async function current(ctx: Context) {
    const session = await deps.provider().Session.get(ctx as never);
    const accountId = session.accountId as string | undefined;
    if (!accountId) return undefined;
    const uid = (session as unknown as { uid?: string }).uid;
    const acting = uid ? await deps.records.getActing(`sid:${uid}`) : undefined;
    if (acting && acting.minorId === accountId) {
      if (!(await guardianMayAct(deps.storage.accounts, acting.guardianId, accountId))) return undefined;
      const guardian = await deps.storage.accounts.get(acting.guardianId);
      const minor = await deps.storage.accounts.get(accountId);
      if (!guardian || guardian.disabled) return undefined;
      return { session, account: guardian, actingFor: minor?.name ?? accountId };
    }
    const account = await deps.storage.accounts.get(accountId);
    if (!account || account.disabled) return undefined;
    return { session, account, actingFor: undefined as string | undefined };
  }

  async function render(ctx: Context, extra: Partial<AccountView> = {}, status = 200) {
    const cur = await current(ctx);
    if (!cur) return sendPage(ctx, 401, (nonce) => accountLoginNeeded({ nonce }));
    const { session, account } = cur;
    const consents: AccountView['consents'] = [];
    for (const c of await deps.records.listConsents(account.id)) {
      const client = await deps.provider().Client.find(c.clientId);
      consents.push({ ...c, clientName: (client?.clientName as string | undefined) ?? c.clientId });
    }
    const guardianConsents: AccountView['guardianConsents'] = [];
    for (const c of await deps.records.listGuardianConsents(account.id)) {
      const client = await deps.provider().Client.find(c.clientId);
      const minor = await deps.storage.accounts.get(c.minorId);
      guardianConsents.push({ ...c, clientName: (client?.clientName as string | undefined) ?? c.clientId, minorName: minor?.name ?? c.minorId });
    }
    const pending: AccountView['pendingCiba'] = [];
    for (const { id, rec } of await deps.records.listCiba(account.id)) {
      const client = await deps.provider().Client.find(rec.clientId);
      pending.push({ id, clientName: (client?.clientName as string | undefined) ?? rec.clientId });
    }
    const s = session as unknown as { uid?: string; acr?: string; amr?: string[]; loginTs?: number; authorizations?: Record<string, unknown> };
    const otherSessions: AccountView['otherSessions'] = [];
    for (const e of await deps.records.listSessions(account.id)) {
      if (e.uid === s.uid) continue;
      const live = await deps.provider().Session.findByUid(e.uid);
      if (live && live.accountId === account.id) otherSessions.push(e);
    }
    sendPage(ctx, status, (nonce) => accountPage({
      nonce, csrf: deps.csrf.token(ctx, `account:${account.id}`), account,
      session: { acr: s.acr, amr: s.amr, authTime: s.loginTs, clients: Object.keys(s.authorizations ?? {}) },
      consents, guardianConsents, ...(cur.actingFor ? { actingFor: cur.actingFor } : {}), pendingCiba: pending, otherSessions, logoutUrl: '/session/end', ...extra,
    }));
  }

  async function authed(ctx: Context) {
    const cur = await current(ctx);
    if (!cur) return undefined;
    const form = await readForm(ctx);
    deps.csrf.verify(ctx, `account:${cur.account.id}`, form.csrf);
    return { ...cur, form };
  }

  router.get('/account', async (ctx) => render(ctx));

  router.post('/account/consents/revoke', async (ctx) => {
    const a = await authed(ctx);
    if (!a) return render(ctx);
    const clientId = a.form.client_id ?? '';
    const rec = await deps.records.deleteConsent(a.account.id, clientId);
    if (rec) {
      await revokeGrant(deps, rec.grantId);
      await audit(deps, ctx, { type: 'consent.revoked', accountId: a.account.id, clientId });
    }
    return render(ctx, { message: t('Đã thu hồi sự đồng ý.', 'Consent withdrawn.') });
  });

  // withdraw a consent given on a minor's behalf: its tokens and grant end at once
  router.post('/account/guardian-consents/revoke', async (ctx) => {
    const a = await authed(ctx);
    if (!a) return render(ctx);
    const minorId = a.form.minor_id ?? '';
    const clientId = a.form.client_id ?? '';
    const rec = await deps.records.deleteGuardianConsent(a.account.id, minorId, clientId);
    if (rec) {
      await revokeGrant(deps, rec.grantId);
      await deps.records.deleteActor(rec.grantId);
      await deps.records.dropActingGrants(a.account.id, [rec.grantId]);
      await audit(deps, ctx, { type: 'consent.revoked', accountId: minorId, clientId, detail: { actor: a.account.id, from: 'guardian-account-page' } });
    }
    return render(ctx, { message: t('Đã thu hồi sự đồng ý.', 'Consent withdrawn.') });
  });

  router.post('/account/sessions/end', async (ctx) => {
    const a = await authed(ctx);
    if (!a) return render(ctx);
    const uid = a.form.uid ?? '';
    const known = (await deps.records.listSessions(a.account.id)).some((e) => e.uid === uid);
    const target = known ? await deps.provider().Session.findByUid(uid) : undefined;
    if (target && target.accountId === a.account.id && uid !== (a.session as unknown as { uid?: string }).uid) {
      await target.destroy();
      await deps.records.dropSession(a.account.id, uid);
      await audit(deps, ctx, { type: 'logout', accountId: a.account.id, detail: { from: 'account-page' } });
    }
    return render(ctx, { message: t('Đã kết thúc phiên.', 'Session ended.') });
  });

  router.post('/account/mfa/begin', async (ctx) => {
    const a = await authed(ctx);
    if (!a) return render(ctx);
    if (a.account.totpEnabled) return render(ctx);
    const e = await deps.storage.accounts.beginTotpEnrolment(a.account.id);
    return render(ctx, { enrolment: { secret: e.secret, qrSvg: e.qrSvg, needCode: a.account.level >= 2 } });
  });

  router.post('/account/mfa/confirm', async (ctx) => {
    const a = await authed(ctx);
    if (!a) return render(ctx);
    const code = (a.form.code ?? '').replace(/\s+/g, '');
    const keys = [`ip:${deps.clientIp(ctx)}`, `otp:${a.account.id}`];
    const gate = await deps.limiter.check(keys);
    if (!gate.allowed) {
      ctx.set('Retry-After', String(gate.retryAfterSeconds));
      return render(ctx, { error: t('Quá nhiều lần thử.', 'Too many attempts.') }, 429);
    }
    // a level-2 account's second factor is what makes level 2: it is enrolled only with the one-time code an
    // administrator gave after checking the identity in person (`kyso idp user reset-mfa` prints it); a factor
    // enrolled by whoever holds the password never raises any session, this one included, to level 2
    const enrolmentCode = (a.form.enrolment_code ?? '').trim();
    if (a.account.level >= 2 && !enrolmentCode) {
      return render(ctx, { error: t('Tài khoản mức 2: cần mã đăng ký do cơ quan cấp khi xác minh danh tính trực tiếp.', 'Level-2 account: the enrolment code given by an officer after checking your identity in person is required.') }, 400);
    }
    let res: Awaited<ReturnType<typeof deps.storage.accounts.confirmTotpEnrolment>> = null;
    try {
      res = /^[0-9]{6}$/.test(code) ? await deps.storage.accounts.confirmTotpEnrolment(a.account.id, code, enrolmentCode || undefined) : null;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENROLMENT_CODE_INVALID') throw e;
      await deps.limiter.recordFailure(keys);
      await audit(deps, ctx, { type: 'mfa.failure', accountId: a.account.id, detail: { enrolment: true, enrolmentCode: 'invalid' } });
      return render(ctx, { error: t('Mã đăng ký không đúng, đã dùng hoặc đã hết hạn.', 'The enrolment code is wrong, used or expired.') }, 400);
    }
    if (!res) {
      await deps.limiter.recordFailure(keys);
      await audit(deps, ctx, { type: 'mfa.failure', accountId: a.account.id, detail: { enrolment: true } });
      return render(ctx, { error: t('Mã không đúng. Hãy bắt đầu lại.', 'Wrong code. Please start again.') }, 400);
    }
    await deps.limiter.recordSuccess(keys);
    // the factor does not raise this session (no step-up with it here): the next full login counts
    const uid = (a.session as unknown as { uid?: string }).uid;
    if (uid) await deps.records.markFactorChanged(uid, deps.ttl.session);
    await audit(deps, ctx, { type: 'mfa.enrolled', accountId: a.account.id, detail: { assured: res.assured } });
    return render(ctx, { recoveryCodes: res.recoveryCodes, message: t('Đã bật xác thực hai lớp.', 'Two-step verification is on.') });
  });

  return router;
}
