// A child process's end, watched from its start (an exit may come before
// anyone waits for it), and the one way to kill it and wait: shared by the
// benchmark and the test helpers.

import type { ChildProcess } from 'node:child_process';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves once `child` has exited; call right after spawn. */
export function watchExit(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Sends `signal` unless the child has already ended, and waits for the end `exited` watches. */
export async function killAndWait(child: ChildProcess, exited: Promise<ChildExit>, signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return exited;
}
