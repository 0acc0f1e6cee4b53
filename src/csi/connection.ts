// The sidecar's one connection to the CSI driver, shared by every check.
//
// Around whichever transport carries the calls (see transport.ts):
// - Before each call on a unix socket the socket file is checked (see
//   socket-file.ts): missing -> the call fails at once with ENOENT and the
//   connection is dropped; replaced -> a new connection to the new file.
// - Every call is timed for metrics, including one refused before gRPC.
// - Connection state changes are logged and counted.

import { Logger } from '../log/logger';
import { MetricsRecorder, NON_GRPC_STATUS } from '../metrics/recorder';
import { CsiAddress } from './address';
import { CsiCallError } from './csi-call-error';
import { STATUS_UNAVAILABLE } from './grpc-status';
import { SocketFile } from './socket-file';
import { connectFailureText, ConnectivityStateName, CsiTransport, CsiTransportFactory } from './transport';

export interface UnaryCallOptions {
  /** Deadline for the call. */
  readonly timeoutMs: number;
}

export class CsiConnection {
  private readonly socketFile: SocketFile | undefined;
  private readonly transport: CsiTransport;
  private closed = false;

  constructor(
    readonly address: CsiAddress,
    private readonly logger: Logger,
    private readonly metrics: MetricsRecorder | undefined,
    createTransport: CsiTransportFactory,
  ) {
    this.socketFile = address.socketPath === undefined ? undefined : new SocketFile(address.socketPath);
    this.transport = createTransport(address, { stateChanged: (from, to) => this.onStateChanged(from, to) });
  }

  /** The current connection state's name, "IDLE" when there is no connection. */
  get state(): ConnectivityStateName {
    return this.transport.state;
  }

  /**
   * Calls a unary method with an already-encoded request; resolves with the raw
   * response bytes, rejects with CsiCallError.
   */
  async unaryCall(method: string, request: Buffer, options: UnaryCallOptions): Promise<Buffer> {
    const startedAt = performance.now();
    try {
      const response = await this.callOverTransport(method, request, options);
      this.metrics?.csiCallCompleted(method, 'OK', (performance.now() - startedAt) / 1000);
      return response;
    } catch (err) {
      const statusName = err instanceof CsiCallError && err.reachedGrpc ? err.codeName : NON_GRPC_STATUS;
      this.metrics?.csiCallCompleted(method, statusName, (performance.now() - startedAt) / 1000);
      throw err;
    }
  }

  /** Cancels calls in flight (they fail with Canceled) and drops the connection; later calls fail. */
  close(): void {
    this.closed = true;
    this.transport.close();
  }

  private callOverTransport(method: string, request: Buffer, options: UnaryCallOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(new CsiCallError(STATUS_UNAVAILABLE, 'the connection to the CSI driver was closed', { reachedGrpc: false }));
    const socketProblem = this.checkSocketFile();
    if (socketProblem) return Promise.reject(socketProblem);
    return this.transport.unaryCall(method, request, options.timeoutMs);
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
        this.transport.dropConnection();
        return undefined;
      case 'missing':
        // The old connection may still reach a driver whose socket was deleted (#68): drop it.
        this.transport.dropConnection();
        return new CsiCallError(STATUS_UNAVAILABLE, connectFailureText(this.address, fileState.errno), { reachedGrpc: false });
      case 'not-a-socket':
        this.transport.dropConnection();
        return new CsiCallError(STATUS_UNAVAILABLE, connectFailureText(this.address, 'ENOTSOCK'), { reachedGrpc: false });
    }
  }

  private onStateChanged(from: ConnectivityStateName, to: ConnectivityStateName): void {
    this.logger.infoAt(3, 'CSI connection state changed', { address: this.address.display, transition: `${from} -> ${to}` });
    if (from === 'READY' && !this.closed) this.logger.warning('Lost connection to CSI driver', { address: this.address.display });
    this.metrics?.connectionStateChanged(from, to);
  }
}
