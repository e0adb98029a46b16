/** services/portal — the demo public service of `npm start` (relying party of the citizen IdP, signing, validation). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPortalApp, type PortalOptions } from './app.js';
import { RedisPortalStore } from './store.js';

export { createPortalApp, defaultPhoneHosts, phoneLinkBase, type PortalOptions, type PortalSigners } from './app.js';
export { makeDeclarationPdf, type DeclarationData } from './document.js';
export { MemoryPortalStore, RedisPortalStore, type PortalStore } from './store.js';

/** Starts the portal on an already-chosen port (its base URL must be registered at the IdP). */
export async function createPortalServer(opts: PortalOptions & { port: number; host?: string }): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  // a Redis store made here is closed with the server
  const own = !opts.store && opts.redis ? new RedisPortalStore(opts.redis) : undefined;
  const app = await createPortalApp({ ...opts, ...(own ? { store: own } : {}) });
  const handler = app.callback();
  // GET /healthz → {"status":"ok"}, the health answer of every kyso service
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/healthz' || req.url?.startsWith('/healthz?'))) {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end('{"status":"ok"}');
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://${opts.host ?? '127.0.0.1'}:${port}`, server, close: async () => { await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }); await own?.close(); } };
}
