// One unary gRPC call on an HTTP/2 connection, from request headers to a
// settled outcome. The protocol rules it follows are quoted from grpc/grpc
// doc/PROTOCOL-HTTP2.md; the helpers live in ../grpc-wire.ts.

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
import { STATUS_DEADLINE_EXCEEDED, STATUS_OK } from '../../wire/grpc/status';
import { decodeGrpcMessage, formatGrpcTimeout, frameMessage, MessageDeframer } from '../grpc-wire';
import { ClientStream, HeaderMap, Http2ClientSession, StreamEnd } from '../../wire/http2/client-session';
import { ErrorCode } from '../../wire/http2/frames';
import { httpReasonPhrase } from '../../wire/http2/reason-phrases';

/** How long a call may take: what is left of the caller's limit, and that limit (which a timeout names). */
export interface CallTimeout {
  readonly remainingMs: number;
  readonly limitMs: number;
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
function readGrpcStatus(fields: HeaderMap): GrpcStatus | undefined {
  const rawCode = fields['grpc-status'];
  if (rawCode === undefined) return undefined;
  if (!/^[0-9]+$/.test(rawCode)) return malformedGrpcStatus(rawCode);
  const code = Number(rawCode);
  if (code === STATUS_OK) return STATUS_OK;
  const rawMessage = fields['grpc-message'];
  return driverStatus(code, rawMessage === undefined ? '' : decodeGrpcMessage(rawMessage));
}

/**
 * A DeadlineExceeded status from the driver this close to our own deadline is
 * its stack enforcing the grpc-timeout we sent (gRPC C-core does, a moment
 * before or after our timer): the same event, reported in the same words.
 */
const PEER_DEADLINE_SLACK_MS = 50;

/** Every Identity request is empty: its frame is the same 5 bytes each time (the session copies it out). */
const EMPTY_MESSAGE_FRAME = frameMessage(Buffer.alloc(0));

export class Http2UnaryCall {
  private readonly stream: ClientStream;
  /** Invariant: undefined when the call has no deadline (remainingMs Infinity). */
  private readonly deadlineTimer: NodeJS.Timeout | undefined;
  /** performance.now() at which this call's deadline falls. */
  private readonly deadlineAt: number;
  /** The caller's whole limit, which a timeout names (this try may have only what was left of it). */
  private readonly limitMs: number;
  private settled = false;
  private httpStatus: number | undefined;
  private grpcStatus: GrpcStatus | undefined;
  private readonly deframer = new MessageDeframer();

  /** Throws when the session no longer takes streams. */
  constructor(
    session: Http2ClientSession,
    private readonly address: CsiAddress,
    readonly method: string,
    request: Buffer,
    timeout: CallTimeout,
    private readonly onSettled: (outcome: CallOutcome, call: Http2UnaryCall) => void,
  ) {
    this.deadlineAt = performance.now() + timeout.remainingMs;
    this.limitMs = timeout.limitMs;
    const headers: [string, string][] = [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', method],
      [':authority', 'localhost'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['user-agent', 'csi-livenessprobe-ts'],
    ];
    // No deadline, no grpc-timeout: the driver's stack must not end the call either.
    if (Number.isFinite(timeout.remainingMs)) headers.splice(headers.length - 1, 0, ['grpc-timeout', formatGrpcTimeout(timeout.remainingMs)]);
    this.stream = session.request(headers, request.length === 0 ? EMPTY_MESSAGE_FRAME : frameMessage(request), {
      headers: (fields) => this.onHeaders(fields),
      data: (chunk) => this.onData(chunk),
      end: (end) => this.onEnd(end),
    });
    this.deadlineTimer = Number.isFinite(timeout.remainingMs)
      ? setTimeout(() => this.cancel(deadlineExceeded(method, timeout.limitMs), this.httpStatus === undefined ? 'check' : 'keep'), timeout.remainingMs)
      : undefined;
  }

  /** Ends the call now with `failure`, resetting the stream. */
  cancel(failure: CsiCallError, session: CallOutcome['session'] = 'keep'): void {
    this.settle({ result: failure, retryable: false, session });
    this.stream.cancel();
  }

  private onHeaders(fields: HeaderMap): void {
    if (this.httpStatus !== undefined) {
      this.grpcStatus = readGrpcStatus(fields) ?? trailersWithoutStatus();
      return;
    }
    this.httpStatus = Number(fields[':status']);
    this.deframer.responseEncoding = fields['grpc-encoding'];
    // Trailers-Only: "Trailers-Only is permitted for calls that produce an immediate error".
    this.grpcStatus = readGrpcStatus(fields);
    const contentType = fields['content-type'] ?? '';
    if (this.httpStatus === 200 && this.grpcStatus === undefined && !/^application\/grpc(\+|;|$)/.test(contentType)) {
      this.cancel(notGrpcContentType(contentType));
    }
  }

  private onData(chunk: Buffer): void {
    this.deframer.push(chunk);
    const violation = this.deframer.violation;
    if (violation) this.cancel(violation);
  }

  private onEnd(end: StreamEnd): void {
    if (end.kind === 'cancelled') return; // cancel() settled it
    // REFUSED_STREAM: "the stream was not processed", as is one GOAWAY excluded.
    const refusedUnread = end.kind === 'refused-by-goaway' || (end.kind === 'reset' && end.errorCode === ErrorCode.REFUSED_STREAM);
    const diedUnanswered = end.kind === 'connection-lost' && end.connectErrno === undefined; // never connected: a retry would only dial again
    const calmDown = end.kind === 'reset' && (end.errorCode === ErrorCode.REFUSED_STREAM || end.errorCode === ErrorCode.ENHANCE_YOUR_CALM);
    this.settle({
      result: this.resultAtEnd(end),
      retryable: this.httpStatus === undefined && (refusedUnread || diedUnanswered),
      session: calmDown ? 'drop' : 'keep',
    });
  }

  private resultAtEnd(end: StreamEnd): Buffer | CsiCallError {
    const status = this.grpcStatus;
    if (status instanceof CsiCallError) {
      const now = performance.now();
      // Past our deadline, a failure is the deadline, whatever the driver's stack says at its own (grpc-go
      // answers Unknown "context deadline exceeded" when a handler returns ctx.Err()): our timer can run
      // late when the event loop is busy, and the driver's answer must not be read first.
      if (now >= this.deadlineAt || (status.grpcCode === STATUS_DEADLINE_EXCEEDED && now >= this.deadlineAt - PEER_DEADLINE_SLACK_MS)) {
        return deadlineExceeded(this.method, this.limitMs);
      }
      return status;
    }
    if (status === STATUS_OK && end.kind === 'ended') {
      if (this.deframer.incompleteBytes > 0) return endedMidMessage();
      return this.deframer.messages[0] ?? okWithoutMessage();
    }
    if (this.httpStatus !== undefined && this.httpStatus !== 200) return unexpectedHttpStatus(this.httpStatus, httpReasonPhrase(this.httpStatus));
    switch (end.kind) {
      case 'connection-lost':
        return end.connectErrno ? connectFailed(this.address, end.connectErrno) : connectionLostDuringCall(end.reason);
      case 'refused-by-goaway':
        return goawayBeforeCall();
      case 'reset':
        return resetByDriver(end.errorCode);
      default:
        return noGrpcStatus();
    }
  }

  private settle(outcome: CallOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadlineTimer);
    this.onSettled(outcome, this);
  }
}
