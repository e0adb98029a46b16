/**
 * Test helpers for the provider / service tests: a running identity provider (memory or Redis), seeded
 * relying parties, fresh citizens, and a small cookie-jar browser that drives the HTML forms over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { createStorage, makePersonalNumber, totpCode, newTotpSecret, createLogger, type KysoIdpStorage, type CibaNotification } from '@kyso/idp';
import { createIdpServer, type IdpServer, type SeedFile } from '@kyso/service-idp';
import { startRedis, type RedisInstance } from '@kyso/fixtures';

export const RP_REDIRECT = 'http://127.0.0.1:1/cb';
export const RP_LOGOUT = 'http://127.0.0.1:1/logged-out';
export const SECRET = 'rp1-secret-0123456789abcdef';

export function baseSeed(extra: Partial<SeedFile> = {}): SeedFile {
  return {
    clients: [
      { client_id: 'rp1', client_name: 'Dịch vụ công trực tuyến', client_secret: SECRET, redirect_uris: [RP_REDIRECT], post_logout_redirect_uris: [RP_LOGOUT], grant_types: ['authorization_code', 'refresh_token'] },
      { client_id: 'rp2', client_secret: 'rp2-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:2/cb'], id_token_signed_response_alg: 'PS256' },
      { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:3/cb'] },
      { client_id: 'svc', client_secret: 'svc-secret-0123456789abcdef', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      { client_id: 'ciba', client_secret: 'ciba-secret-0123456789abcdef', grant_types: ['urn:openid:params:grant-type:ciba', 'refresh_token'], redirect_uris: [], response_types: [], backchannel_token_delivery_mode: 'poll' },
    ],
    users: [],
    ...extra,
  };
}

export interface TestIdp {
  server: IdpServer;
  storage: KysoIdpStorage;
  issuer: string;
  redis?: RedisInstance;
  ciba: CibaNotification[];
  close(): Promise<void>;
}

/** Starts the service; `redis: true` backs it with a throwaway redis-server. */
export async function startTestIdp(opts: { redis?: boolean; seed?: SeedFile; ttl?: Record<string, number>; outboundCa?: string[]; cibaDetails?: (n: CibaNotification) => string | undefined } = {}): Promise<TestIdp> {
  const redis = opts.redis ? await startRedis() : undefined;
  const storage = await createStorage({ ...(redis ? { redis: redis.url } : {}), argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
  const ciba: CibaNotification[] = [];
  const server = await createIdpServer({
    port: 0, storage, seed: opts.seed ?? baseSeed(), logger: createLogger('silent'), allowLoopbackFetch: true,
    notifyCiba: ((n: CibaNotification) => { ciba.push(n); const detailsUrl = opts.cibaDetails?.(n); return detailsUrl ? { detailsUrl } : undefined; }) as never, ...(opts.ttl ? { ttl: opts.ttl } : {}), ...(opts.outboundCa ? { outboundCa: opts.outboundCa } : {}),
  });
  return {
    server, storage, issuer: server.issuer, redis, ciba,
    async close() {
      await server.close();
      await storage.close();
      await redis?.stop();
    },
  };
}

/** Creates a citizen with a random valid personal number; level 2 gets a TOTP secret. */
export async function newCitizen(storage: KysoIdpStorage, opts: { level?: 1 | 2; totp?: boolean; birthdate?: string; name?: string } = {}) {
  const level = opts.level ?? 2;
  const birthdate = opts.birthdate ?? '1990-05-17';
  const password = `Mật-khẩu-${randomBytes(6).toString('hex')}`;
  const totp = opts.totp ?? level === 2;
  const totpSecret = totp ? newTotpSecret() : undefined;
  let id = '';
  for (let attempt = 0; ; attempt++) {
    id = makePersonalNumber({ birthdate, gender: 'female', province: 1 + randomBytes(1)[0]! % 96, serial: randomBytes(4).readUInt32BE() % 1_000_000 });
    try {
      await storage.accounts.create({
        id, password, name: opts.name ?? 'Nguyễn Thị Minh Khai', birthdate, gender: 'female', level,
        email: `c${id}@example.vn`, phone: '+84912345678',
        address: { street_address: '12 Phố Huế', locality: 'Hai Bà Trưng', region: 'Hà Nội', country: 'VN' },
        ...(totpSecret ? { totp_secret: totpSecret } : {}),
      });
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ACCOUNT_EXISTS' || attempt > 5) throw e;
    }
  }
  let step = 0;
  return {
    id, password, level, totpSecret,
    /** A TOTP code not used before (current step, then the next one). */
    async code() {
      if (!totpSecret) throw new Error('no TOTP');
      if (step > 1) throw new Error('test used more than 2 TOTP codes for one citizen within the ±1 window');
      return totpCode(totpSecret, Date.now() + 30_000 * step++);
    },
  };
}
export type Citizen = Awaited<ReturnType<typeof newCitizen>>;

/** A cookie-jar HTTP client that never follows redirects by itself. */
export class Browser {
  private jar = new Map<string, string>();

  constructor(readonly origin: string) {}

  /** Sets a cookie by hand (e.g. a forged one). */
  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url, this.origin);
    const headers = new Headers(init.headers);
    if (u.origin === new URL(this.origin).origin && this.jar.size) headers.set('cookie', this.cookieHeader());
    const res = await fetch(u, { ...init, headers, redirect: 'manual' });
    if (u.origin === new URL(this.origin).origin) this.store(res);
    return res;
  }

  /** Follows redirects within the provider; stops at a page (200/4xx) or at a redirect leaving it. */
  async follow(url: string, init: RequestInit = {}): Promise<{ res: Response; url: string; body: string }> {
    let res = await this.request(url, init);
    let current = new URL(url, this.origin).href;
    for (let i = 0; i < 15 && res.status >= 300 && res.status < 400; i++) {
      const loc = new URL(res.headers.get('location')!, current).href;
      if (new URL(loc).origin !== new URL(this.origin).origin) return { res, url: loc, body: '' };
      await res.arrayBuffer();
      current = loc;
      res = await this.request(loc);
    }
    return { res, url: current, body: await res.text() };
  }

  /** Submits a form (fields merged with the page's hidden csrf) and follows redirects. */
  async submit(action: string, fields: Record<string, string>) {
    return this.follow(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}

/** The first form's action and csrf token (optionally the form whose action ends with `suffix`). */
export function formOf(html: string, suffix?: string): { action: string; csrf: string } {
  const re = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g;
  for (const m of html.matchAll(re)) {
    const action = m[1]!.replace(/&amp;/g, '&');
    if (suffix && !action.endsWith(suffix)) continue;
    const csrf = /name="csrf" value="([^"]+)"/.exec(m[2]!)?.[1];
    if (csrf) return { action, csrf };
  }
  throw new Error(`no form${suffix ? ` ending with ${suffix}` : ''} in page: ${html.slice(0, 300)}`);
}

/**
 * Drives login → (TOTP) → (consent) from an authorization URL; returns the redirect back to the RP.
 * Pages met are recorded in `steps`.
 */
export async function loginFlow(b: Browser, authUrl: string, citizen: Citizen | undefined, opts: { consent?: boolean } = {}) {
  const steps: string[] = [];
  let page = await b.follow(authUrl);
  for (let i = 0; i < 6; i++) {
    if (!page.url.startsWith(b.origin)) return { url: page.url, steps };
    const body = page.body;
    if (body.includes('/login"')) {
      steps.push('login');
      if (!citizen) throw new Error('login page shown but no citizen given');
      const f = formOf(body, '/login');
      page = await b.submit(f.action, { csrf: f.csrf, login: citizen.id, password: citizen.password });
    } else if (body.includes('/totp"')) {
      steps.push('totp');
      const f = formOf(body, '/totp');
      page = await b.submit(f.action, { csrf: f.csrf, kind: 'totp', code: await citizen!.code() });
    } else if (body.includes('/consent"')) {
      steps.push('consent');
      if (opts.consent === false) {
        const f = formOf(body, '/abort');
        page = await b.submit(f.action, { csrf: f.csrf });
      } else {
        const f = formOf(body, '/consent');
        page = await b.submit(f.action, { csrf: f.csrf });
      }
    } else {
      throw new Error(`unexpected page (${page.res.status}) at ${page.url}: ${body.slice(0, 400)}`);
    }
  }
  throw new Error('login flow did not finish');
}
