// The sidecar's one connection to the CSI driver, shared by every check.
//
// Around the transport that carries the calls (see transport.ts):
// - Before each call on a unix socket the socket file is checked (see
//   socket-file.ts): missing -> the call fails at once with ENOENT and the
//   connection is dropped; replaced -> a new connection to the new file.
// - Every call is timed for metrics, including one refused before gRPC, and
//   its answer is decoded inside that time, so an answer that cannot be
//   decoded is counted as the Internal failure it is (as grpc-go does).
// - Connection state changes are logged and counted.

import { Logger } from '../log/logger';
import type { MetricsRecorder } from '../metrics/recorder';
import { CsiAddress } from './address';
import { connectionClosed, CsiCallError, metricStatusOf, socketFileUnusable, undecodableAnswer } from './call-failures';
import { SocketFile } from './socket-file';
import { ConnectivityStateName, CsiTransport } from './transport';
import { Http2Transport } from './transports/http2-transport';
import type { CancelSignal } from '../cancel-signal';

export interface UnaryCallOptions {
  /** Deadline for the call; Infinity for none (start-up discovery, as upstream). */
  readonly timeoutMs: number;
  /** Cancels the call (Canceled) when it aborts: nobody waits for the answer any more. */
  readonly signal?: CancelSignal;
}

export class CsiConnection {
  private readonly socketFile: SocketFile | undefined;
  private readonly transport: CsiTransport;
  private closed = false;
  /** Connections that reached READY: what tells a restarted driver on TCP, which has no socket file. */
  private connectionsMade = 0;

  constructor(
    readonly address: CsiAddress,
    private readonly logger: Logger,
    private readonly metrics: MetricsRecorder | undefined,
  ) {
    this.socketFile = address.socketPath === undefined ? undefined : new SocketFile(address.socketPath);
    this.transport = new Http2Transport(address, { stateChanged: (from, to) => this.onStateChanged(from, to) });
  }

  /** The current connection state's name, "IDLE" when there is no connection. */
  get state(): ConnectivityStateName {
    return this.transport.state;
  }

  /**
   * Calls a unary method with an already-encoded request and decodes the
   * answer with `decode`; rejects with CsiCallError, Internal when `decode`
   * throws.
   */
  async unaryCall<Answer>(method: string, request: Buffer, decode: (response: Buffer) => Answer, options: UnaryCallOptions): Promise<Answer> {
    const startedAt = performance.now();
    try {
      const response = await this.callOverTransport(method, request, options);
      let answer: Answer;
      try {
        answer = decode(response);
      } catch (err) {
        throw undecodableAnswer(err);
      }
      this.metrics?.csiCallCompleted(method, 'OK', (performance.now() - startedAt) / 1000);
      return answer;
    } catch (err) {
      this.metrics?.csiCallCompleted(method, metricStatusOf(err), (performance.now() - startedAt) / 1000);
      throw err;
    }
  }

  /**
   * A number that changes when the driver behind the address may be another
   * process, read after a call to know whom it reached. For a unix socket,
   * each new socket file (a driver binds a new one when it starts; a
   * reconnection to the same file is the same driver); for TCP, which has no
   * file to tell, each new connection.
   */
  get driverInstance(): number {
    return this.socketFile ? this.socketFile.generation : this.connectionsMade;
  }

  /**
   * Whether the socket file is no longer the one connected to (replaced,
   * removed, not a socket); the connection is then dropped, as before a call.
   * For a call without a deadline, which no later check would otherwise
   * notice: its caller cancels it and calls again. Always false for TCP.
   */
  socketFileChanged(): boolean {
    return this.checkSocketFile() !== undefined;
  }

  /** Cancels calls in flight (they fail with Canceled) and drops the connection; later calls fail. */
  close(): void {
    this.closed = true;
    this.transport.close();
  }

  private callOverTransport(method: string, request: Buffer, options: UnaryCallOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(connectionClosed());
    const socketProblem = this.checkSocketFile();
    if (socketProblem instanceof CsiCallError) return Promise.reject(socketProblem); // 'replaced': reconnected, go on
    return this.transport.unaryCall(method, request, options.timeoutMs, options.signal);
  }

  /**
   * Checks the socket file: undefined when it is the one connected to,
   * 'replaced' when it was replaced (the connection is dropped: the next dial
   * reaches the new file), or the error a call must fail with when it is gone.
   */
  private checkSocketFile(): CsiCallError | 'replaced' | undefined {
    if (!this.socketFile) return undefined;
    const fileState = this.socketFile.check();
    switch (fileState.kind) {
      case 'present':
        return undefined;
      case 'replaced':
        this.logger.warning('CSI driver socket was replaced; reconnecting', { address: this.address.display });
        this.transport.dropConnection();
        return 'replaced';
      case 'missing':
        // The old connection may still reach a driver whose socket was deleted (socket-file.ts): drop it.
        this.transport.dropConnection();
        return socketFileUnusable(this.address, fileState.errno);
      case 'not-a-socket':
        this.transport.dropConnection();
        return socketFileUnusable(this.address, 'ENOTSOCK');
    }
  }

  private onStateChanged(from: ConnectivityStateName, to: ConnectivityStateName): void {
    if (to === 'READY') this.connectionsMade++;
    this.logger.infoAt(3, 'CSI connection state changed', { address: this.address.display, transition: `${from} -> ${to}` });
    if (from === 'READY' && !this.closed) this.logger.warning('Lost connection to CSI driver', { address: this.address.display });
    this.metrics?.connectionStateChanged(from, to);
  }
}
