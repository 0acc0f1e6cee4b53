// One HTTP/1.1 connection, served one request at a time as Go's net/http
// serves it: read a head, read through its body (dropped: no route reads one),
// answer it, only then look at the next. Keep-alive, Connection: close,
// HTTP/1.0, Expect: 100-continue and a client's half-close are handled as Go's
// server handles them (server.go: conn.serve, chunkWriter.writeHeader): every
// complete request received before a FIN is answered, in order, then the
// connection closes; a head cut short by the FIN gets 400. What a client
// can make the sidecar hold is bounded: the unparsed input (MAX_BUFFERED_INPUT
// bytes, beyond that the connection is closed), one answer in the socket's
// buffer (the next request waits until the client reads), and time (a head
// within 5 s, a dropped body within 10 s, an idle keep-alive 2 s, an unread
// answer 5 s). Why not Node's HTTP server: see request-head.ts beside this file.

import type { Socket } from 'node:net';
import { ChunkedBodySkipper } from './chunked-body';
import { readRequestHead, RequestHead, RequestSemantics } from './request-head';
import { ConnectionHeader, clientErrorResponse, HttpResponse, serializeResponse, textResponse } from './response';
import { CancelSignal, Cancellation } from '../../cancel-signal';

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
export type Router = (head: RequestHead, clientGone: CancelSignal) => HttpResponse | Promise<HttpResponse>;

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
/**
 * A request body up to this size is read and dropped before the answer,
 * keeping the connection; a larger one is answered at once and the
 * connection closed. (Go reads up to 256 KiB; a health endpoint needs none.)
 */
const MAX_DISCARDED_BODY_BYTES = 64 * 1024;
/** Output the client has not read beyond which the next request waits (the socket's own high-water mark). */
const MAX_UNREAD_OUTPUT_BYTES = 16 * 1024;

type TimerPurpose = 'head' | 'keep-alive' | 'body' | 'write-stall' | 'linger';

/** Where a body ends: bytes still to drop (Content-Length), or the chunked body's reader. */
type BodyReader = { bytesLeft: bigint } | ChunkedBodySkipper;

/** The request being served while its body is read before the answer. */
interface CurrentRequest {
  readonly head: RequestHead;
  readonly plan: AnswerPlan;
  readonly body: BodyReader;
}

/** How a request is answered, decided from its head as Go's server decides it (server.go serve, writeHeader, body.Close). */
interface AnswerPlan {
  /** The answer when it is not the route's: 417, and the asterisk-form ones. */
  readonly fixed: HttpResponse | undefined;
  /** The connection closes after the answer (its Connection header then says "close" to HTTP/1.1). */
  readonly close: boolean;
  /** Read the body through before answering; else answer at once. */
  readonly readBodyFirst: boolean;
  /** Send "100 Continue" before reading the body (only a handler that reads the body makes Go send it). */
  readonly sendContinue: boolean;
  /** After a closing answer, read the unread body through before closing (Go's body.Close: up to its limit, waiting for it). */
  readonly drainBeforeClose: boolean;
  /** HTTP/1.0 asking for keep-alive: the answer says "Connection: keep-alive" (Go's wants10KeepAlive). */
  readonly http10KeepAlive: boolean;
}

export class HttpConnection {
  /** Bytes received and not yet parsed. Invariant: empty when `inputLength` is 0. */
  private input: Buffer[] = [];
  private inputLength = 0;
  /** How much of the head in `input` readRequestHead has already checked (reset when a head is consumed). */
  private checkedHeadBytes = 0;
  /** Invariant: set while a request's body is being read (and then `answering` is false). */
  private reading: CurrentRequest | undefined;
  /** Invariant: true from the end of a request's body until its answer is written. */
  private answering = false;
  /** Set once a closing answer is written or the connection is condemned; nothing more is parsed. */
  private closing = false;
  /** After a closing answer: the unread body to read through before the connection ends (Go does). */
  private drainingBody: BodyReader | undefined;
  /** The body of the request being answered that was not read first, when it is to be drained after a closing answer. */
  private unreadBody: BodyReader | undefined;
  /** The last request was a POST: Go drops up to four stray CR/LF bytes before the next one. */
  private afterPost = false;
  /** The peer half-closed: answer what is complete in the input, then close. */
  private peerEnded = false;
  /** Shutdown: answer what is in flight, then close. */
  private drainRequested = false;
  private timer: NodeJS.Timeout | undefined;
  private timerPurpose: TimerPurpose | undefined;
  /** Aborted when the peer ends or the connection closes; made at the first request. */
  private clientGone: Cancellation | undefined;

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

  /** Whether nothing is being answered (a request whose body is still arriving is not being answered yet). */
  get idle(): boolean {
    return !this.answering && !this.closing;
  }

  /** Shutdown: close now if nothing is being answered (or only an answered request's body is awaited), else after the answer in flight. */
  drain(): void {
    this.drainRequested = true;
    if (this.idle || this.drainingBody) this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) {
      // Lingering after a closing answer: drop what still comes, watching for the end of a body being drained.
      if (this.drainingBody && bodyEndIn(this.drainingBody, chunk) !== 'more') this.endAfterDrain();
      return;
    }
    this.input.push(chunk);
    this.inputLength += chunk.length;
    if (this.answering) {
      if (this.inputLength > MAX_BUFFERED_INPUT_BYTES) this.shedForPipelining();
      else this.socket.pause(); // the next request waits in the kernel, as with Go
      return;
    }
    // The head's time runs from here; its timer is armed only if the head is not complete in what came (awaitMoreHead).
    if (this.timerPurpose === 'keep-alive') this.clearTimer();
    this.processInput();
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
    if (this.drainingBody) this.endAfterDrain();
    else if (!this.answering && !this.closing) this.processInput();
  }

  /** The input as one buffer (it is bounded: a head, or what arrived while a body is read). */
  private joinedInput(): Buffer {
    const buffer = this.input.length === 1 ? this.input[0] : Buffer.concat(this.input, this.inputLength);
    this.input = [buffer];
    return buffer;
  }

  private setInput(rest: Buffer): void {
    this.input = rest.length > 0 ? [rest] : [];
    this.inputLength = rest.length;
  }

  /** Reads on from the input: the current body, or the next head; answers what is complete. */
  private processInput(): void {
    if (this.answering || this.closing || this.socket.destroyed) return;
    if (this.reading) {
      this.readBody(this.reading);
      return;
    }
    if (this.inputLength === 0) {
      // Go closes a connection whose client has finished sending once nothing is left to answer
      // (end(), not destroy(): the last answer may still be in the socket's buffer).
      // Else wait for a head. Stray CR/LF bytes dropped after a POST leave no input and may have cleared the
      // keep-alive timer (onData): their head time runs, as for any bytes that begin a head.
      if (this.peerEnded || this.drainRequested) this.closeAfterWrite();
      else this.awaitMoreHead();
      return;
    }
    let buffer = this.joinedInput();
    if (this.afterPost) {
      // Go (server.go readRequest, "RFC 7230 section 3 tolerance for old buggy clients"): after a POST, up to
      // four CR or LF bytes before the next request are dropped, once four bytes are there (or the input ended).
      if (buffer.length < 4 && !this.peerEnded) {
        this.awaitMoreHead();
        return;
      }
      let stray = 0;
      while (stray < Math.min(4, buffer.length) && (buffer[stray] === 0x0d || buffer[stray] === 0x0a)) stray++;
      buffer = buffer.subarray(stray);
      this.setInput(buffer);
      this.afterPost = false;
      if (buffer.length === 0) {
        this.processInput();
        return;
      }
    }
    const result = readRequestHead(buffer, MAX_HEAD_BYTES, this.checkedHeadBytes);
    if ('incomplete' in result) {
      this.checkedHeadBytes = result.checkedBytes;
      if (!this.peerEnded) {
        this.awaitMoreHead();
        return;
      }
      // Go: a request cut short by the end of the input is malformed (empty lines alone are not a request here).
      if (/^(\r?\n)*$/.test(buffer.toString('latin1'))) this.closeAfterWrite();
      else this.answerAndClose(clientErrorResponse(400));
      return;
    }
    if ('error' in result) {
      this.answerAndClose(clientErrorResponse(result.error.status));
      return;
    }
    this.checkedHeadBytes = 0;
    const rest = buffer.subarray(result.consumedBytes);
    const { head, semantics } = result;
    this.afterPost = head.method === 'POST';
    this.setInput(rest);
    this.clearTimer();
    const plan = planAnswer(head, semantics, MAX_DISCARDED_BODY_BYTES);
    if (!plan.readBodyFirst) {
      this.unreadBody = plan.drainBeforeClose ? bodyReaderFor(semantics) : undefined;
      this.startAnswer(head, plan, false);
      return;
    }
    if (plan.sendContinue) this.socket.write(CONTINUE);
    this.reading = { head, plan, body: bodyReaderFor(semantics) };
    this.arm('body', BODY_TIMEOUT_MS);
    this.readBody(this.reading);
  }

  /** Drops what of the current body is in the input; answers when it is through, cut short or malformed. */
  private readBody(request: CurrentRequest): void {
    let finished: 'complete' | 'broken' | undefined;
    if (this.inputLength > 0) {
      const buffer = this.joinedInput();
      const end = bodyEndIn(request.body, buffer);
      if (end === 'broken') {
        this.setInput(Buffer.alloc(0));
        finished = 'broken';
      } else if (end !== 'more') {
        this.setInput(buffer.subarray(end));
        finished = 'complete';
      } else {
        this.setInput(Buffer.alloc(0));
      }
    }
    // Go: a body cut short by the end of the input is answered, and the connection closed.
    if (finished === undefined && this.peerEnded) {
      // Go's OPTIONS * handler reads a Content-Length body itself and drops the error of one cut short, after
      // which Go's own read sees a plain end: no "Connection: close" on the answer (the connection still ends).
      finished = request.plan.fixed === EMPTY_OK && !request.plan.sendContinue && !(request.body instanceof ChunkedBodySkipper) ? 'complete' : 'broken';
    }
    if (finished === undefined) {
      this.socket.resume();
      return;
    }
    this.reading = undefined;
    this.clearTimer();
    this.startAnswer(request.head, request.plan, finished === 'broken');
  }

  private startAnswer(head: RequestHead, plan: AnswerPlan, closeForBody: boolean): void {
    this.answering = true;
    // Only now is the request the admission policy's to keep: a body still trickling in is held like a
    // head still arriving (sheddable), or slow bodies could fill the budget and lock the kubelet out.
    this.budget.requestStarted(this.socket);
    if (this.inputLength > 0) {
      if (this.inputLength > MAX_BUFFERED_INPUT_BYTES) {
        this.shedForPipelining();
        return;
      }
      this.socket.pause();
    }
    void this.answer(head, plan, closeForBody);
  }

  private async answer(head: RequestHead, plan: AnswerPlan, closeForBody: boolean): Promise<void> {
    let response: HttpResponse;
    try {
      if (plan.fixed) {
        response = plan.fixed;
      } else {
        this.clientGone ??= new Cancellation();
        if (this.peerEnded) this.clientGone.abort();
        response = await this.router(head, this.clientGone);
      }
    } catch (err) {
      // Handlers turn driver failures into answers; reaching here is our bug. Answer, don't crash.
      response = textResponse(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.answering = false;
    this.budget.requestAnswered(this.socket);
    if (this.socket.destroyed) return;
    const close = plan.close || closeForBody || this.drainRequested;
    const connection = plan.fixed?.status === 417 ? 'close' : connectionHeader(head, plan.http10KeepAlive, close);
    this.socket.write(serializeResponse(response, { headRequest: head.method === 'HEAD', connection }));
    const unread = this.unreadBody;
    this.unreadBody = undefined;
    if (close) {
      if (unread && !this.drainRequested) this.drainThenClose(unread);
      else this.closeAfterWrite();
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

  /** After an answer is through: wait for the next request, or parse it. */
  private afterAnswer(): void {
    // Also reached from a drain or a turn scheduled earlier: nothing to do once the next request is being answered.
    if (this.socket.destroyed || this.closing || this.answering || this.reading) return;
    this.arm(this.inputLength > 0 ? 'head' : 'keep-alive', this.inputLength > 0 ? HEADERS_TIMEOUT_MS : KEEP_ALIVE_TIMEOUT_MS);
    this.processInput();
  }

  private answerAndClose(response: HttpResponse): void {
    // Go's answers to requests it cannot read always say "Connection: close".
    this.socket.write(serializeResponse(response, { headRequest: false, connection: 'close' }));
    this.closeAfterWrite();
  }

  /** Ends the connection after what was written, dropping what the client still sends for a moment. */
  private closeAfterWrite(): void {
    this.closing = true;
    this.reading = undefined;
    this.input = [];
    this.inputLength = 0;
    this.socket.end();
    this.socket.resume();
    this.arm('linger', LINGER_MS);
  }

  /**
   * Go reads a small unread body through before it closes after an answer
   * (body.Close), so the connection ends only once the body has arrived or
   * the client ends it: the same here, within the body time limit.
   */
  private drainThenClose(body: BodyReader): void {
    this.closing = true;
    const buffered = this.inputLength > 0 ? this.joinedInput() : undefined;
    this.input = [];
    this.inputLength = 0;
    this.socket.resume();
    if (this.peerEnded || (buffered !== undefined && bodyEndIn(body, buffered) !== 'more')) {
      this.endAfterDrain();
      return;
    }
    this.drainingBody = body;
    this.arm('body', BODY_TIMEOUT_MS);
  }

  private endAfterDrain(): void {
    this.drainingBody = undefined;
    this.socket.end();
    this.arm('linger', LINGER_MS);
  }

  /** A head is incomplete: read on, within HEADERS_TIMEOUT_MS of its first bytes (a timer per request only when it needs one). */
  private awaitMoreHead(): void {
    if (!this.timer) this.arm('head', HEADERS_TIMEOUT_MS);
    this.socket.resume();
  }

  private arm(purpose: TimerPurpose, ms: number): void {
    this.clearTimer();
    this.timerPurpose = purpose;
    this.timer = setTimeout(HttpConnection.timerFired, ms, this, purpose);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerPurpose = undefined;
  }

  /** A timer's callback, given the connection: arming a timer makes no closure (one or two per request). */
  private static timerFired(connection: HttpConnection, purpose: TimerPurpose): void {
    connection.onTimeout(purpose);
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

/** Go's interim answer to "Expect: 100-continue" when the body is read (RFC 9110 section 15.2.1). */
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** The empty answers Go's server itself gives to asterisk-form targets (Content-Length: 0, no Content-Type). */
const EMPTY_OK: HttpResponse = { status: 200, body: '', headers: {} };
const EMPTY_BAD_REQUEST: HttpResponse = { status: 400, body: '', headers: {} };

/**
 * How Go's server answers a request it has read the head of: which answer,
 * whether the body is read first, whether the connection closes, and
 * whether an unread body is read through before it does.
 */
function planAnswer(head: RequestHead, semantics: RequestSemantics, maxBodyBytes: number): AnswerPlan {
  const { body, http10KeepAlive } = semantics;
  const hasBody = body.kind !== 'none';
  // Go's body.Close reads an unread body before closing, except a Content-Length body of a request that asked to close.
  const drainBeforeClose = hasBody && !(body.kind === 'length' && (semantics.requestClose || body.bytes > BigInt(maxBodyBytes)));
  if (semantics.expectationFailed) {
    // RFC 9110 section 10.1.1: Go answers 417 with "Connection: close" before any handler.
    return { fixed: clientErrorResponse(417), close: true, readBodyFirst: false, sendContinue: false, drainBeforeClose, http10KeepAlive };
  }
  if (head.target === '*' && head.method === 'OPTIONS') {
    // RFC 9110 section 9.3.7: "OPTIONS *" asks about the server itself; Go's server reads the body whatever the
    // connection's fate (asking for it with "100 Continue" if the client waits for that), then answers 200 with no body.
    return { fixed: EMPTY_OK, close: semantics.closeAfterAnswer, readBodyFirst: hasBody, sendContinue: semantics.expectContinue, drainBeforeClose: false, http10KeepAlive };
  }
  // Asterisk-form (RFC 9112 section 3.2.4) is for OPTIONS only: Go's ServeMux answers 400 and closes an HTTP/1.1 connection.
  const fixed = head.target === '*' ? EMPTY_BAD_REQUEST : undefined;
  // A client waiting for "100 Continue" never gets it (no route reads a body): Go answers and closes.
  const close = semantics.closeAfterAnswer || (fixed !== undefined && atLeastHttp11(head)) || (hasBody && semantics.expectContinue);
  if (close || !hasBody) return { fixed, close, readBodyFirst: false, sendContinue: false, drainBeforeClose, http10KeepAlive };
  if (body.kind === 'length' && body.bytes > BigInt(maxBodyBytes)) {
    // Too large to read through for a route that reads no body: answered at once, then closed.
    return { fixed, close: true, readBodyFirst: false, sendContinue: false, drainBeforeClose: false, http10KeepAlive };
  }
  return { fixed, close: false, readBodyFirst: true, sendContinue: false, drainBeforeClose: false, http10KeepAlive };
}

function bodyReaderFor(semantics: RequestSemantics): BodyReader {
  const { body } = semantics;
  return body.kind === 'length' ? { bytesLeft: body.bytes } : new ChunkedBodySkipper(MAX_DISCARDED_BODY_BYTES);
}

/** Feeds `input` to a body: 'more' (all of it was body), the offset where the body ended in it, or 'broken' (malformed, too large). */
function bodyEndIn(body: BodyReader, input: Buffer): number | 'more' | 'broken' {
  if (body instanceof ChunkedBodySkipper) {
    const progress = body.feed(input);
    if (!('consumed' in progress)) return 'broken';
    return progress.state === 'done' ? progress.consumed : 'more';
  }
  const dropped = body.bytesLeft < BigInt(input.length) ? Number(body.bytesLeft) : input.length;
  body.bytesLeft -= BigInt(dropped);
  return body.bytesLeft === 0n ? dropped : 'more';
}

/**
 * The Connection header of an answer, as Go's chunkWriter.writeHeader sets
 * it: "keep-alive" for an HTTP/1.0 request that asked for it (RFC 9112
 * section 9.3, Go sends it even when it then closes), "close" when the
 * connection closes after an HTTP/1.1 answer; none otherwise.
 */
function connectionHeader(head: RequestHead, http10KeepAlive: boolean, close: boolean): ConnectionHeader {
  if (http10KeepAlive) return 'keep-alive';
  return close && atLeastHttp11(head) ? 'close' : undefined;
}

function atLeastHttp11(head: RequestHead): boolean {
  return head.majorVersion > 1 || (head.majorVersion === 1 && head.minorVersion >= 1);
}
