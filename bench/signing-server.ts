/**
 * Child process of bench/signing.ts: the signing service on a SoftHSM2 token (SOFTHSM2_CONF, BENCH_TOKEN,
 * BENCH_PIN from the parent), Redis when REDIS_URL is set, with an RSA-2048 and a P-256 credential enrolled (keys
 * generated in the token, certificates from a throwaway CA). Bench-only shortcuts, said here: the bearer token
 * is checked by a fixed-token verifier (introspection results are cached in production anyway) and the phone
 * approval is automatic (the human is excluded from the measurement). Prints one JSON line, then serves.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { OIDS } from '@kyso/pki';
import { encodeName, issueCertificate, keyIdentifier, randomSerial, type Issuer } from '../fixtures/src/x509-build.js';
import { CscError, createSigningLogger, createSigningServer, enrolCredential, type Caller, type CertificateIssuer } from '@kyso/service-signing';

const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const caName = encodeName([[OIDS.countryName, 'VN', 'printable'], [OIDS.commonName, 'kyso bench CA']]);
const ca: Issuer = { nameDer: caName, key: caKey, keyId: keyIdentifier(createPublicKey(caKey)), scheme: { hash: 'SHA-256' } };
const caCert = issueCertificate({ subjectDer: caName, publicKey: createPublicKey(caKey), serial: randomSerial(), notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86400_000), extensions: { ca: {}, keyUsage: ['keyCertSign', 'cRLSign'] }, issuer: ca });
const issuer: CertificateIssuer = {
  async issue(spki, subject) {
    const cert = issueCertificate({
      subjectDer: encodeName([[OIDS.countryName, 'VN', 'printable'], [OIDS.serialNumber, subject.serialNumber ?? ''], [OIDS.commonName, subject.commonName]]),
      publicKey: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), serial: randomSerial(),
      notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86400_000), extensions: { keyUsage: ['digitalSignature', 'nonRepudiation'] }, issuer: ca,
    });
    return [cert, caCert];
  },
};

export const BENCH_TOKEN = 'bench-bearer-token-0123456789';
export const BENCH_SUBJECT = '001090000001';
const caller: Caller = { subject: BENCH_SUBJECT, clientId: 'bench', scopes: new Set(['service']), exp: Math.floor(Date.now() / 1000) + 86400, tokenHash: 'bench' };

const server = await createSigningServer({
  port: Number(process.env.PORT ?? 0),
  ...(process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : {}),
  vault: { pkcs11: { module: '/usr/lib/softhsm/libsofthsm2.so', token: process.env.BENCH_TOKEN!, pin: process.env.BENCH_PIN!, signingThreads: Number(process.env.BENCH_SESSIONS ?? 2) } },
  tokens: { async verify(t) { if (t !== BENCH_TOKEN) throw new CscError(401, 'invalid_token', 'unknown token'); return caller; } },
  approver: { async approve() { return { result: 'approved', acr: 'level2' }; } },
  oauth2Issuer: 'http://127.0.0.1:1',
  policy: { multisign: 1000, sadTtlMs: 600_000 },
  limits: { signPerSecond: 1_000_000, perAddressPerSecond: 1_000_000, authorizePerMinute: 100_000 },
  logger: createSigningLogger('warn'),
});
const creds: Record<string, { id: string; keyId: string; certificate: string }> = {};
for (const [name, key] of [['rsa', { type: 'RSA', bits: 2048 }], ['ec', { type: 'EC', curve: 'P-256' }]] as const) {
  const rec = await enrolCredential({ store: server.store, vault: server.vault, issuer, pinHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }, {
    owner: BENCH_SUBJECT, kind: 'citizen', subject: { commonName: `Bench ${name}`, serialNumber: `CCCD:${BENCH_SUBJECT}` }, pin: '123456', key,
  });
  creds[name] = { id: rec.id, keyId: rec.key.ref, certificate: rec.certificates[0]! };
}
// The ceiling (not kyso's service): a bare node:http server that parses the same signHash body and signs through the
// same signing threads (same pool, same sessions, same keys) with no Koa, token, SAD, rate limit, idempotency or
// hash-chained audit (with Redis: one SREM and one XADD per request, the least shared state a second instance needs):
// what any Node.js HTTP front end to these threads can reach on this machine under the same load.
let ceilingPort = 0;
if (process.env.BENCH_CEILING === '1') {
  const { createServer } = await import('node:http');
  const pool = await (server.vault as import('@kyso/service-signing').Pkcs11Vault).pool();
  const byCred = new Map(Object.values(creds).map((c) => [c.id, c.keyId]));
  // with Redis, the least state work the issue requires per signature, on its own auto-pipelined connection: the
  // single use of the hash (one atomic SREM) before signing, one audit record (XADD) after it
  const { connectRedis } = await import('@kyso/service-signing');
  const redis = process.env.REDIS_URL ? connectRedis(process.env.REDIS_URL, { enableAutoPipelining: true }) : undefined;
  if (redis) await redis.sadd('ceiling:hashes', 'x');
  const ceiling = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const b = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { credentialID: string; hashes: string[]; signAlgo: string };
      const mech = b.signAlgo === OIDS.ecPublicKey || b.signAlgo === '1.2.840.10045.4.3.2' ? { scheme: 'ECDSA' as const } : { scheme: 'RSA-PKCS1' as const, hash: 'SHA-256' as const };
      const sign = () => Promise.all(b.hashes.map((h) => pool.sign(byCred.get(b.credentialID)!, mech, Buffer.from(h, 'base64'))));
      const signed = redis
        ? redis.srem('ceiling:used', b.hashes[0]!).then(sign).then(async (sigs) => { await redis.xadd('ceiling:audit', 'MAXLEN', '~', '100000', '*', 'e', JSON.stringify({ c: b.credentialID, h: b.hashes })); return sigs; })
        : sign();
      void signed.then((sigs) => {
        const body = JSON.stringify({ signatures: sigs.map((x) => Buffer.from(x).toString('base64')) });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }, () => { res.writeHead(500).end(); });
    });
  });
  await new Promise<void>((r) => ceiling.listen(0, '127.0.0.1', r));
  ceilingPort = (ceiling.address() as import('node:net').AddressInfo).port;
}
process.stdout.write(JSON.stringify({ port: server.port, ceilingPort, creds, caCert: Buffer.from(caCert).toString('base64') }) + '\n');
// the parent asks for this process's CPU time (user+system, all threads) around each measured run
// and the event loop's utilisation (how busy the main thread was); with BENCH_PROF each measured run (between two
// such asks) is profiled into its own file
let session: import('node:inspector/promises').Session | undefined;
let phase = 0;
let lastThreads: Record<string, number> = {};
const require = (await import('node:module')).createRequire(import.meta.url);
process.on('SIGUSR2', () => {
  const u = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  process.stdout.write(JSON.stringify({ cpuMicros: u.user + u.system, eluIdle: elu.idle, eluActive: elu.active }) + '\n');
  if (process.env.BENCH_DEBUG) {
    const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
    const now: Record<string, number> = {};
    for (const t of readdirSync('/proc/self/task')) {
      try { const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); now[`${t}:${st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'))}`] = (Number(f[11]) + Number(f[12])) * 10; } catch { /* gone */ }
    }
    console.error('threads ms', JSON.stringify(Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (lastThreads[k] ?? 0)]).filter(([, v]) => (v as number) > 0))));
    lastThreads = now;
  }
  if (process.env.BENCH_DEBUG) void (server.vault as import('@kyso/service-signing').Pkcs11Vault).pool().then((p) => console.error('pool', JSON.stringify(p.stats)));
  if (process.env.BENCH_PROF_PHASES) {
    void (async () => {
      if (!session) {
        const { Session } = await import('node:inspector/promises');
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
      }
      if (phase++ % 2 === 0) await session.post('Profiler.start');
      else {
        const { profile } = await session.post('Profiler.stop');
        const { writeFileSync } = await import('node:fs');
        writeFileSync(`${process.env.BENCH_PROF_PHASES}/phase-${phase / 2}.cpuprofile`, JSON.stringify(profile));
      }
    })();
  }
});
process.on('SIGTERM', () => { void server.close().then(() => process.exit(0)); });
