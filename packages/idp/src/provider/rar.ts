/**
 * RFC 9396 rich authorization requests of type `credential` (CSC API v2 `oauth2code`): a public service asks,
 * through the authorization code flow, for a token that lets it sign exactly these document digests with this
 * credential. The citizen sees the documents and digests on the consent page (consent is asked for every such
 * request); the token carries the details (introspection answers them) only when it comes from an authorization
 * code obtained at assurance level 2 — never from a refresh token.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/** One `credential` authorization detail (CSC API v2 §8). */
export interface CredentialDetail {
  type: 'credential';
  credentialID: string;
  documentDigests: { hash: string; label?: string }[];
  hashAlgorithmOID?: string;
}

const B64 = /^[A-Za-z0-9+/]{20,172}={0,2}$/;

/** What is wrong with a `credential` detail, or undefined. */
export function credentialDetailProblem(d: Record<string, unknown>): string | undefined {
  const allowed = new Set(['type', 'credentialID', 'documentDigests', 'hashAlgorithmOID', 'locations']);
  for (const k of Object.keys(d)) if (!allowed.has(k)) return `unknown member "${k}" in a credential authorization detail`;
  if (typeof d.credentialID !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(d.credentialID)) return 'credentialID must be 1-64 visible characters';
  if (d.hashAlgorithmOID !== undefined && (typeof d.hashAlgorithmOID !== 'string' || !/^[0-9]+(\.[0-9]+){2,20}$/.test(d.hashAlgorithmOID))) return 'hashAlgorithmOID must be an OID';
  const dd = d.documentDigests;
  if (!Array.isArray(dd) || dd.length < 1 || dd.length > 100) return 'documentDigests must list 1-100 digests';
  for (const [i, x] of dd.entries()) {
    const e = x as Record<string, unknown>;
    if (!e || typeof e !== 'object' || typeof e.hash !== 'string' || !B64.test(e.hash)) return `documentDigests[${i}].hash must be a base64 digest`;
    if (e.label !== undefined && (typeof e.label !== 'string' || e.label.length > 120 || /[\p{Cc}\p{Cf}]/u.test(e.label))) return `documentDigests[${i}].label must be text of at most 120 characters`;
  }
  return undefined;
}

/** The credential details of a request (already validated by oidc-provider through `types.credential.validate`). */
export function credentialDetailsOf(params: { authorization_details?: unknown }): CredentialDetail[] {
  if (typeof params.authorization_details !== 'string') return [];
  try {
    const v = JSON.parse(params.authorization_details) as unknown;
    return (Array.isArray(v) ? v : []).filter((d): d is CredentialDetail => !!d && typeof d === 'object' && (d as { type?: unknown }).type === 'credential');
  } catch {
    return [];
  }
}

/** oidc-provider `features.richAuthorizationRequests`. */
export function richAuthorizationFeature() {
  return {
    enabled: true,
    types: {
      credential: {
        async validate(_ctx: KoaContextWithOIDC, detail: Record<string, unknown>) {
          const problem = credentialDetailProblem(detail);
          if (problem) throw new errors.InvalidAuthorizationDetails(problem);
        },
      },
    },
    // the details consented to in this interaction (oidc-provider asks consent whenever details are requested)
    async authorizationDetailsForGrantSource(ctx: KoaContextWithOIDC, code: { acr?: string }) {
      const details = credentialDetailsOf(ctx.oidc.params as { authorization_details?: unknown });
      if (!details.length) return undefined;
      // a signature under the citizen's sole control: password and TOTP (level 2), as for a CIBA approval
      if (code.acr !== 'level2') throw new errors.InvalidAuthorizationDetails('a credential authorization needs assurance level 2 (acr_values=level2)');
      return details;
    },
    // only the token of the code itself: a refresh token never renews a permission to sign
    async authorizationDetailsForAccessToken(_ctx: KoaContextWithOIDC, _token: unknown, source: { rar?: unknown[] } | undefined, grantType: string) {
      return grantType === 'authorization_code' ? source?.rar : undefined;
    },
    async authorizationDetailsForIntrospection(_ctx: KoaContextWithOIDC, token: { rar?: unknown[] }) {
      return token.rar;
    },
  };
}

/** The resource indicator (RFC 8707) of credential-scoped signing tokens: the deployment's CSC signing service. */
export const CSC_RESOURCE = 'urn:kyso:csc';

/**
 * oidc-provider `features.resourceIndicators`: rich authorization requests need a resource; a request with
 * `credential` details defaults to {@link CSC_RESOURCE}, whose tokens are opaque (checked by introspection),
 * short-lived and carry only the signing scopes. Any other resource is refused as before.
 */
export function resourceIndicatorsFeature() {
  return {
    enabled: true,
    async defaultResource(ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string | string[]) {
      if (oneOf) return oneOf;
      return credentialDetailsOf(ctx.oidc.params as { authorization_details?: unknown }).length ? CSC_RESOURCE : undefined;
    },
    async useGrantedResource() { return true; },
    async getResourceServerInfo(_ctx: KoaContextWithOIDC, resource: string) {
      if (resource !== CSC_RESOURCE) throw new errors.InvalidTarget();
      return { scope: 'credential service', audience: CSC_RESOURCE, accessTokenFormat: 'opaque' as const, accessTokenTTL: 600 };
    },
  };
}
