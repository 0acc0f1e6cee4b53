import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readRequestHead } from '../../src/wire/http1/request-head';

const MAX = 8 * 1024;
const read = (text: string) => readRequestHead(Buffer.from(text, 'latin1'), MAX);

test('request targets: origin form, absolute form (RFC 9112 section 3.2.2), query split off', () => {
  const cases: readonly [string, string, string][] = [
    ['/healthz', '/healthz', ''],
    ['/healthz?verbose', '/healthz', 'verbose'],
    ['/healthz?verbose=1&x=2', '/healthz', 'verbose=1&x=2'],
    ['http://127.0.0.1:9808/healthz', '/healthz', ''],
    ['HTTP://node-1:9808/healthz?verbose', '/healthz', 'verbose'],
    ['https://node-1/metrics', '/metrics', ''],
    ['http://node-1', '/', ''],
    ['http://node-1?verbose', '/', 'verbose'],
    ['*', '*', ''],
  ];
  for (const [target, path, query] of cases) {
    const result = read(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.ok('head' in result, target);
    if (!('head' in result)) continue;
    assert.equal(result.head.path, path, target);
    assert.equal(result.head.query, query, target);
  }
});

test('a complete head: method, version, headers in lower case, repeated fields joined, bytes consumed', () => {
  const text = 'POST /healthz HTTP/1.0\r\nHost: a\r\nX-Twice: 1\r\nx-twice: 2\r\nContent-Length:  3 \r\n\r\nabc';
  const result = read(text);
  assert.ok('head' in result);
  if (!('head' in result)) return;
  assert.equal(result.head.method, 'POST');
  assert.equal(result.head.minorVersion, 0);
  assert.equal(result.head.headers.get('x-twice'), '1, 2');
  assert.equal(result.head.headers.get('content-length'), '3');
  assert.equal(result.consumedBytes, text.length - 3);
});

test('line ends: CRLF, bare LF, leading empty lines ignored; incomplete until the empty line', () => {
  for (const text of ['GET /healthz HTTP/1.1\nHost: x\n\n', '\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\n\r\n']) {
    const result = read(text);
    assert.ok('head' in result, JSON.stringify(text));
    if ('head' in result) assert.equal(result.consumedBytes, text.length, JSON.stringify(text));
  }
  for (const text of ['', 'GET /healthz HTTP/1.1\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r']) {
    assert.deepEqual(read(text), { incomplete: true }, JSON.stringify(text));
  }
});

test('heads that cannot be served: 400, 431, 505', () => {
  const cases: readonly [string, number][] = [
    ['BR0KEN\x01 / HTTP/9\r\n\r\n', 400],
    ['GET /healthz\r\n\r\n', 400],
    ['GET  /healthz HTTP/1.1\r\n\r\n', 400],
    ['G(T /healthz HTTP/1.1\r\n\r\n', 400],
    ['GET healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET ftp://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nNo colon\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\n: empty name\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nBad Name: x\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nX: a\x00b\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\n folded: x\r\n\r\n', 400],
    ['GET /healthz HTTP/2.0\r\n\r\n', 505],
    ['GET /healthz HTTP/1.2\r\n\r\n', 505],
    [`GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(MAX)}\r\n\r\n`, 431],
    [`GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(MAX)}`, 431],
  ];
  for (const [text, status] of cases) {
    const result = read(text);
    assert.ok('error' in result, JSON.stringify(text.slice(0, 60)));
    if ('error' in result) assert.equal(result.error.status, status, JSON.stringify(text.slice(0, 60)));
  }
});
