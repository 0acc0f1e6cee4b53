// HTTP/1.1 as clients speak it to the sidecar's own server (issue #11 replaced
// Node's): pipelining, keep-alive, bodies, HEAD, absolute-form targets, half-close.
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

test('a small request body is skipped and the connection kept; chunked bodies get an answer, then close', async (t) => {
  const url = await sidecarUrl(t);
  const kept = splitResponses(await rawExchange(url, `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello${CLOSE_HEALTHZ}`));
  assert.deepEqual(kept.map((a) => a.status), [200, 200]);
  const chunked = splitResponses(await rawExchange(url, `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${GET_HEALTHZ}`));
  assert.deepEqual(chunked.map((a) => [a.status, a.headers.get('connection')]), [[200, 'close']]);
});

test('refused: Content-Length with Transfer-Encoding, HTTP/1.1 without Host, HTTP/2 preface: 400, 400, 505 and close', async (t) => {
  const url = await sidecarUrl(t);
  const cases: readonly [string, number][] = [
    ['POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\n\r\n', 400],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505],
  ];
  for (const [request, status] of cases) {
    const answers = splitResponses(await rawExchange(url, request));
    assert.deepEqual(answers.map((a) => [a.status, a.headers.get('connection')]), [[status, 'close']], JSON.stringify(request));
  }
});

test('HTTP/1.0 closes unless asked to keep alive; a client that half-closes still gets its answer', async (t) => {
  const url = await sidecarUrl(t);
  const oneZero = splitResponses(await rawExchange(url, `GET /healthz HTTP/1.0\r\n\r\n${GET_HEALTHZ}`));
  assert.deepEqual(oneZero.map((a) => [a.status, a.headers.get('connection')]), [[200, 'close']]);
  const halfClosed = splitResponses(await rawExchange(url, GET_HEALTHZ, { endAfterWrite: true }));
  assert.deepEqual(halfClosed.map((a) => [a.status, a.body]), [[200, 'ok']]);
});

test('an idle keep-alive connection is closed after about 2 s', async (t) => {
  const url = await sidecarUrl(t);
  const startedAt = Date.now();
  const answers = splitResponses(await rawExchange(url, GET_HEALTHZ));
  const heldMs = Date.now() - startedAt;
  assert.deepEqual(answers.map((a) => a.status), [200]);
  assert.ok(heldMs >= 1_500 && heldMs < 6_000, `closed after ${heldMs} ms`);
});

test('a body that arrives after its answer: the connection then waits as idle keep-alive and closes after about 2 s', async (t) => {
  const url = new URL(await sidecarUrl(t));
  const socket = net.connect(Number(url.port), url.hostname);
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
    // The answer came before the body: send the body now, then nothing more.
    if (received.includes('\r\n\r\nok') && !socket.writableEnded) socket.write('0123456789');
  });
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n');
  const startedAt = Date.now();
  const closedAt = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 8_000))]);
  assert.notEqual(closedAt, -1, 'the connection was still open 8 s after its body: no time limit held it');
  assert.ok(closedAt - startedAt >= 1_500, `closed after ${closedAt - startedAt} ms`);
  assert.deepEqual(splitResponses(received).map((a) => a.status), [200]);
});
