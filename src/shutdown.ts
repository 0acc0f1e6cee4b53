// SIGTERM / SIGINT: close the sidecar gracefully (sidecar.ts: stop accepting,
// let the check in flight finish, close the gRPC connection), then exit 0
// well within the kubelet's grace period. A second signal exits at once
// (code 1: the shutdown was cut short).

import type { Logger } from './log/logger';
import { SHUTDOWN_LIMIT_MS } from './sidecar';

export interface ShutdownParts {
  readonly logger: Logger;
  /** The graceful close; resolves within about SHUTDOWN_LIMIT_MS. */
  readonly close: () => Promise<void>;
  /** Exits the process; main owns process.exit. */
  readonly exit: (code: number) => void;
}

export function exitOnSignals(parts: ShutdownParts): void {
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
    void parts.close().then(() => parts.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
