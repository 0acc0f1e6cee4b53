// The container's memory limit, read at start-up, and a warning when it is
// below what this sidecar was measured to need. Charts written for the Go
// sidecar set 20-30 MiB; Node.js needs more, and a limit below the need ends
// in an OOM kill under load, after which every probe fails.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/**
 * What the sidecar may need, as the kernel counts it for the cgroup: the
 * benchmark's worst case, 91.8 MiB RSS with 5,000 attacking connections held
 * (npm run bench, docs/performance.md: Node 24.22.3, the shipped V8 options;
 * idle 53.3 MiB, 73.5 MiB at the peak of the 16-connection flood), rounded up
 * to 96 MiB (5% headroom). RSS includes the node binary's file-backed pages
 * (about 40 MiB), which the cgroup is charged for too. The example manifests'
 * limit (RECOMMENDED_MEMORY_LIMIT) is 36 MiB above that peak.
 */
export const MEMORY_NEED_BYTES = 96 * 1024 * 1024;
/** The limit the example manifests set, and the advice. */
export const RECOMMENDED_MEMORY_LIMIT = '128Mi';
/** A limit this large or larger means none (cgroup v1 writes 2^63 rounded down to a page). */
const UNLIMITED_BYTES = 2 ** 60;

function readLimitFile(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!/^[0-9]+$/.test(text)) return undefined; // "max" (cgroup v2): no limit
  const bytes = Number(text);
  return bytes >= UNLIMITED_BYTES ? undefined : bytes;
}

/** The smallest limit in `file` from `leaf` up to `mountRoot` (a parent's limit binds its children). */
function smallestLimitUpward(mountRoot: string, cgroupPath: string, file: string): number | undefined {
  // The kernel lists a cgroup outside the reader's cgroup namespace as "/.." and the like: such a path, and one
  // that does not exist under this mount (a container's own view), is read from the mount's root.
  const below = posix.normalize(`/${cgroupPath}`);
  let dir = join(mountRoot, below);
  if (below.split('/').includes('..') || !existsSync(dir)) dir = mountRoot;
  let smallest: number | undefined;
  for (;;) {
    const limit = readLimitFile(join(dir, file));
    if (limit !== undefined && (smallest === undefined || limit < smallest)) smallest = limit;
    const up = dirname(dir);
    // At the mount's root (or, whatever happens, at the file system's): stop.
    if (relative(mountRoot, dir) === '' || up === dir) return smallest;
    dir = up;
  }
}

/**
 * The memory limit of the cgroup this process runs in, in bytes: cgroup v2's
 * memory.max, or v1's memory.limit_in_bytes, the smallest along the path up to
 * the mount's root; undefined when there is none or it cannot be read.
 * `fsRoot` is "/" but for tests, which lay out a tree of their own.
 */
export function readContainerMemoryLimit(fsRoot = '/'): number | undefined {
  let membership: string;
  try {
    membership = readFileSync(join(fsRoot, 'proc/self/cgroup'), 'utf8');
  } catch {
    return undefined;
  }
  const cgroupRoot = join(fsRoot, 'sys/fs/cgroup');
  for (const line of membership.split('\n')) {
    const [, controllers, cgroupPath] = /^[0-9]+:([^:]*):(.*)$/.exec(line) ?? [];
    if (cgroupPath === undefined) continue;
    if (controllers.split(',').includes('memory')) return smallestLimitUpward(join(cgroupRoot, 'memory'), cgroupPath, 'memory.limit_in_bytes');
    if (controllers === '' && existsSync(join(cgroupRoot, 'cgroup.controllers'))) {
      // cgroup v2 mounted at /sys/fs/cgroup (not the hybrid layout's /sys/fs/cgroup/unified, which has no memory controller)
      return smallestLimitUpward(cgroupRoot, cgroupPath, 'memory.max');
    }
  }
  return undefined;
}

/** "20Mi", "1.5Gi": bytes as Kubernetes quantities read. */
export function formatMebibytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10}Mi`;
}
