// One long-lived gRPC channel to the CSI driver, shared by every check.
//
// Defaults and loss behaviour:
// - The channel is made lazily and kept while it works. No dial per check.
// - Before each call on a unix socket the socket file is checked (see
//   socket-file.ts): missing -> the call fails at once with ENOENT and the
//   channel is dropped; replaced -> a new channel to the new file.
// - A channel in TRANSIENT_FAILURE is replaced before the next call (at most
//   every RECONNECT_MIN_INTERVAL_MS), so a check reflects a fresh connection
//   attempt instead of waiting out grpc-js's reconnect backoff: a restarted
//   driver is seen at once, and a flood of checks during an outage does not
//   open a connection each.
// - Calls never wait for a connection (waitForReady off), so a dead driver
//   fails a check in milliseconds with the real cause.

import * as grpc from '@grpc/grpc-js';
import { formatGoDuration } from '../cli/duration';
import { Logger } from '../log/logger';
import { MetricsRecorder, NON_GRPC_STATUS } from '../metrics/recorder';
import { CsiAddress } from './address';
import { CsiCallError } from './csi-call-error';
import { STATUS_DEADLINE_EXCEEDED, STATUS_UNAVAILABLE } from './grpc-status';
import { SocketFile } from './socket-file';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Reconnect backoff stays short (upstream: 1 s at most); a failed channel is replaced before the next call anyway.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  // Channelz keeps per-call traces in memory; a sidecar has no use for them.
  'grpc.enable_channelz': 0,
};

/** Fewest milliseconds between two replacements of a failed channel. */
const RECONNECT_MIN_INTERVAL_MS = 100;

const STATE_NAMES: Record<grpc.connectivityState, string> = {
  [grpc.connectivityState.IDLE]: 'IDLE',
  [grpc.connectivityState.CONNECTING]: 'CONNECTING',
  [grpc.connectivityState.READY]: 'READY',
  [grpc.connectivityState.TRANSIENT_FAILURE]: 'TRANSIENT_FAILURE',
  [grpc.connectivityState.SHUTDOWN]: 'SHUTDOWN',
};

/** Hints for the connect errors a unix socket gives, so a 500 body says what is wrong. */
const CONNECT_ERROR_HINTS: Record<string, string> = {
  ENOENT: 'the CSI driver socket does not exist',
  ECONNREFUSED: 'no process accepts connections on the CSI driver socket',
  EACCES: 'permission denied on the CSI driver socket',
  ENOTSOCK: 'the path is not a unix socket',
};

export interface UnaryCallOptions {
  /** Deadline for the call. */
  readonly timeoutMs: number;
}

export class CsiConnection {
  private readonly socketFile: SocketFile | undefined;
  /** Invariant: undefined, or a client whose channel is not SHUTDOWN. */
  private client: grpc.Client | undefined;
  private clientCreatedAt = 0;
  private closed = false;
  /** Calls not yet answered, so that close() can cancel them. */
  private readonly callsInFlight = new Set<grpc.ClientUnaryCall>();

  constructor(
    readonly address: CsiAddress,
    private readonly logger: Logger,
    private readonly metrics: MetricsRecorder | undefined,
  ) {
    this.socketFile = address.socketPath === undefined ? undefined : new SocketFile(address.socketPath);
  }

  /** The current channel state's name, "IDLE" when there is no channel. */
  get state(): string {
    return this.client ? STATE_NAMES[this.client.getChannel().getConnectivityState(false)] : 'IDLE';
  }

  /**
   * Calls a unary method with an already-encoded request; resolves with the raw
   * response bytes, rejects with CsiCallError. Every call is timed for metrics,
   * including one refused before gRPC because the socket file is gone.
   */
  async unaryCall(method: string, request: Buffer, options: UnaryCallOptions): Promise<Buffer> {
    const startedAt = performance.now();
    try {
      const response = await this.callOverChannel(method, request, options, startedAt);
      this.metrics?.csiCallCompleted(method, 'OK', (performance.now() - startedAt) / 1000);
      return response;
    } catch (err) {
      const statusName = err instanceof CsiCallError && err.reachedGrpc ? err.codeName : NON_GRPC_STATUS;
      this.metrics?.csiCallCompleted(method, statusName, (performance.now() - startedAt) / 1000);
      throw err;
    }
  }

  private callOverChannel(method: string, request: Buffer, options: UnaryCallOptions, startedAt: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new CsiCallError(STATUS_UNAVAILABLE, 'the connection to the CSI driver was closed', { reachedGrpc: false }));
    const socketProblem = this.checkSocketFile();
    if (socketProblem) return Promise.reject(socketProblem);
    const client = this.currentClient();
    const callOptions: grpc.CallOptions = { deadline: Date.now() + options.timeoutMs };
    return new Promise((resolve, reject) => {
      const call = client.makeUnaryRequest(
        method,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        request,
        new grpc.Metadata(),
        callOptions,
        (err, response) => {
          this.callsInFlight.delete(call);
          if (err) reject(this.describeFailure(method, err, options.timeoutMs, performance.now() - startedAt));
          else resolve(response ?? Buffer.alloc(0));
        },
      );
      this.callsInFlight.add(call);
    });
  }

  /** Cancels calls in flight (they fail with Canceled) and drops the channel; later calls fail. */
  close(): void {
    this.closed = true;
    for (const call of this.callsInFlight) call.cancel();
    this.dropClient();
  }

  /** Returns the error a call must fail with when the socket file is gone, or undefined. */
  private checkSocketFile(): CsiCallError | undefined {
    if (!this.socketFile) return undefined;
    const fileState = this.socketFile.check();
    switch (fileState.kind) {
      case 'present':
        return undefined;
      case 'replaced':
        this.logger.warning('CSI driver socket was replaced; reconnecting', { address: this.address.display });
        this.dropClient();
        return undefined;
      case 'missing':
        // The old connection may still reach a driver whose socket was deleted (#68): drop it.
        this.dropClient();
        return new CsiCallError(STATUS_UNAVAILABLE, this.connectFailureText(fileState.errno), { reachedGrpc: false });
      case 'not-a-socket':
        this.dropClient();
        return new CsiCallError(STATUS_UNAVAILABLE, this.connectFailureText('ENOTSOCK'), { reachedGrpc: false });
    }
  }

  private connectFailureText(errno: string): string {
    const hint = CONNECT_ERROR_HINTS[errno];
    const text = `connect ${errno} ${this.address.socketPath ?? this.address.original}`;
    return hint ? `${text} (${hint})` : text;
  }

  private currentClient(): grpc.Client {
    if (
      this.client &&
      this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE &&
      performance.now() - this.clientCreatedAt >= RECONNECT_MIN_INTERVAL_MS
    ) {
      this.dropClient();
    }
    if (!this.client) {
      this.clientCreatedAt = performance.now();
      this.client = new grpc.Client(this.address.grpcTarget, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.watchState(this.client, grpc.connectivityState.IDLE);
    }
    return this.client;
  }

  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    client?.close();
  }

  /** Follows one channel's state until it shuts down, telling the listeners of each change. */
  private watchState(client: grpc.Client, known: grpc.connectivityState): void {
    const channel = client.getChannel();
    channel.watchConnectivityState(known, Infinity, () => {
      const now = channel.getConnectivityState(false);
      if (now === known) return this.watchState(client, known);
      const from = STATE_NAMES[known];
      const to = STATE_NAMES[now];
      this.logger.infoAt(3, 'CSI connection state changed', { address: this.address.display, transition: `${from} -> ${to}` });
      if (known === grpc.connectivityState.READY && !this.closed) {
        this.logger.warning('Lost connection to CSI driver', { address: this.address.display });
      }
      this.metrics?.connectionStateChanged(from, to);
      if (now !== grpc.connectivityState.SHUTDOWN) this.watchState(client, now);
    });
  }

  /** Turns a grpc-js failure into grpc-go's wording, keeping the driver's own text when it sent one. */
  private describeFailure(method: string, err: grpc.ServiceError, timeoutMs: number, elapsedMs: number): CsiCallError {
    const details = err.details ?? err.message;
    const shortMethod = method.slice(method.lastIndexOf('/') + 1);
    if (err.code === grpc.status.CANCELLED && this.closed) {
      return new CsiCallError(err.code, `${shortMethod} cancelled: the sidecar is shutting down`, { cause: err });
    }
    if (err.code === STATUS_DEADLINE_EXCEEDED && elapsedMs >= timeoutMs && /^Deadline exceeded/.test(details)) {
      return new CsiCallError(err.code, `context deadline exceeded (${shortMethod} did not answer within ${formatGoDuration(timeoutMs)})`, { cause: err });
    }
    if (err.code === STATUS_UNAVAILABLE) {
      // grpc-js: "No connection established. Last error: Error: connect ECONNREFUSED /p. Resolution note: "
      const connectError = /Last error: (?:Error: )?connect (E[A-Z]+) /.exec(details);
      if (connectError) return new CsiCallError(err.code, this.connectFailureText(connectError[1]), { cause: err });
    }
    return new CsiCallError(err.code, details, { cause: err });
  }
}
