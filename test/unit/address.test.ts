import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeCsiAddress } from '../../src/csi/address';
import { chooseBindHost, formatListenAddress, parseListenAddress } from '../../src/http/listen-address';

test('--csi-address forms normalise to one address', () => {
  const cases: readonly [string, string, string | undefined][] = [
    ['/run/csi/socket', 'unix:///run/csi/socket', '/run/csi/socket'],
    ['/csi//csi.sock', 'unix:///csi/csi.sock', '/csi/csi.sock'],
    ['unix:///csi/csi.sock', 'unix:///csi/csi.sock', '/csi/csi.sock'],
    ['unix:/csi/csi.sock', 'unix:///csi/csi.sock', '/csi/csi.sock'],
    ['127.0.0.1:10000', '127.0.0.1:10000', undefined],
    ['csi-driver.kube-system:10000', 'csi-driver.kube-system:10000', undefined],
    ['[::1]:10000', '[::1]:10000', undefined],
    ['dns:///driver:10000', 'dns:///driver:10000', undefined],
  ];
  for (const [input, display, socketPath] of cases) {
    const address = normalizeCsiAddress(input);
    assert.notEqual(typeof address, 'string', input);
    if (typeof address === 'string') continue;
    assert.equal(address.display, display, input);
    assert.equal(address.socketPath, socketPath, input);
  }
});

test('TCP targets: the host and port the HTTP/2 transport dials', () => {
  const cases: readonly [string, string, number][] = [
    ['127.0.0.1:10000', '127.0.0.1', 10000],
    ['[::1]:10000', '::1', 10000],
    ['dns:driver:10000', 'driver', 10000],
    ['dns:///driver.kube-system:10000', 'driver.kube-system', 10000],
    ['dns://8.8.8.8/driver:10000', 'driver', 10000],
    ['dns:///driver', 'driver', 443],
    ['ipv4:10.0.0.1:50,10.0.0.2:50', '10.0.0.1', 50],
    ['ipv6:[fe80::1]:50', 'fe80::1', 50],
  ];
  for (const [input, host, port] of cases) {
    const address = normalizeCsiAddress(input);
    assert.notEqual(typeof address, 'string', input);
    if (typeof address === 'string') continue;
    assert.deepEqual(address.tcp, { host, port }, input);
  }
  assert.equal((normalizeCsiAddress('/csi/csi.sock') as { tcp: unknown }).tcp, undefined);
});

test('unusable --csi-address values say why', () => {
  for (const input of ['', 'csi.sock', 'unix://csi.sock', 'unix:csi.sock', 'http://x:1', 'dns:///host:99999', 'dns://resolver', 'ipv6:::1:50']) {
    assert.equal(typeof normalizeCsiAddress(input), 'string', input);
  }
});

// A path Linux cannot resolve (PATH_MAX is 4096 bytes with the NUL) is never reached, and would make
// every "Still connecting" line as long as itself (up to the 128 KiB of one argument): refused at start.
test('--csi-address is bounded: a socket path of at most 4095 bytes, a TCP target of at most 4095', () => {
  const pathOfBytes = (bytes: number) => {
    let dir = '';
    while (bytes - dir.length > 400) dir += `/${'d'.repeat(199)}`;
    return `${dir}/${'e'.repeat(bytes - dir.length - 1 - '/csi.sock'.length)}/csi.sock`;
  };
  assert.equal(Buffer.byteLength(pathOfBytes(4095)), 4095);
  assert.notEqual(typeof normalizeCsiAddress(pathOfBytes(4095)), 'string');
  assert.notEqual(typeof normalizeCsiAddress(`unix://${pathOfBytes(4095)}`), 'string');
  for (const input of [pathOfBytes(4096), `unix://${pathOfBytes(4096)}`, pathOfBytes(130_000), `${'h'.repeat(4096)}:50051`, `dns:///${'h'.repeat(4096)}:50051`]) {
    assert.match(normalizeCsiAddress(input) as string, /^the address is \d+ bytes; at most 4095 are taken \(Linux's PATH_MAX\)/, input.slice(0, 40));
  }
});

test('listen addresses parse like Go net.Listen takes them', () => {
  assert.deepEqual(parseListenAddress(':9808'), { host: undefined, port: 9808 });
  assert.deepEqual(parseListenAddress('0.0.0.0:9808'), { host: '0.0.0.0', port: 9808 });
  assert.deepEqual(parseListenAddress('[::1]:9808'), { host: '::1', port: 9808 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.match(parseListenAddress('9808') as string, /missing port/);
  assert.match(parseListenAddress('[::1:80') as string, /missing "\]"/);
  // Ports as Go's LookupPort reads them (#20): empty is 0, leading zeros and a sign, service names.
  assert.deepEqual(parseListenAddress('host:http'), { host: 'host', port: 80 });
  assert.deepEqual(parseListenAddress('host:HTTPS'), { host: 'host', port: 443 });
  assert.deepEqual(parseListenAddress(':'), { host: undefined, port: 0 });
  assert.deepEqual(parseListenAddress(':09808'), { host: undefined, port: 9808 });
  assert.deepEqual(parseListenAddress(':+80'), { host: undefined, port: 80 });
  assert.match(parseListenAddress('host:no-such-service') as string, /not a number from 0 to 65535 nor a known TCP service name/);
  assert.deepEqual(parseListenAddress(':+'), { host: undefined, port: 0 }); // Go's parsePort: a sign alone is 0
  assert.deepEqual(parseListenAddress(':-'), { host: undefined, port: 0 });
  assert.match(parseListenAddress(':65536') as string, /out of range/);
  assert.match(parseListenAddress(':-1') as string, /out of range/);
  assert.equal(formatListenAddress({ host: '::1', port: 80 }), '[::1]:80');
  assert.equal(formatListenAddress({ host: undefined, port: 80 }), ':80');
});

test("host names Go's own resolver does not find, though glibc reads them as IPv4 shorthand, are not bound (#20)", async () => {
  for (const host of ['0', '127.1', '010.0.0.1', '0x7f.1', '127.0.0.01']) {
    await assert.rejects(chooseBindHost(host), { code: 'ENOTFOUND' }, host);
  }
  assert.deepEqual(await chooseBindHost('localhost'), { host: '127.0.0.1' });
  assert.deepEqual(await chooseBindHost('::ffff:0.0.0.0'), { host: undefined });
  assert.deepEqual(await chooseBindHost('[::ffff:127.0.0.1]'.slice(1, -1)), { host: '127.0.0.1' });
});
