export * from './acr.js';
export * from './errors.js';
export * from './keys.js';
export * from './idp.js';
export { checkBindingMessage, BINDING_MESSAGE_MAX } from './ciba.js';
export { SCOPE_CLAIMS, SCOPES, accountClaims } from './claims.js';
export { DEFAULT_TTL, buildPolicy, normalizeClient } from './configuration.js';
export { splitLimiter, type CibaNotification } from './context.js';
export { createLogger, requestContext, REDACT_PATHS, type Logger } from './logger.js';
