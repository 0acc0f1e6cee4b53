// What the check code needs from a connection to the driver: one unary call
// with a deadline, and word of the connection's state. Two implementations:
// transports/http2-transport.ts (the default: gRPC's unary framing over
// node:http2) and transports/grpc-js-transport.ts (@grpc/grpc-js, kept as the
// reference the conformance tests hold the first to).
//
// Every failure is a CsiCallError whose code and text a transport chooses the
// same way, so /healthz bodies and metric labels do not depend on the transport.

import { formatGoDuration } from '../cli/duration';
import type { CsiAddress } from './address';

/** gRPC connectivity state names (grpc-js and grpc-go use the same words). */
export type ConnectivityStateName = 'IDLE' | 'CONNECTING' | 'READY' | 'TRANSIENT_FAILURE' | 'SHUTDOWN';

export interface CsiTransport {
  /** The state of the current connection; IDLE when there is none. */
  readonly state: ConnectivityStateName;
  /**
   * Calls a unary method with an encoded request within `timeoutMs`; resolves
   * with the encoded response, rejects with CsiCallError.
   */
  unaryCall(method: string, request: Buffer, timeoutMs: number): Promise<Buffer>;
  /** Drops the current connection (the socket file was replaced or removed); the next call dials anew. */
  dropConnection(): void;
  /** Cancels calls in flight (they fail with Canceled) and drops the connection; later calls must not be made. */
  close(): void;
}

export interface TransportEvents {
  /** A connection changed state, e.g. CONNECTING -> READY, READY -> IDLE. */
  stateChanged(from: ConnectivityStateName, to: ConnectivityStateName): void;
}

export type CsiTransportFactory = (address: CsiAddress, events: TransportEvents) => CsiTransport;

/** Fewest milliseconds between two connection attempts after one failed. */
export const RECONNECT_MIN_INTERVAL_MS = 100;

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

/** The Canceled text of a call cut short by shutdown. */
export function shutdownCancelText(method: string): string {
  return `${shortMethodName(method)} cancelled: the sidecar is shutting down`;
}

/** The DeadlineExceeded text of a call the driver did not answer in time; says the limit. */
export function deadlineExceededText(method: string, timeoutMs: number): string {
  return `context deadline exceeded (${shortMethodName(method)} did not answer within ${formatGoDuration(timeoutMs)})`;
}

/** "/csi.v1.Identity/Probe" -> "Probe" */
export function shortMethodName(method: string): string {
  return method.slice(method.lastIndexOf('/') + 1);
}
