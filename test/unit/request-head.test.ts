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
    // No path: "" as Go's URL.Path (its ServeMux then redirects to "/").
    ['http://node-1', '', ''],
    ['http://node-1?verbose', '', 'verbose'],
    ['http://u:p@[::1]:80/healthz', '/healthz', ''],
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
    assert.ok('incomplete' in read(text), JSON.stringify(text));
  }
});

test('heads that cannot be served: 400, 431, 505 (each also checked against Go by test/differential/http1.ts)', () => {
  const cases: readonly [string, number][] = [
    ['BR0KEN\x01 / HTTP/9\r\n\r\n', 400],
    ['GET /healthz\r\n\r\n', 400],
    ['GET  /healthz HTTP/1.1\r\n\r\n', 400],
    ['G(T /healthz HTTP/1.1\r\n\r\n', 400],
    ['GET healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nNo colon\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\n: empty name\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nBad Name: x\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nX: a\x00b\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\n folded: x\r\n\r\n', 400],
    ['GET /healthz HTTP/2.0\r\n\r\n', 505],
    [`GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(MAX)}\r\n\r\n`, 431],
    [`GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(MAX)}`, 431],
  ];
  for (const [text, status] of cases) {
    const result = read(text);
    assert.ok('error' in result, JSON.stringify(text.slice(0, 60)));
    if ('error' in result) assert.equal(result.error.status, status, JSON.stringify(text.slice(0, 60)));
  }
});

/** The status Go's net/http answers a head with (checked against Go 1.19's server), or 'ok' when it serves it. */
function verdictOf(text: string): number | 'ok' | 'incomplete' {
  const result = read(text);
  if ('error' in result) return result.error.status;
  return 'head' in result ? 'ok' : 'incomplete';
}

test('issue #21: optional whitespace is SP and HTAB only (RFC 9110 sections 5.5, 5.6.3); field values without CTLs', () => {
  const head = (field: string) => `POST /healthz HTTP/1.1\r\nHost: h\r\n${field}\r\n\r\n`;
  const cases: readonly [string, number | 'ok'][] = [
    ['Content-Length:\x0b5', 400],
    ['Content-Length:\x0c5', 400],
    ['Content-Length: 5\x0b', 400],
    ['Content-Length:\x005', 400],
    ['Content-Length:\xa05', 400],
    ['Content-Length: \t5\t ', 'ok'],
    ['X-Other:\x0bv', 400],
    ['X-Other: a\x7fb', 400],
    ['X-Other: a\x01b', 400],
    ['X-Other: a\rb', 400],
    ['X-Other: a\tb', 'ok'],
    ['X-Other: caf\xe9', 'ok'],
  ];
  for (const [field, verdict] of cases) assert.equal(verdictOf(head(field)), verdict, JSON.stringify(field));
});

test('issue #21: field names are tokens; no whitespace before the colon (RFC 9112 section 5.1); obs-fold joined as Go does', () => {
  const head = (fields: string) => `GET /healthz HTTP/1.1\r\nHost: h\r\n${fields}\r\n`;
  const cases: readonly [string, number | 'ok'][] = [
    ['Connection : close\r\n', 400],
    ['Connection\t: close\r\n', 400],
    ['X(y: v\r\n', 400],
    ['X-\x80: v\r\n', 400],
    [': ignored, as Go does\r\n', 'ok'],
    ['X-Other: a\r\n folded\r\n', 'ok'],
    ['X-Other: a\r\n fold\x0bed\r\n', 400],
  ];
  for (const [fields, verdict] of cases) assert.equal(verdictOf(head(fields)), verdict, JSON.stringify(fields));
  assert.equal(verdictOf('GET /healthz HTTP/1.1\r\n Host: h\r\n\r\n'), 400, 'a fold before any field');
  const folded = read('GET /healthz HTTP/1.1\r\nHost: h\r\nX-Other:  a \r\n\t b\r\n\r\n');
  assert.ok('head' in folded);
  if ('head' in folded) assert.equal(folded.head.headers.get('x-other'), 'a b');
});

test('issue #21: a malformed line is refused as soon as it is complete, before the head ends (as Go)', () => {
  for (const text of ['G(T /healthz HTTP/1.1\r\n', 'GET /healthz HTTP/1.1\r\nHost: h\r\nno colon\r\n', 'GET /healthz HTTP/1.1\r\n folded first\r\n', 'GET /healthz HTTP/1.1\rHost: h\r\n']) {
    assert.equal(verdictOf(text), 400, JSON.stringify(text));
  }
  // Names and values are checked once the head is complete, in Go's order.
  assert.equal(verdictOf('GET /healthz HTTP/1.1\r\nBad Name: x\r\n'), 'incomplete');
});

test('issue #21: request line: method token, single SP, target forms, HTTP-version exactly HTTP/d.d (Go: 1.x served, others 505)', () => {
  const cases: readonly [string, number | 'ok'][] = [
    ['GET /healthz HTTP/1.1', 'ok'],
    ['GET /healthz HTTP/1.2', 'ok'],
    ['GET /healthz HTTP/1.9', 'ok'],
    ['GET /healthz HTTP/2.0', 505],
    ['GET /healthz HTTP/0.9', 505],
    ['GET /healthz HTTP/3.0', 505],
    ['GET /healthz HTTP/1.10', 400],
    ['GET /healthz HTTP/11', 400],
    ['GET /healthz http/1.1', 400],
    ['GET /healthz HTTP/1.1 ', 400],
    ['GET\t/healthz HTTP/1.1', 400],
    ['GET /healthz  HTTP/1.1', 400],
    ['GET ftp://h/healthz HTTP/1.1', 'ok'],
    ['GET http://h:x/healthz HTTP/1.1', 400],
    ['GET http://[::1/healthz HTTP/1.1', 400],
    ['GET /health%zz HTTP/1.1', 400],
    ['GET /health%7a HTTP/1.1', 'ok'],
    ['GET /heal\x7fthz HTTP/1.1', 400],
    ['GET :/healthz HTTP/1.1', 400],
    ['GET http://h{/healthz HTTP/1.1', 400],
    ['GET http://h%41/healthz HTTP/1.1', 400],
    ['GET http://h%c3%a9/healthz HTTP/1.1', 'ok'],
    ['GET http://[::1]x/healthz HTTP/1.1', 400],
    ['GET http://u{@h/healthz HTTP/1.1', 400],
    ['GET http://h:80:90/healthz HTTP/1.1', 'ok'],
    ['CONNECT h:443 HTTP/1.1', 'ok'],
  ];
  for (const [line, verdict] of cases) assert.equal(verdictOf(`${line}\r\nHost: h\r\n\r\n`), verdict, JSON.stringify(line));
});

test("issue #21: Host (RFC 9112 section 3.2), Content-Length (RFC 9110 section 8.6), Transfer-Encoding, Expect: Go's statuses", () => {
  const cases: readonly [string, number | 'ok'][] = [
    ['GET /healthz HTTP/1.1\r\n\r\n', 400],
    ['GET /healthz HTTP/1.0\r\n\r\n', 'ok'],
    ['GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nHost: a@b\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nHost: \r\n\r\n', 'ok'],
    ['GET /healthz HTTP/3.0\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['GET /healthz HTTP/3.0\r\nX: \x01\r\n\r\n', 505],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n', 400],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n', 400],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 'ok'],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n', 'ok'],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n', 400],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n', 501],
    ['POST /healthz HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n', 'ok'],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\nContent-Length: x\r\n\r\n', 'ok'],
    ['POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n', 'ok'],
  ];
  for (const [text, verdict] of cases) assert.equal(verdictOf(text), verdict, JSON.stringify(text));
  const expectation = read('GET /healthz HTTP/1.1\r\nHost: h\r\nExpect: x\r\n\r\n');
  assert.ok('head' in expectation && expectation.semantics.expectationFailed, 'an Expect other than 100-continue is answered 417 by the connection');
  const both = read('POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.ok('head' in both);
  if ('head' in both) assert.deepEqual(both.semantics.body, { kind: 'chunked' }, 'Transfer-Encoding overrides Content-Length (RFC 9112 section 6.3)');
});

test('issue #21: keep-alive as Go decides it (RFC 9112 section 9.3)', () => {
  const semanticsOf = (text: string) => {
    const result = read(text);
    assert.ok('head' in result, JSON.stringify(text));
    return 'head' in result ? [result.semantics.closeAfterAnswer, result.semantics.http10KeepAlive] : [];
  };
  assert.deepEqual(semanticsOf('GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n'), [false, false]);
  assert.deepEqual(semanticsOf('GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: te, Close\r\n\r\n'), [true, false]);
  assert.deepEqual(semanticsOf('GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: xclose\r\n\r\n'), [false, false]);
  assert.deepEqual(semanticsOf('GET /healthz HTTP/1.0\r\n\r\n'), [true, false]);
  assert.deepEqual(semanticsOf('GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), [false, true]);
  assert.deepEqual(semanticsOf('GET /healthz HTTP/1.0\r\nConnection: upgrade\r\nConnection: keep-alive\r\n\r\n'), [true, false]);
});

test('empty lines before the request line count toward the head bound', () => {
  assert.deepEqual(read('\r\n'.repeat(MAX)), { error: { status: 431, reason: 'request header fields too large' } });
});
