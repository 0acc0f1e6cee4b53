// A CPU quota of the benchmark's own: a cgroup v1 `cpu` group with a CFS
// quota, into which a subject is started (time to the first 200 under the
// quota a pod's CPU limit sets). The group is made when asked for and
// removed after, and on exit whatever happens; a machine where it cannot be
// made fails the benchmark with the reason, never skips silently.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where cgroup v1 mounts the cpu controller: alone, or joined with cpuacct. */
const CPU_CONTROLLER_MOUNTS = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];
/** The CFS period the kubelet sets for every container (cpu.cfs_period_us), microseconds. */
const CFS_PERIOD_US = 100_000;
/** One CPU in millicores, as Kubernetes counts a CPU limit. */
const MILLICORES_PER_CPU = 1_000;

export interface CpuQuotaGroup {
  /** The group's cgroup.procs: a process writes its pid there to join. */
  readonly procsFile: string;
  readonly millicores: number;
  /** Removes the group; its processes must have ended. */
  remove(): void;
}

const made = new Set<string>();
process.on('exit', () => {
  for (const dir of made) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // a process still in it (killed, not yet reaped): the kernel keeps the group until it ends
    }
  }
});

function cpuControllerMount(): string {
  const mount = CPU_CONTROLLER_MOUNTS.find((dir) => fs.existsSync(path.join(dir, 'cpu.cfs_quota_us')));
  if (mount === undefined) {
    throw new Error(`no cgroup v1 cpu controller at ${CPU_CONTROLLER_MOUNTS.join(' or ')}: the CPU-quota start-up figures need one (run as root on a cgroup v1 host)`);
  }
  return mount;
}

/**
 * Makes a cpu cgroup limited to `millicores` (quota = millicores / 1000 of
 * each 100 ms period, as the kubelet sets a container's CPU limit). Throws,
 * naming the directory and the cause, when it cannot.
 */
export function makeCpuQuotaGroup(millicores: number): CpuQuotaGroup {
  if (!Number.isInteger(millicores) || millicores <= 0) throw new Error(`CPU quota ${millicores}m: give a whole number of millicores above 0`);
  const dir = path.join(cpuControllerMount(), `lp-bench-${process.pid}-${millicores}m`);
  try {
    fs.mkdirSync(dir);
    made.add(dir);
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String((millicores * CFS_PERIOD_US) / MILLICORES_PER_CPU));
  } catch (err) {
    if (made.delete(dir)) fs.rmdirSync(dir);
    throw new Error(`cannot make the CPU-quota cgroup ${dir} (${millicores}m): ${(err as Error).message}; the benchmark needs a writable cgroup v1 cpu controller (root)`, { cause: err });
  }
  return {
    procsFile: path.join(dir, 'cgroup.procs'),
    millicores,
    remove() {
      fs.rmdirSync(dir);
      made.delete(dir);
    },
  };
}
