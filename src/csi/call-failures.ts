// Every way a CSI call can fail, in one place: the error class, each text, the
// gRPC status chosen for it, and the label it gets in the operations metric.
//
// Texts follow grpc-go where grpc-go has words for the case
// ("rpc error: code = Unavailable desc = ..."), because upstream puts them in
// /healthz bodies and logs, and alerts and runbooks match them. Where it has
// none, the text says what happened and names the limit or the value seen.
// Status choices follow grpc/grpc doc/PROTOCOL-HTTP2.md and
// doc/http-grpc-status-mapping.md.

import type { CsiAddress } from './address';
import { formatGoDuration } from '../go/duration';
import { quoteGo } from '../go/quote';
import type { GrpcWireProblem } from '../wire/grpc/wire-error';
import { httpReasonPhrase } from '../wire/http2/reason-phrases';
import {
  grpcCodeName,
  STATUS_CANCELLED,
  STATUS_DEADLINE_EXCEEDED,
  STATUS_INTERNAL,
  STATUS_PERMISSION_DENIED,
  STATUS_RESOURCE_EXHAUSTED,
  STATUS_UNAUTHENTICATED,
  STATUS_UNAVAILABLE,
  STATUS_UNIMPLEMENTED,
  STATUS_UNKNOWN,
} from '../wire/grpc/status';

/** The operations metric's grpc_status_code for a call that failed before any gRPC status (as upstream). */
export const NON_GRPC_STATUS = 'unknown-non-grpc';

/** The one error a CSI call fails with; its message is grpc-go's "rpc error: code = ... desc = ...". */
export class CsiCallError extends Error {
  readonly code = 'ERR_CSI_CALL';

  constructor(
    /** The gRPC status code (grpc.status numbering). */
    readonly grpcCode: number,
    /** The status description: the driver's own text, or ours for local failures. */
    readonly description: string,
    options: { cause?: unknown; beforeGrpc?: boolean; systemCode?: string } = {},
  ) {
    super(`rpc error: code = ${grpcCodeName(grpcCode)} desc = ${description}`, { cause: options.cause });
    this.beforeGrpc = options.beforeGrpc ?? false;
    this.systemCode = options.systemCode;
  }

  /**
   * The system error that kept the call from reaching the driver ("EACCES",
   * "ENOENT", "ECONNREFUSED", "ENOTFOUND", ...): what start-up's warning
   * explains; undefined when the failure was not a system error.
   */
  readonly systemCode: string | undefined;

  /**
   * Set when the call was refused before gRPC was asked (the socket file is
   * gone, the connection closed): the code is what gRPC would have said, but
   * no status was received, so the metric says NON_GRPC_STATUS.
   */
  private readonly beforeGrpc: boolean;

  /** Go's name of the code: "Unavailable". */
  get codeName(): string {
    return grpcCodeName(this.grpcCode);
  }

  /** The operations metric's grpc_status_code for this failure. */
  get metricStatus(): string {
    return this.beforeGrpc ? NON_GRPC_STATUS : grpcCodeName(this.grpcCode);
  }
}

/** The operations metric's grpc_status_code for a call's outcome. */
export function metricStatusOf(err: unknown): string {
  return err instanceof CsiCallError ? err.metricStatus : NON_GRPC_STATUS;
}

/** "/csi.v1.Identity/Probe" -> "Probe" */
export function shortMethodName(method: string): string {
  return method.slice(method.lastIndexOf('/') + 1);
}

// --- Before the call reaches the driver --------------------------------------

/** Hints for the connect errors a unix socket gives, so a 500 body says what is wrong. */
const CONNECT_ERROR_HINTS: Record<string, string> = {
  ENOENT: 'the CSI driver socket does not exist',
  ECONNREFUSED: 'no process accepts connections on the CSI driver socket',
  EACCES: 'permission denied on the CSI driver socket',
  ENOTSOCK: 'the path is not a unix socket',
};

/** "connect ECONNREFUSED /csi/csi.sock (no process accepts connections on the CSI driver socket)" */
export function connectFailureText(address: CsiAddress, errno: string): string {
  const hint = CONNECT_ERROR_HINTS[errno];
  const text = `connect ${errno} ${address.socketPath ?? address.original}`;
  return hint ? `${text} (${hint})` : text;
}

/** Dialling the driver failed with a system error (ECONNREFUSED, ENOENT, ...). */
export const connectFailed = (address: CsiAddress, errno: string) => new CsiCallError(STATUS_UNAVAILABLE, connectFailureText(address, errno), { systemCode: errno });

/**
 * Dialling the driver failed without a connect errno: the host name did not
 * resolve (`systemCode` ENOTFOUND, EAI_AGAIN), or the connection closed while
 * the HTTP/2 preface was due.
 */
export const connectionSetupFailed = (address: CsiAddress, reason: string, systemCode?: string) =>
  new CsiCallError(STATUS_UNAVAILABLE, `connection to ${address.display} failed: ${reason}`, { systemCode });

/** The socket file is missing or not a socket: refused before gRPC, as upstream's dial would fail. */
export const socketFileUnusable = (address: CsiAddress, errno: string) =>
  new CsiCallError(STATUS_UNAVAILABLE, connectFailureText(address, errno), { beforeGrpc: true, systemCode: errno });

/** A call after close(). */
export const connectionClosed = () => new CsiCallError(STATUS_UNAVAILABLE, 'the connection to the CSI driver was closed', { beforeGrpc: true });

/** The HTTP/2 session refused to open a stream (its stream identifiers are used up). */
export const callNotStarted = (address: CsiAddress, cause: unknown) =>
  new CsiCallError(STATUS_UNAVAILABLE, `could not start a call on the connection to ${address.display}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });

// --- Ended by the sidecar ------------------------------------------------------

/** A call cut short by shutdown. */
export const cancelledByShutdown = (method: string) => new CsiCallError(STATUS_CANCELLED, `${shortMethodName(method)} cancelled: the sidecar is shutting down`);

/** A call nobody waits for any more (every request that wanted its answer has gone). */
export const cancelledByCaller = (method: string) => new CsiCallError(STATUS_CANCELLED, `${shortMethodName(method)} cancelled: no request waits for its answer any more`);

/** The DeadlineExceeded text of a call the driver did not answer in time; says the limit. */
export function deadlineExceededText(method: string, limitMs: number): string {
  return `context deadline exceeded (${shortMethodName(method)} did not answer within ${formatGoDuration(limitMs)})`;
}

export const deadlineExceeded = (method: string, limitMs: number) => new CsiCallError(STATUS_DEADLINE_EXCEEDED, deadlineExceededText(method, limitMs));

// --- The driver's answer -------------------------------------------------------

/** A non-OK grpc-status the driver sent, with its grpc-message. */
export const driverStatus = (code: number, message: string) => new CsiCallError(code, message);

/**
 * grpc-go's words (Internal) when a unary call's answer goes on past its one
 * message: a streaming handler registered by mistake, or DATA without end.
 */
export const CARDINALITY_VIOLATION_TEXT = 'cardinality violation: expected <EOF> for non server-streaming RPCs, but received another message';

/**
 * A gRPC answer that breaks the protocol (src/wire/grpc/), as grpc-go reports
 * it (internal/transport/http2_client.go operateHeaders and handleData,
 * rpc_util.go checkRecvPayload and recvMsg): its status, and its words where
 * grpc-go has them.
 */
export function grpcWireFailure(problem: GrpcWireProblem): CsiCallError {
  switch (problem.kind) {
    case 'cardinality-violation':
      return new CsiCallError(STATUS_INTERNAL, CARDINALITY_VIOLATION_TEXT);
    case 'invalid-compressed-flag':
      return new CsiCallError(STATUS_INTERNAL, `grpc: received unexpected payload format ${problem.flag}`);
    case 'unasked-compression':
      // The sidecar sends no grpc-accept-encoding and has no decompressor, as the Go sidecar registered none.
      return problem.encoding === undefined || problem.encoding === '' || problem.encoding === 'identity'
        ? new CsiCallError(STATUS_INTERNAL, 'grpc: compressed flag set with identity or empty encoding')
        : new CsiCallError(STATUS_UNIMPLEMENTED, `grpc: Decompressor is not installed for grpc-encoding ${quoteWireText(problem.encoding)}`);
    case 'message-too-large':
      return new CsiCallError(STATUS_RESOURCE_EXHAUSTED, `grpc: received message larger than max (${problem.length} vs. ${problem.limitBytes})`);
    case 'malformed-grpc-status':
      return new CsiCallError(STATUS_INTERNAL, `transport: malformed grpc-status: strconv.ParseUint: parsing ${quoteWireText(problem.value)}: ${problem.reason}`);
    case 'malformed-binary-header':
      return new CsiCallError(STATUS_INTERNAL, `transport: malformed ${problem.name}: illegal base64 data in ${quoteWireText(problem.value)}`);
    case 'malformed-http-status':
      return new CsiCallError(STATUS_INTERNAL, `transport: malformed http-status: strconv.ParseInt: parsing ${quoteWireText(problem.value)}: invalid syntax`);
    case 'not-a-grpc-response': {
      const parts: string[] = [];
      if (problem.httpStatus === undefined) parts.push('malformed header: missing HTTP status');
      else if (problem.httpStatus !== 200) parts.push(`unexpected HTTP status code received from server: ${problem.httpStatus} (${httpReasonPhrase(problem.httpStatus) ?? ''})`);
      if (problem.contentType === null) parts.push('malformed header: missing HTTP content-type');
      else if (problem.contentType !== undefined) parts.push(`transport: received unexpected content-type ${quoteWireText(problem.contentType)}`);
      // "when header does not include HTTP status, return INTERNAL"
      return new CsiCallError(problem.httpStatus === undefined ? STATUS_INTERNAL : grpcCodeForHttpStatus(problem.httpStatus), parts.join('; '));
    }
    case 'no-trailers':
      return new CsiCallError(STATUS_INTERNAL, 'server closed the stream without sending trailers');
    case 'ended-mid-message':
      return new CsiCallError(STATUS_INTERNAL, 'unexpected EOF'); // grpc-go: io.ErrUnexpectedEOF from reading the message
    case 'ok-without-message':
      return new CsiCallError(STATUS_INTERNAL, 'cardinality violation: received no response message from non-server-streaming RPC');
  }
}

/** Header text (one character per byte) as Go's %q prints it. */
const quoteWireText = (text: string) => quoteGo(Buffer.from(text, 'latin1').toString('utf8'));

/** An answer the Identity decoder cannot parse: Internal, in grpc-go's words, with the decoder's reason. */
export const undecodableAnswer = (cause: unknown) =>
  new CsiCallError(STATUS_INTERNAL, `grpc: failed to unmarshal the received message: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });

/** http-grpc-status-mapping.md: the status of a response that is not HTTP 200. */
function grpcCodeForHttpStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return STATUS_INTERNAL;
    case 401:
      return STATUS_UNAUTHENTICATED;
    case 403:
      return STATUS_PERMISSION_DENIED;
    case 404:
      return STATUS_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return STATUS_UNAVAILABLE;
    default:
      return STATUS_UNKNOWN;
  }
}

const RST_STREAM_CODE_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** grpc-go's http2ErrConvTab: the status of a stream ended with an HTTP/2 error code; Unknown for codes it does not know. */
function grpcCodeForHttp2Error(errorCode: number): number {
  switch (RST_STREAM_CODE_NAMES[errorCode]) {
    case undefined:
      return STATUS_UNKNOWN;
    case 'REFUSED_STREAM':
      return STATUS_UNAVAILABLE;
    case 'CANCEL':
      return STATUS_CANCELLED;
    case 'FLOW_CONTROL_ERROR':
    case 'ENHANCE_YOUR_CALM':
      return STATUS_RESOURCE_EXHAUSTED;
    case 'INADEQUATE_SECURITY':
      return STATUS_PERMISSION_DENIED;
    default:
      return STATUS_INTERNAL;
  }
}

/** Go's http2.ErrCode.String(): "PROTOCOL_ERROR", or "unknown error code 0x1f". */
const http2ErrorName = (errorCode: number) => RST_STREAM_CODE_NAMES[errorCode] ?? `unknown error code 0x${errorCode.toString(16)}`;

/** PROTOCOL-HTTP2.md "Errors": the status of a stream the server reset, in grpc-go's words. */
export const resetByDriver = (rstCode: number) => new CsiCallError(grpcCodeForHttp2Error(rstCode), `stream terminated by RST_STREAM with error code: ${http2ErrorName(rstCode)}`);

/**
 * The driver broke an HTTP/2 rule for the call's stream (a malformed
 * response, a bad frame), so the sidecar reset it: the status grpc-go gives
 * the error code, and the rule broken (x/net/http2's words for malformed
 * fields, which grpc-go reports).
 */
export const streamErrorByDriver = (errorCode: number, reason: string) => new CsiCallError(grpcCodeForHttp2Error(errorCode), reason);

export const goawayBeforeCall = () => new CsiCallError(STATUS_UNAVAILABLE, 'the CSI driver closed the connection (GOAWAY) before taking the call');

export const connectionLostDuringCall = (reason: string | undefined) =>
  new CsiCallError(STATUS_UNAVAILABLE, `lost the connection to the CSI driver during the call${reason ? `: ${reason}` : ''}`);
