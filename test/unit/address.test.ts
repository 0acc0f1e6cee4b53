import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeCsiAddress } from '../../src/csi/address';
import { formatListenAddress, parseListenAddress } from '../../src/http/listen-address';

test('--csi-address forms normalise to one target', () => {
  const cases: readonly [string, string, string | undefined][] = [
    ['/run/csi/socket', 'unix:///run/csi/socket', '/run/csi/socket'],
    ['/csi//csi.sock', 'unix:///csi/csi.sock', '/csi/csi.sock'],
    ['unix:///csi/csi.sock', 'unix:///csi/csi.sock', '/csi/csi.sock'],
    ['unix:/csi/csi.sock', 'unix:///csi/csi.sock', '/csi/csi.sock'],
    ['127.0.0.1:10000', 'dns:127.0.0.1:10000', undefined],
    ['csi-driver.kube-system:10000', 'dns:csi-driver.kube-system:10000', undefined],
    ['[::1]:10000', 'dns:[::1]:10000', undefined],
    ['dns:///driver:10000', 'dns:///driver:10000', undefined],
  ];
  for (const [input, target, socketPath] of cases) {
    const address = normalizeCsiAddress(input);
    assert.notEqual(typeof address, 'string', input);
    if (typeof address === 'string') continue;
    assert.equal(address.grpcTarget, target, input);
    assert.equal(address.socketPath, socketPath, input);
  }
});

test('unusable --csi-address values say why', () => {
  for (const input of ['', 'csi.sock', 'unix://csi.sock', 'unix:csi.sock', 'http://x:1']) {
    assert.equal(typeof normalizeCsiAddress(input), 'string', input);
  }
});

test('listen addresses parse like Go net.Listen takes them', () => {
  assert.deepEqual(parseListenAddress(':9808'), { host: undefined, port: 9808 });
  assert.deepEqual(parseListenAddress('0.0.0.0:9808'), { host: '0.0.0.0', port: 9808 });
  assert.deepEqual(parseListenAddress('[::1]:9808'), { host: '::1', port: 9808 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.match(parseListenAddress('9808') as string, /missing port/);
  assert.match(parseListenAddress('[::1:80') as string, /missing "\]"/);
  assert.match(parseListenAddress('host:http') as string, /not a number/);
  assert.equal(formatListenAddress({ host: '::1', port: 80 }), '[::1]:80');
  assert.equal(formatListenAddress({ host: undefined, port: 80 }), ':80');
});
