// One unary gRPC call on an HTTP/2 connection, from request headers to a
// settled outcome. The gRPC rules it applies (grpc/grpc doc/PROTOCOL-HTTP2.md,
// judged as grpc-go judges them) live in ../../wire/grpc/; the HTTP/2 rules in
// ../../wire/http2/. What a broken answer becomes (status, text) is
// ../call-failures.ts's.

import { CsiAddress } from '../address';
import { connectFailed, connectionLostDuringCall, connectionSetupFailed, CsiCallError, deadlineExceeded, driverStatus, goawayBeforeCall, grpcWireFailure, resetByDriver, streamErrorByDriver } from '../call-failures';
import { STATUS_DEADLINE_EXCEEDED, STATUS_OK } from '../../wire/grpc/status';
import { formatGrpcTimeout, frameMessage, MessageDeframer } from '../../wire/grpc/message-framing';
import { isWireProblem, judgeResponseHeaders, judgeTrailers } from '../../wire/grpc/response-rules';
import type { HeaderField } from '../../wire/hpack/decoder';
import { ClientStream, Http2ClientSession, StreamEnd, StreamHandler } from '../../wire/http2/client-session';
import { ErrorCode } from '../../wire/http2/frames';

/**
 * The largest answer accepted. The CSI spec ("Size Limits") caps strings at
 * 128 bytes and a map<string, string> at 4 KiB, so a GetPluginInfo answer
 * (name, vendor_version, manifest) stays under about 16 KiB even with the
 * protobuf framing of a manifest of one-byte entries, and a Probe answer is 4
 * bytes. 64 KiB leaves room for drivers that bend the limits; grpc-go's 4 MiB
 * default let a driver keep 4 MiB per call in flight (300 such answers: RSS
 * peak 162 MB on Node 24, measured). A larger answer is ResourceExhausted, in
 * grpc-go's words.
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;

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

/** The status that ended the call: 0 (OK), or the failure it names. */
type CallStatus = typeof STATUS_OK | CsiCallError;

/**
 * A DeadlineExceeded status from the driver this close to our own deadline is
 * its stack enforcing the grpc-timeout we sent (gRPC C-core does, a moment
 * before or after our timer): the same event, reported in the same words.
 */
const PEER_DEADLINE_SLACK_MS = 50;

/** The longest delay setTimeout takes: 2^31-1 ms, about 24.8 days. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The request header list last sent for each method, by its grpc-timeout: the same list call after call (one allocation less per call). */
const lastRequestHeaders = new Map<string, { readonly grpcTimeout: string | undefined; readonly fields: readonly (readonly [string, string])[] }>();

/** The request's header fields (gRPC PROTOCOL-HTTP2.md "Requests"), grpc-timeout only when the call has a deadline. */
function requestHeaders(method: string, grpcTimeout: string | undefined): readonly (readonly [string, string])[] {
  const last = lastRequestHeaders.get(method);
  if (last && last.grpcTimeout === grpcTimeout) return last.fields;
  const fields: [string, string][] = [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', method],
    [':authority', 'localhost'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
  if (grpcTimeout !== undefined) fields.push(['grpc-timeout', grpcTimeout]);
  fields.push(['user-agent', 'csi-livenessprobe-ts']);
  for (const field of fields) Object.freeze(field); // the session encodes a list once (hpack/encoder.ts headerBlock)
  Object.freeze(fields);
  lastRequestHeaders.set(method, { grpcTimeout, fields });
  return fields;
}

/** Every Identity request is empty: its frame is the same 5 bytes each time (the session copies it out). */
const EMPTY_MESSAGE_FRAME = frameMessage(Buffer.alloc(0));

/** One call; it is also its stream's handler (no closures per call: allocations per check decide its CPU, measured). */
export class Http2UnaryCall implements StreamHandler {
  private readonly stream: ClientStream;
  /** Invariant: undefined when the call has no deadline (remainingMs Infinity). */
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** performance.now() at which this call's deadline falls. */
  private readonly deadlineAt: number;
  /** The caller's whole limit, which a timeout names (this try may have only what was left of it). */
  private readonly limitMs: number;
  private settled = false;
  /** Set once the response headers arrived (the HTTP/2 session has checked and skipped 1xx answers). */
  private responseHeadersReceived = false;
  /** Invariant: set if and only if a HEADERS block ended the stream (trailers, or a Trailers-Only answer). */
  private grpcStatus: CallStatus | undefined;
  private readonly deframer = new MessageDeframer(MAX_RECEIVE_MESSAGE_BYTES);

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
    // No deadline, no grpc-timeout: the driver's stack must not end the call either.
    const headers = requestHeaders(method, Number.isFinite(timeout.remainingMs) ? formatGrpcTimeout(timeout.remainingMs) : undefined);
    this.stream = session.request(headers, request.length === 0 ? EMPTY_MESSAGE_FRAME : frameMessage(request), this);
    if (Number.isFinite(timeout.remainingMs)) this.armDeadline();
  }

  /**
   * Fires `onDeadline` at `deadlineAt`. setTimeout takes at most MAX_TIMER_DELAY_MS
   * (longer delays fire after 1 ms), so a longer deadline (--probe-timeout of 597h
   * or more) is waited for in steps.
   */
  private armDeadline(): void {
    const remainingMs = this.deadlineAt - performance.now();
    this.deadlineTimer =
      remainingMs > MAX_TIMER_DELAY_MS ? setTimeout(Http2UnaryCall.armDeadlineAgain, MAX_TIMER_DELAY_MS, this) : setTimeout(Http2UnaryCall.deadlinePassed, Math.max(0, remainingMs), this);
  }

  // Timer callbacks that take the call as an argument: arming a deadline makes no closure.
  private static armDeadlineAgain(call: Http2UnaryCall): void {
    call.armDeadline();
  }

  private static deadlinePassed(call: Http2UnaryCall): void {
    call.onDeadline();
  }

  /** The deadline passed: DeadlineExceeded naming the caller's whole limit. */
  private onDeadline(): void {
    this.cancel(deadlineExceeded(this.method, this.limitMs), this.responseHeadersReceived ? 'keep' : 'check');
  }

  /** Ends the call now with `failure`, resetting the stream (CANCEL, or `rstCode` when the driver broke the protocol). */
  cancel(failure: CsiCallError, session: CallOutcome['session'] = 'keep', rstCode: number = ErrorCode.CANCEL): void {
    this.settle({ result: failure, retryable: false, session });
    this.stream.cancel(rstCode);
  }

  /** The session delivers the final response headers once, then at most one trailers block (`endStream` set). */
  headers(fields: readonly HeaderField[], endStream: boolean): void {
    if (this.responseHeadersReceived) {
      const status = judgeTrailers(fields);
      // A broken answer is reported as it is; the stream ends with these trailers, so nothing is left to reset.
      this.grpcStatus = isWireProblem(status) ? grpcWireFailure(status) : callStatus(status.code, status.message);
      return;
    }
    this.responseHeadersReceived = true;
    const verdict = judgeResponseHeaders(fields, endStream);
    if (!verdict.ok) return this.cancel(grpcWireFailure(verdict.problem), 'keep', ErrorCode.PROTOCOL_ERROR);
    this.deframer.responseEncoding = verdict.encoding;
    // Trailers-Only: "Trailers-Only is permitted for calls that produce an immediate error".
    if (verdict.status) this.grpcStatus = callStatus(verdict.status.code, verdict.status.message);
  }

  data(chunk: Buffer): void {
    this.deframer.push(chunk);
    const violation = this.deframer.violation;
    if (violation) this.cancel(grpcWireFailure(violation));
  }

  end(end: StreamEnd): void {
    if (end.kind === 'cancelled') return; // cancel() settled it
    // REFUSED_STREAM: "the stream was not processed", as is one GOAWAY excluded.
    const refusedUnread = end.kind === 'refused-by-goaway' || (end.kind === 'reset' && end.errorCode === ErrorCode.REFUSED_STREAM);
    // Never connected (a connect or name-lookup error): a retry would only dial again.
    const diedUnanswered = end.kind === 'connection-lost' && end.connectErrno === undefined && end.setupErrno === undefined;
    const calmDown = end.kind === 'reset' && (end.errorCode === ErrorCode.REFUSED_STREAM || end.errorCode === ErrorCode.ENHANCE_YOUR_CALM);
    this.settle({
      result: this.resultAtEnd(end),
      retryable: !this.responseHeadersReceived && (refusedUnread || diedUnanswered),
      session: calmDown ? 'drop' : 'keep',
    });
  }

  private resultAtEnd(end: StreamEnd): Buffer | CsiCallError {
    // grpc-go reads the message before the status: a stream ended (or reset) inside a message is that, whatever its
    // status says.
    if ((end.kind === 'ended' || end.kind === 'reset') && this.deframer.incompleteBytes > 0) return grpcWireFailure({ kind: 'ended-mid-message' });
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
      return this.deframer.messages[0] ?? grpcWireFailure({ kind: 'ok-without-message' });
    }
    switch (end.kind) {
      case 'connection-lost':
        if (end.connectErrno) return connectFailed(this.address, end.connectErrno);
        // The connection never opened (the host name did not resolve): the same error the transport records, whose
        // system code the "Still connecting" warning explains.
        if (end.setupErrno) return connectionSetupFailed(this.address, end.reason ?? end.setupErrno, end.setupErrno);
        return connectionLostDuringCall(end.reason);
      case 'refused-by-goaway':
        return goawayBeforeCall();
      case 'reset':
        return resetByDriver(end.errorCode);
      case 'stream-error':
        return streamErrorByDriver(end.errorCode, end.reason);
      default:
        // END_STREAM on DATA: the trailers, and with them the status, never came.
        return grpcWireFailure({ kind: 'no-trailers' });
    }
  }

  private settle(outcome: CallOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadlineTimer);
    this.onSettled(outcome, this);
  }
}

/** A grpc-status and its message as the call's status. */
function callStatus(code: number, message: string): CallStatus {
  return code === STATUS_OK ? STATUS_OK : driverStatus(code, message);
}

