/** oidc-provider models whose records carry a `grantId` and are revoked together by `revokeByGrantId`. */
export const GRANTABLE_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'ClientCredentials',
  'PreAuthorizedCode',
]);

/** Models redeemed once through `consume()`; a second redemption is an attack indicator. */
export const CONSUMABLE_MODELS: ReadonlySet<string> = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);

/** Seconds since the epoch, as oidc-provider stores `consumed`. */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}
