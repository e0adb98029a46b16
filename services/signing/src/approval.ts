/**
 * Sole control: the citizen approves each authorization on her phone. {@link CibaApprover} asks the kyso identity
 * provider for a CIBA authentication at level 2 (the phone page asks for the TOTP), with a Vietnamese binding
 * message naming the requesting service and the documents, and waits for the result by polling the token
 * endpoint. The returned ID token is verified (issuer, audience, signature) and must say acr=level2 and name the
 * same citizen.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { basicAuth, discover } from './tokens.js';

/** A document shown to the citizen. */
export interface ApprovalDocument { name: string; hash: string }

export interface ApprovalRequest {
  /** Personal number of the citizen (login_hint). */
  subject: string;
  /** Human name of the requesting service. */
  service: string;
  documents: ApprovalDocument[];
  credentialId: string;
  /** How long the citizen has (ms). */
  timeoutMs: number;
  /** Reference of the signing service's phone page for this request (sent as CIBA `request_context`). */
  pageRef?: string;
  /** Told the CIBA request id once the identity provider has accepted the request (links the phone page to it). */
  onStarted?(authReqId: string): Promise<void> | void;
  /** Asked at each poll: true once the citizen refused on the signing service's own phone page. */
  cancelled?(): Promise<boolean>;
}

export type ApprovalOutcome = { result: 'approved'; acr: string } | { result: 'refused' | 'expired'; detail: string };

export interface Approver {
  /** Asks the citizen and waits for her decision. */
  approve(req: ApprovalRequest): Promise<ApprovalOutcome>;
}

const BINDING_MAX = 64;
/** Characters the provider accepts in a binding message. */
const clean = (s: string) => s.normalize('NFC').replace(/[^\p{L}\p{M}\p{N} .,:;!?#()+/_'"-]/gu, ' ').replace(/\s+/g, ' ').trim();

/**
 * The Vietnamese binding message: "<service>: ký <document> #<hash prefix>" or "<service>: ký N tài liệu #…",
 * at most 64 code points (the provider's rule). The hash prefix lets the citizen compare with the screen of the
 * service; the full list is in the audit log and on the service's own page.
 */
export function bindingMessage(service: string, docs: ApprovalDocument[]): string {
  const code = Buffer.from(docs[0]?.hash ?? '', 'base64').subarray(0, 4).toString('hex').toUpperCase();
  const what = docs.length === 1 ? clean(docs[0]!.name) || 'tài liệu' : `${docs.length} tài liệu`;
  const tail = ` #${code}`;
  let head = `${clean(service) || 'Dịch vụ'}: ký ${what}`;
  const room = BINDING_MAX - [...tail].length;
  if ([...head].length > room) head = [...head].slice(0, room - 1).join('').trimEnd() + '.';
  return clean(head + tail);
}

export class CibaApprover implements Approver {
  constructor(readonly opts: { issuer: string; clientId: string; clientSecret: string; pollMs?: number }) {}

  async approve(req: ApprovalRequest): Promise<ApprovalOutcome> {
    const md = await discover(this.opts.issuer);
    if (!md.backchannel_authentication_endpoint) throw new Error('the identity provider does not offer CIBA');
    const auth = basicAuth(this.opts.clientId, this.opts.clientSecret);
    const form = (p: Record<string, string>) => ({ method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(p).toString() });
    const start = await fetch(md.backchannel_authentication_endpoint, form({
      scope: 'openid', login_hint: req.subject, binding_message: bindingMessage(req.service, req.documents), acr_values: 'level2',
      requested_expiry: String(Math.max(10, Math.ceil(req.timeoutMs / 1000))),
      // the provider's notifier may link its approval page to the service's own page with the details
      ...(req.pageRef ? { request_context: JSON.stringify({ approval_page: req.pageRef }) } : {}),
    }));
    const sb = await start.json() as { auth_req_id?: string; interval?: number; expires_in?: number; error?: string; error_description?: string };
    if (!start.ok || !sb.auth_req_id) {
      if (sb.error === 'unknown_user_id') return { result: 'refused', detail: 'the citizen has no account at the identity provider' };
      throw new Error(`CIBA request refused by the identity provider: ${sb.error ?? start.status} ${sb.error_description ?? ''}`.trim());
    }
    await req.onStarted?.(sb.auth_req_id);
    const deadline = Date.now() + Math.min(req.timeoutMs, (sb.expires_in ?? 600) * 1000);
    const interval = this.opts.pollMs ?? Math.max(200, (sb.interval ?? 1) * 1000);
    for (;;) {
      await new Promise((r) => setTimeout(r, interval));
      if (await req.cancelled?.().catch(() => false)) return { result: 'refused', detail: 'the citizen refused the request on the approval page' };
      const res = await fetch(md.token_endpoint, form({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: sb.auth_req_id }));
      const body = await res.json() as { id_token?: string; error?: string; error_description?: string };
      if (res.ok && body.id_token) {
        const jwks = createRemoteJWKSet(new URL(md.jwks_uri));
        const { payload } = await jwtVerify(body.id_token, jwks, { issuer: this.opts.issuer, audience: this.opts.clientId });
        if (payload.sub !== req.subject) return { result: 'refused', detail: 'the approval came from another account' };
        if (payload.acr !== 'level2') return { result: 'refused', detail: `the approval was made at ${String(payload.acr)}, level2 is required` };
        return { result: 'approved', acr: String(payload.acr) };
      }
      if (body.error === 'authorization_pending' || body.error === 'slow_down') {
        if (Date.now() > deadline) return { result: 'expired', detail: 'the citizen did not answer in time' };
        continue;
      }
      if (body.error === 'access_denied') return { result: 'refused', detail: 'the citizen refused the request' };
      if (body.error === 'expired_token') return { result: 'expired', detail: 'the approval request expired' };
      throw new Error(`CIBA token request failed: ${body.error ?? res.status}`);
    }
  }
}
