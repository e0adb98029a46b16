import type { Context } from 'koa';

/** An RFC 9457 problem detail the service answers with. */
export class Problem extends Error {
  constructor(readonly status: number, readonly type: string, readonly title: string, readonly detail?: string) {
    super(detail ?? title);
    this.name = 'Problem';
  }
}

/** Writes a problem+json body on the context. */
export function sendProblem(ctx: Context, p: Problem): void {
  ctx.status = p.status;
  ctx.type = 'application/problem+json';
  ctx.body = JSON.stringify({ type: `https://kyso.example/problems/${p.type}`, title: p.title, status: p.status, ...(p.detail ? { detail: p.detail } : {}) });
}
