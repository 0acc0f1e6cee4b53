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

/** What a server did with raw bytes: everything it sent, and whether it closed the connection. */
export interface RawOutcome {
  readonly received: Buffer;
  /** The server ended (FIN) or reset the connection; false: still open after a quiet period. */
  readonly closed: boolean;
}

/** Between the pieces of a split send: long enough for each to arrive as a read of its own. */
const PIECE_GAP_MS = 5;

/**
 * Sends `bytes` to 127.0.0.1:`port` on a new connection (cut at `splitAt`
 * offsets into pieces sent PIECE_GAP_MS apart; then a FIN when `halfClose`),
 * and collects what comes back until the server closes the connection or
 * sends nothing for `quietMs` after the last piece (then the connection
 * counts as kept open, and this side closes it).
 */
export function exchangeUntilQuiet(
  port: number,
  bytes: Buffer,
  { halfClose, quietMs, splitAt = [] }: { halfClose: boolean; quietMs: number; splitAt?: readonly number[] },
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let quietTimer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(quietTimer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed });
    };
    const rearm = () => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => finish(false), quietMs);
    };
    const cuts = [...new Set(splitAt.filter((at) => at > 0 && at < bytes.length))].sort((a, b) => a - b);
    const pieces = [0, ...cuts].map((start, i) => bytes.subarray(start, cuts[i] ?? bytes.length));
    const sendFrom = (index: number) => {
      if (done) return;
      const last = index === pieces.length - 1;
      if (last && halfClose) socket.end(pieces[index]);
      else socket.write(pieces[index]);
      rearm();
      if (!last) setTimeout(() => sendFrom(index + 1), PIECE_GAP_MS);
    };
    const socket = net.connect(port, '127.0.0.1', () => sendFrom(0));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      rearm();
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** One response as the differential tests compare them: status, and the Connection header if any. */
export interface ResponseSummary {
  readonly status: number;
  readonly connection: string | undefined;
}

/**
 * Splits a byte stream of responses, tolerating answers without a body
 * (HEAD, 1xx) and error answers without Content-Length (their body runs to
 * the end). Stops at the first thing that is not a response head.
 */
export function summarizeResponses(received: Buffer): ResponseSummary[] {
  const text = received.toString('latin1');
  const summaries: ResponseSummary[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const [statusLine, ...fields] = rest.slice(0, headEnd).split('\r\n');
    const headers = new Map(fields.map((field) => [field.slice(0, field.indexOf(':')).toLowerCase(), field.slice(field.indexOf(':') + 1).trim()]));
    summaries.push({ status: Number(statusLine.split(' ')[1]), connection: headers.get('connection')?.toLowerCase() });
    rest = rest.slice(headEnd + 4);
    const length = headers.get('content-length');
    if (rest.startsWith('HTTP/1.') || length === undefined) {
      if (length === undefined && !rest.startsWith('HTTP/1.')) break;
      continue;
    }
    rest = rest.slice(Math.min(Number(length), rest.length));
  }
  return summaries;
}

/** A server's verdict as the differential tests compare it: "[200 keep-alive, 400 close] closed" (statuses, Connection headers, whether the server closed). */
export function verdictOf(outcome: RawOutcome): string {
  const answers = summarizeResponses(outcome.received).map((r) => (r.connection === undefined ? `${r.status}` : `${r.status} ${r.connection}`));
  return `[${answers.join(', ')}] ${outcome.closed ? 'closed' : 'open'}`;
}
