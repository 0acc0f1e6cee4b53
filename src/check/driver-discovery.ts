// Start-up: learn the driver's name, waiting for the driver as long as it takes.
//
// A CSI driver often starts after its sidecars, and may crash-loop for a while.
// Giving up would put the sidecar into a crash loop of its own and the driver's
// liveness probe could never succeed, so there is no time limit here (as
// upstream). Meanwhile /healthz answers with what is being waited for.

import { Logger } from '../log/logger';
import { CsiCallError } from '../csi/call-failures';
import { CsiConnection } from '../csi/connection';
import { STATUS_DEADLINE_EXCEEDED, STATUS_UNAVAILABLE } from '../wire/grpc/status';
import { getPluginInfo } from '../csi/identity';

const STILL_CONNECTING_LOG_INTERVAL_MS = 10_000;
const RETRY_INTERVAL_MS = 1_000;

/** Not there yet (no socket, nobody listening, still starting): worth another try. */
function isDriverNotUpYet(err: unknown): boolean {
  return err instanceof CsiCallError && (err.grpcCode === STATUS_UNAVAILABLE || err.grpcCode === STATUS_DEADLINE_EXCEEDED);
}

export class DriverDiscovery {
  /** Invariant: undefined until GetPluginInfo has answered with a non-empty name, then fixed. */
  driverName: string | undefined;
  /** Why the last attempt did not give a name; empty before the first attempt ends. */
  private lastFailure = '';
  /** Set by stop(): no further attempt starts. */
  private stopped = false;
  /** Ends the wait between two attempts early, when stopped. */
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly connection: CsiConnection,
    /** Deadline of one GetPluginInfo attempt. */
    private readonly attemptTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** The /healthz body while the name is not known. */
  waitingReason(): string {
    const why = this.lastFailure === '' ? 'GetPluginInfo has not answered yet' : this.lastFailure;
    return `waiting for CSI driver at ${this.connection.address.display}: ${why}`;
  }

  /**
   * Calls GetPluginInfo until the driver answers. Unavailable and
   * DeadlineExceeded are retried every second; any other error, or an empty
   * name, is final and thrown (the driver is there and answers wrongly).
   * Resolves undefined once stopped.
   */
  async run(): Promise<string | undefined> {
    const stillConnecting = setInterval(() => {
      this.logger.warning(`Still connecting to ${this.connection.address.display}`);
    }, STILL_CONNECTING_LOG_INTERVAL_MS);
    try {
      while (!this.stopped) {
        try {
          const info = await getPluginInfo(this.connection, this.attemptTimeoutMs);
          this.driverName = info.name;
          return info.name;
        } catch (err) {
          if (this.stopped) break;
          if (!isDriverNotUpYet(err)) throw err;
          this.lastFailure = (err as Error).message;
          this.logger.infoAt(4, 'CSI driver not available yet; retrying', { address: this.connection.address.display, err: this.lastFailure });
          await this.pause(RETRY_INTERVAL_MS);
        }
      }
      return undefined;
    } finally {
      clearInterval(stillConnecting);
    }
  }

  /** Ends run(): no attempt starts after this, and the one in flight is not retried. */
  stop(): void {
    this.stopped = true;
    this.wakeUp?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
