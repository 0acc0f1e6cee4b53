// One unary gRPC call on an HTTP/2 session, from request headers to a settled
// outcome. The protocol rules it follows are quoted from grpc/grpc
// doc/PROTOCOL-HTTP2.md; the helpers live in ../grpc-wire.ts.

import * as http2 from 'node:http2';
import { STATUS_CODES } from 'node:http';
import { CsiAddress } from '../address';
import { CsiCallError } from '../csi-call-error';
import { STATUS_DEADLINE_EXCEEDED, STATUS_INTERNAL, STATUS_OK, STATUS_UNAVAILABLE } from '../grpc-status';
import { decodeGrpcMessage, formatGrpcTimeout, frameMessage, grpcCodeForHttpStatus, MessageDeframer, statusForRstStream } from '../grpc-wire';
import { connectFailureText, deadlineExceededText } from '../transport';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** How long a call may take: what is left of the caller's limit, and that limit (which a timeout names). */
export interface CallTimeout {
  readonly remainingMs: number;
  readonly limitMs: number;
}

/** What the call needs to know of the session it runs on. */
export interface SessionView {
  readonly session: http2.ClientHttp2Session;
  /** Set when the server sent GOAWAY: calls it did not take never reached it. */
  readonly goawayReceived: boolean;
}

interface GrpcStatus {
  readonly code: number;
  readonly message: string;
}

/** Reads grpc-status and grpc-message from trailers, or from the headers of a trailers-only response. */
function readGrpcStatus(fields: http2.IncomingHttpHeaders): GrpcStatus | undefined {
  const rawCode = fields['grpc-status'];
  if (rawCode === undefined) return undefined;
  if (!/^[0-9]+$/.test(String(rawCode))) return { code: STATUS_INTERNAL, message: `malformed grpc-status "${String(rawCode)}"` };
  const rawMessage = fields['grpc-message'];
  return { code: Number(rawCode), message: typeof rawMessage === 'string' ? decodeGrpcMessage(rawMessage) : '' };
}

/** The connect error behind a stream Node cancelled because its session never connected. */
function connectErrnoOf(err: unknown): string | undefined {
  const cause = (err as { cause?: NodeJS.ErrnoException } | undefined)?.cause;
  return cause?.syscall === 'connect' && typeof cause.code === 'string' ? cause.code : undefined;
}

/**
 * A DeadlineExceeded status from the driver this close to our own deadline is
 * its stack enforcing the grpc-timeout we sent (gRPC C-core does, a moment
 * before or after our timer): the same event, reported in the same words.
 */
const PEER_DEADLINE_SLACK_MS = 50;

export class Http2UnaryCall {
  private readonly stream: http2.ClientHttp2Stream;
  private readonly deadlineTimer: NodeJS.Timeout;
  /** performance.now() at which this call's deadline falls. */
  private readonly deadlineAt: number;
  /** The caller's whole limit, which a timeout names (this try may have only what was left of it). */
  private readonly limitMs: number;
  private settled = false;
  private httpStatus: number | undefined;
  private grpcStatus: GrpcStatus | undefined;
  private readonly deframer = new MessageDeframer();
  private streamError: Error | undefined;
  /**
   * Set at close when the driver cannot have answered: it refused the stream
   * unread (GOAWAY that excludes it, RST_STREAM REFUSED_STREAM), or the
   * connection died before any response headers. Sending again is safe for
   * the sidecar's calls, which are reads.
   */
  unanswerable = false;
  /** Set when the deadline passed before the driver sent any response headers. */
  timedOutUnanswered = false;
  /** Set at close when the peer reset the stream with REFUSED_STREAM or ENHANCE_YOUR_CALM. */
  refusedByPeer = false;

  /** Throws when the session no longer takes streams (ERR_HTTP2_GOAWAY_SESSION, ERR_HTTP2_INVALID_SESSION). */
  constructor(
    readonly view: SessionView,
    private readonly address: CsiAddress,
    readonly method: string,
    request: Buffer,
    timeout: CallTimeout,
    private readonly onSettled: (outcome: Buffer | CsiCallError, call: Http2UnaryCall) => void,
  ) {
    this.deadlineAt = performance.now() + timeout.remainingMs;
    this.limitMs = timeout.limitMs;
    this.stream = view.session.request(
      {
        ':method': 'POST',
        ':path': method,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': formatGrpcTimeout(timeout.remainingMs),
        'user-agent': 'csi-livenessprobe-ts',
      },
      { endStream: false },
    );
    this.deadlineTimer = setTimeout(() => {
      this.timedOutUnanswered = this.httpStatus === undefined;
      this.cancel(STATUS_DEADLINE_EXCEEDED, deadlineExceededText(method, timeout.limitMs));
    }, timeout.remainingMs);
    this.stream.on('response', (headers) => this.onResponseHeaders(headers));
    this.stream.on('data', (chunk: Buffer) => this.onData(chunk));
    this.stream.on('trailers', (trailers) => {
      this.grpcStatus = readGrpcStatus(trailers) ?? { code: STATUS_INTERNAL, message: 'the driver sent trailers without grpc-status' };
    });
    this.stream.on('error', (err) => {
      this.streamError = err;
    });
    this.stream.on('close', () => this.onStreamClosed());
    this.stream.end(frameMessage(request));
  }

  /** Ends the call now with the given status, resetting the stream. */
  cancel(code: number, message: string): void {
    this.settle(new CsiCallError(code, message));
    if (!this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
  }

  private onResponseHeaders(headers: http2.IncomingHttpHeaders): void {
    this.httpStatus = Number(headers[':status']);
    const encoding = headers['grpc-encoding'];
    this.deframer.responseEncoding = typeof encoding === 'string' ? encoding : undefined;
    // Trailers-Only: "Trailers-Only is permitted for calls that produce an immediate error".
    this.grpcStatus = readGrpcStatus(headers);
    const contentType = String(headers['content-type'] ?? '');
    if (this.httpStatus === 200 && this.grpcStatus === undefined && !/^application\/grpc(\+|;|$)/.test(contentType)) {
      this.cancel(STATUS_INTERNAL, `the driver answered with content-type "${contentType}", not application/grpc`);
    }
  }

  private onData(chunk: Buffer): void {
    this.deframer.push(chunk);
    const violation = this.deframer.violation;
    if (violation) this.cancel(violation.code, violation.message);
  }

  private onStreamClosed(): void {
    const session = this.view.session;
    const rstCode = this.stream.rstCode;
    // Our own resets (cancel) use NGHTTP2_CANCEL, so these codes came from the peer.
    this.refusedByPeer = rstCode === NGHTTP2_REFUSED_STREAM || rstCode === NGHTTP2_ENHANCE_YOUR_CALM;
    this.unanswerable =
      this.httpStatus === undefined &&
      connectErrnoOf(this.streamError) === undefined && // never connected: a retry would only dial again
      (this.view.goawayReceived || rstCode === NGHTTP2_REFUSED_STREAM || session.destroyed || session.closed);
    this.settle(this.outcomeAtClose());
  }

  private outcomeAtClose(): Buffer | CsiCallError {
    const status = this.grpcStatus;
    if (status !== undefined) {
      if (status.code === STATUS_DEADLINE_EXCEEDED && performance.now() >= this.deadlineAt - PEER_DEADLINE_SLACK_MS) {
        return new CsiCallError(STATUS_DEADLINE_EXCEEDED, deadlineExceededText(this.method, this.limitMs));
      }
      if (status.code !== STATUS_OK) return new CsiCallError(status.code, status.message);
      const messages = this.deframer.messages;
      if (this.deframer.incompleteBytes > 0) return new CsiCallError(STATUS_INTERNAL, 'the driver ended the call in the middle of a response message');
      if (messages.length === 0) return new CsiCallError(STATUS_INTERNAL, 'the driver ended the call with status OK but sent no response message');
      return messages[0];
    }
    if (this.httpStatus !== undefined && this.httpStatus !== 200) {
      return new CsiCallError(
        grpcCodeForHttpStatus(this.httpStatus),
        `unexpected HTTP status code received from server: ${this.httpStatus} (${STATUS_CODES[this.httpStatus] ?? 'unknown'})`,
      );
    }
    const connectErrno = connectErrnoOf(this.streamError);
    if (connectErrno) return new CsiCallError(STATUS_UNAVAILABLE, connectFailureText(this.address, connectErrno));
    const session = this.view.session;
    if (this.httpStatus === undefined && this.view.goawayReceived) {
      return new CsiCallError(STATUS_UNAVAILABLE, 'the CSI driver closed the connection (GOAWAY) before taking the call');
    }
    if (session.destroyed || session.closed) {
      const cause = this.streamError?.cause instanceof Error ? `: ${this.streamError.cause.message}` : '';
      return new CsiCallError(STATUS_UNAVAILABLE, `lost the connection to the CSI driver during the call${cause}`);
    }
    const rstCode = this.stream.rstCode ?? NGHTTP2_NO_ERROR;
    if (rstCode !== NGHTTP2_NO_ERROR) {
      const byReset = statusForRstStream(rstCode);
      return new CsiCallError(byReset.code, byReset.message);
    }
    return new CsiCallError(STATUS_INTERNAL, 'the driver ended the call without a gRPC status');
  }

  private settle(outcome: Buffer | CsiCallError): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadlineTimer);
    this.onSettled(outcome, this);
  }
}
