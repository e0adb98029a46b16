/** The identity provider's pages (server-rendered, no JavaScript, Vietnamese first then English). */
import type { CitizenAccount } from '../contracts.js';
import type { CredentialDetail } from './rar.js';
import { alertBox, csrfField, html, Html, layout, t } from './html.js';

export interface PageBase { nonce: string; csrf: string }

const SCOPE_TEXT: Record<string, [string, string]> = {
  openid: ['Mã định danh của bạn tại dịch vụ', 'Your identifier at the service'],
  profile: ['Họ tên, ngày sinh, giới tính', 'Name, date of birth, gender'],
  email: ['Địa chỉ email', 'Email address'],
  address: ['Địa chỉ liên hệ', 'Postal address'],
  phone: ['Số điện thoại', 'Phone number'],
  citizen: ['Số định danh cá nhân và địa chỉ thường trú theo Cơ sở dữ liệu quốc gia về dân cư',
    'Personal identification number and registered address from the population record'],
  offline_access: ['Truy cập khi bạn không trực tuyến (làm mới phiên)', 'Access while you are offline (refresh tokens)'],
  service: ['Dùng dịch vụ ký số từ xa thay bạn (mỗi lần ký vẫn cần bạn phê duyệt trên điện thoại)', 'Use the remote signing service for you (each signature still needs your approval on the phone)'],
  credential: ['Ký tài liệu đã nêu bằng chứng thư số của bạn', 'Sign the named documents with your signing credential'],
};

/** Login: personal identification number + password. */
export function loginPage(p: PageBase & { action: string; abortAction: string; error?: Html; loginHint?: string; clientName: string; stepUpNote?: boolean }): string {
  return layout({ title: 'Đăng nhập · Log in', nonce: p.nonce, body: html`
<h1>${t('Đăng nhập', 'Log in')}</h1>
<p>${t(`Dịch vụ “${p.clientName}” yêu cầu bạn đăng nhập.`, `The service “${p.clientName}” asks you to log in.`)}</p>
${p.stepUpNote ? html`<p class="note">${t('Vui lòng đăng nhập lại để tiếp tục.', 'Please log in again to continue.')}</p>` : ''}
${alertBox(p.error)}
<form method="post" action="${p.action}" autocomplete="on">
${csrfField(p.csrf)}
<label for="login">${t('Số định danh cá nhân (12 chữ số)', 'Personal identification number (12 digits)')}</label>
<input type="text" id="login" name="login" inputmode="numeric" pattern="[0-9]{12}" maxlength="12" required autocomplete="username" value="${p.loginHint ?? ''}" aria-describedby="login-help">
<small id="login-help">${t('Ví dụ: 001203004567', 'Example: 001203004567')}</small>
<label for="password">${t('Mật khẩu', 'Password')}</label>
<input type="password" id="password" name="password" required autocomplete="current-password">
<button type="submit">${t('Đăng nhập', 'Log in')}</button>
</form>
<form method="post" action="${p.abortAction}">
${csrfField(p.csrf)}
<button type="submit" class="secondary">${t('Hủy và quay lại dịch vụ', 'Cancel and return to the service')}</button>
</form>`,
  });
}

/** Second factor: TOTP code, or a one-time recovery code. */
export function totpPage(p: PageBase & { action: string; abortAction: string; error?: Html; stepUp: boolean; clientName: string }): string {
  return layout({ title: 'Xác thực hai lớp · Two-step verification', nonce: p.nonce, body: html`
<h1>${t('Xác thực hai lớp', 'Two-step verification')}</h1>
${p.stepUp ? html`<p class="note">${t(`Dịch vụ “${p.clientName}” yêu cầu mức đảm bảo cao hơn (mức 2).`, `The service “${p.clientName}” needs a higher assurance level (level 2).`)}</p>` : ''}
${alertBox(p.error)}
<form method="post" action="${p.action}">
${csrfField(p.csrf)}
<input type="hidden" name="kind" value="totp">
<label for="code">${t('Mã 6 chữ số trong ứng dụng xác thực', '6-digit code from your authenticator app')}</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autocomplete="one-time-code">
<button type="submit">${t('Xác nhận', 'Verify')}</button>
</form>
<details>
<summary>${t('Dùng mã khôi phục', 'Use a recovery code')}</summary>
<form method="post" action="${p.action}">
${csrfField(p.csrf)}
<input type="hidden" name="kind" value="recovery">
<label for="recovery">${t('Mã khôi phục (dùng một lần)', 'Recovery code (single use)')}</label>
<input type="text" id="recovery" name="code" required autocomplete="off">
<button type="submit">${t('Xác nhận', 'Verify')}</button>
</form>
</details>
<form method="post" action="${p.abortAction}">
${csrfField(p.csrf)}
<button type="submit" class="secondary">${t('Hủy', 'Cancel')}</button>
</form>`,
  });
}

/** Choose whether to act for oneself or for a minor in one's care. */
export function actorPage(p: PageBase & { action: string; self: CitizenAccount; wards: { id: string; name: string; relationship: string }[] }): string {
  return layout({ title: 'Chọn người được đại diện · Act on behalf of', nonce: p.nonce, body: html`
<h1>${t('Bạn thực hiện thủ tục cho ai?', 'Who are you acting for?')}</h1>
<form method="post" action="${p.action}">
${csrfField(p.csrf)}
<fieldset>
<legend>${t('Người được đại diện', 'Person')}</legend>
<div><input type="radio" id="for-self" name="for" value="self" checked><label for="for-self">${t(`Chính tôi (${p.self.name})`, `Myself (${p.self.name})`)}</label></div>
${p.wards.map((w) => html`<div><input type="radio" id="for-${w.id}" name="for" value="${w.id}"><label for="for-${w.id}">${w.name} — ${t(`người giám hộ: ${w.relationship}`, `guardian: ${w.relationship}`)}</label></div>`)}
</fieldset>
<button type="submit">${t('Tiếp tục', 'Continue')}</button>
</form>`,
  });
}

/** Consent for a service: which data it receives. */
export function consentPage(p: PageBase & { action: string; abortAction: string; clientName: string; scopes: string[]; actingFor?: string; signing?: CredentialDetail[] }): string {
  return layout({ title: 'Chia sẻ thông tin · Share information', nonce: p.nonce, body: html`
<h1>${t('Chia sẻ thông tin với dịch vụ', 'Share information with the service')}</h1>
<p>${t(`Dịch vụ “${p.clientName}” yêu cầu:`, `The service “${p.clientName}” asks for:`)}</p>
${p.actingFor ? html`<p class="note">${t(`Bạn đang đại diện cho ${p.actingFor}.`, `You are acting for ${p.actingFor}.`)}</p>` : ''}
<ul class="scopes">
${p.scopes.map((s) => { const d = SCOPE_TEXT[s]; return html`<li>${d ? t(d[0], d[1]) : s}</li>`; })}
</ul>
${p.signing?.length ? html`<h2>${t('Ký số tài liệu', 'Sign documents')}</h2>
${p.signing.map((c) => html`<p>${t(`Chứng thư số ${c.credentialID} sẽ ký đúng các tài liệu sau, mỗi tài liệu một lần:`, `Credential ${c.credentialID} will sign exactly these documents, once each:`)}</p>
<ul class="scopes">${c.documentDigests.map((x) => html`<li>${x.label ?? '—'}<br><code>${(Buffer.from(x.hash, 'base64').toString('hex').toUpperCase().match(/.{1,4}/g) ?? []).join(' ')}</code></li>`)}</ul>`)}` : ''}
<p>${t('Bạn có thể thu hồi sự đồng ý này bất cứ lúc nào trên trang tài khoản.', 'You can withdraw this consent at any time from your account page.')}</p>
<form method="post" action="${p.action}">
${csrfField(p.csrf)}
<button type="submit">${t('Đồng ý', 'Allow')}</button>
</form>
<form method="post" action="${p.abortAction}">
${csrfField(p.csrf)}
<button type="submit" class="secondary">${t('Từ chối', 'Deny')}</button>
</form>`,
  });
}

/** Error page: explains, never redirects anywhere. */
export function errorPage(p: { nonce: string; title: [string, string]; detail?: string; code?: string }): string {
  return layout({ title: `${p.title[0]} · ${p.title[1]}`, nonce: p.nonce, body: html`
<h1>${t(p.title[0], p.title[1])}</h1>
<div class="alert" role="alert">
<p>${t('Yêu cầu không thể tiếp tục. Vui lòng quay lại dịch vụ bạn đang sử dụng và thử lại.', 'The request cannot continue. Please go back to the service you were using and try again.')}</p>
${p.code ? html`<p><code>${p.code}</code>${p.detail ? html`: ${p.detail}` : ''}</p>` : ''}
</div>`,
  });
}

/** Rate-limited: how long to wait. */
export function retryAfterText(seconds: number): Html {
  return t(`Quá nhiều lần thử. Vui lòng thử lại sau ${seconds} giây.`, `Too many attempts. Please try again in ${seconds} seconds.`);
}

export interface AccountView {
  account: CitizenAccount;
  session: { acr?: string; amr?: string[]; authTime?: number; clients: string[] };
  /** Other live sessions of the account (current one excluded). */
  otherSessions: { uid: string; loginTs?: number; acr?: string; clients: string[]; lastSeen: number }[];
  consents: { clientId: string; clientName: string; scope: string; grantedAt: number }[];
  /** Consents this account gave as a guardian, on minors' behalf. */
  guardianConsents: { minorId: string; minorName: string; clientId: string; clientName: string; scope: string; grantedAt: number }[];
  /** Set when this browser's session acts for a minor (the page is the guardian's). */
  actingFor?: string;
  enrolment?: { secret: string; qrSvg: string; needCode?: boolean };
  recoveryCodes?: string[];
  message?: Html;
  error?: Html;
  logoutUrl: string;
  pendingCiba: { id: string; clientName: string }[];
}

function fmtTime(epochSeconds: number | undefined): string {
  return epochSeconds ? new Date(epochSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—';
}

/** The citizen's account page: profile, session, consents (revocable), MFA enrolment. */
export function accountPage(p: PageBase & AccountView): string {
  const a = p.account;
  return layout({ title: 'Tài khoản · Account', nonce: p.nonce, body: html`
<h1>${t('Tài khoản của bạn', 'Your account')}</h1>
${p.message ? html`<div class="note" role="status">${p.message}</div>` : ''}
${alertBox(p.error)}
${p.actingFor ? html`<p class="note">${t(`Phiên này bạn đang đại diện cho ${p.actingFor}.`, `In this session you act for ${p.actingFor}.`)}</p>` : ''}
<dl>
<dt>${t('Họ tên', 'Name')}</dt><dd>${a.name}</dd>
<dt>${t('Số định danh', 'Personal number')}</dt><dd>${a.id}</dd>
<dt>${t('Ngày sinh', 'Date of birth')}</dt><dd>${a.birthdate}</dd>
<dt>${t('Mức tài khoản', 'Account level')}</dt><dd>level${a.level}</dd>
</dl>
<h2>${t('Phiên đăng nhập hiện tại', 'Current session')}</h2>
<dl>
<dt>acr</dt><dd>${p.session.acr ?? '—'}</dd>
<dt>amr</dt><dd>${(p.session.amr ?? []).join(', ') || '—'}</dd>
<dt>${t('Thời điểm đăng nhập', 'Logged in at')}</dt><dd>${fmtTime(p.session.authTime)}</dd>
<dt>${t('Dịch vụ trong phiên', 'Services in this session')}</dt><dd>${p.session.clients.join(', ') || '—'}</dd>
</dl>
<p><a href="${p.logoutUrl}">${t('Đăng xuất khỏi mọi dịch vụ', 'Log out of every service')}</a></p>
<h2>${t('Các phiên đăng nhập khác', 'Other sessions')}</h2>
${p.otherSessions.length === 0 ? html`<p>${t('Không có.', 'None.')}</p>` : html`<ul>
${p.otherSessions.map((s) => html`<li>${t('Đăng nhập lúc', 'Logged in at')} ${fmtTime(s.loginTs)} · ${s.acr ?? '—'} · ${s.clients.join(', ') || '—'}
<form method="post" action="/account/sessions/end">${csrfField(p.csrf)}<input type="hidden" name="uid" value="${s.uid}">
<button type="submit" class="secondary">${t('Kết thúc phiên này', 'End this session')}</button></form></li>`)}
</ul>`}
${p.pendingCiba.length ? html`<h2>${t('Yêu cầu chờ phê duyệt', 'Requests awaiting approval')}</h2><ul>${p.pendingCiba.map((c) => html`<li><a href="/ciba/${c.id}">${c.clientName}</a></li>`)}</ul>` : ''}
<h2>${t('Dịch vụ đã được chia sẻ thông tin', 'Services you shared information with')}</h2>
${p.consents.length === 0 ? html`<p>${t('Chưa có.', 'None yet.')}</p>` : html`<ul>
${p.consents.map((c) => html`<li>${c.clientName} — <code>${c.scope}</code> (${fmtTime(c.grantedAt)})
<form method="post" action="/account/consents/revoke">${csrfField(p.csrf)}<input type="hidden" name="client_id" value="${c.clientId}">
<button type="submit" class="secondary" aria-label="${`Thu hồi / Revoke ${c.clientName}`}">${t('Thu hồi', 'Revoke')}</button></form></li>`)}
</ul>`}
<h2>${t('Đồng ý đã cho thay người được giám hộ', 'Consents given on behalf of a minor in your care')}</h2>
${p.guardianConsents.length === 0 ? html`<p>${t('Chưa có.', 'None yet.')}</p>` : html`<ul>
${p.guardianConsents.map((c) => html`<li>${c.minorName} → ${c.clientName} — <code>${c.scope}</code> (${fmtTime(c.grantedAt)})
<form method="post" action="/account/guardian-consents/revoke">${csrfField(p.csrf)}<input type="hidden" name="minor_id" value="${c.minorId}"><input type="hidden" name="client_id" value="${c.clientId}">
<button type="submit" class="secondary" aria-label="${`Thu hồi / Revoke ${c.minorName} ${c.clientName}`}">${t('Thu hồi', 'Revoke')}</button></form></li>`)}
</ul>`}
<h2>${t('Xác thực hai lớp (TOTP)', 'Two-step verification (TOTP)')}</h2>
${p.recoveryCodes ? html`<div class="note" role="status"><p>${t('Mã khôi phục — lưu lại ngay, chỉ hiển thị một lần:', 'Recovery codes — save them now, shown only once:')}</p><ul>${p.recoveryCodes.map((c) => html`<li><code>${c}</code></li>`)}</ul></div>` : ''}
${a.totpEnabled
    ? html`<p>${t('Đã bật.', 'Enabled.')}</p>`
    : p.enrolment
      ? html`<p>${t('Quét mã QR bằng ứng dụng xác thực, rồi nhập mã 6 chữ số.', 'Scan the QR code with your authenticator app, then enter the 6-digit code.')}</p>
<div role="img" aria-label="QR code">${new Html(p.enrolment.qrSvg)}</div>
<p>${t('Hoặc nhập khóa:', 'Or enter the key:')} <code>${p.enrolment.secret}</code></p>
<form method="post" action="/account/mfa/confirm">${csrfField(p.csrf)}
${p.enrolment.needCode ? html`<label for="enrolment_code">${t('Mã đăng ký (do cơ quan cấp)', 'Enrolment code (given by an officer)')}</label>
<input type="text" id="enrolment_code" name="enrolment_code" required autocomplete="off">` : ''}
<label for="code">${t('Mã 6 chữ số', '6-digit code')}</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autocomplete="one-time-code">
<button type="submit">${t('Bật xác thực hai lớp', 'Turn on two-step verification')}</button></form>`
      : html`<form method="post" action="/account/mfa/begin">${csrfField(p.csrf)}<button type="submit">${t('Thiết lập xác thực hai lớp', 'Set up two-step verification')}</button></form>`}
`,
  });
}

/** Not logged in on the account page. */
export function accountLoginNeeded(p: { nonce: string; loginUrl?: string }): string {
  return layout({ title: 'Tài khoản · Account', nonce: p.nonce, body: html`
<h1>${t('Tài khoản của bạn', 'Your account')}</h1>
<p>${t('Bạn chưa đăng nhập. Hãy đăng nhập qua một dịch vụ công rồi quay lại trang này.', 'You are not logged in. Log in through a public service, then come back to this page.')}</p>`,
  });
}

/** CIBA approval on the phone: which service, what message, approve with TOTP. */
export function cibaPage(p: PageBase & { action: string; clientName: string; bindingMessage?: string; scopes: string[]; error?: Html; done?: 'approved' | 'denied'; needPassword?: boolean; detailsUrl?: string }): string {
  if (p.done) {
    return layout({ title: 'Phê duyệt · Approval', nonce: p.nonce, body: html`
<h1>${p.done === 'approved' ? t('Đã phê duyệt', 'Approved') : t('Đã từ chối', 'Denied')}</h1>
<p>${t('Bạn có thể đóng trang này.', 'You can close this page.')}</p>` });
  }
  return layout({ title: 'Phê duyệt yêu cầu · Approve request', nonce: p.nonce, body: html`
<h1>${t('Phê duyệt yêu cầu', 'Approve a request')}</h1>
<dl>
<dt>${t('Dịch vụ', 'Service')}</dt><dd>${p.clientName}</dd>
<dt>${t('Nội dung xác nhận', 'Binding message')}</dt><dd><strong>${p.bindingMessage ?? '—'}</strong></dd>
<dt>${t('Thông tin yêu cầu', 'Requested')}</dt><dd>${p.scopes.join(' ')}</dd>
</dl>
${p.detailsUrl ? html`<p><a href="${p.detailsUrl}" rel="noreferrer">${t('Xem chi tiết tài liệu cần ký (tên, nội dung, mã băm)', 'See the documents to sign (names, content, digests)')}</a></p>` : ''}
<p>${t('Chỉ phê duyệt nếu nội dung trên khớp với màn hình của dịch vụ.', 'Approve only if the message above matches the one shown by the service.')}</p>
${alertBox(p.error)}
<form method="post" action="${p.action}">
${csrfField(p.csrf)}
<input type="hidden" name="decision" value="approve">
${p.needPassword ? html`<p class="note">${t('Yêu cầu mức đảm bảo 2: nhập mật khẩu và mã xác thực.', 'Assurance level 2 requested: enter your password and a code.')}</p>
<label for="password">${t('Mật khẩu', 'Password')}</label>
<input type="password" id="password" name="password" required autocomplete="current-password">` : ''}
<label for="code">${t('Mã 6 chữ số trong ứng dụng xác thực', '6-digit code from your authenticator app')}</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autocomplete="one-time-code">
<button type="submit">${t('Phê duyệt', 'Approve')}</button>
</form>
<form method="post" action="${p.action}">
${csrfField(p.csrf)}
<input type="hidden" name="decision" value="deny">
<button type="submit" class="secondary">${t('Từ chối', 'Deny')}</button>
</form>`,
  });
}

/** oidc-provider logout confirmation (its form is passed in, already HTML). */
export function logoutConfirmPage(p: { nonce: string; form: string; clientName?: string }): string {
  return layout({ title: 'Đăng xuất · Log out', nonce: p.nonce, body: html`
<h1>${t('Đăng xuất', 'Log out')}</h1>
<p>${t('Bạn có muốn đăng xuất khỏi cổng định danh và mọi dịch vụ đã dùng trong phiên này?', 'Do you want to log out of the identity provider and every service used in this session?')}</p>
${new Html(p.form)}
<button type="submit" form="op.logoutForm" value="yes" name="logout">${t('Đăng xuất', 'Log out')}</button>
<button type="submit" form="op.logoutForm" class="secondary">${t('Ở lại', 'Stay logged in')}</button>` });
}

/** Shown after logout when the RP gave no (valid) post_logout_redirect_uri. */
export function loggedOutPage(p: { nonce: string; clientName?: string }): string {
  return layout({ title: 'Đã đăng xuất · Logged out', nonce: p.nonce, body: html`
<h1>${t('Bạn đã đăng xuất', 'You are logged out')}</h1>
<p>${t('Bạn có thể đóng trang này.', 'You can close this page.')}</p>` });
}
