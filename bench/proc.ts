// What /proc says about a process: CPU time, resident memory, open files.

import * as fs from 'node:fs';

/** Linux clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on every mainstream kernel). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStats {
  /** User + system CPU time, milliseconds. */
  readonly cpuMs: number;
  readonly rssKiB: number;
  /** Peak resident memory since the process started (VmHWM). */
  readonly peakRssKiB: number;
  readonly openFds: number;
}

export function readProcStats(pid: number): ProcStats {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return {
    cpuMs: ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND,
    rssKiB: kib('VmRSS'),
    peakRssKiB: kib('VmHWM'),
    openFds: fs.readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** Context switches (voluntary and not) over every thread of the process so far. */
export function readContextSwitches(pid: number): number {
  let total = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const status = fs.readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    for (const match of status.matchAll(/ctxt_switches:\s+(\d+)/g)) total += Number(match[1]);
  }
  return total;
}

/**
 * CPU time of every live thread of `pid` so far, nanoseconds: the sum of the
 * first field of /proc/<pid>/task/<tid>/schedstat (time on a CPU). Finer than
 * /proc/<pid>/stat's 10 ms ticks, so one-second slices can be compared. A
 * thread that has ended is no longer counted, so a difference of two readings
 * misses the CPU of threads that ended between them (Node's own threads and
 * the test driver's live as long as the process).
 */
export function readThreadCpuNs(pid: number): number {
  let total = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    let schedstat: string;
    try {
      schedstat = fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // the thread ended after the listing
      throw err;
    }
    total += Number(schedstat.split(' ', 1)[0]);
  }
  return total;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
