/** The second stack capture of oidc-provider's protocol errors is skipped; stacks stay useful, other errors unchanged. */
import assert from 'node:assert/strict';
import { errors } from 'oidc-provider';
import { trimOidcErrorCaptures } from '../src/provider/error-stacks.js';

describe('idp: oidc-provider error stacks', () => {
  before(() => trimOidcErrorCaptures());

  it('protocol errors keep a stack that names where they were made', () => {
    function whereTheTokenWasMissing() { return new errors.InvalidToken('access token not found'); }
    const e = whereTheTokenWasMissing();
    assert.equal(e.message, 'invalid_token');
    assert.match(String(e.stack), /InvalidToken/);
    assert.match(String(e.stack), /whereTheTokenWasMissing/);
    assert.equal(e.statusCode, 401);
  });

  it('other errors are captured as before (constructor frames trimmed, plain objects filled)', () => {
    class Mine extends Error {
      constructor() { super('mine'); Error.captureStackTrace(this, Mine); }
    }
    function makeMine() { return new Mine(); }
    const m = makeMine();
    assert.match(String(m.stack), /makeMine/);
    assert.doesNotMatch(String(m.stack).split('\n')[1] ?? '', /new Mine/, 'constructor frame trimmed');
    const o: { stack?: string } = {};
    Error.captureStackTrace(o);
    assert.match(String(o.stack), /error-stacks\.test/);
  });

  it('installing twice keeps a single wrapper', () => {
    const before = Error.captureStackTrace;
    trimOidcErrorCaptures();
    assert.equal(Error.captureStackTrace, before);
  });
});
