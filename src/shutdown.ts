// SIGTERM / SIGINT: stop accepting, let the check in flight finish (bounded),
// close the gRPC connection, exit 0 well within the kubelet's grace period.
// A second signal exits at once (code 1: the shutdown was cut short).

import type { CsiConnection } from './csi/connection';
import type { SharedHealthCheck } from './http/healthz';
import type { HttpListener } from './http/server';
import type { Logger } from './log/logger';

/** The whole shutdown finishes within this. */
export const SHUTDOWN_LIMIT_MS = 5_000;
/** Longest wait for the check in flight; the rest of the limit is for answering and closing. */
const CHECK_GRACE_LIMIT_MS = 4_000;
/** Time for answers already written to reach their clients before connections are cut. */
const FLUSH_MS = 100;

export interface ShutdownParts {
  readonly logger: Logger;
  readonly listeners: () => readonly HttpListener[];
  readonly check: SharedHealthCheck;
  readonly connection: CsiConnection;
  readonly probeTimeoutMs: number;
  /** Exits the process; main owns process.exit. */
  readonly exit: (code: number) => void;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function installGracefulShutdown(parts: ShutdownParts): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      parts.logger.warning('Second signal during shutdown; exiting at once', { signal });
      parts.exit(1);
      return;
    }
    stopping = true;
    parts.logger.info('Shutting down', { signal });
    setTimeout(() => {
      parts.logger.warning('Shutdown did not finish in time; exiting', { limit: `${SHUTDOWN_LIMIT_MS}ms` });
      parts.exit(0);
    }, SHUTDOWN_LIMIT_MS).unref();
    void (async () => {
      for (const listener of parts.listeners()) listener.stopAccepting();
      // The check in flight gets up to its own timeout, within the shutdown limit.
      await Promise.race([parts.check.settled(), delay(Math.min(parts.probeTimeoutMs, CHECK_GRACE_LIMIT_MS))]);
      parts.connection.close(); // cancels a Probe still running: its waiters get a 500
      await delay(FLUSH_MS);
      for (const listener of parts.listeners()) listener.closeConnections();
      parts.exit(0);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
