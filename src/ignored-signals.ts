// SIGUSR1 and SIGUSR2 are ignored, as the Go sidecar ignores them (Go catches
// signals it has no use for). Node's defaults are worse for a process on every
// node: SIGUSR1 opens an unauthenticated inspector on 127.0.0.1:9229 (code
// sent to it runs as the sidecar's user) and SIGUSR2 ends the process without
// a word. The V8 options also carry --disable-sigusr1, so the inspector cannot
// start even before this runs; with it, Node takes SIGUSR1 itself and only
// SIGUSR2 reaches the log line.

import type { Logger } from './log/logger';

const IGNORED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2'];

export function ignoreUserSignals(logger: Logger): void {
  for (const signal of IGNORED_SIGNALS) process.on(signal, () => logger.infoAt(2, 'Ignoring signal', { signal }));
}
