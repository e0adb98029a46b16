import assert from 'node:assert/strict';
import { PKI_VERSION } from '@kyso/pki';
describe('smoke', () => { it('imports a workspace package', () => { assert.equal(PKI_VERSION, '0.1.0'); }); });
