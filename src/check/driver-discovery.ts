// Start-up: learn the driver's name, waiting for the driver as long as it takes.
//
// A CSI driver often starts after its sidecars, and may crash-loop for a while.
// Giving up would put the sidecar into a crash loop of its own and the driver's
// liveness probe could never succeed, so there is no time limit here (as
// upstream). Meanwhile /healthz answers with what is being waited for.
//
// GetPluginInfo itself has no deadline either, as upstream's
// rpc.GetDriverName(context.Background(), ...) in cmd/livenessprobe/main.go:
// some drivers do start-up work behind it and answer after seconds, and a
// deadline would cancel every try before its answer, for good. A lost
// connection fails the call (Unavailable) and is retried; a socket file
// replaced or removed while the call waits (a driver restarted, or frozen
// and replaced) is noticed within a second and the call asked again there.

import { Logger } from '../log/logger';
import { CsiCallError } from '../csi/call-failures';
import { CsiConnection } from '../csi/connection';
import { STATUS_DEADLINE_EXCEEDED, STATUS_UNAVAILABLE } from '../wire/grpc/status';
import { getPluginInfo } from '../csi/identity';
import { adviseOnConnectFailure } from '../csi/connect-failure-advice';
import { formatGoDuration } from '../go/duration';

/** How often the wait is reported at -v=0, as csi-lib-utils reports "Still connecting". */
const STILL_WAITING_LOG_INTERVAL_MS = 10_000;
const RETRY_INTERVAL_MS = 1_000;
/**
 * Longest text of each of the warning's two fields. A socket path may be long
 * (unix-socket-connect.ts reaches any length); with both fields the line stays
 * far below the 16 KiB at which container runtimes split a log line in two.
 */
const MAX_WARNING_FIELD_CHARS = 2_048;

/** `text`, cut to `maxChars` with "..." when longer. */
function boundText(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 3)}...`;
}

/** Not there yet (no socket, nobody listening, still starting): worth another try. */
function isDriverNotUpYet(err: unknown): boolean {
  return err instanceof CsiCallError && (err.grpcCode === STATUS_UNAVAILABLE || err.grpcCode === STATUS_DEADLINE_EXCEEDED);
}

export class DriverDiscovery {
  /** Invariant: undefined until GetPluginInfo has answered with a non-empty name, then fixed. */
  driverName: string | undefined;
  /** Why the last attempt did not give a name; empty before the first attempt ends. */
  private lastFailure = '';
  /** The system error behind lastFailure ("EACCES", "ENOENT", ...); undefined when none or not a system error. */
  private lastSystemCode: string | undefined;
  /** Set by stop(): no further attempt starts. */
  private stopped = false;
  /** Ends the wait between two attempts early, when stopped. */
  private wakeUp: (() => void) | undefined;
  /** performance.now() when the GetPluginInfo in flight was sent on a ready connection; undefined otherwise. */
  private askedAt: number | undefined;
  /** Cancels the GetPluginInfo in flight, on stop(). */
  private readonly cancel = new AbortController();

  constructor(
    private readonly connection: CsiConnection,
    private readonly logger: Logger,
  ) {}

  /** The /healthz body while the name is not known. */
  waitingReason(): string {
    return `waiting for CSI driver at ${this.connection.address.display}: ${this.whatIsAwaited()}`;
  }

  private whatIsAwaited(): string {
    if (this.askedAt !== undefined && this.connection.state === 'READY') {
      return `GetPluginInfo has not answered for ${formatGoDuration(Math.floor((performance.now() - this.askedAt) / 1000) * 1000)}`;
    }
    return this.lastFailure === '' ? 'GetPluginInfo has not answered yet' : this.lastFailure;
  }

  /**
   * Calls GetPluginInfo until the driver answers. Unavailable and
   * DeadlineExceeded are retried every second; any other error, or an empty
   * name, is final and thrown (the driver is there and answers wrongly).
   * Resolves undefined once stopped.
   */
  async run(): Promise<string | undefined> {
    const stillWaiting = setInterval(() => {
      // Connected and asked: the driver is there and slow, not missing; say so rather than "Still connecting".
      if (this.askedAt !== undefined && this.connection.state === 'READY') {
        this.logger.warning(`${this.whatIsAwaited()}; still waiting for the CSI driver's name`, { address: this.connection.address.display });
      } else {
        this.logger.warning(`Still connecting to ${this.connection.address.display}`, this.stillConnectingFields());
      }
    }, STILL_WAITING_LOG_INTERVAL_MS);
    try {
      while (!this.stopped) {
        const socketWatch = this.watchSocketFile(this.cancel.signal);
        try {
          this.askedAt = performance.now();
          const info = await getPluginInfo(this.connection, socketWatch.signal);
          this.driverName = info.name;
          return info.name;
        } catch (err) {
          this.askedAt = undefined;
          if (this.stopped) break;
          if (socketWatch.changed) {
            this.lastFailure = 'the CSI driver socket was replaced or removed while GetPluginInfo waited; asking again';
            this.lastSystemCode = undefined;
            this.logger.infoAt(4, 'CSI driver socket changed during GetPluginInfo; retrying', { address: this.connection.address.display });
            continue;
          }
          if (!isDriverNotUpYet(err)) throw err;
          this.lastFailure = (err as Error).message;
          this.lastSystemCode = (err as CsiCallError).systemCode;
          this.logger.infoAt(4, 'CSI driver not available yet; retrying', { address: this.connection.address.display, err: this.lastFailure });
          await this.pause(RETRY_INTERVAL_MS);
        } finally {
          socketWatch.stop();
        }
      }
      return undefined;
    } finally {
      this.askedAt = undefined;
      clearInterval(stillWaiting);
    }
  }

  /**
   * The "Still connecting" warning's fields: upstream's line names only the
   * address; this one adds the last failure (`err`) and, for a system error,
   * what it means and what to do (`hint`), each bounded by MAX_WARNING_FIELD_CHARS.
   */
  private stillConnectingFields(): Record<string, string> {
    if (this.lastFailure === '') {
      return { hint: 'no connection attempt has ended yet: the connection is neither accepted nor refused (for a TCP address, a firewall may drop the packets)' };
    }
    const fields: Record<string, string> = { err: boundText(this.lastFailure, MAX_WARNING_FIELD_CHARS) };
    const hint = adviseOnConnectFailure(this.connection.address, this.lastSystemCode);
    if (hint !== '') fields.hint = boundText(hint, MAX_WARNING_FIELD_CHARS);
    return fields;
  }

  /** Ends run(): no attempt starts after this, and the one in flight is not retried. */
  stop(): void {
    this.stopped = true;
    this.cancel.abort();
    this.wakeUp?.();
  }

  /**
   * Checks the socket file every RETRY_INTERVAL_MS while a GetPluginInfo
   * waits, and cancels the call when the file is no longer the one it went
   * to: a call with no deadline would otherwise wait on the old driver for good.
   */
  private watchSocketFile(parent: AbortSignal): { readonly signal: AbortSignal; readonly changed: boolean; stop(): void } {
    const controller = new AbortController();
    const watch = {
      signal: AbortSignal.any([parent, controller.signal]),
      changed: false,
      stop: () => clearInterval(timer),
    };
    const timer = setInterval(() => {
      if (!this.connection.socketFileChanged()) return;
      watch.changed = true;
      controller.abort();
    }, RETRY_INTERVAL_MS);
    return watch;
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
