// The process's name as ps, top and pgrep show it (/proc/<pid>/comm): the executable's file name, as the
// kernel sets it at exec and as upstream's process shows it ("livenessprobe"). Node.js 24 renames its main
// thread "MainThread", so the image's /livenessprobe would be listed as "MainThread" and
// `pgrep livenessprobe` would find nothing. process.title is no way back: libuv overwrites the whole
// argv area with it, and ps would lose the flags. Writing the thread name in /proc changes the name alone.
// Written by hand: one write to a Linux file, no library does it.

import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The kernel keeps at most 15 bytes of a task name (TASK_COMM_LEN is 16 with its NUL). */
const MAX_TASK_NAME_BYTES = 15;

/**
 * Names the process after its executable (basename of process.execPath, cut to 15 bytes as exec
 * does). Returns undefined, or why it could not (not Linux, /proc not mounted): the name is a
 * convenience, and the caller only logs the reason.
 */
export function restoreProcessName(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const name = Buffer.from(basename(process.execPath)).subarray(0, MAX_TASK_NAME_BYTES);
  try {
    // /proc/self is the thread group's leader, the main thread, whichever thread writes.
    writeFileSync('/proc/self/comm', name);
    return undefined;
  } catch (err) {
    return `cannot name the process ${JSON.stringify(name.toString())} in /proc/self/comm: ${(err as Error).message}`;
  }
}
