/**
 * oidc-provider builds its protocol errors eagerly on hot paths — userinfo evaluates
 * `ctx.assert(token, new InvalidToken(...))` three times per call, whether or not anything is wrong — and
 * captures each one's stack twice: once in the Error constructor, then again (`Error.captureStackTrace(this,
 * this.constructor)`) only to trim the constructor's own frames from it. The second capture costs as much as the
 * first. `trimOidcErrorCaptures` skips that second capture for oidc-provider's error classes: their stack, from the
 * first capture, is kept (it names one constructor frame more). Every other error is captured as before.
 */
import { errors } from 'oidc-provider';

let installed = false;

/** Installs the skip once per process (idempotent). */
export function trimOidcErrorCaptures(): void {
  if (installed) return;
  installed = true;
  const base = errors.OIDCProviderError as unknown as abstract new (...a: never[]) => Error;
  const capture = Error.captureStackTrace.bind(Error);
  Error.captureStackTrace = function captureStackTrace(target: object, ctor?: Function): void {
    if (target instanceof base && ctor === (target as { constructor?: unknown }).constructor) return;
    capture(target, ctor);
  };
}
