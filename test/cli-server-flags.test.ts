/** `kyso serve` / `kyso demo` start their server in a child node with the GC flags; overrides work. */
import assert from 'node:assert/strict';
import { serverNodeFlags } from '../packages/cli/bin/server-flags.mjs';

const NO_PRETENURE = '--no-allocation-site-pretenuring';

describe('cli: server runtime flags', () => {
  it('32 MB semi-spaces by default; KYSO_SEMI_SPACE_MB sets or disables them; a flag given by the caller wins', () => {
    assert.deepEqual(serverNodeFlags({}, []), ['--max-semi-space-size=32', NO_PRETENURE]);
    assert.deepEqual(serverNodeFlags({ KYSO_SEMI_SPACE_MB: '64' }, []), ['--max-semi-space-size=64', NO_PRETENURE]);
    assert.deepEqual(serverNodeFlags({ KYSO_SEMI_SPACE_MB: '0' }, []), [NO_PRETENURE]);
    assert.deepEqual(serverNodeFlags({}, ['--max-semi-space-size=8']), [NO_PRETENURE]);
    assert.deepEqual(serverNodeFlags({ NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=16' }, []), [NO_PRETENURE]);
    assert.throws(() => serverNodeFlags({ KYSO_SEMI_SPACE_MB: 'lots' }, []), /KYSO_SEMI_SPACE_MB must be an integer/);
  });

  it('allocation-site pretenuring is off by default; KYSO_PRETENURING=1 or a flag given by the caller keeps theirs', () => {
    assert.ok(serverNodeFlags({ KYSO_PRETENURING: '0' }, []).includes(NO_PRETENURE));
    assert.deepEqual(serverNodeFlags({ KYSO_PRETENURING: '1' }, []), ['--max-semi-space-size=32']);
    assert.deepEqual(serverNodeFlags({}, ['--allocation-site-pretenuring']), ['--max-semi-space-size=32']);
    assert.deepEqual(serverNodeFlags({}, [NO_PRETENURE, '--max-semi-space-size=32']), []);
    assert.throws(() => serverNodeFlags({ KYSO_PRETENURING: 'yes' }, []), /KYSO_PRETENURING must be 0 or 1/);
  });
});
