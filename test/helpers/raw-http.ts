// Raw bytes over a new TCP connection, for what an HTTP client library would not send.

import * as net from 'node:net';

export interface RawExchangeOptions {
  readonly timeoutMs?: number;
  /** Half-close (FIN) after sending. */
  readonly endAfterWrite?: boolean;
}

/** Sends `bytes` on a new connection; resolves with everything the server sent before it closed. */
export function rawExchange(url: string, bytes: string, { timeoutMs = 10_000, endAfterWrite = false }: RawExchangeOptions = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => (endAfterWrite ? socket.end(bytes) : socket.write(bytes)));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close within ${timeoutMs} ms; received so far: ${JSON.stringify(received)}`)));
  });
}

/**
 * Splits what a server sent into responses: status, headers (lower-case names)
 * and body (by Content-Length; `bodiless` for answers to HEAD).
 */
export function splitResponses(text: string, bodiless = false): { status: number; headers: Map<string, string>; body: string }[] {
  const responses = [];
  let rest = text;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) throw new Error(`incomplete response: ${JSON.stringify(rest)}`);
    const [statusLine, ...fields] = rest.slice(0, headEnd).split('\r\n');
    const headers = new Map(fields.map((field) => [field.slice(0, field.indexOf(':')).toLowerCase(), field.slice(field.indexOf(':') + 1).trim()]));
    const length = bodiless ? 0 : Number(headers.get('content-length') ?? 0);
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(headEnd + 4, headEnd + 4 + length) });
    rest = rest.slice(headEnd + 4 + length);
  }
  return responses;
}
