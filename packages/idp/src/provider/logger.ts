/** pino logger with secrets redacted (passwords, OTPs, tokens, cookies, keys). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

/** Per-request context: the service runs each request inside it so every log line carries the request id. */
export const requestContext = new AsyncLocalStorage<{ reqId: string }>();

/** Paths redacted from every log line. */
export const REDACT_PATHS = [
  'password', '*.password', 'code', '*.code', 'otp', '*.otp', 'totp_secret', '*.totp_secret', 'secret', '*.secret',
  'client_secret', '*.client_secret', 'token', '*.token', 'access_token', '*.access_token', 'refresh_token',
  '*.refresh_token', 'id_token', '*.id_token', 'auth_req_id', '*.auth_req_id', 'csrf', '*.csrf',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie',
];

/** Creates the provider's logger (JSON lines on stderr, or silent with level 'silent'). */
export function createLogger(level: string = process.env.KYSO_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level, base: { svc: 'kyso-idp' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin: () => { const c = requestContext.getStore(); return c ? { reqId: c.reqId } : {}; },
  }, pino.destination({ dest: 2, sync: true })); // JSON lines on stderr (stdout is for a command's own output)
}
export type { Logger };
