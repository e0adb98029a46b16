/** `kyso serve` / `kyso demo` start their server in a child node with the young-generation flag; overrides work. */
import assert from 'node:assert/strict';
import { serverNodeFlags } from '../packages/cli/bin/server-flags.mjs';

describe('cli: server runtime flags', () => {
  it('32 MB semi-spaces by default; KYSO_SEMI_SPACE_MB sets or disables them; a flag given by the caller wins', () => {
    assert.deepEqual(serverNodeFlags({}, []), ['--max-semi-space-size=32']);
    assert.deepEqual(serverNodeFlags({ KYSO_SEMI_SPACE_MB: '64' }, []), ['--max-semi-space-size=64']);
    assert.deepEqual(serverNodeFlags({ KYSO_SEMI_SPACE_MB: '0' }, []), []);
    assert.deepEqual(serverNodeFlags({}, ['--max-semi-space-size=8']), []);
    assert.deepEqual(serverNodeFlags({ NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=16' }, []), []);
    assert.throws(() => serverNodeFlags({ KYSO_SEMI_SPACE_MB: 'lots' }, []), /KYSO_SEMI_SPACE_MB must be an integer/);
  });
});
