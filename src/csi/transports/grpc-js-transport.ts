// CsiTransport over @grpc/grpc-js: one long-lived channel, kept while it works.
//
// The reference implementation: the conformance tests run the same suite
// against it and the HTTP/2 transport. Not the default (see README, "Design"):
// it costs more CPU per call and more memory, and nothing in the sidecar's
// start-up path imports it.
//
// - A channel in TRANSIENT_FAILURE is replaced before the next call (at most
//   every RECONNECT_MIN_INTERVAL_MS), so a check reflects a fresh connection
//   attempt instead of waiting out grpc-js's reconnect backoff.
// - Calls never wait for a connection (waitForReady off), so a dead driver
//   fails a check in milliseconds with the real cause.

import * as grpc from '@grpc/grpc-js';
import { CsiAddress } from '../address';
import { CsiCallError } from '../csi-call-error';
import { STATUS_DEADLINE_EXCEEDED, STATUS_INTERNAL, STATUS_UNAVAILABLE } from '../grpc-status';
import {
  connectFailureText,
  ConnectivityStateName,
  CsiTransport,
  deadlineExceededText,
  RECONNECT_MIN_INTERVAL_MS,
  shutdownCancelText,
  TransportEvents,
} from '../transport';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Reconnect backoff stays short (upstream: 1 s at most); a failed channel is replaced before the next call anyway.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  // Channelz keeps per-call traces in memory; a sidecar has no use for them.
  'grpc.enable_channelz': 0,
};

const STATE_NAMES: Record<grpc.connectivityState, ConnectivityStateName> = {
  [grpc.connectivityState.IDLE]: 'IDLE',
  [grpc.connectivityState.CONNECTING]: 'CONNECTING',
  [grpc.connectivityState.READY]: 'READY',
  [grpc.connectivityState.TRANSIENT_FAILURE]: 'TRANSIENT_FAILURE',
  [grpc.connectivityState.SHUTDOWN]: 'SHUTDOWN',
};

export class GrpcJsTransport implements CsiTransport {
  /** Invariant: undefined, or a client whose channel is not SHUTDOWN. */
  private client: grpc.Client | undefined;
  private clientCreatedAt = 0;
  private closed = false;
  /** Calls not yet answered, so that close() can cancel them. */
  private readonly callsInFlight = new Set<grpc.ClientUnaryCall>();

  constructor(
    private readonly address: CsiAddress,
    private readonly events: TransportEvents,
  ) {}

  get state(): ConnectivityStateName {
    return this.client ? STATE_NAMES[this.client.getChannel().getConnectivityState(false)] : 'IDLE';
  }

  unaryCall(method: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    const startedAt = performance.now();
    const client = this.currentClient();
    return new Promise((resolve, reject) => {
      const call = client.makeUnaryRequest(
        method,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          this.callsInFlight.delete(call);
          if (err) reject(this.describeFailure(method, err, timeoutMs, performance.now() - startedAt));
          else resolve(response ?? Buffer.alloc(0));
        },
      );
      this.callsInFlight.add(call);
    });
  }

  dropConnection(): void {
    const client = this.client;
    this.client = undefined;
    client?.close();
  }

  close(): void {
    this.closed = true;
    for (const call of this.callsInFlight) call.cancel();
    this.dropConnection();
  }

  private currentClient(): grpc.Client {
    if (
      this.client &&
      this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE &&
      performance.now() - this.clientCreatedAt >= RECONNECT_MIN_INTERVAL_MS
    ) {
      this.dropConnection();
    }
    if (!this.client) {
      this.clientCreatedAt = performance.now();
      this.client = new grpc.Client(this.address.grpcTarget, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.watchState(this.client, grpc.connectivityState.IDLE);
    }
    return this.client;
  }

  /** Follows one channel's state until it shuts down, telling of each change. */
  private watchState(client: grpc.Client, known: grpc.connectivityState): void {
    const channel = client.getChannel();
    channel.watchConnectivityState(known, Infinity, () => {
      const now = channel.getConnectivityState(false);
      if (now === known) return this.watchState(client, known);
      this.events.stateChanged(STATE_NAMES[known], STATE_NAMES[now]);
      if (now !== grpc.connectivityState.SHUTDOWN) this.watchState(client, now);
    });
  }

  /** Turns a grpc-js failure into grpc-go's wording, keeping the driver's own text when it sent one. */
  private describeFailure(method: string, err: grpc.ServiceError, timeoutMs: number, elapsedMs: number): CsiCallError {
    const details = err.details ?? err.message;
    if (err.code === grpc.status.CANCELLED && this.closed) {
      return new CsiCallError(err.code, shutdownCancelText(method), { cause: err });
    }
    if (err.code === STATUS_DEADLINE_EXCEEDED && elapsedMs >= timeoutMs && /^Deadline exceeded/.test(details)) {
      return new CsiCallError(err.code, deadlineExceededText(method, timeoutMs), { cause: err });
    }
    if (err.code === STATUS_UNAVAILABLE) {
      // grpc-js: "No connection established. Last error: Error: connect ECONNREFUSED /p. Resolution note: "
      const connectError = /Last error: (?:Error: )?connect (E[A-Z]+) /.exec(details);
      if (connectError) return new CsiCallError(err.code, connectFailureText(this.address, connectError[1]), { cause: err });
    }
    // grpc-js rejects some protocol violations (a compressed message nobody asked for) with no code at all.
    return new CsiCallError(typeof err.code === 'number' ? err.code : STATUS_INTERNAL, details, { cause: err });
  }
}

export const createGrpcJsTransport = (address: CsiAddress, events: TransportEvents): CsiTransport => new GrpcJsTransport(address, events);
