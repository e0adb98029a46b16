/**
 * Assurance levels exposed as OIDC `acr` values, and `amr` values (RFC 8176).
 *
 * | acr      | meaning                                              | eIDAS level of assurance |
 * |----------|------------------------------------------------------|--------------------------|
 * | `level1` | self-registered account, password                    | low                      |
 * | `level2` | identity verified in person + second factor (TOTP)   | substantial              |
 * | (none)   | eIDAS *high* is not offered by this provider         | high — not offered       |
 *
 * Levels are ordered: a request with `acr_values=level2` is satisfied by any level >= 2; a session that is
 * weaker triggers step-up (TOTP) instead of a fresh password login.
 *
 * The acr of a token is never taken from the path that produced it: every path (login, step-up, CIBA) computes it
 * with {@link acrFromAmr} from the factors used in that authentication (services/idp/README.md has the table).
 */
import type { AssuranceLevel } from '../contracts.js';

/** acr values supported, weakest first. */
export const ACR_VALUES = ['level1', 'level2'] as const;
export type AcrValue = (typeof ACR_VALUES)[number];

/** eIDAS mapping of each acr value (documentation and discovery aid). */
export const EIDAS_MAPPING: Record<AcrValue, 'low' | 'substantial'> = { level1: 'low', level2: 'substantial' };

/** The acr value of a level. */
export function acrForLevel(level: AssuranceLevel): AcrValue {
  return level >= 2 ? 'level2' : 'level1';
}

/** The numeric level of an acr value; 0 for unknown values. */
export function levelOfAcr(acr: string | undefined): number {
  if (acr === 'level1') return 1;
  if (acr === 'level2') return 2;
  return 0;
}

/**
 * Minimum level a request asks for through `acr_values` (space separated, in order of preference): the
 * weakest supported value listed, since any listed value is acceptable. Unknown values are ignored;
 * 0 when nothing supported is requested.
 */
export function requiredLevel(acrValues: string | undefined): number {
  if (!acrValues) return 0;
  const levels = acrValues.split(' ').map(levelOfAcr).filter((l) => l > 0);
  return levels.length ? Math.min(...levels) : 0;
}

/** Whether a session at `sessionAcr` satisfies `acrValues` (ordered comparison, not string equality). */
export function satisfies(sessionAcr: string | undefined, acrValues: string | undefined): boolean {
  return levelOfAcr(sessionAcr) >= requiredLevel(acrValues);
}

/**
 * The acr of an authentication, derived only from the factors used in it (`amr`) and the account: `level2` needs a
 * password (`pwd`) AND a one-time code (`otp`) in this authentication, an account verified in person (level 2),
 * and a second factor whose enrolment is itself trusted (`secondFactorAssured`: seeded or given by an
 * administrator, or enrolled with an administrator's one-time enrolment code). Anything less is `level1`.
 * Never derived from the path taken (login, step-up, CIBA, account pages): every path calls this.
 */
export function acrFromAmr(amr: readonly string[], account: { level: AssuranceLevel; totpEnabled: boolean; secondFactorAssured?: boolean }): AcrValue {
  const twoFactors = amr.includes('pwd') && amr.includes('otp');
  return twoFactors && account.level >= 2 && account.totpEnabled && account.secondFactorAssured === true ? 'level2' : 'level1';
}

/** Whether the account can reach level 2 at all (level-2 identity and an assured second factor). */
export function canReachLevel2(account: { level: AssuranceLevel; totpEnabled: boolean; secondFactorAssured?: boolean }): boolean {
  return account.level >= 2 && account.totpEnabled && account.secondFactorAssured === true;
}

/** RFC 8176 amr values for the factors used. */
export function amrFor(factors: { pwd: boolean; otp: boolean }): string[] {
  const amr: string[] = [];
  if (factors.pwd) amr.push('pwd');
  if (factors.otp) amr.push('otp');
  if (amr.length >= 2) amr.push('mfa');
  return amr;
}

/**
 * Minimum level of an authorization request: `acr_values` (voluntary, but honoured) and an essential
 * `claims.id_token.acr` request (`value` or `values`), whichever is stronger.
 */
export function requiredLevelOf(params: { acr_values?: unknown; claims?: unknown }): number {
  let level = requiredLevel(typeof params.acr_values === 'string' ? params.acr_values : undefined);
  let claims: unknown = params.claims;
  if (typeof claims === 'string') {
    try { claims = JSON.parse(claims); } catch { claims = undefined; }
  }
  const acr = (claims as { id_token?: { acr?: { essential?: boolean; value?: unknown; values?: unknown } } } | undefined)?.id_token?.acr;
  if (acr?.essential) {
    const values = Array.isArray(acr.values) ? acr.values : typeof acr.value === 'string' ? [acr.value] : [];
    const levels = values.map((v) => levelOfAcr(String(v))).filter((l) => l > 0);
    if (levels.length) level = Math.max(level, Math.min(...levels));
  }
  return level;
}
