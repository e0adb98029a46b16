/**
 * services/validation — anyone checks the legal validity of a signed PDF or CMS: an upload form and a JSON API
 * over @kyso/verifier, on koa; documents are validated in worker processes with memory limits and a deadline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createValidationApp, type ValidationAppOptions } from './app.js';

export { createValidationApp, type ValidationAppOptions, type ValidationApp } from './app.js';
export { ValidationPool, type PoolOptions, type PoolResult } from './pool.js';
export { VALIDATED_KINDS, type DocumentKind } from './formats.js';
export { Problem } from './problem.js';

/** A running validation service. */
export interface ValidationServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Starts the validation service on host:port (127.0.0.1 and a free port by default). */
export async function createValidationServer(opts: ValidationAppOptions & { port?: number; host?: string }): Promise<ValidationServer> {
  const app = createValidationApp(opts);
  const server = createServer(app.callback());
  server.requestTimeout = 120_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: async () => {
      await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
      await app.pool.close();
    },
  };
}
