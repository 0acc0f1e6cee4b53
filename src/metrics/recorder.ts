// What the sidecar's parts tell the metrics. An interface, so that parts do
// not load prom-client: without --http-endpoint or --metrics-address there
// are no metrics, and the sidecar does not pay for them.

/** grpc_status_code for a call that failed before any gRPC status (as upstream). */
export const NON_GRPC_STATUS = 'unknown-non-grpc';

export interface MetricsRecorder {
  /** A CSI call finished: full method name, status name ("OK", "Unavailable", NON_GRPC_STATUS), seconds taken. */
  csiCallCompleted(method: string, statusName: string, seconds: number): void;
  /** The driver's name is known; later calls are labelled with it. */
  driverNameKnown(name: string): void;
  /** A check (one Probe) finished; `healthy` is its /healthz verdict (with --not-ready-grace, a not-ready driver within it passes). */
  checkCompleted(healthy: boolean): void;
  /** The driver answered a Probe: `ready` true or absent (true), or false. Not called for a failed call. */
  driverReadyAnswered(ready: boolean): void;
  /** A /healthz request joined the check already in flight instead of starting one. */
  checkShared(): void;
  /** A /healthz request was answered with this HTTP status. */
  healthzAnswered(statusCode: number): void;
  /** A /readyz request was answered with this HTTP status. */
  readyzAnswered(statusCode: number): void;
  /** An HTTP connection was closed early; reason as ShedReason ("idle", "pipelining", ...). */
  httpConnectionShed(reason: string): void;
  /** A log line was dropped because the log output did not keep up. */
  logLineDropped(): void;
  /** The gRPC channel moved from one state to another ("READY" -> "IDLE"). */
  connectionStateChanged(from: string, to: string): void;
}
