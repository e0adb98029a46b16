/**
 * The phone link behind the portal's QR code: under the host name the portal was opened with, when that name is
 * allowed (loopback names, the configured URLs' hosts, this machine's addresses, or the deployment's list);
 * never under a Host header it does not know (no link to an attacker's host).
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { defaultPhoneHosts, phoneLinkBase } from '../src/index.js';

describe('portal: the phone link follows the host the portal was opened with, within an allow-list', () => {
  const signing = 'http://127.0.0.1:7002/';
  const allowed = ['127.0.0.1', 'localhost', '192.168.1.20', 'portal.example.vn', '[::1]'];

  it('an allowed host name replaces the signing service\'s host, keeping its scheme and port', () => {
    assert.equal(phoneLinkBase('localhost:7004', signing, allowed), 'http://localhost:7002/');
    assert.equal(phoneLinkBase('192.168.1.20:7004', signing, allowed), 'http://192.168.1.20:7002/');
    assert.equal(phoneLinkBase('Portal.Example.VN', signing, allowed), 'http://portal.example.vn:7002/');
    assert.equal(phoneLinkBase('[::1]:7004', signing, allowed), 'http://[::1]:7002/');
    assert.equal(phoneLinkBase('127.0.0.1:7004', 'https://sign.example.vn/csc/', ['127.0.0.1']), 'https://127.0.0.1/csc/');
  });

  it('an unknown, malformed or missing Host keeps the configured signing URL', () => {
    for (const h of ['evil.example:7004', 'evil.example', '192.168.1.21:7004', 'localhost@evil.example', 'a/b', '', undefined, 'localhost:7004\r\nX: y', 'portal.example.vn.evil.example']) {
      assert.equal(phoneLinkBase(h, signing, allowed), signing, String(h));
    }
  });

  it('the default list: loopback names, the configured hosts and this machine\'s own addresses, nothing else', () => {
    const list = defaultPhoneHosts('http://portal.example.vn:7004', 'http://sign.example.vn:7002');
    for (const h of ['localhost', '127.0.0.1', '[::1]', 'portal.example.vn', 'sign.example.vn']) assert.ok(list.includes(h), h);
    const own = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4').map((a) => a!.address);
    assert.ok(own.length > 0);
    for (const a of own) assert.ok(list.includes(a), a);
    assert.ok(!list.includes('evil.example'));
    assert.equal(phoneLinkBase(`${own[own.length - 1]}:7004`, signing, list), `http://${own[own.length - 1]}:7002/`);
  });
});
