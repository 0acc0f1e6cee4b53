// One HTTP/1.1 connection, served one request at a time as Go's net/http
// serves it: read a head, answer it, only then look at the next. What a client
// can make the sidecar hold is bounded: the unparsed input (MAX_BUFFERED_INPUT
// bytes, beyond that the connection is closed), one answer in the socket's
// buffer (the next request waits until the client reads), and time (a head
// within 5 s, a discarded body within 10 s, an idle keep-alive 2 s, an unread
// answer 5 s). Why not Node's HTTP server: see request-head.ts beside this file.

import type { Socket } from 'node:net';
import { readRequestHead, RequestHead } from './request-head';
import { clientErrorResponse, HttpResponse, serializeResponse, textResponse } from './response';

/**
 * What a connection tells the server's admission policy: when it starts and
 * finishes answering a request (a busy connection is not to be closed for
 * room), and when it closes itself for cause.
 */
export interface ConnectionAdmission {
  requestStarted(socket: Socket): void;
  requestAnswered(socket: Socket): void;
  shed(socket: Socket, reason: 'pipelining' | 'not-reading'): void;
}

/**
 * Answers one request. `clientGone` aborts once the client has closed or
 * half-closed the connection (Go's net/http cancels a request's context then).
 */
export type Router = (head: RequestHead, clientGone: AbortSignal) => HttpResponse | Promise<HttpResponse>;

/** A client must send a whole request head within this time (slowloris). */
const HEADERS_TIMEOUT_MS = 5_000;
/** A request body the sidecar discards must arrive within this time. */
const BODY_TIMEOUT_MS = 10_000;
/** Kubelet opens a connection per probe; idle keep-alive connections need not linger. */
const KEEP_ALIVE_TIMEOUT_MS = 2_000;
/** An answer the client does not read for this long: the connection is closed. */
const WRITE_STALL_TIMEOUT_MS = 5_000;
/** After a closing answer, how long to keep draining what the client still sends (so the answer is not reset away). */
const LINGER_MS = 1_000;
/** Go's default is 1 MiB; a health endpoint needs far less. Larger heads get 431. */
const MAX_HEAD_BYTES = 8 * 1024;
/**
 * Unparsed input held while a request is answered: a few pipelined requests
 * fit; a client that sends more without waiting for answers is closed.
 */
const MAX_BUFFERED_INPUT_BYTES = 2 * MAX_HEAD_BYTES;
/** A request body up to this size is read and dropped, keeping the connection; a larger one closes it after the answer. */
const MAX_DISCARDED_BODY_BYTES = 64 * 1024;
/** Output the client has not read beyond which the next request waits (the socket's own high-water mark). */
const MAX_UNREAD_OUTPUT_BYTES = 16 * 1024;

type TimerPurpose = 'head' | 'keep-alive' | 'body' | 'write-stall' | 'linger';

export class HttpConnection {
  /** Bytes received and not yet parsed. Invariant: empty when `inputLength` is 0. */
  private input: Buffer[] = [];
  private inputLength = 0;
  /** Body bytes of the current request still to be dropped; Infinity: drop everything until the connection closes. */
  private bodyBytesToDrop = 0;
  /** Invariant: true from a complete head until its answer is written. */
  private answering = false;
  /** Set once a closing answer is written or the connection is condemned; nothing more is parsed. */
  private closing = false;
  /** The peer half-closed: answer what is in flight, then close. */
  private peerEnded = false;
  /** Shutdown: answer what is in flight, then close. */
  private drainRequested = false;
  private timer: NodeJS.Timeout | undefined;
  private timerPurpose: TimerPurpose | undefined;
  /** Aborted when the peer ends or the connection closes; made at the first request. */
  private clientGone: AbortController | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly router: Router,
    private readonly budget: ConnectionAdmission,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', () => socket.destroy()); // resets and broken pipes: nothing to answer
    socket.on('close', () => {
      this.clearTimer();
      this.clientGone?.abort();
    });
    this.arm('head', HEADERS_TIMEOUT_MS);
  }

  /** Whether nothing is being answered and no request has begun to arrive. */
  get idle(): boolean {
    return !this.answering && this.inputLength === 0 && !this.closing;
  }

  /** Shutdown: close now if idle, else after the answer in flight. */
  drain(): void {
    this.drainRequested = true;
    if (this.idle) this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let bodyEnded = false;
    if (this.bodyBytesToDrop > 0) {
      const dropped = Math.min(this.bodyBytesToDrop, chunk.length);
      this.bodyBytesToDrop -= dropped;
      chunk = chunk.subarray(dropped);
      if (this.bodyBytesToDrop > 0) return; // all of it was body (or the connection is closing: Infinity)
      bodyEnded = true;
      if (this.timerPurpose === 'body') this.clearTimer();
    }
    if (chunk.length > 0) {
      this.input.push(chunk);
      this.inputLength += chunk.length;
    }
    if (this.answering) {
      if (this.inputLength > MAX_BUFFERED_INPUT_BYTES) this.shedForPipelining();
      else if (this.inputLength > 0) this.socket.pause(); // the next request waits in the kernel, as with Go
      return;
    }
    // The answer went out before the body was through: now the connection waits for the next request.
    if (bodyEnded) return this.afterAnswer();
    if (this.timerPurpose === 'keep-alive') this.arm('head', HEADERS_TIMEOUT_MS);
    this.parseNext();
  }

  /**
   * Closes a connection that sent too much ahead, and frees what it sent at
   * once. Node reads up to 64 KiB into a new buffer per read; a client that
   * reconnects as fast as it is shed leaves such buffers faster than V8
   * collects them (young collections follow JS allocation, not buffer bytes):
   * 27 MiB of them at the peak of 32 such clients (measured, Node 24).
   * Detaching a buffer that the read owns whole frees it now.
   */
  private shedForPipelining(): void {
    for (const chunk of this.input) {
      const memory = chunk.buffer;
      if (memory instanceof ArrayBuffer && chunk.byteOffset === 0 && memory.byteLength === chunk.length && !memory.detached) memory.transfer(0);
    }
    this.input = [];
    this.inputLength = 0;
    this.budget.shed(this.socket, 'pipelining');
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    this.clientGone?.abort();
    if (!this.answering) this.socket.destroy();
  }

  /** Reads the next request from the input, if a whole head is there, and answers it. */
  private parseNext(): void {
    if (this.answering || this.closing || this.bodyBytesToDrop > 0) return;
    if (this.inputLength === 0) {
      this.socket.resume();
      return;
    }
    const buffer = this.input.length === 1 ? this.input[0] : Buffer.concat(this.input, this.inputLength);
    this.input = [buffer];
    const result = readRequestHead(buffer, MAX_HEAD_BYTES);
    if ('incomplete' in result) {
      this.socket.resume();
      return;
    }
    if ('error' in result) {
      this.answerAndClose(clientErrorResponse(result.error.status));
      return;
    }
    const framing = requestFraming(result.head);
    if (typeof framing === 'number') {
      this.answerAndClose(clientErrorResponse(framing));
      return;
    }
    const rest = buffer.subarray(result.consumedBytes);
    if (framing.bodyBytes === 0 && rest.length > MAX_BUFFERED_INPUT_BYTES) {
      this.shedForPipelining();
      return;
    }
    this.input = rest.length > 0 ? [rest] : [];
    this.inputLength = rest.length;
    this.bodyBytesToDrop = framing.bodyBytes;
    this.answering = true;
    this.clearTimer();
    if (this.bodyBytesToDrop > 0) {
      this.arm('body', BODY_TIMEOUT_MS);
      // Drop what of the body came with the head; the rest is dropped as it arrives.
      const buffered = this.input.length > 0 ? this.input[0] : undefined;
      this.input = [];
      this.inputLength = 0;
      if (buffered) this.onData(buffered);
    } else if (this.inputLength > 0) {
      this.socket.pause();
    }
    this.budget.requestStarted(this.socket);
    void this.answer(result.head, framing.keepAlive);
  }

  private async answer(head: RequestHead, keepAlive: boolean): Promise<void> {
    let response: HttpResponse;
    try {
      this.clientGone ??= new AbortController();
      if (this.peerEnded) this.clientGone.abort();
      response = await this.router(head, this.clientGone.signal);
    } catch (err) {
      // Handlers turn driver failures into answers; reaching here is our bug. Answer, don't crash.
      response = textResponse(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.answering = false;
    this.budget.requestAnswered(this.socket);
    if (this.socket.destroyed) return;
    const close = !keepAlive || this.peerEnded || this.drainRequested || this.bodyBytesToDrop === Infinity;
    this.socket.write(serializeResponse(response, { headRequest: head.method === 'HEAD', close }));
    if (close) {
      this.closeAfterWrite();
      return;
    }
    if (this.socket.writableLength > MAX_UNREAD_OUTPUT_BYTES) {
      // The client is not reading: hold the next request until it does, within a limit.
      this.arm('write-stall', WRITE_STALL_TIMEOUT_MS);
      this.socket.once('drain', () => this.afterAnswer());
      return;
    }
    // A later turn, so that a client pipelining requests takes turns with every other connection.
    setImmediate(() => this.afterAnswer());
  }

  /** After an answer (and its request's body) is through: wait for the next request, or parse it. */
  private afterAnswer(): void {
    // Also reached from a drain or a turn scheduled earlier: nothing to do once the next request is being answered.
    if (this.socket.destroyed || this.closing || this.answering) return;
    if (this.bodyBytesToDrop > 0) {
      // The rest of the body gets its own time limit again (a write stall may have replaced the first).
      this.arm('body', BODY_TIMEOUT_MS);
      this.socket.resume();
      return;
    }
    this.arm(this.inputLength > 0 ? 'head' : 'keep-alive', this.inputLength > 0 ? HEADERS_TIMEOUT_MS : KEEP_ALIVE_TIMEOUT_MS);
    this.parseNext();
  }

  private answerAndClose(response: HttpResponse): void {
    this.socket.write(serializeResponse(response, { headRequest: false, close: true }));
    this.closeAfterWrite();
  }

  /** Ends the connection after what was written, dropping what the client still sends for a moment. */
  private closeAfterWrite(): void {
    this.closing = true;
    this.input = [];
    this.inputLength = 0;
    this.bodyBytesToDrop = Infinity;
    this.socket.end();
    this.socket.resume();
    this.arm('linger', LINGER_MS);
  }

  private arm(purpose: TimerPurpose, ms: number): void {
    this.clearTimer();
    this.timerPurpose = purpose;
    this.timer = setTimeout(() => this.onTimeout(purpose), ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerPurpose = undefined;
  }

  private onTimeout(purpose: TimerPurpose): void {
    this.timer = undefined;
    this.timerPurpose = undefined;
    if (purpose === 'head' && this.inputLength > 0) {
      this.answerAndClose(clientErrorResponse(408));
      return;
    }
    if (purpose === 'write-stall') {
      this.budget.shed(this.socket, 'not-reading');
      return;
    }
    this.socket.destroy();
  }
}

/** How the request's body is delimited and whether the connection stays open; a number is a status to refuse it with. */
function requestFraming(head: RequestHead): { readonly bodyBytes: number; readonly keepAlive: boolean } | 400 {
  const contentLength = head.headers.get('content-length');
  const transferEncoding = head.headers.get('transfer-encoding');
  // Both at once is how requests are smuggled past proxies (RFC 9112 section 6.3): refuse.
  if (contentLength !== undefined && transferEncoding !== undefined) return 400;
  if (contentLength !== undefined && !/^\d{1,15}$/.test(contentLength)) return 400;
  if (head.minorVersion === 1 && !head.headers.has('host')) return 400;
  const connection = (head.headers.get('connection') ?? '').toLowerCase();
  let keepAlive = head.minorVersion === 1 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  let bodyBytes = contentLength === undefined ? 0 : Number(contentLength);
  if (transferEncoding !== undefined || bodyBytes > MAX_DISCARDED_BODY_BYTES) {
    // Not worth reading through: answer, then close.
    bodyBytes = Infinity;
    keepAlive = false;
  }
  return { bodyBytes, keepAlive };
}
