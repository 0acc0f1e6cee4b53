// One unary gRPC call on an HTTP/2 session, from request headers to a settled
// outcome. The protocol rules it follows are quoted from grpc/grpc
// doc/PROTOCOL-HTTP2.md; the helpers live in ../grpc-wire.ts.

import * as http2 from 'node:http2';
import { STATUS_CODES } from 'node:http';
import { CsiAddress } from '../address';
import {
  connectFailed,
  connectionLostDuringCall,
  CsiCallError,
  deadlineExceeded,
  driverStatus,
  endedMidMessage,
  goawayBeforeCall,
  malformedGrpcStatus,
  noGrpcStatus,
  notGrpcContentType,
  okWithoutMessage,
  resetByDriver,
  trailersWithoutStatus,
  unexpectedHttpStatus,
} from '../call-failures';
import { STATUS_DEADLINE_EXCEEDED, STATUS_OK } from '../grpc-status';
import { decodeGrpcMessage, formatGrpcTimeout, frameMessage, MessageDeframer } from '../grpc-wire';

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

/** How one try of a call ended, and what that says about retrying it and about its session. */
export interface CallOutcome {
  readonly result: Buffer | CsiCallError;
  /**
   * The driver cannot have answered: it refused the stream unread (GOAWAY that
   * excludes it, RST_STREAM REFUSED_STREAM), or the connection died before any
   * response headers. Sending again is safe for the sidecar's calls, which are reads.
   */
  readonly retryable: boolean;
  /**
   * keep: the session is fine; drop: the peer refused or reset the stream to
   * calm us down (REFUSED_STREAM, ENHANCE_YOUR_CALM), so a new session should
   * carry the next call; check: the deadline passed before any response
   * headers, so the session may be dead and is worth a PING.
   */
  readonly session: 'keep' | 'drop' | 'check';
}

/** A grpc-status received: 0 (OK), or the failure it names. */
type GrpcStatus = typeof STATUS_OK | CsiCallError;

/** Reads grpc-status and grpc-message from trailers, or from the headers of a trailers-only response. */
function readGrpcStatus(fields: http2.IncomingHttpHeaders): GrpcStatus | undefined {
  const rawCode = fields['grpc-status'];
  if (rawCode === undefined) return undefined;
  if (!/^[0-9]+$/.test(String(rawCode))) return malformedGrpcStatus(String(rawCode));
  const code = Number(rawCode);
  if (code === STATUS_OK) return STATUS_OK;
  const rawMessage = fields['grpc-message'];
  return driverStatus(code, typeof rawMessage === 'string' ? decodeGrpcMessage(rawMessage) : '');
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

  /** Throws when the session no longer takes streams (ERR_HTTP2_GOAWAY_SESSION, ERR_HTTP2_INVALID_SESSION). */
  constructor(
    readonly view: SessionView,
    private readonly address: CsiAddress,
    readonly method: string,
    request: Buffer,
    timeout: CallTimeout,
    private readonly onSettled: (outcome: CallOutcome, call: Http2UnaryCall) => void,
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
      this.cancel(deadlineExceeded(method, timeout.limitMs), this.httpStatus === undefined ? 'check' : 'keep');
    }, timeout.remainingMs);
    this.stream.on('response', (headers) => this.onResponseHeaders(headers));
    this.stream.on('data', (chunk: Buffer) => this.onData(chunk));
    this.stream.on('trailers', (trailers) => {
      this.grpcStatus = readGrpcStatus(trailers) ?? trailersWithoutStatus();
    });
    this.stream.on('error', (err) => {
      this.streamError = err;
    });
    this.stream.on('close', () => this.onStreamClosed());
    this.stream.end(frameMessage(request));
  }

  /** Ends the call now with `failure`, resetting the stream. */
  cancel(failure: CsiCallError, session: CallOutcome['session'] = 'keep'): void {
    this.settle({ result: failure, retryable: false, session });
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
      this.cancel(notGrpcContentType(contentType));
    }
  }

  private onData(chunk: Buffer): void {
    this.deframer.push(chunk);
    const violation = this.deframer.violation;
    if (violation) this.cancel(violation);
  }

  private onStreamClosed(): void {
    const session = this.view.session;
    const rstCode = this.stream.rstCode;
    // Our own resets (cancel) use NGHTTP2_CANCEL, so these codes came from the peer.
    const refusedByPeer = rstCode === NGHTTP2_REFUSED_STREAM || rstCode === NGHTTP2_ENHANCE_YOUR_CALM;
    const retryable =
      this.httpStatus === undefined &&
      connectErrnoOf(this.streamError) === undefined && // never connected: a retry would only dial again
      (this.view.goawayReceived || rstCode === NGHTTP2_REFUSED_STREAM || session.destroyed || session.closed);
    this.settle({ result: this.resultAtClose(), retryable, session: refusedByPeer ? 'drop' : 'keep' });
  }

  private resultAtClose(): Buffer | CsiCallError {
    const status = this.grpcStatus;
    if (status instanceof CsiCallError) {
      if (status.grpcCode === STATUS_DEADLINE_EXCEEDED && performance.now() >= this.deadlineAt - PEER_DEADLINE_SLACK_MS) {
        return deadlineExceeded(this.method, this.limitMs);
      }
      return status;
    }
    if (status === STATUS_OK) {
      if (this.deframer.incompleteBytes > 0) return endedMidMessage();
      return this.deframer.messages[0] ?? okWithoutMessage();
    }
    if (this.httpStatus !== undefined && this.httpStatus !== 200) return unexpectedHttpStatus(this.httpStatus, STATUS_CODES[this.httpStatus]);
    const connectErrno = connectErrnoOf(this.streamError);
    if (connectErrno) return connectFailed(this.address, connectErrno);
    const session = this.view.session;
    if (this.httpStatus === undefined && this.view.goawayReceived) return goawayBeforeCall();
    if (session.destroyed || session.closed) {
      return connectionLostDuringCall(this.streamError?.cause instanceof Error ? this.streamError.cause.message : undefined);
    }
    const rstCode = this.stream.rstCode ?? NGHTTP2_NO_ERROR;
    if (rstCode !== NGHTTP2_NO_ERROR) return resetByDriver(rstCode);
    return noGrpcStatus();
  }

  private settle(outcome: CallOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadlineTimer);
    this.onSettled(outcome, this);
  }
}
