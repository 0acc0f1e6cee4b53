// What the connection needs from the code that carries calls to the driver:
// one unary call with a deadline, and word of the connection's state. The
// shipped implementation is transports/http2-transport.ts.
//
// Every failure is a CsiCallError made in call-failures.ts, so /healthz bodies
// and metric labels do not depend on how a call was carried.

import type { CancelSignal } from '../cancel-signal';

/** gRPC connectivity state names (grpc-js and grpc-go use the same words). */
export type ConnectivityStateName = 'IDLE' | 'CONNECTING' | 'READY' | 'TRANSIENT_FAILURE' | 'SHUTDOWN';

export interface CsiTransport {
  /** The state of the current connection; IDLE when there is none. */
  readonly state: ConnectivityStateName;
  /**
   * Calls a unary method with an encoded request within `timeoutMs`
   * (Infinity: no deadline, and no grpc-timeout sent); resolves with the
   * encoded response, rejects with CsiCallError. When `signal` aborts, the call
   * is cancelled (RST_STREAM CANCEL) and rejects with Canceled.
   */
  unaryCall(method: string, request: Buffer, timeoutMs: number, signal?: CancelSignal): Promise<Buffer>;
  /** Drops the current connection (the socket file was replaced or removed); the next call dials anew. */
  dropConnection(): void;
  /** Cancels calls in flight (they fail with Canceled) and drops the connection; later calls must not be made. */
  close(): void;
}

export interface TransportEvents {
  /** A connection changed state, e.g. CONNECTING -> READY, READY -> IDLE. */
  stateChanged(from: ConnectivityStateName, to: ConnectivityStateName): void;
}

/** Fewest milliseconds between two connection attempts after one failed. */
export const RECONNECT_MIN_INTERVAL_MS = 100;
