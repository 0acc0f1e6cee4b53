// HTTP/1.1 as clients speak it to the sidecar's own server (issue #11 replaced
// Node's): pipelining, keep-alive, bodies, HEAD, absolute-form targets, half-close;
// answered as Go's net/http answers them (issue #21; test/differential/http1.ts
// compares the two on generated requests).
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test, TestContext } from 'node:test';
import { startDriverAndSidecar } from '../helpers/pair';
import { rawExchange, splitResponses } from '../helpers/raw-http';

const GET_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
const CLOSE_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

async function sidecarUrl(t: TestContext): Promise<string> {
  const { sidecar } = await startDriverAndSidecar(t);
  return sidecar.baseUrl;
}

test('pipelined requests on one connection: answered in order; the last asks to close', async (t) => {
  const url = await sidecarUrl(t);
  const answers = splitResponses(await rawExchange(url, `${GET_HEALTHZ}GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n${CLOSE_HEALTHZ}`));
  assert.deepEqual(
    answers.map((a) => [a.status, a.body]),
    [
      [200, 'ok'],
      [404, '404 page not found\n'],
      [200, 'ok'],
    ],
  );
  assert.equal(answers[2].headers.get('connection'), 'close');
  assert.equal(answers[0].headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(answers[0].headers.get('cache-control'), 'no-store');
  assert.match(answers[0].headers.get('date') ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
});

test('absolute-form target (RFC 9112 section 3.2.2) is served like the origin form', async (t) => {
  const url = await sidecarUrl(t);
  const [answer] = splitResponses(await rawExchange(url, 'GET http://127.0.0.1:9808/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.deepEqual([answer.status, answer.body], [200, 'ok']);
});

test('HEAD: the headers a GET would have, no body', async (t) => {
  const url = await sidecarUrl(t);
  const text = await rawExchange(url, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const [answer] = splitResponses(text, true);
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('content-length'), '2');
  assert.ok(text.endsWith('\r\n\r\n'), JSON.stringify(text));
});

test('small request bodies (Content-Length or chunked) are read through and the connection kept, as Go; a malformed chunked body: answer, then close', async (t) => {
  const url = await sidecarUrl(t);
  const kept = splitResponses(await rawExchange(url, `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello${CLOSE_HEALTHZ}`));
  assert.deepEqual(kept.map((a) => a.status), [200, 200]);
  const chunked = splitResponses(await rawExchange(url, `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n${CLOSE_HEALTHZ}`));
  assert.deepEqual(chunked.map((a) => [a.status, a.headers.get('connection')]), [[200, undefined], [200, 'close']]);
  // Transfer-Encoding overrides Content-Length (RFC 9112 section 6.3; Go reads the chunked body).
  const both = splitResponses(await rawExchange(url, `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${CLOSE_HEALTHZ}`));
  assert.deepEqual(both.map((a) => a.status), [200, 200]);
  const malformed = splitResponses(await rawExchange(url, `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n${GET_HEALTHZ}`));
  assert.deepEqual(malformed.map((a) => [a.status, a.headers.get('connection')]), [[200, 'close']]);
});

test('refused as Go refuses: HTTP/1.1 without Host 400, HTTP/3.0 505, unknown Transfer-Encoding 501, Expect other than 100-continue 417, HTTP/2 preface 400; then close', async (t) => {
  const url = await sidecarUrl(t);
  const cases: readonly [string, number][] = [
    ['GET /healthz HTTP/1.1\r\n\r\n', 400],
    ['GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n', 505],
    ['POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: x\r\n\r\n', 417],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
  ];
  for (const [request, status] of cases) {
    const answers = splitResponses(await rawExchange(url, request));
    assert.deepEqual(answers.map((a) => [a.status, a.headers.get('connection')]), [[status, 'close']], JSON.stringify(request));
  }
});

test('HTTP/1.0 closes unless asked to keep alive (no Connection header, as Go); a client that half-closes still gets its answer', async (t) => {
  const url = await sidecarUrl(t);
  const oneZero = splitResponses(await rawExchange(url, `GET /healthz HTTP/1.0\r\n\r\n${GET_HEALTHZ}`));
  assert.deepEqual(oneZero.map((a) => [a.status, a.headers.get('connection')]), [[200, undefined]]);
  const halfClosed = splitResponses(await rawExchange(url, GET_HEALTHZ, { endAfterWrite: true }));
  assert.deepEqual(halfClosed.map((a) => [a.status, a.body]), [[200, 'ok']]);
});

// Issue #21, found by comparing with Go's net/http.
test('issue #21: a Content-Length after a vertical tab (not OWS: RFC 9110 section 5.6.3) is 400 and the connection closes', async (t) => {
  const url = await sidecarUrl(t);
  const answers = splitResponses(await rawExchange(url, 'POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length:\x0b5\r\n\r\nabcde'));
  assert.deepEqual(answers.map((a) => [a.status, a.headers.get('connection')]), [[400, 'close']]);
});

test('issue #21: pipelined requests then a half-close: every request is answered, in order, then the connection closes', async (t) => {
  const url = await sidecarUrl(t);
  const answers = splitResponses(await rawExchange(url, `${GET_HEALTHZ}GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n${GET_HEALTHZ}`, { endAfterWrite: true }));
  assert.deepEqual(answers.map((a) => [a.status, a.headers.get('connection')]), [[200, undefined], [404, undefined], [200, undefined]]);
});

test('issue #21: HTTP/1.0 with Connection: keep-alive: the answer says keep-alive and the connection is kept', async (t) => {
  const url = await sidecarUrl(t);
  const startedAt = Date.now();
  const answers = splitResponses(await rawExchange(url, `GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n${CLOSE_HEALTHZ}`));
  assert.deepEqual(answers.map((a) => [a.status, a.headers.get('connection')]), [[200, 'keep-alive'], [200, 'close']]);
  const alone = splitResponses(await rawExchange(url, 'GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'));
  assert.deepEqual(alone.map((a) => [a.status, a.headers.get('connection')]), [[200, 'keep-alive']]);
  assert.ok(Date.now() - startedAt >= 1_500, 'the kept connection closed before its idle time limit');
});

test('Expect: 100-continue with a body: answered at once (no 100 Continue: no route reads a body), the body read through, then closed (as Go)', async (t) => {
  const url = new URL(await sidecarUrl(t));
  const socket = net.connect(Number(url.port), url.hostname);
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
    // The answer came before the body: Go then reads the body before it closes; send it now.
    if (received.includes('\r\n\r\nok') && !socket.writableEnded) socket.write('hello');
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write('POST /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`not closed within 5 s: ${JSON.stringify(received)}`)), 5_000))]);
  assert.deepEqual(splitResponses(received).map((a) => [a.status, a.headers.get('connection')]), [[200, 'close']]);
});

test('an idle keep-alive connection is closed after about 2 s', async (t) => {
  const url = await sidecarUrl(t);
  const startedAt = Date.now();
  const answers = splitResponses(await rawExchange(url, GET_HEALTHZ));
  const heldMs = Date.now() - startedAt;
  assert.deepEqual(answers.map((a) => a.status), [200]);
  assert.ok(heldMs >= 1_500 && heldMs < 6_000, `closed after ${heldMs} ms`);
});

test('a body is read before the answer (as Go); then the connection waits as idle keep-alive and closes after about 2 s', async (t) => {
  const url = new URL(await sidecarUrl(t));
  const socket = net.connect(Number(url.port), url.hostname);
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(received, '', 'answered before the body was through');
  socket.write('56789');
  const startedAt = Date.now();
  const closedAt = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 8_000))]);
  assert.notEqual(closedAt, -1, 'the connection was still open 8 s after its body: no time limit held it');
  assert.ok(closedAt - startedAt >= 1_500, `closed after ${closedAt - startedAt} ms`);
  assert.deepEqual(splitResponses(received).map((a) => a.status), [200]);
});
